package loadtest

import (
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/lb"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// smokeFanout is the capacity smoke's fan-out scenario (loadtest/k6/fanout.js)
// at the scale of a unit test: 12 subscribers on 3 channels, 20
// publications/s for 6 s, i.e. 480 deliveries, nothing lost. Its latency
// thresholds are wider than the objectives (setup p99 < 200 ms instead of
// 50, delivery p99 < 150 ms instead of 100): with 12 connections the setup
// p99 is the slowest of 12 handshakes, which a busy CI machine can push past
// 50 ms on an unchanged node. The faults below add 250 ms, well past both.
func smokeFanout(ws, api, token, run string) map[string]string {
	return map[string]string{
		"WS_URL": "ws://" + ws + "/ws", "API_URL": "http://" + api, "API_KEY": testAPIKey, "TOKEN": token,
		"SUBS": "12", "CHANNELS": "3", "RATE": "20", "RAMP": "1s", "SETTLE": "1s", "DURATION": "6s", "DRAIN": "3s",
		"SETUP_P99_MS": "200", "DELIVERY_P99_MS": "150", "RUN_ID": run,
	}
}

// TestCapacityGate proves that the capacity gate can fail. One gateway
// node runs unchanged; k6 runs the smoke fan-out scenario against it
// through a fault-injecting TCP proxy (faultproxy_test.go):
//   - no faults: every threshold holds, k6 exits 0;
//   - 250 ms added to everything the server sends: delivery p99 misses
//     its 150 ms threshold, k6 exits 99 (thresholds failed);
//   - every third connection silently loses the server's bytes after 1 s:
//     those subscribers miss publications, wsg_lost > 0, k6 exits 99.
//
// A fourth case runs the connect storm through the real HAProxy with
// loadtest/haproxy.cfg, the load balancer of make loadtest.
// The cases run in parallel; the whole test takes about 20 s.
func TestCapacityGate(t *testing.T) {
	k6Path(t) // fail first, and loudly, without k6
	gw := startGateway(t, "--node-id", "gate")
	tok := clientToken(t, "gate-user")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)

	cases := []struct {
		name       string
		faults     faults
		wantCode   int
		wantFailed []string // thresholds that must be among the failed ones
	}{
		{name: "no-faults", wantCode: 0},
		{name: "latency", faults: faults{delay: 250 * time.Millisecond}, wantCode: 99,
			wantFailed: []string{"wsg_delivery_latency: p(99)<150"}},
		{name: "blackhole", faults: faults{blackholeEvery: 3, blackholeAfter: time.Second}, wantCode: 99,
			wantFailed: []string{"wsg_lost: count==0"}},
	}
	t.Run("group", func(t *testing.T) {
		for _, tc := range cases {
			t.Run("fanout-"+tc.name, func(t *testing.T) {
				t.Parallel()
				p := startFaultProxy(t, gw.Client, tc.faults)
				res := runK6(t, 60*time.Second, "fanout.js", "fanout-"+tc.name, smokeFanout(p.addr(), gw.API, tok, run+"-"+tc.name))
				failed := res.summary.failed()
				t.Logf("proxy: %d connections, %d blackholed (%d bytes swallowed); failed thresholds: %v; deliveries %v, lost %v, delivery p99 %v ms",
					p.accepted.Load(), p.blackholed.Load(), p.dropped.Load(), failed,
					res.summary.value("wsg_deliveries", "count"), res.summary.value("wsg_lost", "count"),
					res.summary.value("wsg_delivery_latency", "p(99)"))
				if res.code != tc.wantCode {
					t.Fatalf("k6 exited %d, want %d; failed thresholds %v\n%s\ngateway log:\n%s",
						res.code, tc.wantCode, failed, res.output, gw.Logs.Tail(4000))
				}
				for _, w := range tc.wantFailed {
					if !slices.Contains(failed, w) {
						t.Errorf("threshold %q did not fail; failed: %v\n%s", w, failed, res.output)
					}
				}
				if !slices.Equal(failed, res.summary.Wsgateway.FailedThresholds) {
					t.Errorf("the summary's failed_thresholds %v differ from the metrics' %v", res.summary.Wsgateway.FailedThresholds, failed)
				}
				if res.summary.Wsgateway.Passed != (tc.wantCode == 0) || res.summary.Wsgateway.Tool != "k6" {
					t.Errorf("summary says passed=%v tool=%q", res.summary.Wsgateway.Passed, res.summary.Wsgateway.Tool)
				}
				if got := p.accepted.Load(); got < 12 {
					t.Errorf("the proxy carried %d connections, want the 12 subscribers", got)
				}
				switch tc.name {
				case "no-faults":
					if len(failed) != 0 {
						t.Errorf("failed thresholds without faults: %v", failed)
					}
					if d := res.summary.value("wsg_deliveries", "count"); d < 400 {
						t.Errorf("%v deliveries, want about 480", d)
					}
				case "blackhole":
					if p.blackholed.Load() == 0 {
						t.Errorf("no connection was blackholed")
					}
					if res.summary.value("wsg_lost", "count") == 0 {
						t.Errorf("wsg_lost is 0 although subscribers lost traffic")
					}
				}
			})
		}

		t.Run("connect-storm-through-haproxy", func(t *testing.T) {
			t.Parallel()
			lb := startHAProxy(t, gw)
			res := runK6(t, 60*time.Second, "connect-storm.js", "connect-storm-haproxy", map[string]string{
				"WS_URL": "ws://" + lb.ws + "/ws", "TOKEN": tok, "CONNS": "60", "CONNS_PER_VU": "5",
				"RAMP": "2s", "HOLD": "2s", "SETUP_P99_MS": "200", "RUN_ID": run + "-storm",
			})
			if res.code != 0 {
				t.Fatalf("k6 exited %d through HAProxy; failed thresholds %v\n%s\nhaproxy log:\n%s",
					res.code, res.summary.failed(), res.output, lb.logs.String())
			}
			if got := res.summary.value("wsg_held", "count"); got != 60 {
				t.Errorf("held %v connections through HAProxy, want 60", got)
			}
		})
	})
}

// haproxyPath finds Debian's haproxy (scripts/deps.sh installs it); a
// missing one fails the test, and only -short skips it.
func haproxyPath(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs haproxy")
	}
	bin, err := lb.Path()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// freeAddr is a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type haproxy struct {
	ws, api string
	logs    *gatewaytest.Buffer
}

// oneNode is loadtest/haproxy.cfg's three servers all on n.
func oneNode(n *gatewaytest.Node) [3]lb.Backend {
	b := lb.Backend{WS: n.Client, API: n.API, Admin: n.Admin}
	return [3]lb.Backend{b, b, b}
}

// startHAProxy runs Debian's haproxy with loadtest/haproxy.cfg in front of
// n through package lb, as the capacity runs do, and waits until it routes
// an API call; the test's cleanup stops it.
func startHAProxy(t testing.TB, n *gatewaytest.Node) *haproxy {
	t.Helper()
	h := &haproxy{ws: freeAddr(t), api: freeAddr(t), logs: &gatewaytest.Buffer{}}
	p, err := lb.Start(lb.Options{
		Bin: haproxyPath(t), Config: filepath.Join(repoRoot(t), "loadtest", "haproxy.cfg"),
		WS: h.ws, API: h.api, MaxConn: 2000, Nodes: oneNode(n), APIKey: testAPIKey, Logs: h.logs,
	})
	if err != nil {
		t.Fatalf("%v\nhaproxy log:\n%s", err, h.logs.String())
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Log(err)
		}
	})
	return h
}

// TestHAProxyConfigRejectsMissingAddress: the config must not start with
// an address left unset (an empty "${VAR}"), so a typo in the
// orchestration fails at once rather than balancing over fewer nodes.
func TestHAProxyConfigRejectsMissingAddress(t *testing.T) {
	bin := haproxyPath(t)
	n := &gatewaytest.Node{Client: "127.0.0.1:1", API: "127.0.0.1:2", Admin: "127.0.0.1:3"}
	cfg := filepath.Join(repoRoot(t), "loadtest", "haproxy.cfg")
	full := lb.Env("127.0.0.1:4", "127.0.0.1:5", 2000, oneNode(n))
	if err := lb.Check(bin, cfg, full); err != nil {
		t.Fatalf("complete environment: %v", err)
	}
	for _, drop := range []string{"NODE2_WS", "NODE3_ADMIN", "LB_API"} {
		var env []string
		for _, kv := range full {
			if !strings.HasPrefix(kv, drop+"=") {
				env = append(env, kv)
			}
		}
		if err := lb.Check(bin, cfg, env); err == nil {
			t.Errorf("without %s, haproxy -c accepted the config", drop)
		}
	}
}

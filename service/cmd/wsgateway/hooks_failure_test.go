package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// faultAPIKey is the backend API key of the failure tests' nodes.
const faultAPIKey = "hooks-key"

// startFaultGateway runs the real binary with faultHooks on b.
func startFaultGateway(t *testing.T, b *faultBackend) *gw {
	t.Helper()
	return gatewaytest.Start(t, gatewaytest.Options{Args: []string{
		"--jwt-secret", testSecret, "--api-key", faultAPIKey, "--hooks-config", faultHooks(t, b.URL()), "--drain-delay", "0s", "--drain-window", "0s",
	}})
}

// allToken is a token of user that may subscribe and publish anywhere.
func allToken(t *testing.T, user string) string {
	return token(t, user, 0, []string{"*"}, []string{"*"})
}

// wantRefusedConnect connects a new client as user and wants the connect
// hook's failure: error unavailable, then close 1013 (back off, try
// elsewhere), never the 4001 of a refused token.
func wantRefusedConnect(t *testing.T, g *gw, user string) {
	t.Helper()
	c := dial(t, g, nil)
	if m := c.call(protocol.Command{Op: protocol.OpConnect, Token: allToken(t, user)}); errCode(m) != protocol.CodeUnavailable {
		t.Fatalf("connect while the hook fails: %s, want error unavailable", show(m))
	}
	if code := c.closed(5 * time.Second); code != 1013 {
		t.Fatalf("closed with %d after a failed connect hook, want 1013", code)
	}
}

// TestHookFailureShapes: for every way a backend can fail (closed port,
// past the timeout, 500, not JSON, a 2 MiB answer), on the real binary: a
// publish hook with on_error reject gives unavailable and publishes
// nothing, one with allow publishes (the subscriber gets it), a new connect
// gets unavailable then 1013, and the connection that was open before the
// failure stays open and answers.
func TestHookFailureShapes(t *testing.T) {
	t.Parallel()
	for _, shape := range []faultShape{shapeDown, shapeSlow, shape500, shapeGarbage, shapeBig} {
		t.Run(string(shape), func(t *testing.T) {
			t.Parallel()
			b := startFaultBackend(t)
			g := startFaultGateway(t, b)
			open := connected(t, g, allToken(t, "open"))
			open.result(open.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "lax:room"}))
			open.result(open.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "strict:room"}))

			b.set(shape)
			if m := open.call(protocol.Command{Op: protocol.OpPublish, Channel: "strict:room", Data: json.RawMessage(`"refused"`)}); errCode(m) != protocol.CodeUnavailable {
				t.Fatalf("publish with on_error reject: %s, want unavailable", show(m))
			}
			pos := resultOf[protocol.Position](t, open.call(protocol.Command{Op: protocol.OpPublish, Channel: "lax:room", Data: json.RawMessage(`"allowed"`)}))
			// The allowed publication is the first thing pushed: the
			// refused one on strict:room was never published.
			if p := open.next(); p.Push != protocol.PushPub || p.Channel != "lax:room" || p.Offset != pos.Offset || string(p.Data) != `"allowed"` {
				t.Fatalf("after the allowed publish got %s, want its publication on lax:room", show(p))
			}
			wantRefusedConnect(t, g, "late")

			open.quiet() // still open, still answering
			wantMetrics(t, g, map[string]float64{
				"hook_requests_total hook=publish result=failed": 2,
				"hook_requests_total hook=connect result=failed": 1,
				"hook_requests_total hook=connect result=ok":     1,
				"hook_breaker_state endpoint=app":                0, // 3 failures: under the 5 that trip it
			})
		})
	}
}

// TestHookBreakerOpensAndCloses: a backend answering 500 trips the
// endpoint's breaker after repeated failures; while it is open the hooks
// fail without reaching the backend (its request count stops growing but
// for the breaker's half-open probes), reject and allow still apply, a new
// connect gets unavailable then 1013, and the connections that were open
// stay open, answer pings and receive publications throughout. When the
// backend is healthy again the breaker closes and hooks work.
func TestHookBreakerOpensAndCloses(t *testing.T) {
	slowUnderShort(t, "the breaker's 3 s half-open delay")
	t.Parallel()
	b := startFaultBackend(t)
	g := startFaultGateway(t, b)
	reader := connected(t, g, allToken(t, "reader"))
	reader.result(reader.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "lax:room"}))
	reader.result(reader.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "news:room"}))
	writer := connected(t, g, allToken(t, "writer"))
	strict := protocol.Command{Op: protocol.OpPublish, Channel: "strict:room", Data: json.RawMessage(`1`)}

	b.set(shape500)
	const tries = 20
	for i := 0; metric(t, g, "hook_breaker_state endpoint=app") != 2; i++ {
		if i == tries {
			t.Fatalf("breaker not open after %d failed publishes (state %v)", tries, metric(t, g, "hook_breaker_state endpoint=app"))
		}
		if m := writer.call(strict); errCode(m) != protocol.CodeUnavailable {
			t.Fatalf("publish to a failing backend: %s, want unavailable", show(m))
		}
	}

	// Open: every call fails at once, the same way, off the network.
	reached, openedAt := b.calls.Load(), time.Now()
	refusedBefore := metric(t, g, "hook_requests_total hook=publish result=breaker_open")
	const rounds = 10
	for i := range rounds {
		if m := writer.call(strict); errCode(m) != protocol.CodeUnavailable {
			t.Fatalf("publish with the breaker open: %s, want unavailable", show(m))
		}
		data := fmt.Sprintf(`{"n":%d}`, i)
		writer.result(writer.call(protocol.Command{Op: protocol.OpPublish, Channel: "lax:room", Data: json.RawMessage(data)}))
		if p := reader.next(); p.Push != protocol.PushPub || string(p.Data) != data {
			t.Fatalf("reader got %s, want the allowed publication %s", show(p), data)
		}
	}
	wantRefusedConnect(t, g, "late")
	// A half-open probe every 3 s may reach the backend; nothing else does.
	probes := int64(time.Since(openedAt)/(3*time.Second)) + 1
	if got := b.calls.Load() - reached; got > probes {
		t.Errorf("%d calls reached the backend with the breaker open (%d hook calls made), want at most %d probes", got, 2*rounds+1, probes)
	}
	if got := metric(t, g, "hook_requests_total hook=publish result=breaker_open") - refusedBefore; got < 2*rounds-float64(probes) {
		t.Errorf("breaker_open publishes grew by %v, want about %d", got, 2*rounds)
	}
	apiPublish(t, g, faultAPIKey, "news:room", `"still here"`)
	if p := reader.next(); p.Channel != "news:room" {
		t.Fatalf("reader got %s, want the API's publication", show(p))
	}
	reader.quiet()
	writer.quiet()

	// Back: the next probe closes the breaker and hooks reach the backend.
	b.set(shapeOK)
	within(t, 15*time.Second, func() bool { return errCode(writer.call(strict)) == "" }, func() string {
		return fmt.Sprintf("publish still refused; breaker state %v", metric(t, g, "hook_breaker_state endpoint=app"))
	})
	if s := metric(t, g, "hook_breaker_state endpoint=app"); s != 0 {
		t.Errorf("breaker state %v after a successful call, want 0 (closed)", s)
	}
	before := b.calls.Load()
	writer.result(writer.call(strict))
	connected(t, g, allToken(t, "returning"))
	if got := b.calls.Load() - before; got != 2 {
		t.Errorf("%d backend calls for one publish and one connect, want 2", got)
	}
	reader.quiet()
	writer.quiet()
}

package gatewaytest

import (
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// devArgs run a node without auth that drains at once.
var devArgs = []string{"--dev", "--drain-delay", "0s", "--drain-window", "0s"}

func TestInProcessNodeServesAndDrains(t *testing.T) {
	n := Start(t, Options{InProcess: true, Args: append([]string{"--node-id", "from-env-or-flag"}, devArgs...),
		Env: []string{"WSG_ZONE=zone-from-env"}})
	if n.PID() != 0 {
		t.Errorf("PID %d in process, want 0", n.PID())
	}
	c, _, err := websocket.DefaultDialer.Dial(n.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"connect"}`)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, reply, err := c.ReadMessage()
	if err != nil || !strings.Contains(string(reply), `"zone":"zone-from-env"`) {
		t.Fatalf("connect reply %s, %v; want the zone read through Env", reply, err)
	}
	if v, ok := n.Metrics(t).Value("wsgateway_connections"); !ok || v != 1 {
		t.Errorf("wsgateway_connections = %v (exposed: %v), want 1", v, ok)
	}
	n.Stop()
	if code := n.Wait(t, time.Second); code != 0 {
		t.Errorf("exit code %d after a drain, want 0", code)
	}
	if !strings.Contains(n.Logs.String(), `"msg":"stopped after a clean drain"`) {
		t.Errorf("logs lack the clean drain:\n%s", n.Logs.Tail(2000))
	}
}

func TestBinaryNodeSignalRestartKill(t *testing.T) {
	n := Start(t, Options{Args: devArgs})
	if n.PID() == 0 {
		t.Fatal("a child process has no PID")
	}
	addrs := [3]string{n.Client, n.API, n.Admin}
	n.Signal(t)
	if code := n.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; logs:\n%s", code, n.Logs.Tail(2000))
	}
	n.Restart(t)
	if got := [3]string{n.Client, n.API, n.Admin}; got != addrs {
		t.Errorf("restarted on %v, want the same addresses %v", got, addrs)
	}
	resp, err := http.Get(n.AdminURL() + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after restart: %v %v", resp, err)
	}
	resp.Body.Close()
	n.Kill(t)
	if code := n.Wait(t, time.Second); code != -1 {
		t.Errorf("exit code %d after SIGKILL, want -1 (killed by a signal)", code)
	}
}

func TestShortSkipsTheBinary(t *testing.T) {
	short(t)
	var skipped bool
	t.Run("start", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Start(t, Options{Args: devArgs})
		t.Error("Start ran the binary under -short")
	})
	if !skipped {
		t.Error("Start under -short did not skip")
	}
}

func TestShortRunsInProcess(t *testing.T) {
	short(t)
	n := Start(t, Options{InProcess: true, Args: devArgs})
	if _, ok := n.Metrics(t).Value("wsgateway_draining"); !ok {
		t.Error("no wsgateway_draining series")
	}
}

func TestValueMatchesExactLabels(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`# TYPE x_total counter
x_total{code="1000"} 3
x_total{code="1000",zone="a"} 5
# TYPE h histogram
h_bucket{le="+Inf"} 2
h_sum 1
h_count 2
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		family string
		labels []string
		want   float64
		ok     bool
	}{
		{"one label", "x_total", []string{"code=1000"}, 3, true},
		{"two labels", "x_total", []string{"code=1000", "zone=a"}, 5, true},
		{"a label missing is another series", "x_total", nil, 0, false},
		{"histogram count", "h", nil, 2, true},
		{"absent family", "nope", nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := m.Value(tc.family, tc.labels...)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Value(%s, %v) = %v, %v; want %v, %v", tc.family, tc.labels, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// short turns -short on for the rest of the test. The test must not run in
// parallel: the flag is the whole test binary's.
func short(t *testing.T) {
	was := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("test.short", was) })
}

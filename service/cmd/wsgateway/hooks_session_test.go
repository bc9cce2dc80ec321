package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// sessionBackend is a real HTTP backend for the hooks of the real binary:
// connect admits the cookie sid=abc as bob (mode hook) or any verified
// token (token_then_hook), rpc echoes its data with the caller. It records
// every body by hook.
type sessionBackend struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies map[string][]map[string]json.RawMessage
}

func startSessionBackend(t *testing.T) *sessionBackend {
	t.Helper()
	b := &sessionBackend{bodies: map[string][]map[string]json.RawMessage{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hook := strings.TrimPrefix(r.URL.Path, "/hooks/")
		b.mu.Lock()
		b.bodies[hook] = append(b.bodies[hook], body)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case hook == "connect" && strings.Contains(string(body["headers"]), `"Cookie":"sid=abc"`):
			_, _ = io.WriteString(w, `{"result":{"user":"bob","publish":["chat:*"],"meta":{"session":"abc"},"data":{"theme":"dark"}}}`)
		case hook == "connect" && strings.Contains(string(body["claims"]), `"sub":"alice"`):
			_, _ = io.WriteString(w, `{"result":{"publish":["chat:*"],"data":{"plan":"pro"}}}`)
		case hook == "connect":
			_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"no session"}}`)
		case hook == "rpc":
			_, _ = io.WriteString(w, `{"result":{"data":{"user":`+string(body["user"])+`,"got":`+string(body["data"])+`}}}`)
		default:
			_, _ = io.WriteString(w, `{"result":{}}`)
		}
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *sessionBackend) last(hook string) map[string]json.RawMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.bodies[hook]); n > 0 {
		return b.bodies[hook][n-1]
	}
	return nil
}

// hooksFile writes a hooks file pointing at b with the given connect mode.
func (b *sessionBackend) hooksFile(t *testing.T, mode string) string {
	t.Helper()
	yaml := `endpoints:
  app: {url: "` + b.srv.URL + `/hooks", timeout: 2s}
connect: {endpoint: app, mode: ` + mode + `, forward_headers: [Cookie]}
rpc:
  billing: {endpoint: app}
`
	path := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHookSessionCookieConnect: the real binary in connect mode hook: the
// upgrade's Cookie (and no other header) reaches the backend, which names
// the user; its data comes back in the connect result, its meta in the rpc
// body, and the rpc's data round trips.
func TestHookSessionCookieConnect(t *testing.T) {
	t.Parallel()
	b := startSessionBackend(t)
	g := gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--jwt-secret", testSecret, "--hooks-config", b.hooksFile(t, "hook")}})

	w := dial(t, g, http.Header{"Cookie": {"sid=abc"}, "X-Secret": {"not forwarded"}})
	res := resultOf[protocol.ConnectResult](t, w.call(protocol.Command{Op: protocol.OpConnect}))
	if res.User != "bob" || string(res.Data) != `{"theme":"dark"}` {
		t.Fatalf("connect result %+v, want user bob with the hook's data", res)
	}
	if h := string(b.last("connect")["headers"]); h != `{"Cookie":"sid=abc"}` {
		t.Errorf("connect hook headers %s, want the Cookie only", h)
	}
	rpc := resultOf[protocol.RPCResult](t, w.call(protocol.Command{Op: protocol.OpRPC, Method: "billing:charge", Data: json.RawMessage(`{"amount":5}`)}))
	if string(rpc.Data) != `{"user":"bob","got":{"amount":5}}` {
		t.Errorf("rpc data %s", rpc.Data)
	}
	if m := string(b.last("rpc")["meta"]); m != `{"session":"abc"}` {
		t.Errorf("rpc hook meta %s, want the connect hook's", m)
	}
	if m := w.call(protocol.Command{Op: protocol.OpRPC, Method: "shop:buy"}); m.Error == nil || m.Error.Code != protocol.CodeNotFound {
		t.Errorf("rpc without a route: %+v, want not_found", m)
	}

	anon := dial(t, g, nil)
	if m := anon.call(protocol.Command{Op: protocol.OpConnect}); m.Error == nil || m.Error.Code != protocol.CodeUnauthorized {
		t.Fatalf("connect without a cookie: %+v, want the backend's unauthorized", m)
	}
	if _, code := anon.nextOrClosed(5 * time.Second); code != 4001 {
		t.Errorf("closed with %d after the backend refused, want 4001", code)
	}
}

// TestHookSessionTokenThenHook: the real binary in connect mode
// token_then_hook: the token is verified first, the hook sees its claims,
// and the hook's publish patterns replace the token's.
func TestHookSessionTokenThenHook(t *testing.T) {
	t.Parallel()
	b := startSessionBackend(t)
	g := gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--jwt-secret", testSecret, "--hooks-config", b.hooksFile(t, "token_then_hook")}})

	w := dial(t, g, nil)
	res := resultOf[protocol.ConnectResult](t, w.call(protocol.Command{Op: protocol.OpConnect, Token: token(t, "alice", 0, nil, nil)}))
	if res.User != "alice" || string(res.Data) != `{"plan":"pro"}` {
		t.Fatalf("connect result %+v, want alice with the hook's data", res)
	}
	if m := w.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:a", Data: json.RawMessage(`1`)}); m.Error != nil {
		t.Errorf("publish under the hook's patterns: %+v", m.Error)
	}
	bad := dial(t, g, nil)
	if m := bad.call(protocol.Command{Op: protocol.OpConnect, Token: "not.a.token"}); m.Error == nil || m.Error.Code != protocol.CodeUnauthorized {
		t.Fatalf("connect with a bad token: %+v", m)
	}
	b.mu.Lock()
	calls := len(b.bodies["connect"])
	b.mu.Unlock()
	if calls != 1 {
		t.Errorf("%d connect hook calls, want 1: a bad token never reaches the hook", calls)
	}
}

// TestHookSessionBadHooksFile: an invalid --hooks-config stops startup with
// one line on stderr naming the file, exit 1.
func TestHookSessionBadHooksFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(path, []byte("endpoints:\n  app: {url: \"http://x\"}\nconnect: {endpoint: nope}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(t.TempDir(), "absent.yaml")} {
		code, _, stderr := runMain(t, "--dev", "--hooks-config", p)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, p) {
			t.Errorf("--hooks-config %s: exit %d, stderr %q; want 1 and one line naming the file", p, code, stderr)
		}
	}
}

package session

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/protocol"
)

const rpcHooks = `
endpoints:
  app: {url: "{url}", timeout: 5s}
rpc:
  billing: {endpoint: app}
`

func pubCmd(id int, ch, data, key string) string {
	if key == "" {
		return fmt.Sprintf(`{"id":%d,"op":"publish","channel":%q,"data":%s}`, id, ch, data)
	}
	return fmt.Sprintf(`{"id":%d,"op":"publish","channel":%q,"data":%s,"idempotency_key":%q}`, id, ch, data, key)
}

func subDataCmd(id int, ch, data string) string {
	return fmt.Sprintf(`{"id":%d,"op":"subscribe","channel":%q,"data":%s}`, id, ch, data)
}

// TestHookKeepsOrderAndReading: while an rpc waits for its backend, the
// connection still reads (the client's WebSocket pings are answered, later
// commands are read) and receives pushes; the replies come in command order
// once the backend answers.
func TestHookKeepsOrderAndReading(t *testing.T) {
	b := newBackend(t, func(hookCall) (int, string) { return http.StatusOK, `{"result":{"data":{"charged":5}}}` })
	b.hold("rpc")
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour, MaxSubscriptions: 10, Hooks: hooksFor(t, b, rpcHooks)}, nil)
	p := serve(t, m, peerOptions{pongs: true, data: true})

	p.send(t, connectCmd(1, ""), subscribeCmd(2, "chat:a"))
	p.expect(t, "ok 1", "ok 2, 0 publications")
	p.send(t, rpcCmd(3, "billing:charge", `{"amount":5}`), pingCmd(4))
	b.waitCall(t, "rpc")

	if err := p.conn.WriteControl(websocket.PingMessage, []byte("a"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	p.expect(t, "pong")
	if _, err := m.broker.Publish(context.Background(), "chat:a", json.RawMessage(`{"n":1}`), protocol.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	p.expect(t, `push pub chat:a 1 data={"n":1}`)
	p.send(t, pingCmd(5)) // read, and queued behind the rpc
	if err := p.conn.WriteControl(websocket.PingMessage, []byte("b"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	p.expect(t, "pong")

	b.release("rpc")
	p.expect(t, `ok 3 data={"charged":5}`, "ok 4", "ok 5")
	// The executor is done: the next command runs on the reader again.
	p.send(t, pingCmd(6))
	p.expect(t, "ok 6")
}

// TestHookBoundsCommandsInFlight: behind a waiting hook at most maxInFlight
// commands are queued or running; the reader waits for a slot, and every
// command is answered in order once the backend answers.
func TestHookBoundsCommandsInFlight(t *testing.T) {
	b := newBackend(t, func(hookCall) (int, string) { return http.StatusOK, `{"result":{}}` })
	b.hold("rpc")
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour, Hooks: hooksFor(t, b, rpcHooks)}, nil)
	p := serve(t, m, peerOptions{})
	p.send(t, connectCmd(1, ""))
	p.expect(t, "ok 1")

	const extra = maxInFlight + 5
	lines := []string{rpcCmd(2, "billing:charge", "")}
	for i := range extra {
		lines = append(lines, pingCmd(3+i))
	}
	p.send(t, lines...)
	b.waitCall(t, "rpc")
	e := m.Sessions()[0].exec.Load()
	full := false
	for deadline := time.Now().Add(10 * time.Second); !full && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		e.mu.Lock()
		queued := len(e.queue)
		e.mu.Unlock()
		if queued+1 > maxInFlight { // +1: the rpc, running
			t.Fatalf("%d commands queued behind the rpc, want at most %d", queued, maxInFlight-1)
		}
		full = queued+1 == maxInFlight && len(e.slots) == maxInFlight
	}
	if !full {
		t.Fatalf("the queue never filled to %d", maxInFlight)
	}

	b.release("rpc")
	want := []string{"ok 2"}
	for i := range extra {
		want = append(want, fmt.Sprintf("ok %d", 3+i))
	}
	p.expect(t, want...)
}

// TestHookConnect: the connect hook in both modes and every answer shape.
func TestHookConnect(t *testing.T) {
	secret := []byte("a test secret of thirty-two bytes")
	v, err := auth.New(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := auth.SignHS256(secret, auth.TokenSpec{User: "alice", Subscribe: []string{"chat:*"}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const tokenThenHook = rpcHooks + `connect: {endpoint: app}
`
	const allow = rpcHooks + `connect: {endpoint: app, on_error: allow}
`
	const cookie = rpcHooks + `connect: {endpoint: app, mode: hook, forward_headers: [cookie]}
`
	answer := func(connect string, status int) func(hookCall) (int, string) {
		return func(c hookCall) (int, string) {
			if c.hook == "connect" {
				return status, connect
			}
			return http.StatusOK, `{"result":{}}`
		}
	}
	tests := []struct {
		name    string
		hooks   string
		answer  func(hookCall) (int, string)
		headers http.Header
		run     func(t *testing.T, p *peer, b *backend)
	}{
		{"token_then_hook: the hook sees the verified claims; its patterns, meta and data apply", tokenThenHook,
			answer(`{"result":{"subscribe":["game:*"],"meta":{"tier":"gold"},"data":{"plan":"pro"}}}`, 200), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, alice))
				p.expect(t, `ok 1 data={"plan":"pro"}`)
				p.send(t, subscribeCmd(2, "game:x"), subscribeCmd(3, "chat:a"), rpcCmd(4, "billing:x", ""))
				p.expect(t, "ok 2, 0 publications", "error 3 permission_denied", "ok 4 data=null")
				c := b.callsOf("connect")[0]
				if c.field("user") != `"alice"` || !strings.Contains(c.field("claims"), `"sub":"alice"`) || (c.field("headers") != "null" && c.field("headers") != "{}") {
					t.Errorf("connect body: user %s, claims %s, headers %s", c.field("user"), c.field("claims"), c.field("headers"))
				}
				if r := b.callsOf("rpc")[0]; r.field("meta") != `{"tier":"gold"}` || r.field("user") != `"alice"` {
					t.Errorf("rpc body after connect: meta %s, user %s", r.field("meta"), r.field("user"))
				}
			}},
		{"token_then_hook: a token that does not verify never reaches the hook", tokenThenHook,
			answer(`{"result":{}}`, 200), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, "not.a.token"))
				p.expect(t, "error 1 unauthorized", "close 4001 unauthorized")
				if n := len(b.received()); n != 0 {
					t.Errorf("%d hook calls, want none", n)
				}
			}},
		{"hook mode: the forwarded cookie names the user, without a token", cookie,
			func(c hookCall) (int, string) {
				if c.hook == "connect" && c.field("headers") == `{"Cookie":"sid=abc; theme=dark"}` {
					return 200, `{"result":{"user":"bob","subscribe":["chat:*"]}}`
				}
				if c.hook == "connect" {
					return 200, `{"error":{"code":"unauthorized","message":"no session"}}`
				}
				return 200, `{"result":{}}`
			},
			http.Header{"Cookie": {"sid=abc", "theme=dark"}, "Authorization": {"Basic x"}},
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, ""), subscribeCmd(2, "chat:a"), rpcCmd(3, "billing:x", ""))
				p.expect(t, "ok 1", "ok 2, 0 publications", "ok 3 data=null")
				c := b.callsOf("connect")[0]
				if c.field("claims") != "null" || (c.field("user") != `""` && c.field("user") != "null") {
					t.Errorf("connect body without a token: claims %s, user %s", c.field("claims"), c.field("user"))
				}
				if r := b.callsOf("rpc")[0]; r.field("user") != `"bob"` {
					t.Errorf("rpc body user %s, want bob", r.field("user"))
				}
			}},
		{"expire_at moves the expiry: one already past closes with 4001 at once", tokenThenHook,
			answer(fmt.Sprintf(`{"result":{"expire_at":%d}}`, time.Now().Add(-time.Minute).Unix()), 200), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, alice))
				p.expect(t, "ok 1", "close 4001 token expired")
			}},
		{"the backend's error refuses the connect", tokenThenHook,
			answer(`{"error":{"code":"app_banned","message":"banned"}}`, 200), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, alice))
				p.expect(t, "error 1 app_banned", "close 4001 unauthorized")
			}},
		{"the backend's disconnect closes with its code", tokenThenHook,
			answer(`{"disconnect":{"code":4501,"reason":"banned for good"}}`, 200), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, alice))
				p.expect(t, "close 4501 banned for good")
			}},
		{"a failure with reject: unavailable, then 1013", tokenThenHook,
			answer(`oops`, 500), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, alice), pingCmd(2))
				p.expect(t, "error 1 unavailable", "close 1013 node overloaded")
				if got := value(t, p.m.m.Connects.WithLabelValues(ConnectUnavailable)); got != 1 {
					t.Errorf("connects{unavailable} = %v, want 1", got)
				}
			}},
		{"a failure with allow: connected as the token says", allow,
			answer(`oops`, 500), nil,
			func(t *testing.T, p *peer, b *backend) {
				p.send(t, connectCmd(1, alice), subscribeCmd(2, "chat:a"))
				p.expect(t, "ok 1", "ok 2, 0 publications")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, tt.answer)
			m := newTestManager(Config{PingInterval: time.Hour, MaxSubscriptions: 10, Hooks: hooksFor(t, b, tt.hooks)}, v)
			p := serve(t, m, peerOptions{data: true, info: ConnInfo{Headers: m.ForwardedHeaders(tt.headers)}})
			tt.run(t, p, b)
		})
	}
}

const channelHooks = `
endpoints:
  app: {url: "{url}", timeout: 5s}
namespaces:
  chat:
    subscribe: {endpoint: app}
    publish: {endpoint: app}
  news:
    subscribe: {endpoint: app}
  game:
    subscribe: {endpoint: app, on_error: allow}
`

// channelBackend answers the channel hooks: subscribe echoes the client's
// data; publish moderates by the text ("bad": refused, "rewrite": replaced,
// "kick": disconnect); news and game fail with a 500.
func channelBackend(c hookCall) (int, string) {
	ch := c.field("channel")
	switch {
	case strings.HasPrefix(ch, `"news:`), strings.HasPrefix(ch, `"game:`):
		return 500, "down"
	case c.hook == "subscribe":
		return 200, `{"result":{"data":{"echo":` + c.field("data") + `}}}`
	case strings.Contains(c.field("data"), "bad"):
		return 200, `{"error":{"code":"app_moderated","message":"not here"}}`
	case strings.Contains(c.field("data"), "rewrite"):
		return 200, `{"result":{"data":{ "text" : "***" }}}`
	case strings.Contains(c.field("data"), "kick"):
		return 200, `{"disconnect":{"code":4100,"reason":"cool down"}}`
	}
	return 200, `{"result":{}}`
}

// TestHookSubscribeAndPublish: data round trips through the subscribe
// hook, the publish hook replaces or refuses what is published, a failure
// refuses or goes ahead per on_error without closing, a retry carries the
// same Idempotency-Key, and a disconnect answer closes the connection.
func TestHookSubscribeAndPublish(t *testing.T) {
	b := newBackend(t, channelBackend)
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour, MaxSubscriptions: 10, Hooks: hooksFor(t, b, channelHooks)}, nil)
	p := serve(t, m, peerOptions{data: true})

	p.send(t, connectCmd(1, ""), subDataCmd(2, "chat:a", `{ "seat": 3 }`))
	p.expect(t, "ok 1", `ok 2, 0 publications data={"echo":{"seat":3}}`)
	p.send(t, pubCmd(3, "chat:a", `{"text":"rewrite me"}`, "k1"), pubCmd(4, "chat:a", `{"text":"bad"}`, ""))
	p.expect(t, `push pub chat:a 1 data={"text":"***"}`, "ok 3", "error 4 app_moderated")
	p.send(t, subscribeCmd(5, "news:x"), pingCmd(6), subscribeCmd(7, "game:x"))
	p.expect(t, "error 5 unavailable", "ok 6", "ok 7, 0 publications")
	p.send(t, pubCmd(8, "chat:a", `{"text":"rewrite me"}`, "k1")) // the client's retry
	p.expect(t, "ok 8")
	pubs := b.callsOf("publish")
	if len(pubs) != 3 || pubs[0].key == "" || pubs[0].key != pubs[2].key || pubs[1].key == pubs[0].key {
		t.Errorf("publish Idempotency-Keys %q, want the first and the retry equal, the other different", keys(pubs))
	}
	if pubs[0].field("idempotency_key") != `"k1"` {
		t.Errorf("publish body idempotency_key %s, want \"k1\"", pubs[0].field("idempotency_key"))
	}
	p.send(t, pubCmd(9, "chat:a", `{"text":"kick"}`, ""))
	p.expect(t, "close 4100 cool down")
}

func keys(calls []hookCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.key)
	}
	return out
}

// TestHookRPC: the rpc command's routing and answers.
func TestHookRPC(t *testing.T) {
	b := newBackend(t, func(c hookCall) (int, string) {
		switch c.field("method") {
		case `"billing:charge"`:
			return 200, `{"result":{"data":{"charged":` + c.field("data") + `}}}`
		case `"billing:fail"`:
			return 500, ""
		case `"billing:refuse"`:
			return 200, `{"error":{"code":"app_no_funds","message":"top up"}}`
		}
		return 200, `{"result":{}}`
	})
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour, Hooks: hooksFor(t, b, rpcHooks)}, nil)
	p := serve(t, m, peerOptions{data: true})
	p.send(t, connectCmd(1, ""), rpcCmd(2, "shop:buy", `{}`), rpcCmd(3, "billing:charge", "5"), rpcCmd(4, "billing", ""),
		rpcCmd(5, "billing:refuse", ""), rpcCmd(6, "billing:fail", ""), pingCmd(7))
	p.expect(t, "ok 1", "error 2 not_found", `ok 3 data={"charged":5}`, "ok 4 data=null",
		"error 5 app_no_funds", "error 6 unavailable", "ok 7")
	if calls := b.callsOf("rpc"); len(calls) != 4 || calls[1].field("data") != "null" {
		t.Errorf("rpc calls %d (want 4), data of the one without %s", len(calls), calls[1].field("data"))
	}
}

// TestNoHooksNoExecutor: without hooks, commands run on the reader; no
// executor is ever made.
func TestNoHooksNoExecutor(t *testing.T) {
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour, MaxSubscriptions: 10}, nil)
	p := serve(t, m, peerOptions{})
	p.send(t, connectCmd(1, ""), subscribeCmd(2, "chat:a"), publishCmd(3, "chat:a"), rpcCmd(4, "billing:x", ""))
	p.expect(t, "ok 1", "ok 2, 0 publications", "push pub chat:a 1", "ok 3", "error 4 not_found")
	if e := m.Sessions()[0].exec.Load(); e != nil {
		t.Error("an executor was made without hooks")
	}
}

// TestHookCallEndsWithTheConnection: a hook call in flight is cancelled
// when the connection goes away, long before its timeout, and the session
// ends without waiting for the backend.
func TestHookCallEndsWithTheConnection(t *testing.T) {
	b := newBackend(t, func(hookCall) (int, string) { return http.StatusOK, `{"result":{}}` })
	b.hold("rpc")
	slow := strings.Replace(rpcHooks, "timeout: 5s", "timeout: 30s", 1)
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour, Hooks: hooksFor(t, b, slow)}, nil)
	p := serve(t, m, peerOptions{})
	p.send(t, connectCmd(1, ""), rpcCmd(2, "billing:charge", ""), pingCmd(3))
	p.expect(t, "ok 1")
	b.waitCall(t, "rpc")
	p.conn.NetConn().Close()
	select {
	case <-b.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the rpc call was not cancelled when the connection went away")
	}
	select {
	case <-p.served:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
}

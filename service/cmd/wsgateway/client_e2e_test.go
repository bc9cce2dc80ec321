package main

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/client"
)

// proxy is a TCP relay in front of a gateway node: a test cuts it to make
// the server go away for a client, and points it at another node.
type proxy struct {
	l      net.Listener
	mu     sync.Mutex
	target string
	down   bool
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { l.Close(); p.cut(true) })
	return p
}

func (p *proxy) url() string { return "ws://" + p.l.Addr().String() + "/ws" }

func (p *proxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target, down := p.target, p.down
		p.mu.Unlock()
		out, err := net.Dial("tcp", target)
		if down || err != nil {
			in.Close() // the server is away: the client's dial fails, it backs off
			if out != nil {
				out.Close()
			}
			continue
		}
		p.track(in, out)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

// cut drops every relayed connection without a close frame; with down set,
// new connections are refused until restore.
func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.target = false, target
}

// recorder collects a client's events for assertions.
type recorder struct {
	pubs        chan client.Publication
	subscribed  chan client.SubscribedEvent
	failed      chan string
	disconnects chan client.DisconnectEvent
}

func newRecorder() *recorder {
	return &recorder{pubs: make(chan client.Publication, 1000), subscribed: make(chan client.SubscribedEvent, 100),
		failed: make(chan string, 100), disconnects: make(chan client.DisconnectEvent, 100)}
}

func (r *recorder) options(url string) client.Options {
	return client.Options{
		URL: url, BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		OnPublication:    func(p client.Publication) { r.pubs <- p },
		OnSubscribed:     func(e client.SubscribedEvent) { r.subscribed <- e },
		OnRecoveryFailed: func(ch string) { r.failed <- ch },
		OnDisconnected:   func(e client.DisconnectEvent) { r.disconnects <- e },
	}
}

func (r *recorder) expectOffsets(t *testing.T, from, to uint64) {
	t.Helper()
	for want := from; want <= to; want++ {
		select {
		case p := <-r.pubs:
			if p.Offset != want {
				t.Fatalf("publication offset %d, want %d", p.Offset, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("publication %d did not arrive", want)
		}
	}
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
		var zero T
		return zero
	}
}

func startClient(t *testing.T, opts client.Options) *client.Client {
	t.Helper()
	c := client.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	c.Start(ctx)
	t.Cleanup(func() { cancel(); c.Close() })
	return c
}

// TestClientReconnectsAndRecovers: the server goes away (network cut, dials
// refused for a while) and comes back; the client reconnects with backoff
// and ends with every publication exactly once, in order.
func TestClientReconnectsAndRecovers(t *testing.T) {
	g := startNode(t, "--dev")
	p := startProxy(t, g.Client)
	r := newRecorder()
	c := startClient(t, r.options(p.url()))
	const ch = "news:blip"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.subscribed, "subscribed")
	publishN(t, g, ch, 3)
	r.expectOffsets(t, 1, 3)

	p.cut(true)
	publishN(t, g, ch, 5)    // 4..8, missed while away
	for i := 0; i < 3; i++ { // the first drop, then refused dials: it keeps trying
		if ev := waitFor(t, r.disconnects, "disconnect"); !ev.Reconnect {
			t.Fatalf("client gave up: %+v", ev)
		}
	}
	p.restore(g.Client)
	ev := waitFor(t, r.subscribed, "resubscribe")
	if !ev.WasRecovering || !ev.Recovered {
		t.Fatalf("resubscribe %+v, want a recovery", ev)
	}
	r.expectOffsets(t, 4, 8)
	publishN(t, g, ch, 1)
	r.expectOffsets(t, 9, 9)
	if pos, ok := c.Position(ch); !ok || pos.Offset != 9 {
		t.Fatalf("position %+v %v, want offset 9", pos, ok)
	}
}

// TestClientToldWhenRecoveryFails: the node restarts empty (a new epoch);
// the client reconnects to the new node and is told it must resync.
func TestClientToldWhenRecoveryFails(t *testing.T) {
	g1 := startNode(t, "--dev")
	p := startProxy(t, g1.Client)
	r := newRecorder()
	c := startClient(t, r.options(p.url()))
	const ch = "news:restart"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.subscribed, "subscribed")
	publishN(t, g1, ch, 2)
	r.expectOffsets(t, 1, 2)

	g2 := startNode(t, "--dev")
	p.restore(g2.Client)
	g1.Stop() // drains: the client gets 1012 and reconnects, now to g2
	if ev := waitFor(t, r.disconnects, "disconnect"); ev.Code != 1012 || !ev.Reconnect {
		t.Fatalf("disconnect %+v, want 1012 with reconnect", ev)
	}
	if got := waitFor(t, r.failed, "recovery failure"); got != ch {
		t.Fatalf("recovery failed for %q", got)
	}
	publishN(t, g2, ch, 1)
	r.expectOffsets(t, 1, 1) // the new node's stream, from its start
}

// TestClientStopsOnTerminalCode: 4003 from the API ends the client for good.
func TestClientStopsOnTerminalCode(t *testing.T) {
	g := startNode(t, "--jwt-secret", testSecret, "--api-key", "k")
	r := newRecorder()
	opts := r.options(g.URL())
	opts.Token = func(context.Context) (string, error) { return token(t, "carol", time.Hour, nil, nil), nil }
	connectedCh := make(chan client.ConnectInfo, 1)
	opts.OnConnected = func(ci client.ConnectInfo) { connectedCh <- ci }
	c := startClient(t, opts)
	if ci := waitFor(t, connectedCh, "connect"); ci.User != "carol" {
		t.Fatalf("connected as %q", ci.User)
	}
	if code, body := apiCall(t, g, "POST", "/api/v1/disconnect", "k", `{"user":"carol"}`); code != 200 {
		t.Fatalf("disconnect: %d %v", code, body)
	}
	if ev := waitFor(t, r.disconnects, "disconnect"); ev.Code != 4003 || ev.Reconnect {
		t.Fatalf("disconnect %+v, want 4003 without reconnect", ev)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client did not stop")
	}
}

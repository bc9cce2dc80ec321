package broker

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestRedisPublishReplyLost: Redis runs a publish script, then the
// connection breaks before its reply arrives, so the broker cannot know
// whether it ran. go-redis must not send it again on its own (it used to:
// the publication was made twice), and the broker's own retry carries the
// same idempotency key, the caller's or one it generated, so the retry
// answers the first copy's position: one publication, acknowledged.
func TestRedisPublishReplyLost(t *testing.T) {
	for _, key := range []string{"", "caller-key"} {
		t.Run("key="+key, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			px := startCutProxy(t, srv.Addr)
			b := startRedis(t, "redis://"+px.addr, suiteNode, newRecorder(t))
			const ch = "lost-reply"
			publishN(t, b, ch, 2)
			px.cutNextScriptReply()
			p := wantPub(ch, "", 3)
			pos, err := b.Publish(t.Context(), ch, p.Data, protocol.PublishOptions{
				User: p.User, Time: p.Time, TraceParent: p.TraceParent, IdempotencyKey: key})
			if !px.cut.Load() {
				t.Fatal("the proxy cut no script reply")
			}
			if err != nil || pos.Offset != 3 {
				t.Errorf("publish whose reply was lost: %+v, %v; want offset 3", pos, err)
			}
			got := history(t, b, ch, protocol.HistoryQuery{HasSince: true})
			want := wantPubs(ch, got.Epoch, 1, 3)
			if diff := cmp.Diff(want, got.Publications); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
}

// cutProxy forwards TCP connections to a Redis server. Once armed, it
// lets the next script call (EVALSHA or EVAL) through to Redis, drops
// Redis's reply to it, and closes that connection on both sides: the
// script ran, and its caller sees the connection break.
type cutProxy struct {
	addr  string
	armed atomic.Bool
	cut   atomic.Bool // a reply was dropped
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &cutProxy{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); px.pipe(c, up) }()
		}
	}()
	return px
}

func (px *cutProxy) cutNextScriptReply() { px.armed.Store(true) }

// pipe copies client to server and back. The client side watches for the
// armed script call and marks the connection, whose next reply is dropped.
func (px *cutProxy) pipe(client, server net.Conn) {
	var marked atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if err != nil {
				client.Close()
				return
			}
			if marked.Load() {
				px.cut.Store(true)
				client.Close()
				server.Close()
				return
			}
			if _, err := client.Write(buf[:n]); err != nil {
				server.Close()
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			server.Close()
			break
		}
		lower := bytes.ToLower(buf[:n])
		if bytes.Contains(lower, []byte("evalsha")) || bytes.Contains(lower, []byte("\r\neval\r\n")) {
			if px.armed.CompareAndSwap(true, false) {
				marked.Store(true)
			}
		}
		if _, err := server.Write(buf[:n]); err != nil {
			client.Close()
			break
		}
	}
	<-done
	_, _ = io.Copy(io.Discard, client)
}

package session

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// benchSession returns a Session holding only what delivering and writing
// need: a Manager with a config and metrics, the metrics, the outbox and
// conn (nil when nothing is written). It is not served: no reader runs.
func benchSession(conn *websocket.Conn, queue int, reg prometheus.Registerer) *Session {
	m := newMetrics(reg)
	s := &Session{id: "bench", mgr: &Manager{cfg: Config{SendQueue: queue, SendQueueBytes: 1 << 30}, m: m}, m: m, conn: conn}
	s.out.init(queue, 1<<30)
	return s
}

// benchConnPair returns the server side of a real WebSocket connection over
// loopback TCP, made by websocket.Upgrader as the server does, and the
// client side. Both are closed when the test ends.
func benchConnPair(tb testing.TB, compress bool) (server, client *websocket.Conn) {
	tb.Helper()
	conns := make(chan *websocket.Conn, 1)
	up := websocket.Upgrader{EnableCompression: compress}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			tb.Errorf("upgrade: %v", err)
			close(conns)
			return
		}
		conns <- c
	}))
	tb.Cleanup(srv.Close)
	dialer := websocket.Dialer{EnableCompression: compress}
	client, _, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { client.Close() })
	server = <-conns
	if server == nil {
		tb.FailNow()
	}
	tb.Cleanup(func() { server.Close() })
	if compress {
		server.EnableWriteCompression(true)
	}
	return server, client
}

func benchPub(offset uint64) *protocol.Publication {
	return &protocol.Publication{Channel: "chat:lobby", Offset: offset, Epoch: "e1f3a9",
		Data: []byte(`{"text":"hello, world"}`), User: "alice", Time: time.Now().UnixNano()}
}

// benchMallocs returns the process's cumulative heap allocation count.
func benchMallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// TestWriteBatch checks what the writer benchmark measures: a batch goes out
// as one text frame of '\n'-joined lines, split only where a ping or (with
// compression) a shared prepared publication frame must stand alone.
func TestWriteBatch(t *testing.T) {
	d1, d2 := hub.NewDelivery(benchPub(1)), hub.NewDelivery(benchPub(2))
	reply := func(s string) item { return item{kind: kindReply, line: []byte(s)} }
	unsub := item{kind: kindUnsub, line: protocol.AppendUnsub(nil, "chat:lobby", UnsubInsufficientState)}
	pub := func(d *hub.Delivery) item { return item{kind: kindPub, d: d} }
	ping := item{kind: kindPing}
	tests := []struct {
		name     string
		compress bool
		batch    []item
		want     []string // frames as the client reads them; "ping" for a ping
		wantSent map[string]float64
	}{
		{"one reply", false, []item{reply(`{"id":1,"result":{}}`)},
			[]string{`{"id":1,"result":{}}`}, map[string]float64{"reply": 1}},
		{"everything in one frame", false, []item{reply(`{"id":1,"result":{}}`), pub(d1), pub(d2), unsub},
			[]string{`{"id":1,"result":{}}` + "\n" + string(d1.Line) + "\n" + string(d2.Line) + "\n" + string(unsub.line)},
			map[string]float64{"pub": 2, "reply": 1, "unsub": 1}},
		{"a ping splits the frame", false, []item{reply(`{"id":1,"result":{}}`), ping, pub(d1), pub(d2)},
			[]string{`{"id":1,"result":{}}`, "ping", string(d1.Line) + "\n" + string(d2.Line)},
			map[string]float64{"pub": 2, "reply": 1}},
		{"a ping alone", false, []item{ping}, []string{"ping"}, map[string]float64{}},
		{"compressed publications are frames of their own", true,
			[]item{reply(`{"id":1,"result":{}}`), reply(`{"id":2,"result":{}}`), pub(d1), pub(d2), unsub},
			[]string{`{"id":1,"result":{}}` + "\n" + `{"id":2,"result":{}}`, string(d1.Line), string(d2.Line), string(unsub.line)},
			map[string]float64{"pub": 2, "reply": 2, "unsub": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := benchConnPair(t, tt.compress)
			reg := prometheus.NewRegistry()
			s := benchSession(server, 16, reg)
			s.compress = tt.compress
			var got []string
			client.SetPingHandler(func(string) error { got = append(got, "ping"); return nil })
			if err := s.writeBatch(tt.batch); err != nil {
				t.Fatalf("writeBatch: %v", err)
			}
			// A close frame marks the end; the ping handler runs inside ReadMessage.
			if err := server.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			for {
				mt, msg, err := client.ReadMessage()
				if err != nil {
					if !websocket.IsCloseError(err, 1000) {
						t.Fatalf("read: %v", err)
					}
					break
				}
				if mt != websocket.TextMessage {
					t.Errorf("frame of type %d, want text", mt)
				}
				got = append(got, string(msg))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSent, sentByKind(t, reg)); diff != "" {
				t.Errorf("wsgateway_messages_sent_total (-want +got):\n%s", diff)
			}
		})
	}
}

// sentByKind returns the non-zero wsgateway_messages_sent_total series.
func sentByKind(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "wsgateway_messages_sent_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v != 0 {
				got[m.GetLabel()[0].GetValue()] = v
			}
		}
	}
	return got
}

// BenchmarkDeliverToOutbox measures a live subscription taking a publication
// from the hub: the offset check and the append to the session's outbox.
// There is no socket: s.out.writing is set beforehand so that put never
// starts a writer goroutine (which would need s.conn). Every len(ring)
// deliveries the queue is emptied and the subscription's offset rewound, so
// the same ring of in-order deliveries can be replayed.
func BenchmarkDeliverToOutbox(b *testing.B) {
	s := benchSession(nil, 1<<20, prometheus.NewRegistry())
	s.out.writing = true
	sub := &subscription{s: s, channel: "chat:lobby", state: stateLive, epoch: "e1f3a9"}
	ring := make([]*hub.Delivery, 1000)
	for i := range ring {
		ring[i] = hub.NewDelivery(benchPub(uint64(i + 1)))
	}
	b.ReportAllocs()
	allocs := benchMallocs()
	i := 0
	for b.Loop() {
		sub.Deliver(ring[i])
		if i++; i == len(ring) {
			i = 0
			sub.mu.Lock()
			sub.offset = 0
			sub.mu.Unlock()
			s.out.mu.Lock()
			s.out.items = s.out.items[:0]
			s.out.queued, s.out.pushes = 0, 0
			s.out.mu.Unlock()
		}
	}
	allocs = benchMallocs() - allocs

	// Make sure every delivery took the live path into the queue.
	s.out.mu.Lock()
	queued, closing := len(s.out.items), s.out.closing
	s.out.mu.Unlock()
	if sub.gone() || closing || queued != i {
		b.Fatalf("after the run: gone %v, closing %v, %d queued, want live, open, %d", sub.gone(), closing, queued, i)
	}
	b.ReportMetric(float64(allocs)/float64(b.N), "allocs/delivery")
}

// BenchmarkWriteBatch measures the writer: one batch of publications joined
// into one text frame on a real WebSocket over loopback TCP, whose client
// reads and discards the bytes without parsing them (so its cost is not
// counted in allocs).
func BenchmarkWriteBatch(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			server, client := benchConnPair(b, false)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = io.Copy(io.Discard, client.NetConn())
			}()
			b.Cleanup(func() { server.Close(); client.Close(); <-done })

			s := benchSession(server, 1024, prometheus.NewRegistry())
			batch := make([]item, n)
			size := 0
			for i := range batch {
				batch[i] = item{kind: kindPub, d: hub.NewDelivery(benchPub(uint64(i + 1)))}
				size += len(batch[i].d.Line) + 1
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			allocs := benchMallocs()
			for b.Loop() {
				if err := s.writeBatch(batch); err != nil {
					b.Fatal(err)
				}
			}
			allocs = benchMallocs() - allocs
			deliveries := float64(n) * float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
			b.ReportMetric(float64(allocs)/deliveries, "allocs/delivery")
		})
	}
}

package hub

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

var deliveryPubs = []struct {
	name string
	pub  *protocol.Publication
}{
	{"from a user", &protocol.Publication{Channel: "chat:lobby", Offset: 46, Epoch: "E", Data: []byte(`{"text":"hi"}`), User: "alice"}},
	{"from the API", &protocol.Publication{Channel: "news", Offset: 1, Epoch: "epoch-1", Data: []byte(`"x"`)}},
	{"largest offset, long names", &protocol.Publication{Channel: strings.Repeat("c", 255), Offset: 1<<64 - 1,
		Epoch: "0123456789abcdef", Data: []byte(`null`), User: strings.Repeat("u", 64)}},
	{"tiny fields", &protocol.Publication{Channel: "c", Offset: 1, Epoch: "e", Data: []byte(`1`), User: "u"}},
	{"escaped user", &protocol.Publication{Channel: "c", Offset: 9, Epoch: "E", Data: []byte(`{}`), User: `"q"`}},
}

func TestNewDelivery(t *testing.T) {
	for _, tt := range deliveryPubs {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDelivery(tt.pub)
			if d.Pub != tt.pub {
				t.Errorf("Pub = %p, want %p", d.Pub, tt.pub)
			}
			if want := protocol.AppendPush(nil, tt.pub); string(d.Line) != string(want) {
				t.Errorf("Line = %s, want %s", d.Line, want)
			}
		})
	}
}

// NewDelivery runs once per publication per node: two allocations, the
// Delivery and a line sized so that encoding never grows it.
func TestNewDeliveryAllocs(t *testing.T) {
	for _, tt := range deliveryPubs {
		if tt.name == "escaped user" {
			continue // escapes may outgrow the estimate; they are rare
		}
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() { NewDelivery(tt.pub) }); n > 2 {
				t.Errorf("NewDelivery allocates %v times, want at most 2", n)
			}
		})
	}
}

func TestPreparedIsBuiltOnce(t *testing.T) {
	d := NewDelivery(deliveryPubs[0].pub)
	first := d.Prepared()
	if first == nil {
		t.Fatal("Prepared() = nil")
	}
	if again := d.Prepared(); again != first {
		t.Errorf("second Prepared() = %p, want the first %p", again, first)
	}
	if other := NewDelivery(deliveryPubs[0].pub).Prepared(); other == first {
		t.Error("two Deliveries share one prepared message")
	}
}

// Many sessions ask for the frame at once; run with -race.
func TestPreparedConcurrently(t *testing.T) {
	d := NewDelivery(deliveryPubs[0].pub)
	const n = 32
	got := make([]*websocket.PreparedMessage, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			<-start
			got[i] = d.Prepared()
		})
	}
	close(start)
	wg.Wait()
	for i, p := range got {
		if p == nil || p != got[0] {
			t.Fatalf("goroutine %d got %p, goroutine 0 got %p: want one non-nil message", i, p, got[0])
		}
	}
}

// The prepared frame is the push line as a text message, with and without
// permessage-deflate.
func TestPreparedFrame(t *testing.T) {
	for _, compress := range []struct {
		name string
		on   bool
	}{{"plain", false}, {"compressed", true}} {
		t.Run(compress.name, func(t *testing.T) {
			d := NewDelivery(deliveryPubs[0].pub)
			up := websocket.Upgrader{EnableCompression: compress.on}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer c.Close()
				c.EnableWriteCompression(compress.on)
				_ = c.WritePreparedMessage(d.Prepared())
				_, _, _ = c.ReadMessage() // until the client closes
			}))
			defer srv.Close()
			dialer := websocket.Dialer{EnableCompression: compress.on}
			c, _, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			mt, msg, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if mt != websocket.TextMessage || string(msg) != string(d.Line) {
				t.Errorf("frame = type %d %s, want text %s", mt, msg, d.Line)
			}
		})
	}
}

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestCompression: with --compression a client offering permessage-deflate
// gets it, and compressed pushes decode to the same lines; without the
// flag, the offer is declined and everything still works.
func TestCompression(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"negotiated with --compression", []string{"--dev", "--compression"}, true},
		{"declined without it", []string{"--dev"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startNode(t, tc.args...)
			var subs []*wsConn
			for i := 0; i < 2; i++ {
				d := websocket.Dialer{Subprotocols: []string{"wsgateway.v1"}, EnableCompression: true, HandshakeTimeout: 5 * time.Second}
				c, resp, err := d.Dial(g.URL(), nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				got := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
				if got != tc.want {
					t.Fatalf("permessage-deflate negotiated: %v, want %v", got, tc.want)
				}
				w := &wsConn{t: t, c: c}
				w.result(w.call(protocol.Command{Op: protocol.OpConnect}))
				w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "zip:a"}))
				subs = append(subs, w)
			}
			data := strings.Repeat("compressible ", 200)
			publishN(t, g, "zip:a", 1)
			if code, _ := apiCall(t, g, "POST", "/api/v1/publish", "", `{"channel":"zip:a","data":"`+data+`"}`); code != 200 {
				t.Fatal("publish failed")
			}
			for _, w := range subs {
				if p := w.next(); p.Offset != 1 {
					t.Fatalf("first push %s", show(p))
				}
				if p := w.next(); p.Offset != 2 || string(p.Data) != `"`+data+`"` {
					t.Fatalf("second push offset %d, data intact: %v", p.Offset, string(p.Data) == `"`+data+`"`)
				}
			}
		})
	}
}

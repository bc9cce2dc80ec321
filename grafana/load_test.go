package grafana

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Shape of the live test's traffic: enough that every counter and
// histogram the dashboards read moves within a few scrapes.
const (
	subscribersPerNode = 3
	publishEvery       = 20 * time.Millisecond // 50 publications/s, through both nodes' APIs
	liveChannel        = "feed:live"
)

// startLoad keeps traffic flowing until the test ends: subscribers on every
// node, one subscribe with recover that cannot recover and one rpc (a hook
// call) per node, and a publisher through every node's API (so deliveries
// cross nodes through Redis).
func startLoad(t *testing.T, nodes []node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var conns []*websocket.Conn
	for _, n := range nodes {
		for i := range subscribersPerNode {
			cmds := []string{`{"id":1,"op":"connect"}`, fmt.Sprintf(`{"id":2,"op":"subscribe","channel":%q}`, liveChannel)}
			if i == 0 {
				cmds = append(cmds, `{"id":3,"op":"subscribe","channel":"feed:gone","recover":true,"offset":7,"epoch":"e0"}`,
					`{"id":4,"op":"rpc","method":"echo:upper","data":"hook"}`)
			}
			c := subscriber(t, n, cmds)
			conns = append(conns, c)
			wg.Go(func() { drain(c) })
		}
	}
	wg.Go(func() { publish(ctx, nodes) })
	t.Cleanup(func() {
		cancel()
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
}

// subscriber dials n and sends cmds, one frame each.
func subscriber(t *testing.T, n node, cmds []string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"wsgateway.v1"}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws://"+n.Client+"/ws", nil)
	if err != nil {
		t.Fatalf("dial %s: %v", n.id, err)
	}
	for _, cmd := range cmds {
		if err := c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			t.Fatalf("%s: send %s: %v", n.id, cmd, err)
		}
	}
	return c
}

// drain reads (and drops) everything the server sends until the
// connection closes.
func drain(c *websocket.Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// publish posts to liveChannel through the nodes' APIs in turn until ctx
// ends. Failures are not the test's concern here: the dashboards show them.
func publish(ctx context.Context, nodes []node) {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(publishEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := nodes[i%len(nodes)]
		body := fmt.Sprintf(`{"channel":%q,"data":{"n":%d}}`, liveChannel, i)
		req, err := http.NewRequestWithContext(ctx, "POST", "http://"+n.API+"/api/v1/publish", strings.NewReader(body))
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rssBound is the peak resident set the attacks below may drive one node
// to (docs/operations.md, "Measured under attack"). The legitimate part is
// the history of the big channel (300 × 60 KB = 18 MB, kept by design) and up to
// --send-queue-bytes per stalled connection; everything else the attacks try
// must be refused before it is buffered.
const rssBound = 160 << 20

// TestMemoryBoundUnderAttack runs the decompression-bomb, reply-amplification
// and channel-churn attacks against one real node (the binary, without the race detector, so its RSS
// means what it means in production) and checks its peak RSS (VmHWM).
func TestMemoryBoundUnderAttack(t *testing.T) {
	g := startBinary(t, "--compression", "--api-key", "k", "--command-rate", "0",
		"--history-max-channels", "1000", "--history-ttl", "1s", "--channel-meta-ttl", "1s")
	pid := g.PID()
	t.Logf("baseline: %d MiB", procKB(t, pid, "VmRSS")>>10)

	decompressionBombs(t, g)
	t.Logf("after decompression bombs: peak %d MiB", procKB(t, pid, "VmHWM")>>10)
	replyAmplification(t, g)
	t.Logf("after reply amplification: peak %d MiB", procKB(t, pid, "VmHWM")>>10)
	channelChurn(t, g)

	peak := procKB(t, pid, "VmHWM") << 10
	t.Logf("peak RSS %d MiB (bound %d MiB)", peak>>20, rssBound>>20)
	if peak > rssBound {
		t.Fatalf("peak RSS %d MiB exceeds the bound of %d MiB", peak>>20, rssBound>>20)
	}
}

// decompressionBombs sends five connects and five publishes whose 60 MB
// text deflates to about 60 KB on the wire, under --max-message-bytes.
func decompressionBombs(t *testing.T, g *gw) {
	bomb := func(prefix string) *websocket.PreparedMessage {
		var b bytes.Buffer
		b.WriteString(prefix)
		b.Write(bytes.Repeat([]byte{'A'}, 60<<20))
		b.WriteString(`"}`)
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return pm
	}
	connectBomb := bomb(`{"id":1,"op":"connect","token":"`)
	publishBomb := bomb(`{"id":2,"op":"publish","channel":"chat:bomb","data":"`)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialCompressed(t, g)
			if c == nil {
				return
			}
			defer c.Close()
			pm := connectBomb
			if i%2 == 1 {
				pm = publishBomb
				_ = c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"connect"}`))
			}
			_ = c.WritePreparedMessage(pm)
			w := &wsConn{t: t, c: c}
			if code := w.closedNoFail(10 * time.Second); code != websocket.CloseMessageTooBig {
				t.Errorf("bomb %d: closed with %d, want 1009", i, code)
			}
		}()
	}
	wg.Wait()
}

// replyAmplification fills a channel's history with 300 × 60 KB, then has
// ten connections that never read ask for all of it thirty times each.
func replyAmplification(t *testing.T, g *gw) {
	data := `"` + strings.Repeat("x", 60<<10) + `"`
	for range 300 {
		apiPublish(t, g, "k", "chat:big", data)
	}
	var frame strings.Builder
	for i := range 30 {
		fmt.Fprintf(&frame, `{"id":%d,"op":"history","channel":"chat:big","limit":1000}`+"\n", i+2)
	}
	before := metric(t, g, "slow_consumer_disconnects_total")
	for range 10 {
		c, _, err := dialRaw(g, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"connect"}`+"\n"+frame.String())); err != nil {
			t.Fatal(err)
		}
	}
	within(t, 30*time.Second, func() bool {
		return metric(t, g, "slow_consumer_disconnects_total")-before >= 10
	}, func() string { return "the ten stalled connections were not all closed as slow consumers" })
}

// channelChurn subscribes and unsubscribes 20,000 distinct channels and
// publishes once to 20,000 more, through the API's broadcast.
func channelChurn(t *testing.T, g *gw) {
	w := connected(t, g, "")
	for batch := range 40 {
		var frame strings.Builder
		for i := range 500 {
			ch := fmt.Sprintf("churn:%d", batch*500+i)
			fmt.Fprintf(&frame, `{"id":%d,"op":"subscribe","channel":%q}`+"\n", 2*i+1, ch)
			fmt.Fprintf(&frame, `{"id":%d,"op":"unsubscribe","channel":%q}`+"\n", 2*i+2, ch)
		}
		w.send(frame.String())
		for range 1000 {
			if m := w.next(); m.Error != nil {
				t.Fatalf("churn: %s", show(m))
			}
		}
	}
	for batch := range 20 {
		chans := make([]string, 1000)
		for i := range chans {
			chans[i] = strconv.Quote(fmt.Sprintf("once:%d", batch*1000+i))
		}
		body := fmt.Sprintf(`{"channels":[%s],"data":{"n":%d}}`, strings.Join(chans, ","), batch)
		if code, res := apiCall(t, g, "POST", "/api/v1/broadcast", "k", body); code != http.StatusOK {
			t.Fatalf("broadcast: %d %v", code, res)
		}
	}
}

// dialCompressed opens a WebSocket that negotiates permessage-deflate and
// compresses what it writes.
func dialCompressed(t *testing.T, g *gw) *websocket.Conn {
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(g.URL(), nil)
	if err != nil {
		t.Errorf("dial: %v (status %v)", err, status(resp))
		return nil
	}
	c.EnableWriteCompression(true)
	return c
}

// procKB reads a "Name: N kB" line of /proc/PID/status.
func procKB(t *testing.T, pid int, name string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read process status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}

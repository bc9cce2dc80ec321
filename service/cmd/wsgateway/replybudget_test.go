package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// publishBig publishes n publications of size bytes each on channel
// through the API, with their index in the first bytes of data.
func publishBig(t *testing.T, g *gw, channel string, n, size int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		data := fmt.Sprintf("%08d", i) + strings.Repeat("x", size-8)
		if code, body := apiCall(t, g, "POST", "/api/v1/publish", "", fmt.Sprintf(`{"channel":%q,"data":%q}`, channel, data)); code != http.StatusOK {
			t.Fatalf("publish %d: %d %v", i, code, body)
		}
	}
}

// liveHeap returns the bytes of live heap after a collection: what the
// process (the node runs in it) holds right now.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestHistoryFloodOnANeverReadingConnection: a client with read permission
// that never reads sends one 2 KB frame of 30 history commands on a channel
// holding 100 x 60 KB. Its replies are bounded in bytes (--max-reply-bytes
// each, --send-queue-bytes in all), so it is closed 4008 as a slow consumer
// while the node holds a few MiB for it, not the 180 MB asked for.
func TestHistoryFloodOnANeverReadingConnection(t *testing.T) {
	g := startNode(t, "--dev", "--command-rate", "0")
	publishBig(t, g, "big:a", 100, 60<<10)
	w := dialSmallBuffer(t, g)
	w.result(w.call(protocol.Command{Op: protocol.OpConnect}))
	lines := make([]string, 30)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"id":%d,"op":"history","channel":"big:a","limit":1000}`, 10+i)
	}
	base := liveHeap()
	w.send(strings.Join(lines, "\n")) // and never read again until closed

	within(t, 15*time.Second, func() bool {
		return metric(t, g, "slow_consumer_disconnects_total") == 1
	}, func() string {
		return fmt.Sprintf("not closed as a slow consumer; the node holds %d MiB more than before", (liveHeap()-base)>>20)
	})
	// The budget: 4 MiB queued or being written, and the 1 MiB reply being
	// refused; the socket buffers are the kernel's.
	if held := int64(liveHeap()) - int64(base); held > 16<<20 {
		t.Fatalf("the node holds %d MiB more for the stalled connection, want at most 16", held>>20)
	}
	if code := w.closed(10 * time.Second); code != 4008 {
		t.Fatalf("closed with %d, want 4008", code)
	}
	wantMetrics(t, g, map[string]float64{"disconnects_total code=4008": 1})
}

// historyPage reads one page on the socket and returns its offsets and
// whether it says it was truncated.
func historyPage(t *testing.T, w *wsConn, cmd protocol.Command) ([]uint64, bool) {
	t.Helper()
	cmd.Op, cmd.Channel = protocol.OpHistory, "page:a"
	res := resultOf[protocol.HistoryResult](t, w.call(cmd))
	return pubOffsets(res.Publications), res.Truncated
}

// TestHistoryPagesWithinTheReplyBudget: a history page stops at
// --max-reply-bytes and says truncated:true; without since it starts at the
// oldest of the latest limit, so paging on with since = the last offset
// returns every publication exactly once, the last page untruncated. A
// history without limit is a page of 100, and limit is capped at 1000. The
// API answers the same.
func TestHistoryPagesWithinTheReplyBudget(t *testing.T) {
	g := startNode(t, "--dev", "--max-reply-bytes", "65536", "--history-size", "2000")
	publishBig(t, g, "page:a", 30, 10<<10) // 300 KB: five pages of 6
	w := connected(t, g, "")

	var got []uint64
	offs, truncated := historyPage(t, w, protocol.Command{Limit: 25})
	for {
		if len(offs) == 0 {
			t.Fatalf("an empty page after %v", got)
		}
		got = append(got, offs...)
		if !truncated {
			break
		}
		offs, truncated = historyPage(t, w, protocol.Command{Since: &got[len(got)-1], Limit: 25})
	}
	if want := seq(6, 30); !equal(got, want) {
		t.Fatalf("paged offsets %v, want 6..30 each once", got)
	}
	if pages := len(got)/6 + 1; pages < 4 {
		t.Fatalf("%d pages: the budget did not cut them", pages)
	}

	_, page := apiCall(t, g, "GET", "/api/v1/history?channel=page:a&since=10", "", "")
	res := typed[protocol.HistoryResult](t, page)
	if offs := pubOffsets(res.Publications); !res.Truncated || len(offs) == 0 || offs[0] != 11 || len(offs) > 7 {
		t.Fatalf("API page since 10: offsets %v, truncated %v; want a truncated page from 11", offs, res.Truncated)
	}

	publishN(t, g, "page:a", 1500) // small ones
	// Without the cap, limit 5000 would start at offset 1. The page from
	// 531 may then end at the budget, as any page.
	offs, truncated = historyPage(t, w, protocol.Command{})
	if truncated || len(offs) != 100 || offs[0] != 1431 {
		t.Fatalf("no limit: %d publications from %v (truncated %v), want 100 from 1431", len(offs), offs[:1], truncated)
	}
	offs, _ = historyPage(t, w, protocol.Command{Limit: 5000})
	if offs[0] != 531 {
		t.Fatalf("limit 5000: a page from %d, want from 531 (the cap of 1000)", offs[0])
	}
}

// TestRecoveryTooBigIsNotRecovered: a recovery whose publications exceed
// --max-reply-bytes answers recovered:false (the client resyncs) with no
// publications, instead of a reply of any size; one that fits recovers.
func TestRecoveryTooBigIsNotRecovered(t *testing.T) {
	g := startNode(t, "--dev", "--max-reply-bytes", "65536")
	w := connected(t, g, "")
	epoch := w.subscribe(protocol.Command{Channel: "rec:a"}).Epoch
	publishBig(t, g, "rec:a", 20, 10<<10) // 200 KB
	for _, tc := range []struct {
		from      uint64
		recovered bool
		n         int
	}{
		{0, false, 0},
		{17, true, 3},
	} {
		r := connected(t, g, "")
		res := r.subscribe(protocol.Command{Channel: "rec:a", Recover: true, Offset: tc.from, Epoch: epoch})
		if res.Recovered != tc.recovered || len(res.Publications) != tc.n || res.Offset != 20 {
			t.Fatalf("recover from %d: recovered %v with %d publications at offset %v, want %v with %d",
				tc.from, res.Recovered, len(res.Publications), res.Offset, tc.recovered, tc.n)
		}
	}
	wantMetrics(t, g, map[string]float64{"recoveries_total result=not_recovered": 1})
}

// TestPresenceIsCappedAndCounted: presence lists at most --max-reply-bytes
// (and at most limit) of the connections present, says truncated, and
// counts them all; the API answers the same.
func TestPresenceIsCappedAndCounted(t *testing.T) {
	g := startNode(t, "--dev", "--max-reply-bytes", "4096")
	const n = 80 // about 65 bytes each: 5 KB, over the budget
	var w *wsConn
	for i := 0; i < n; i++ {
		w = connected(t, g, "")
		w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "pres:a"}))
	}
	for _, tc := range []struct {
		name      string
		res       json.RawMessage
		most, min int
	}{
		{"budget", w.result(w.call(protocol.Command{Op: protocol.OpPresence, Channel: "pres:a"})), 70, 40},
		{"limit", w.result(w.call(protocol.Command{Op: protocol.OpPresence, Channel: "pres:a", Limit: 5})), 5, 5},
		{"API budget", apiGet(t, g, "/api/v1/presence?channel=pres:a"), 70, 40},
		{"API limit", apiGet(t, g, "/api/v1/presence?channel=pres:a&limit=3"), 3, 3},
	} {
		res := typed[protocol.PresenceResult](t, tc.res)
		if uint64(res.Count) != n || !res.Truncated || len(res.Users) > tc.most || len(res.Users) < tc.min {
			t.Errorf("%s: count %d, truncated %v, %d users; want count %d, truncated, %d to %d users",
				tc.name, res.Count, res.Truncated, len(res.Users), n, tc.min, tc.most)
		}
	}
	// The whole answer: an empty list (not null) and no truncated field.
	res := w.result(w.call(protocol.Command{Op: protocol.OpPresence, Channel: "pres:none"}))
	if string(res) != `{"users":[],"count":0}` {
		t.Errorf("empty channel: %s, want no users, count 0, not truncated", res)
	}
}

// apiGet calls the API with GET and fails unless it answers 200.
func apiGet(t *testing.T, g *gw, path string) json.RawMessage {
	t.Helper()
	code, res := apiCall(t, g, "GET", path, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, code, res)
	}
	return res
}

// TestPingBurstGetsRateLimitedNot4008: 2,500 pings in one frame, sent while
// the connection's writer is stalled behind 10 MB of pushes, are more
// replies than --send-queue holds messages. They are the client's own burst,
// bounded by its frame size and by --send-queue-bytes, so each gets its
// reply (ok within the rate's burst, rate_limited beyond it) in order, and
// only a client that keeps flooding is closed, with 4029.
func TestPingBurstGetsRateLimitedNot4008(t *testing.T) {
	g := startNode(t, "--dev", "--send-queue-bytes", "67108864")
	w := dialSmallBuffer(t, g)
	w.result(w.call(protocol.Command{Op: protocol.OpConnect}))
	w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "stall:a"}))
	publishBig(t, g, "stall:a", 160, 64<<10) // more than the socket buffers hold
	w.send(pingFrame(100, 2500))
	// The frame's commands are handled in one go; on a machine slow enough
	// that this takes over a second, the run of refusals already earns the
	// 4029 during the burst: then the replies stop there, but never at 4008.
	ok, limited, pushes, code := 0, 0, 0, 0
	for id := uint64(100); id < 2600; {
		m, closed := w.nextOrClosed(5 * time.Second)
		if closed != 0 {
			code = closed
			break
		}
		if m.Push != "" {
			pushes++
			continue
		}
		if m.ID != id {
			t.Fatalf("reply %s, want id %d", show(m), id)
		}
		switch errCode(m) {
		case "":
			ok++
		case "rate_limited":
			limited++
		default:
			t.Fatalf("reply %s, want a result or rate_limited", show(m))
		}
		id++
	}
	if code != 0 {
		if code != 4029 || ok < 100 || limited == 0 {
			t.Fatalf("closed with %d after %d ok and %d rate_limited replies: want 4029, after the burst ok and some rate_limited", code, ok, limited)
		}
		wantMetrics(t, g, map[string]float64{"slow_consumer_disconnects_total": 0})
		return
	}
	if ok > 400 || limited < 2000 || pushes != 160 {
		t.Fatalf("%d ok, %d rate_limited, %d pushes: want the burst of 200 (and its refill) ok, the rest limited, and all 160 pushes", ok, limited, pushes)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for id := 10000; ; id += 500 {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if w.c.WriteMessage(1, []byte(pingFrame(id, 500))) != nil {
				return
			}
		}
	}()
	if code := w.closed(10 * time.Second); code != 4029 {
		t.Fatalf("closed with %d, want 4029", code)
	}
	wantMetrics(t, g, map[string]float64{"slow_consumer_disconnects_total": 0})
}

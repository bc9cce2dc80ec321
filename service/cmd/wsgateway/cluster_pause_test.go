package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/client"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestClusterRedisPaused stops Redis (SIGSTOP) in the middle of two streams
// of publishes and continues it (SIGCONT) a few seconds later. Publishes
// sent to the stopped Redis are answered unavailable, yet they wait in its
// socket buffers and run when it continues. Two publishers retry every
// unavailable: a Go client, whose Publish retries by itself with the key it
// generated (its caller retries only what Publish gives up on), and a
// backend on the API, which sends every publish with its own key and
// retries a 503 with that same key. Every publication ends in history
// exactly once and reaches a subscriber on another node exactly once.
func TestClusterRedisPaused(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	nodes := startCluster(t, srv, []string{"node-a", "node-b"})
	a, b := nodes[0], nodes[1]
	const ch = "paused:stream"
	sub := watch(t, b, "")
	sub.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
	goPub := startKeyedPublisher(t, "go", newGoPublish(t, a, ch))
	apiPub := startKeyedPublisher(t, "api", apiKeyedPublish(a, ch))
	progress := func(n int64) func() bool {
		return func() bool { return goPub.done.Load() >= n && apiPub.done.Load() >= n }
	}
	within(t, 10*time.Second, progress(20), func() string { return "no steady publishing before the pause" })

	srv.Pause()
	paused := goPub.done.Load() + apiPub.done.Load()
	time.Sleep(3 * time.Second) // long enough for the breaker to open, and for retries to pile up
	srv.Resume()
	within(t, 20*time.Second, progress(goPub.done.Load()+20), func() string { return "publishing did not resume" })
	published := goPub.halt() + apiPub.halt()
	t.Logf("%d publications, %d before the pause; %d unavailable answers retried", published, paused,
		goPub.retries.Load()+apiPub.retries.Load())

	stored := historyData(t, a, ch)
	checkOnce(t, "history", stored, goPub, apiPub)
	within(t, 10*time.Second, func() bool { return lastOffset(sub, ch) == uint64(len(stored)) },
		func() string { return fmt.Sprintf("subscriber not at %d: %s", len(stored), sub.describe(ch)) })
	subs, violations := sub.replay(ch)
	if len(violations) > 0 || len(subs) != 1 {
		t.Fatalf("subscriber: %v %s", violations, summary(subs))
	}
	checkOnce(t, "subscriber", subs[0].data, goPub, apiPub)
}

// keyedPublisher publishes {"src":src,"n":n} for n = 0, 1, ... one after
// another, each until it succeeds, until halt.
type keyedPublisher struct {
	src     string
	done    atomic.Int64 // publications acknowledged
	retries atomic.Int64 // attempts that failed and were made again
	stop    chan struct{}
	wg      sync.WaitGroup
	halted  sync.Once
}

// publishFunc makes one attempt at publishing data; it reports success.
type publishFunc func(n int, data string) bool

func startKeyedPublisher(t *testing.T, src string, publish publishFunc) *keyedPublisher {
	p := &keyedPublisher{src: src, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for n := 0; ; n++ {
			data := fmt.Sprintf(`{"src":%q,"n":%d}`, src, n)
			for !publish(n, data) {
				p.retries.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
			p.done.Add(1)
			select {
			case <-p.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { p.halt() })
	return p
}

// halt stops publishing and returns how many publications were made.
func (p *keyedPublisher) halt() int64 {
	p.halted.Do(func() { close(p.stop) })
	p.wg.Wait()
	return p.done.Load()
}

// newGoPublish publishes through a Go client connected to g, without an
// idempotency key of the caller's: Publish retries with its own. When it
// gives up (its context ends), the caller calls it again, as an application
// would.
func newGoPublish(t *testing.T, g *gw, ch string) publishFunc {
	c := client.New(client.Options{URL: g.URL(), BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	c.Start(context.Background())
	t.Cleanup(func() { _ = c.Close() })
	return func(_ int, data string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := c.Publish(ctx, ch, json.RawMessage(data), "")
		return err == nil
	}
}

// apiKeyedPublish publishes through g's API with the key "api-<n>", so a
// retry after a 503 repeats the key.
func apiKeyedPublish(g *gw, ch string) publishFunc {
	return func(n int, data string) bool {
		body := fmt.Sprintf(`{"channel":%q,"data":%s,"idempotency_key":"api-%d"}`, ch, data, n)
		code, _, err := postJSON(g, "/api/v1/publish", body)
		return err == nil && code == http.StatusOK
	}
}

// historyData reads ch's whole history through g's API, page by page, and
// returns the data of its publications in offset order.
func historyData(t *testing.T, g *gw, ch string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for since := uint64(0); ; {
		path := fmt.Sprintf("/api/v1/history?channel=%s&since=%d&limit=1000", url.QueryEscape(ch), since)
		code, res := apiCall(t, g, "GET", path, "", "")
		if code != http.StatusOK {
			t.Fatalf("history %s since %d: %d %s", ch, since, code, res)
		}
		pubs := typed[protocol.HistoryResult](t, res).Publications
		if len(pubs) == 0 {
			return out
		}
		for _, p := range pubs {
			if p.Offset != since+1 {
				t.Fatalf("history %s: offset %d after %d", ch, p.Offset, since)
			}
			since++
			out = append(out, p.Data)
		}
	}
}

// checkOnce: data holds each publication of every publisher exactly once.
func checkOnce(t *testing.T, where string, data []json.RawMessage, pubs ...*keyedPublisher) {
	t.Helper()
	seen := map[string]int{}
	for _, d := range data {
		v := typed[srcData](t, d)
		seen[fmt.Sprintf("%s/%d", v.Src, v.N)]++
	}
	for _, p := range pubs {
		for n := int64(0); n < p.done.Load(); n++ {
			if k := fmt.Sprintf("%s/%d", p.src, n); seen[k] != 1 {
				t.Errorf("%s: %s %d times, want once", where, k, seen[k])
			}
		}
	}
	want := 0
	for _, p := range pubs {
		want += int(p.done.Load())
	}
	if len(data) != want {
		t.Errorf("%s: %d publications, want %d", where, len(data), want)
	}
}

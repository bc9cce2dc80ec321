package worker_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// Through Sentinel, from the gateway's URL form, a message is handled and
// acknowledged like on the other deployments.
func TestRunThroughSentinel(t *testing.T) {
	s := redistest.StartSentinel(t)
	rdb, err := worker.NewRedis(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	enqueue(t, rdb, "orders", 2, "sam", `"s"`)
	got := make(chan string, 1)
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders"},
			func(ctx context.Context, m *worker.Message) error { got <- string(m.Data); return nil })
	})
	defer stop()
	select {
	case d := <-got:
		if d != `"s"` {
			t.Fatalf("data %s", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no message through Sentinel")
	}
	part := streams.Part{Group: "orders", N: streams.Partition("sam", 2)}
	eventually(t, 5*time.Second, "the entry deleted", func() bool { return rdb.XLen(context.Background(), part.Stream()).Val() == 0 })
}

// The worker's metrics count results, hold the leases and the lag.
func TestMetrics(t *testing.T) {
	rdb := backends()[0].newClient(t)
	reg := prometheus.NewRegistry()
	for i := range 3 {
		enqueue(t, rdb, "orders", 2, "mia", strconv.Itoa(i))
	}
	var runs atomic.Int32
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Registerer: reg, Backoff: fastBackoff},
			func(ctx context.Context, m *worker.Message) error {
				if runs.Add(1) == 1 {
					return worker.Permanent(context.Canceled)
				}
				return nil
			})
	})
	defer stop()
	handled := func(result string) float64 {
		return counter(t, reg, "wsgateway_worker_handled_total", result)
	}
	eventually(t, 20*time.Second, "1 dead and 2 ok", func() bool { return handled("dead") == 1 && handled("ok") == 2 })
	eventually(t, 20*time.Second, "both leases held", func() bool { return gauge(t, reg, "wsgateway_worker_leases") == 2 })
	if g := gauge(t, reg, "wsgateway_worker_lag"); g < 0 {
		t.Fatal("no lag gauge")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if g := gauge(t, reg, "wsgateway_worker_leases"); g != 0 {
		t.Fatalf("leases gauge %v after Run, want 0", g)
	}
}

// counter reads the handled counter with the given result from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// A Consumer in batch mode (the webhook sender's way) gets up to BatchSize
// entries of one partition at once, in order, each batch once.
func TestConsumerBatches(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		for i := range 7 {
			enqueue(t, rdb, "orders", 1, "u", strconv.Itoa(i))
		}
		var mu sync.Mutex
		var sizes []int
		var order []string
		c := &worker.Consumer{Redis: rdb, Group: "orders", ConsumerGroup: streams.GroupWebhook, BatchSize: 3,
			Handle: func(ctx context.Context, b worker.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				sizes = append(sizes, len(b.Entries))
				for _, e := range b.Entries {
					order = append(order, e.Fields[streams.FieldData])
				}
				return nil
			}}
		stop := runAsync(c.Run)
		defer stop()
		eventually(t, 20*time.Second, "7 entries", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 7 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, s := range sizes {
			if s > 3 {
				t.Errorf("batch of %d, over BatchSize 3", s)
			}
		}
		for i, d := range order {
			if d != strconv.Itoa(i) {
				t.Fatalf("order %v", order)
			}
		}
	})
}

// Events come with their fields in the Event view and a public id built
// from the entry id (events carry no id field).
func TestEventView(t *testing.T) {
	rdb := backends()[0].newClient(t)
	ctx := context.Background()
	if _, err := streams.EnsurePartitions(ctx, rdb, streams.Events, 1); err != nil {
		t.Fatal(err)
	}
	eid := rdb.XAdd(ctx, &redis.XAddArgs{Stream: streams.Part{Group: streams.Events}.Stream(), Values: map[string]any{
		streams.FieldType: "connection.closed", streams.FieldTimeMS: "1765010000000", streams.FieldSeq: "7",
		streams.FieldSubject: "client:c9", streams.FieldUser: "ann", streams.FieldClient: "c9",
		streams.FieldNode: "n2", streams.FieldCode: "node_lost",
	}}).Val()
	got := make(chan *worker.Message, 1)
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: streams.Events},
			func(ctx context.Context, m *worker.Message) error { got <- m; return nil })
	})
	defer stop()
	var m *worker.Message
	select {
	case m = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	want := worker.Event{Type: "connection.closed", Subject: "client:c9", Seq: 7, User: "ann", Client: "c9",
		Node: "n2", Code: "node_lost", Time: time.UnixMilli(1765010000000)}
	if e := m.Event(); e != want {
		t.Errorf("Event() = %+v, want %+v", e, want)
	}
	if m.ID != "events/0/"+eid {
		t.Errorf("ID %s, want events/0/%s", m.ID, eid)
	}
	// Acknowledged, but kept: the webhook group reads the same entries.
	q := streams.Part{Group: streams.Events}.Stream()
	eventually(t, 5*time.Second, "the event acknowledged", func() bool {
		p, err := rdb.XPending(ctx, q, streams.GroupWorkers).Result()
		return err == nil && p.Count == 0
	})
	if n := rdb.XLen(ctx, q).Val(); n != 1 {
		t.Errorf("events partition holds %d entries after the ack, want 1 (never XDEL on events)", n)
	}
}

// Concurrency bounds the handlers running at once across partitions.
func TestConcurrencyBound(t *testing.T) {
	rdb := backends()[0].newClient(t)
	for u := range 8 {
		for i := range 3 {
			enqueue(t, rdb, "orders", 8, "user"+strconv.Itoa(u), strconv.Itoa(i))
		}
	}
	var now, peak, done atomic.Int32
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Concurrency: 2},
			func(ctx context.Context, m *worker.Message) error {
				n := now.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				now.Add(-1)
				done.Add(1)
				return nil
			})
	})
	defer stop()
	eventually(t, 30*time.Second, "24 handled", func() bool { return done.Load() == 24 })
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d handlers at once, over Concurrency 2", p)
	}
}

package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// A worker that died holding a lease and read entries: once its lease
// expires, another worker adopts its pending entries first, in id order,
// then the rest; every run happens while the new worker holds the lease.
func TestAdoptionAfterLeaseExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		var want []string
		for i := range 5 {
			enqueue(t, rdb, "orders", 4, "dave", fmt.Sprint(i))
			want = append(want, fmt.Sprint(i))
		}
		part := streams.Part{Group: "orders", N: streams.Partition("dave", 4)}
		if err := rdb.XGroupCreateMkStream(ctx, part.Stream(), streams.GroupWorkers, "0").Err(); err != nil {
			t.Fatal(err)
		}
		// The ghost read three entries and died with 1.5 s left on its lease.
		if got := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: streams.GroupWorkers, Consumer: "ghost",
			Streams: []string{part.Stream(), ">"}, Count: 3}).Val(); len(got) != 1 || len(got[0].Messages) != 3 {
			t.Fatalf("ghost read %v", got)
		}
		rdb.Set(ctx, part.Lease(streams.GroupWorkers), "ghost", 1500*time.Millisecond)
		for i := 5; i < 7; i++ {
			enqueue(t, rdb, "orders", 4, "dave", fmt.Sprint(i))
			want = append(want, fmt.Sprint(i))
		}
		var mu sync.Mutex
		var got, holders []string
		stop := runAsync(func(ctx context.Context) error {
			return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: "heir"},
				func(ctx context.Context, m *worker.Message) error {
					h := rdb.Get(ctx, part.Lease(streams.GroupWorkers)).Val()
					mu.Lock()
					defer mu.Unlock()
					got = append(got, string(m.Data))
					holders = append(holders, h)
					return nil
				})
		})
		defer stop()
		eventually(t, 20*time.Second, "7 messages handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 7 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("handled (-want +got):\n%s", diff)
		}
		for i, h := range holders {
			if h != "heir" {
				t.Errorf("run %d happened while the lease was %q's", i, h)
			}
		}
	})
}

// When its context ends, Run lets the in-flight handler finish and ack,
// takes nothing new, and releases its leases: another worker can take the
// partition at once instead of after the lease's 10 s.
func TestDrainFinishesInFlightAndReleases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		enqueue(t, rdb, "orders", 4, "erin", "first")
		enqueue(t, rdb, "orders", 4, "erin", "second")
		part := streams.Part{Group: "orders", N: streams.Partition("erin", 4)}
		started, proceed := make(chan struct{}), make(chan struct{})
		var handled []string
		var mu sync.Mutex
		runDone := make(chan error, 1)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			runDone <- worker.Run(wctx, worker.Options{Redis: rdb, Topic: "orders", Name: "a"},
				func(ctx context.Context, m *worker.Message) error {
					if string(m.Data) == "first" {
						close(started)
						<-proceed
					}
					mu.Lock()
					handled = append(handled, string(m.Data))
					mu.Unlock()
					return ctx.Err() // the drain must not cancel the handler's context
				})
		}()
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			t.Fatal("the first message was not started")
		}
		cancel()
		select {
		case err := <-runDone:
			t.Fatalf("Run returned (%v) while its handler was in flight", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(proceed)
		select {
		case err := <-runDone:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after its handler finished")
		}
		if n := rdb.Exists(ctx, part.Lease(streams.GroupWorkers)).Val(); n != 0 {
			t.Fatal("the lease is still held after the drain")
		}
		mu.Lock()
		if diff := cmp.Diff([]string{"first"}, handled); diff != "" {
			t.Fatalf("handled during the drain (-want +got):\n%s", diff)
		}
		mu.Unlock()
		if n := rdb.XLen(ctx, part.Stream()).Val(); n != 1 {
			t.Fatalf("partition holds %d entries, want the second only", n)
		}
		second := make(chan string, 1)
		stop := runAsync(func(ctx context.Context) error {
			return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: "b"},
				func(ctx context.Context, m *worker.Message) error { second <- string(m.Data); return nil })
		})
		defer stop()
		select {
		case d := <-second:
			if d != "second" {
				t.Fatalf("the next worker handled %q, want second", d)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the next worker did not take the partition")
		}
	})
}

// A worker whose lease was taken stops the partition: the handler's context
// ends, and the entry is not acknowledged (the new holder runs it).
func TestLostLeaseCancelsHandlerAndSkipsAck(t *testing.T) {
	rdb := backends()[0].newClient(t)
	ctx := context.Background()
	enqueue(t, rdb, "orders", 4, "frank", "x")
	part := streams.Part{Group: "orders", N: streams.Partition("frank", 4)}
	started, cancelled := make(chan struct{}), make(chan struct{})
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: "a"},
			func(ctx context.Context, m *worker.Message) error {
				close(started)
				select {
				case <-ctx.Done():
					close(cancelled)
				case <-time.After(30 * time.Second):
				}
				return nil // success, but too late: the ack must be refused
			})
	})
	defer stop()
	<-started
	rdb.Set(ctx, part.Lease(streams.GroupWorkers), "thief", time.Minute)
	select {
	case <-cancelled:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler's context did not end after the lease was taken")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := rdb.XLen(ctx, part.Stream()).Val(); n != 1 {
		t.Fatalf("partition holds %d entries, want the unacknowledged one", n)
	}
	if v := rdb.Get(ctx, part.Lease(streams.GroupWorkers)).Val(); v != "thief" {
		t.Fatalf("lease is %q after Run; a release must not touch another's lease", v)
	}
}

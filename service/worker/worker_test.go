package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

func fastBackoff(int) time.Duration { return 10 * time.Millisecond }

// A handled message is acknowledged and deleted: its partition stream is
// empty afterwards, and the handler saw the entry's fields.
func TestRunHandlesAndAcks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		id := enqueue(t, rdb, "orders", 4, "alice", `{"n":1}`)
		got := make(chan *worker.Message, 1)
		stop := runAsync(func(ctx context.Context) error {
			return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: "w1"},
				func(ctx context.Context, m *worker.Message) error { got <- m; return nil })
		})
		defer stop()
		var m *worker.Message
		select {
		case m = <-got:
		case <-time.After(20 * time.Second):
			t.Fatal("no message within 20 s")
		}
		if m.ID != id || m.User != "alice" || m.Client != "c-alice" || string(m.Data) != `{"n":1}` || m.Attempt != 1 || m.Topic != "orders" {
			t.Fatalf("message = %+v, want id %s of alice", m, id)
		}
		part := streams.Part{Group: "orders", N: m.Partition}
		eventually(t, 5*time.Second, "the entry deleted", func() bool { return rdb.XLen(context.Background(), part.Stream()).Val() == 0 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if n := rdb.Exists(context.Background(), part.Lease(streams.GroupWorkers)).Val(); n != 0 {
			t.Error("the lease outlived Run")
		}
		if n := rdb.ZCard(context.Background(), streams.WorkersKey("orders")).Val(); n != 0 {
			t.Error("the worker stayed in the workers set after Run")
		}
	})
}

// Three workers share the partitions; each user's messages are handled in
// the order they were queued, once each, and no two runs of one partition
// overlap.
func TestOrderPerUserAcrossThreeWorkers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		const users, perUser, parts = 6, 30, 8
		j := newJournal()
		var stops []func() error
		for w := range 3 {
			stops = append(stops, runAsync(func(ctx context.Context) error {
				return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: fmt.Sprint("w", w)},
					func(ctx context.Context, m *worker.Message) error {
						j.start(m.Partition, m.ID)
						time.Sleep(time.Millisecond)
						j.end(m.Partition, m.User, string(m.Data))
						return nil
					})
			}))
		}
		want := map[string][]string{}
		for i := range perUser {
			for u := range users {
				user := fmt.Sprint("u", u)
				enqueue(t, rdb, "orders", parts, user, strconv.Itoa(i))
				want[user] = append(want[user], strconv.Itoa(i))
			}
			if i == perUser/2 { // restart one worker half way: its partitions move
				if err := stops[0](); err != nil {
					t.Fatal(err)
				}
				stops[0] = runAsync(func(ctx context.Context) error {
					return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: "w0b"},
						func(ctx context.Context, m *worker.Message) error {
							j.start(m.Partition, m.ID)
							j.end(m.Partition, m.User, string(m.Data))
							return nil
						})
				})
			}
		}
		eventually(t, 60*time.Second, "every message handled", func() bool { return j.count() >= users*perUser })
		for _, s := range stops {
			if err := s(); err != nil {
				t.Fatal(err)
			}
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		if diff := cmp.Diff(want, j.byUser); diff != "" {
			t.Errorf("handled per user (-want +got):\n%s", diff)
		}
		if len(j.overlaps) > 0 {
			t.Errorf("overlapping runs: %v", j.overlaps)
		}
	})
}

// The partitions are spread: with three live workers none holds more than
// its share ceil(P/3), and together they hold all of them.
func TestLeasesSpreadOverWorkers(t *testing.T) {
	srvs := backends()[:1]
	rdb := srvs[0].newClient(t)
	const parts = 8
	if _, err := streams.EnsurePartitions(context.Background(), rdb, "orders", parts); err != nil {
		t.Fatal(err)
	}
	for w := range 3 {
		stop := runAsync(func(ctx context.Context) error {
			return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: fmt.Sprint("w", w)},
				func(context.Context, *worker.Message) error { return nil })
		})
		defer stop()
	}
	holders := func() map[string]int {
		h := map[string]int{}
		for n := range parts {
			if v, err := rdb.Get(context.Background(), streams.Part{Group: "orders", N: n}.Lease(streams.GroupWorkers)).Result(); err == nil {
				h[v]++
			}
		}
		return h
	}
	eventually(t, 30*time.Second, "8 leases over 3 workers, at most 3 each", func() bool {
		h := holders()
		total := 0
		for _, n := range h {
			if n > 3 {
				return false
			}
			total += n
		}
		return total == parts && len(h) == 3
	})
}

// A failing message is retried in place, then moved to the dead letters
// after MaxAttempts runs; Redrive queues it again and it is handled.
func TestMaxAttemptsDeadLetterRedrive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		id := enqueue(t, rdb, "orders", 4, "bob", `"bad"`)
		healed := make(chan struct{})
		ok := make(chan *worker.Message, 1)
		var attempts atomic.Int32
		stop := runAsync(func(ctx context.Context) error {
			return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", MaxAttempts: 3, Backoff: fastBackoff},
				func(ctx context.Context, m *worker.Message) error {
					select {
					case <-healed:
						ok <- m
						return nil
					default:
						if a := attempts.Add(1); m.Attempt != int(a) {
							return worker.Permanent(fmt.Errorf("attempt %d, want %d", m.Attempt, a))
						}
						return errors.New("boom")
					}
				})
		})
		defer stop()
		var dead []worker.DeadLetter
		eventually(t, 20*time.Second, "one dead letter", func() bool {
			var err error
			dead, err = worker.DeadLetters(ctx, rdb, "orders", 10)
			return err == nil && len(dead) == 1
		})
		d := dead[0]
		if d.MessageID != id || d.Attempts != 3 || d.Error != "boom" || d.Fields[streams.FieldData] != `"bad"` {
			t.Fatalf("dead letter = %+v, want %s after 3 attempts with error boom", d, id)
		}
		if a := attempts.Load(); a != 3 {
			t.Fatalf("handler ran %d times, want 3", a)
		}
		part := streams.Part{Group: "orders", N: d.Partition}
		if n := rdb.XLen(ctx, part.Stream()).Val(); n != 0 {
			t.Fatalf("partition still holds %d entries after the dead letter", n)
		}
		if n := rdb.HLen(ctx, part.Attempts(streams.GroupWorkers)).Val(); n != 0 {
			t.Fatalf("attempts not cleared: %d", n)
		}
		close(healed)
		if n, err := worker.Redrive(ctx, rdb, "orders", []string{d.ID, "1-1"}); err != nil || n != 1 {
			t.Fatalf("Redrive = %d, %v; want 1", n, err)
		}
		select {
		case m := <-ok:
			if m.ID != id || m.Attempt != 1 {
				t.Fatalf("redriven message %s attempt %d, want %s attempt 1", m.ID, m.Attempt, id)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the redriven message was not handled")
		}
		if dead, _ := worker.DeadLetters(ctx, rdb, "orders", 10); len(dead) != 0 {
			t.Fatalf("dead letters after redrive: %v", dead)
		}
	})
}

// A Permanent error skips the retries.
func TestPermanentErrorDeadAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		enqueue(t, rdb, "orders", 4, "carol", `1`)
		runs := make(chan int, 10)
		stop := runAsync(func(ctx context.Context) error {
			return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Backoff: fastBackoff},
				func(ctx context.Context, m *worker.Message) error {
					runs <- m.Attempt
					return worker.Permanent(errors.New("invalid order"))
				})
		})
		defer stop()
		var dead []worker.DeadLetter
		eventually(t, 20*time.Second, "one dead letter", func() bool {
			dead, _ = worker.DeadLetters(ctx, rdb, "orders", 10)
			return len(dead) == 1
		})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || dead[0].Attempts != 1 || dead[0].Error != "permanent: invalid order" {
			t.Fatalf("runs %d, dead letter %+v; want one run and attempts 1", len(runs), dead[0])
		}
	})
}

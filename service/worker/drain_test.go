package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// A handler that outlives DrainTimeout has its context cancelled; its
// entry stays pending (not acknowledged) for the next holder, and the lease
// is still released.
func TestDrainTimeoutCancelsHandler(t *testing.T) {
	rdb := backends()[0].newClient(t)
	ctx := context.Background()
	enqueue(t, rdb, "orders", 2, "slow", "1")
	part := streams.Part{Group: "orders", N: streams.Partition("slow", 2)}
	started := make(chan struct{})
	wctx, cancel := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() {
		runErr <- worker.Run(wctx, worker.Options{Redis: rdb, Topic: "orders", DrainTimeout: 200 * time.Millisecond},
			func(ctx context.Context, m *worker.Message) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			})
	}()
	<-started
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the drain timeout")
	}
	if p := rdb.XPending(ctx, part.Stream(), streams.GroupWorkers).Val(); p == nil || p.Count != 1 {
		t.Fatalf("pending %+v, want the cut entry", p)
	}
	if rdb.Exists(ctx, part.Lease(streams.GroupWorkers)).Val() != 0 {
		t.Fatal("lease kept after the drain timeout")
	}
	if n := rdb.HLen(ctx, part.Attempts(streams.GroupWorkers)).Val(); n != 0 {
		t.Fatalf("a cut run counted as %d failed attempts", n)
	}
}

// With Redis unreachable, a worker stops its partitions (the handler's
// context ends) before their leases could expire: PTTL is still positive
// when Redis comes back.
func TestRenewalFailureStopsBeforeExpiry(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := client(t, &redis.UniversalOptions{Addrs: []string{addr(srv.URL())}})
	ctx := context.Background()
	enqueue(t, rdb, "orders", 1, "pat", "1")
	part := streams.Part{Group: "orders"}
	started, ended := make(chan struct{}), make(chan struct{})
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders"},
			func(ctx context.Context, m *worker.Message) error {
				close(started)
				<-ctx.Done()
				close(ended)
				return ctx.Err()
			})
	})
	defer stop()
	<-started
	srv.Pause()
	select {
	case <-ended:
	case <-time.After(streams.LeaseTTL + 5*time.Second):
		srv.Resume()
		t.Fatal("the handler's context did not end while Redis was unreachable")
	}
	srv.Resume()
	if ttl := rdb.PTTL(ctx, part.Lease(streams.GroupWorkers)).Val(); ttl <= 0 {
		t.Fatalf("lease PTTL %v when the partition stopped: it stopped too late", ttl)
	}
}

// During a drain the lease of a partition whose handler is still running
// keeps being renewed: a handler may take longer than the lease's 10 s, and
// another worker must not adopt its entry meanwhile.
func TestDrainKeepsRenewingInFlightLease(t *testing.T) {
	rdb := backends()[0].newClient(t)
	ctx := context.Background()
	enqueue(t, rdb, "orders", 1, "long", "1")
	lease := streams.Part{Group: "orders"}.Lease(streams.GroupWorkers)
	started, proceed := make(chan struct{}), make(chan struct{})
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders"},
			func(ctx context.Context, m *worker.Message) error {
				close(started)
				<-proceed
				return nil
			})
	})
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }() // the drain begins
	low := time.Hour                  // the lowest PTTL seen: a renewal lifts it well above
	eventually(t, 2*streams.LeaseRenew+2*time.Second, "the lease renewed during the drain", func() bool {
		v := rdb.PTTL(ctx, lease).Val()
		low = min(low, v)
		return v > low+time.Second
	})
	close(proceed)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

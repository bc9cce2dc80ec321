package streams_test

import (
	"context"
	"testing"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

// One holder at a time, and only the holder renews or releases: the
// guarantee every consumer of a partition relies on.
func TestLeaseHasOneHolder(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t, redistest.Options{}).Client()
	p := streams.Part{Group: "orders", N: 3}
	step := func(what string, got bool, err error, want bool) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s = %v, %v; want %v", what, got, err, want)
		}
	}
	ok, err := p.TakeLease(ctx, rdb, streams.GroupWorkers, "a")
	step("a takes the free lease", ok, err, true)
	ok, err = p.TakeLease(ctx, rdb, streams.GroupWorkers, "b")
	step("b takes a's lease", ok, err, false)
	ok, err = p.TakeLease(ctx, rdb, streams.GroupWebhook, "b")
	step("b takes another consumer group's lease", ok, err, true)
	ok, err = p.RenewLease(ctx, rdb, streams.GroupWorkers, "b")
	step("b renews a's lease", ok, err, false)
	if err := p.ReleaseLease(ctx, rdb, streams.GroupWorkers, "b"); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, p.Lease(streams.GroupWorkers)).Val(); ttl <= 0 || ttl > streams.LeaseTTL {
		t.Fatalf("after b's release the lease's TTL is %v; want a's lease kept, at most LeaseTTL", ttl)
	}
	rdb.PExpire(ctx, p.Lease(streams.GroupWorkers), streams.LeaseTTL/10)
	ok, err = p.RenewLease(ctx, rdb, streams.GroupWorkers, "a")
	step("a renews its lease", ok, err, true)
	if ttl := rdb.PTTL(ctx, p.Lease(streams.GroupWorkers)).Val(); ttl <= streams.LeaseTTL/10 {
		t.Fatalf("after a's renewal the TTL is %v; want back near LeaseTTL", ttl)
	}
	if err := p.ReleaseLease(ctx, rdb, streams.GroupWorkers, "a"); err != nil {
		t.Fatal(err)
	}
	ok, err = p.TakeLease(ctx, rdb, streams.GroupWorkers, "b")
	step("b takes the released lease", ok, err, true)
	ok, err = p.RenewLease(ctx, rdb, streams.GroupWorkers, "a")
	step("a renews a lease it released", ok, err, false)
}

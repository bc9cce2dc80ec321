package streams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

func TestEnsurePartitionsFirstWriterWins(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	if _, err := streams.Partitions(ctx, rdb, "orders"); !errors.Is(err, streams.ErrNoPartitions) {
		t.Fatalf("Partitions before any write: err = %v, want ErrNoPartitions", err)
	}
	if n, err := streams.EnsurePartitions(ctx, rdb, "orders", 8); err != nil || n != 8 {
		t.Fatalf("first EnsurePartitions = %d, %v; want 8", n, err)
	}
	if n, err := streams.EnsurePartitions(ctx, rdb, "orders", 16); err != nil || n != 8 {
		t.Fatalf("second EnsurePartitions = %d, %v; want the stored 8", n, err)
	}
	if n, err := streams.Partitions(ctx, rdb, "orders"); err != nil || n != 8 {
		t.Fatalf("Partitions = %d, %v; want 8", n, err)
	}
	rdb.HSet(ctx, streams.MetaKey("bad"), streams.MetaPartitions, "x")
	if _, err := streams.Partitions(ctx, rdb, "bad"); err == nil {
		t.Fatal("Partitions accepted a non-number")
	}
}

// On Cluster every key of one partition must hash to one slot, or scripts
// touching them fail with CROSSSLOT.
func TestPartitionKeysShareASlotOnCluster(t *testing.T) {
	ctx := context.Background()
	c := redistest.StartCluster(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { rdb.Close() })
	p := streams.Part{Group: "orders", N: 5}
	keys := []string{p.Stream(), p.Lease(streams.GroupWorkers), p.Dedup("u", "k"),
		p.Attempts(streams.GroupWorkers), p.Sender("1-0"), p.Key("seq")}
	script := redis.NewScript(`for i, k in ipairs(KEYS) do redis.call('SET', k, '1') end return #KEYS`)
	n, err := script.Run(ctx, rdb, keys).Int()
	if err != nil || n != len(keys) {
		t.Fatalf("one script over a partition's keys: %d, %v", n, err)
	}
	if got, err := streams.EnsurePartitions(ctx, rdb, "orders", 4); err != nil || got != 4 {
		t.Fatalf("EnsurePartitions on Cluster = %d, %v", got, err)
	}
}

package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The Redis broker's per-channel keys are bounded as the in-process broker's
// state is: a channel that never had a publication leaves no key behind for
// long, and a subscribed one keeps its epoch meanwhile; a channel's
// idempotency keys are capped.

// channelKeys lists the keys of the channels whose names start with prefix.
func channelKeys(t *testing.T, admin *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := admin.Keys(context.Background(), "wsg:{"+prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// shortChecks makes the position checks run every 100 ms for the test.
func shortChecks(t *testing.T) {
	old := checkEvery
	checkEvery = 100 * time.Millisecond
	t.Cleanup(func() { checkEvery = old })
}

// churn subscribes to n channels named prefix:i, reads each one's position
// as a subscribing session does, and unsubscribes; and reads n more channels
// without subscribing, as the history API does.
func churn(t *testing.T, b brokerUnderTest, prefix string, n int) {
	t.Helper()
	ctx := t.Context()
	for i := range n {
		ch := fmt.Sprintf("%s:%d", prefix, i)
		if err := b.Subscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
		history(t, b, ch, protocol.PositionOnly)
		if err := b.Unsubscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
		history(t, b, fmt.Sprintf("%s-read:%d", prefix, i), protocol.HistoryQuery{})
	}
}

func TestRedisUnpublishedChannelsLeaveNoKeys(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	const n = 200
	t.Run("what is left expires within DefaultEmptyTTL", func(t *testing.T) {
		b := startRedis(t, srv.URL(), suiteNode, newRecorder(t)) // MetaTTL: the default, a day
		churn(t, b, "quiet", n)
		keys := channelKeys(t, admin, "quiet")
		if len(keys) == 0 {
			t.Fatal("no keys at all: the reads should keep each channel's epoch for a while")
		}
		for _, k := range keys {
			ttl, err := admin.PTTL(t.Context(), k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl <= 0 || ttl > DefaultEmptyTTL {
				t.Fatalf("%s (of %d keys) expires in %v, want within %v: a channel without publications outlives its subscribers", k, len(keys), ttl, DefaultEmptyTTL)
			}
		}
	})
	t.Run("and is gone after", func(t *testing.T) {
		shortChecks(t)
		b := startRedis(t, srv.URL(), suiteNode, newRecorder(t), func(o *RedisOptions) {
			o.HistoryTTL, o.MetaTTL = time.Second, time.Second
		})
		churn(t, b, "gone", n)
		poll(t, "no key left", func() error {
			if keys := channelKeys(t, admin, "gone"); len(keys) > 0 {
				return fmt.Errorf("%d keys left, %s among them", len(keys), keys[0])
			}
			return nil
		})
	})
}

// TestRedisSubscribedEmptyChannelKeepsEpoch: while a node subscribes, a
// channel without publications keeps its epoch however long it stays quiet,
// so its first publication reaches the subscribers in the epoch they were
// given; once the node unsubscribed, the channel's keys go.
func TestRedisSubscribedEmptyChannelKeepsEpoch(t *testing.T) {
	shortChecks(t)
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	rec := newRecorder(t)
	b := startRedis(t, srv.URL(), suiteNode, rec, func(o *RedisOptions) {
		o.HistoryTTL, o.MetaTTL = time.Second, time.Second
	})
	if err := b.Subscribe(t.Context(), "kept"); err != nil {
		t.Fatal(err)
	}
	first := history(t, b, "kept", protocol.PositionOnly)
	time.Sleep(3 * redisEmptyTTL(b.opts.MetaTTL)) // quiet for three times the TTL of its meta
	pos := publish(t, b, "kept", protocol.PublishOptions{})
	if pos != (protocol.Position{Offset: 1, Epoch: first.Epoch}) {
		t.Errorf("first publication at %+v, want offset 1 in the epoch subscribers got, %q", pos, first.Epoch)
	}
	if got := rec.waitPubs(t, "kept", 1); got[0].Epoch != first.Epoch {
		t.Errorf("delivered in epoch %q, want %q", got[0].Epoch, first.Epoch)
	}
	if err := b.Unsubscribe(t.Context(), "kept"); err != nil {
		t.Fatal(err)
	}
	// Its idempotency keys live their own window; position and history go
	// MetaTTL and HistoryTTL after the publication.
	poll(t, "the channel's meta and stream expire", func() error {
		n, err := admin.Exists(t.Context(), metaKey("kept"), streamKey("kept")).Result()
		if err != nil || n > 0 {
			return fmt.Errorf("%d of meta and stream left (%v)", n, err)
		}
		return nil
	})
}

// TestRedisIdempotencyKeysBounded counts what many keyed publishes on one
// channel leave in Redis: a fixed number of keys, the idempotency entries
// capped at idempotencyCap.
func TestRedisIdempotencyKeysBounded(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	b := startRedis(t, srv.URL(), suiteNode, newRecorder(t))
	keyCap := idempotencyCap(suiteHistorySize)
	for i := range keyCap + 100 {
		publish(t, b, "idem:count", protocol.PublishOptions{IdempotencyKey: fmt.Sprintf("key-%d", i)})
	}
	keys := channelKeys(t, admin, "idem:count")
	if len(keys) > 4 {
		t.Errorf("%d keys for one channel, want at most 4 (meta, stream, and the idempotency hash and order)", len(keys))
	}
	for _, n := range []*redis.IntCmd{admin.HLen(t.Context(), idemKeysKey("idem:count")), admin.ZCard(t.Context(), idemOrderKey("idem:count"))} {
		if got, err := n.Result(); err != nil || got != int64(keyCap) {
			t.Errorf("%s = %d (%v), want the cap %d", n.Args(), got, err, keyCap)
		}
	}
	// Both expire a window after the last keyed publish.
	for _, k := range []string{idemKeysKey("idem:count"), idemOrderKey("idem:count")} {
		if ttl, err := admin.PTTL(t.Context(), k).Result(); err != nil || ttl <= 0 || ttl > protocol.IdempotencyWindow {
			t.Errorf("%s expires in %v (%v), want within %v", k, ttl, err, protocol.IdempotencyWindow)
		}
	}
}

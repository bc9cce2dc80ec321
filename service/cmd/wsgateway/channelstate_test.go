package main

// Issue 9, item 5: per-channel state is bounded, over real sockets. A node
// without Redis forgets channels that never had a publication once their
// subscribers left, forgets published ones --channel-meta-ttl after their
// last publication, and keeps at most --history-max-channels of those,
// evicting the one published longest ago into a new epoch. With Redis, the
// meta key lives --channel-meta-ttl.

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// waitNoChannels waits until g's broker holds no channel.
func waitNoChannels(t *testing.T, g *gw) {
	t.Helper()
	var n float64
	within(t, 5*time.Second, func() bool { n = metric(t, g, "broker_channels"); return n == 0 },
		func() string { return fmt.Sprintf("the broker still holds %v channels (-1: not exposed)", n) })
}

func TestUnpublishedChannelsLeaveNoState(t *testing.T) {
	slowUnderShort(t, "for the 2 s --channel-meta-ttl")
	g := startNode(t, "--dev", "--command-rate", "0", "--history-ttl", "1s", "--channel-meta-ttl", "2s")
	w := connected(t, g, "")
	const n = 300
	var first string
	for i := range n {
		ch := fmt.Sprintf("churn:%d", i)
		res := resultOf[protocol.SubscribeResult](t, w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}))
		if i == 0 {
			first = res.Epoch
		}
		w.result(w.call(protocol.Command{Op: protocol.OpUnsubscribe, Channel: ch}))
	}
	waitNoChannels(t, g)
	res := resultOf[protocol.SubscribeResult](t, w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "churn:0"}))
	if res.Epoch == first || res.Offset != 0 {
		t.Errorf("churn:0 subscribed again at offset %d in epoch %q, want offset 0 in a new epoch (old %q)", res.Offset, res.Epoch, first)
	}
}

func TestPublishedChannelsExpireAfterMetaTTL(t *testing.T) {
	slowUnderShort(t, "for the 2 s --channel-meta-ttl")
	g := startNode(t, "--dev", "--history-ttl", "1s", "--channel-meta-ttl", "2s")
	const n = 50
	var first string
	for i := range n {
		res := apiPublish(t, g, "", fmt.Sprintf("pub:%d", i), `{"n":1}`)
		if i == 0 {
			first = res.Epoch
		}
	}
	// Reads do not keep a channel's position: only publications do.
	var off uint64
	var epoch string
	within(t, 5*time.Second, func() bool { off, epoch = position(t, g, "pub:0"); return off == 0 && epoch != first },
		func() string {
			return fmt.Sprintf("pub:0 still at offset %d in epoch %q after --channel-meta-ttl", off, epoch)
		})
	waitNoChannels(t, g)
	res := apiPublish(t, g, "", "pub:0", `{"n":2}`)
	if res.Offset != 1 || res.Epoch == first {
		t.Errorf("pub:0 published again at %d in epoch %q, want offset 1 in a new epoch (old %q)", res.Offset, res.Epoch, first)
	}
}

func TestHistoryMaxChannelsEvictsOldestIdle(t *testing.T) {
	g := startNode(t, "--dev", "--history-max-channels", "3")
	live := connected(t, g, "")
	sub := resultOf[protocol.SubscribeResult](t, live.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "b"}))
	for _, ch := range []string{"a", "b", "c"} {
		apiPublish(t, g, "", ch, `{"on":"`+ch+`"}`)
	}
	// The idle order is kept to a second (broker.idleStep): a publication a
	// second later makes a the most recent, so b is now the idlest.
	time.Sleep(1100 * time.Millisecond)
	apiPublish(t, g, "", "a", `{"on":"a"}`)
	apiPublish(t, g, "", "d", `{"on":"d"}`) // one too many: b goes
	if m := live.next(); m.Push != protocol.PushPub || m.Channel != "b" || m.Offset != 1 || m.Epoch != sub.Epoch {
		t.Fatalf("live subscriber of b got %s, want b's offset 1 in epoch %s", show(m), sub.Epoch)
	}
	if off, epoch := position(t, g, "b"); off != 0 || epoch == sub.Epoch {
		t.Fatalf("b at offset %d in epoch %q after a fourth channel was published, want offset 0 in a new epoch (old %s)", off, epoch, sub.Epoch)
	}
	for ch, want := range map[string]uint64{"a": 2, "c": 1, "d": 1} {
		if off, _ := position(t, g, ch); off != want {
			t.Errorf("%s at offset %d, want %d (kept)", ch, off, want)
		}
	}
	if got := metric(t, g, "history_evictions_total"); got != 1 {
		t.Errorf("wsgateway_history_evictions_total = %v, want 1", got)
	}

	// A client that saw b's offset 1 is told to resync, not recovered into
	// the new stream.
	late := connected(t, g, "")
	rec := resultOf[protocol.SubscribeResult](t, late.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "b", Recover: true, Offset: 1, Epoch: sub.Epoch}))
	if rec.Recovered {
		t.Errorf("recovery of b from offset 1 in its evicted epoch: %+v, want recovered:false", rec)
	}
	// b's next publication starts the new epoch: the live subscriber, still
	// in the old one, is told (unsub) instead of receiving it as offset 2.
	res := apiPublish(t, g, "", "b", `{"on":"b again"}`)
	if res.Epoch == sub.Epoch || res.Offset != 1 {
		t.Errorf("b published again at %d in epoch %s, want offset 1 in a new epoch", res.Offset, res.Epoch)
	}
	if m := live.next(); m.Push != protocol.PushUnsub || m.Channel != "b" {
		t.Errorf("live subscriber of b got %s, want an unsub push", show(m))
	}
}

func TestRedisMetaKeyLivesChannelMetaTTL(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	g := startNode(t, "--dev", "--redis-url", srv.URL(), "--history-ttl", "1s", "--channel-meta-ttl", "3s")
	apiPublish(t, g, "", "ttl", `1`)
	ttl, err := srv.Client().PTTL(t.Context(), "wsg:{ttl}:m").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 3*time.Second {
		t.Errorf("the channel's meta key expires in %v, want within --channel-meta-ttl (3s)", ttl)
	}
}

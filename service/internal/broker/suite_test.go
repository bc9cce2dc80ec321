package broker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// brokerUnderTest is what the suite exercises: session.Broker plus the
// API-only methods. It is declared here so the tests do not import session.
type brokerUnderTest interface {
	Publish(ctx context.Context, channel string, data []byte, opts protocol.PublishOptions) (protocol.Position, error)
	History(ctx context.Context, channel string, q protocol.HistoryQuery) (protocol.History, error)
	Subscribe(ctx context.Context, channel string) error
	Unsubscribe(ctx context.Context, channel string) error
	AddPresence(ctx context.Context, channel string, info protocol.ClientInfo) error
	RemovePresence(ctx context.Context, channel, client string) error
	Presence(ctx context.Context, channel string) ([]protocol.ClientInfo, error)
	Disconnect(ctx context.Context, user string) error
	Nodes(ctx context.Context) ([]protocol.NodeInfo, error)
}

// A broker factory for runBrokerSuite must configure these.
var suiteNode = protocol.NodeInfo{Node: "suite-node", Zone: "suite-zone"}

const suiteHistorySize = 20

// waitTimeout bounds how long the suite waits for an asynchronous delivery.
const waitTimeout = 10 * time.Second

// runBrokerSuite runs the behaviour every broker shares. newBroker returns a
// fresh broker delivering to h, with HistorySize suiteHistorySize, a
// HistoryTTL of at least a minute, and Nodes answering suiteNode; it registers
// its own cleanup, which must stop delivery before the test ends.
func runBrokerSuite(t *testing.T, newBroker func(t *testing.T, h Handler) brokerUnderTest) {
	cases := []struct {
		name string
		run  func(t *testing.T, b brokerUnderTest, r *recorder)
	}{
		{"offsets start at 1 and grow by 1", testOffsets},
		{"epoch is stable across publishes", testEpochStable},
		{"channels are independent", testChannelsIndependent},
		{"concurrent publishes are delivered in offset order exactly once", testDeliveryOrder},
		{"history without since returns the latest", testHistoryLatest},
		{"history with since returns what follows", testHistorySince},
		{"history is bounded", testHistoryBounded},
		{"history stops at the byte budget", testHistoryBudget},
		{"empty channel has offset 0 and a stable epoch", testEmptyChannel},
		{"idempotency key publishes once", testIdempotentRepeat},
		{"different idempotency keys publish", testIdempotentDifferentKeys},
		{"idempotency key is per channel", testIdempotentPerChannel},
		{"idempotency keys per channel are bounded", testIdempotencyBounded},
		{"presence add list remove", testPresence},
		{"disconnect reaches the handler", testDisconnect},
		{"nodes lists the local node", testNodes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRecorder(t)
			c.run(t, newBroker(t, r), r)
		})
	}
}

func testOffsets(t *testing.T, b brokerUnderTest, _ *recorder) {
	for want := uint64(1); want <= 5; want++ {
		if got := publish(t, b, "offsets", protocol.PublishOptions{}); got.Offset != want {
			t.Fatalf("publish %d: offset %d, want %d", want, got.Offset, want)
		}
	}
	if got := history(t, b, "offsets", protocol.HistoryQuery{}).Offset; got != 5 {
		t.Errorf("history offset %d, want 5", got)
	}
}

func testEpochStable(t *testing.T, b brokerUnderTest, _ *recorder) {
	first := publish(t, b, "epoch", protocol.PublishOptions{})
	if first.Epoch == "" {
		t.Fatal("empty epoch")
	}
	for range 3 {
		if got := publish(t, b, "epoch", protocol.PublishOptions{}); got.Epoch != first.Epoch {
			t.Fatalf("epoch changed from %q to %q", first.Epoch, got.Epoch)
		}
	}
	if got := history(t, b, "epoch", protocol.HistoryQuery{}).Epoch; got != first.Epoch {
		t.Errorf("history epoch %q, want %q", got, first.Epoch)
	}
}

func testChannelsIndependent(t *testing.T, b brokerUnderTest, _ *recorder) {
	publishN(t, b, "ind:a", 3)
	publishN(t, b, "ind:b", 2)
	for ch, want := range map[string]uint64{"ind:a": 3, "ind:b": 2, "ind:c": 0} {
		h := history(t, b, ch, protocol.HistoryQuery{})
		if h.Offset != want || len(h.Publications) != int(want) {
			t.Errorf("%s: offset %d with %d publications, want %d", ch, h.Offset, len(h.Publications), want)
		}
	}
}

func testDeliveryOrder(t *testing.T, b brokerUnderTest, r *recorder) {
	const ch, workers, each = "order", 8, 200
	if err := b.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	offsets := make(chan uint64, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				data := []byte(strconv.Itoa(w*each + i))
				pos, err := b.Publish(t.Context(), ch, data, protocol.PublishOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				offsets <- pos.Offset
			}
		})
	}
	wg.Wait()
	close(offsets)
	seen := make(map[uint64]bool)
	for o := range offsets {
		if seen[o] || o < 1 || o > workers*each {
			t.Errorf("publish returned offset %d twice or out of range", o)
		}
		seen[o] = true
	}
	got := r.waitPubs(t, ch, workers*each)
	for i, p := range got {
		if p.Offset != uint64(i+1) {
			t.Fatalf("delivery %d has offset %d", i, p.Offset)
		}
	}
}

func testHistoryLatest(t *testing.T, b brokerUnderTest, _ *recorder) {
	pos := publishN(t, b, "hist", 10)
	tests := []struct {
		name     string
		limit    int
		from, to uint64
	}{
		{"no limit", 0, 1, 10},
		{"limit 3", 3, 8, 10},
		{"limit above size", 50, 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := history(t, b, "hist", protocol.HistoryQuery{Limit: tt.limit})
			want := protocol.History{Position: pos, Publications: wantPubs("hist", pos.Epoch, tt.from, tt.to)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
}

func testHistorySince(t *testing.T, b brokerUnderTest, _ *recorder) {
	pos := publishN(t, b, "since", 10)
	tests := []struct {
		name         string
		since        uint64
		limit        int
		from, to     uint64
		wantNoResult bool
	}{
		{name: "since 0", since: 0, from: 1, to: 10},
		{name: "since 7", since: 7, from: 8, to: 10},
		{name: "since 7 limit 2", since: 7, limit: 2, from: 8, to: 9},
		{name: "since current", since: 10, wantNoResult: true},
		{name: "since future", since: 15, wantNoResult: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := history(t, b, "since", protocol.HistoryQuery{Since: tt.since, HasSince: true, Limit: tt.limit})
			want := protocol.History{Position: pos, Publications: []*protocol.Publication{}}
			if !tt.wantNoResult {
				want.Publications = wantPubs("since", pos.Epoch, tt.from, tt.to)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
}

func testHistoryBounded(t *testing.T, b brokerUnderTest, _ *recorder) {
	const n = 25
	pos := publishN(t, b, "bounded", n)
	oldest := uint64(n - suiteHistorySize + 1)
	want := protocol.History{Position: pos, Publications: wantPubs("bounded", pos.Epoch, oldest, n)}
	for _, q := range []protocol.HistoryQuery{{}, {Since: 2, HasSince: true}} {
		if diff := cmp.Diff(want, history(t, b, "bounded", q)); diff != "" {
			t.Errorf("history %+v (-want +got):\n%s", q, diff)
		}
	}
}

func testEmptyChannel(t *testing.T, b brokerUnderTest, _ *recorder) {
	first := history(t, b, "empty", protocol.HistoryQuery{})
	if first.Offset != 0 || first.Epoch == "" || len(first.Publications) != 0 {
		t.Fatalf("empty channel: %+v, want offset 0, an epoch, no publications", first)
	}
	if again := history(t, b, "empty", protocol.HistoryQuery{}); again.Epoch != first.Epoch {
		t.Errorf("epoch changed on a second read: %q, then %q", first.Epoch, again.Epoch)
	}
	if pos := publish(t, b, "empty", protocol.PublishOptions{}); pos != (protocol.Position{Offset: 1, Epoch: first.Epoch}) {
		t.Errorf("first publish at %+v, want offset 1 in epoch %q", pos, first.Epoch)
	}
}

func testIdempotentRepeat(t *testing.T, b brokerUnderTest, r *recorder) {
	const ch = "idem"
	if err := b.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	first := publishData(t, b, ch, `"first"`, protocol.PublishOptions{IdempotencyKey: "k"})
	repeat := publishData(t, b, ch, `"repeat"`, protocol.PublishOptions{IdempotencyKey: "k"})
	if repeat != first {
		t.Errorf("repeat returned %+v, want the first position %+v", repeat, first)
	}
	// Delivery is in offset order, so once the marker arrives every earlier
	// publication has too.
	publishData(t, b, ch, `"marker"`, protocol.PublishOptions{})
	var got []string
	for _, p := range r.waitPubs(t, ch, 2) {
		got = append(got, fmt.Sprintf("%d %s", p.Offset, p.Data))
	}
	if diff := cmp.Diff([]string{`1 "first"`, `2 "marker"`}, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

func testIdempotentDifferentKeys(t *testing.T, b brokerUnderTest, _ *recorder) {
	for i, key := range []string{"k1", "k2", "k3"} {
		pos := publish(t, b, "keys", protocol.PublishOptions{IdempotencyKey: key})
		if pos.Offset != uint64(i+1) {
			t.Errorf("key %s: offset %d, want %d", key, pos.Offset, i+1)
		}
	}
}

func testIdempotentPerChannel(t *testing.T, b brokerUnderTest, _ *recorder) {
	opts := protocol.PublishOptions{IdempotencyKey: "same"}
	publish(t, b, "per:a", opts)
	publish(t, b, "per:a", protocol.PublishOptions{})
	pos := publish(t, b, "per:b", opts)
	h := history(t, b, "per:b", protocol.HistoryQuery{})
	if pos.Offset != 1 || h.Offset != 1 || len(h.Publications) != 1 {
		t.Errorf("per:b: publish at %d, history offset %d with %d publications; want 1, 1, 1",
			pos.Offset, h.Offset, len(h.Publications))
	}
}

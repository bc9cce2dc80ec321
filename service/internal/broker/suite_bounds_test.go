package broker

import (
	"fmt"
	"testing"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// testIdempotencyBounded: a channel remembers idempotencyCap keys. Beyond
// that the oldest is forgotten before its window ends (documented: a retry
// after that many newer keyed publishes publishes again), while recent keys
// still deduplicate.
func testIdempotencyBounded(t *testing.T, b brokerUnderTest, r *recorder) {
	const ch = "idem:bounded"
	if err := b.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	n := idempotencyCap(suiteHistorySize) + 50
	for i := range n {
		publish(t, b, ch, protocol.PublishOptions{IdempotencyKey: fmt.Sprintf("k%d", i)})
	}
	tests := []struct {
		name, key  string
		wantOffset int
	}{
		{"the latest key deduplicates", fmt.Sprintf("k%d", n-1), n},
		{"a key among the latest cap deduplicates", fmt.Sprintf("k%d", n-idempotencyCap(suiteHistorySize)/2), n - idempotencyCap(suiteHistorySize)/2 + 1},
		{"the oldest key is forgotten and publishes", "k0", n + 1},
	}
	for _, tt := range tests {
		if got := publish(t, b, ch, protocol.PublishOptions{IdempotencyKey: tt.key}).Offset; got != uint64(tt.wantOffset) {
			t.Errorf("%s: %s at offset %d, want %d", tt.name, tt.key, got, tt.wantOffset)
		}
	}
	if got := len(r.waitPubs(t, ch, n+1)); got != n+1 {
		t.Errorf("%d delivered, want %d", got, n+1)
	}
}

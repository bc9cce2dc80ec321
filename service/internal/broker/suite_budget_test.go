package broker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// testHistoryBudget: a byte budget (HistoryQuery.MaxBytes) ends a page
// early and says so; the page is contiguous from where it starts, holds at
// least one publication however small the budget, and without since starts
// at the oldest of the latest limit, so paging on with since reaches the
// head. The brokers measure sizes their own way, so counts are not pinned.
func testHistoryBudget(t *testing.T, b brokerUnderTest, _ *recorder) {
	const ch = "budget"
	data := fmt.Sprintf("%q", strings.Repeat("x", 1000))
	var pos protocol.Position
	for range 10 {
		pos = publishData(t, b, ch, data, protocol.PublishOptions{})
	}
	for _, tc := range []struct {
		name      string
		q         protocol.HistoryQuery
		first     uint64
		most      int
		truncated bool
	}{
		{"since, budget of about three", protocol.HistoryQuery{HasSince: true, Since: 2, MaxBytes: 3500}, 3, 4, true},
		{"latest limit 5, budget of about two", protocol.HistoryQuery{Limit: 5, MaxBytes: 2500}, 6, 3, true},
		{"budget below one publication", protocol.HistoryQuery{HasSince: true, MaxBytes: 10}, 1, 1, true},
		{"budget above everything", protocol.HistoryQuery{HasSince: true, MaxBytes: 1 << 20}, 1, 10, false},
		{"latest, budget above the limit", protocol.HistoryQuery{Limit: 4, MaxBytes: 1 << 20}, 7, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := history(t, b, ch, tc.q)
			n := len(h.Publications)
			if h.Position != pos || h.Truncated != tc.truncated || n == 0 || n > tc.most || h.Publications[0].Offset != tc.first {
				t.Fatalf("%d publications from %v, truncated %v, at %+v; want at most %d from %d, truncated %v, at %+v",
					n, h.Publications[0].Offset, h.Truncated, h.Position, tc.most, tc.first, tc.truncated, pos)
			}
			if !tc.truncated && tc.most != n {
				t.Fatalf("%d publications, want %d", n, tc.most)
			}
			for i, p := range h.Publications {
				if p.Offset != tc.first+uint64(i) || string(p.Data) != data {
					t.Fatalf("publication %d: offset %d, want %d, data intact %v", i, p.Offset, tc.first+uint64(i), string(p.Data) == data)
				}
			}
		})
	}
}

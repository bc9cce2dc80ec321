package session

import (
	"testing"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestRecovered: a subscribe with recover succeeds only when the history
// read holds exactly the publications after the client's offset, in the
// client's epoch; anything else tells the client to resync.
func TestRecovered(t *testing.T) {
	pubs := func(offsets ...uint64) []*protocol.Publication {
		var out []*protocol.Publication
		for _, o := range offsets {
			out = append(out, &protocol.Publication{Offset: o, Epoch: "e"})
		}
		return out
	}
	history := func(epoch string, offset uint64, ps []*protocol.Publication) protocol.History {
		return protocol.History{Position: protocol.Position{Epoch: epoch, Offset: offset}, Publications: ps}
	}
	for _, tc := range []struct {
		name     string
		epoch    string // the client's
		offset   uint64 // the client's
		history  protocol.History
		truncate bool
		want     bool
	}{
		{"nothing missed", "e", 7, history("e", 7, nil), false, true},
		{"every missed publication", "e", 4, history("e", 7, pubs(5, 6, 7)), false, true},
		{"another epoch", "old", 4, history("e", 7, pubs(5, 6, 7)), false, false},
		{"the client ahead of the channel", "e", 9, history("e", 7, nil), false, false},
		{"history shorter than what was missed", "e", 2, history("e", 7, pubs(5, 6, 7)), false, false},
		{"history that does not start after the client's offset", "e", 4, history("e", 7, pubs(6, 7, 8)), false, false},
		{"history cut at the reply budget", "e", 4, history("e", 7, pubs(5, 6, 7)), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.history
			h.Truncated = tc.truncate
			cmd := &protocol.Command{Op: protocol.OpSubscribe, Channel: "c", Recover: true, Epoch: tc.epoch, Offset: tc.offset}
			if got := recovered(cmd, h); got != tc.want {
				t.Errorf("recovered = %v, want %v", got, tc.want)
			}
		})
	}
}

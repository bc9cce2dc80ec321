package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// subRecord is one subscription to a channel as a client saw it: from the
// subscribe reply to the unsub push or unsubscribe reply that ended it.
type subRecord struct {
	recovering, recovered bool
	epoch                 string            // the reply's epoch
	at                    uint64            // the reply's offset
	offsets               []uint64          // recovered publications, then live ones
	data                  []json.RawMessage // their data, in the same order
	ended                 string            // "unsub", "unsubscribe", or "" while live
}

// last is the position of the last publication the subscription delivered
// (or of its reply when none came).
func (s *subRecord) last() uint64 {
	if len(s.offsets) == 0 {
		return s.at
	}
	return s.offsets[len(s.offsets)-1]
}

// replay goes through what w received, in order, and rebuilds its
// subscriptions to ch. It checks the contract's promise on the way: within
// one subscription every publication is the next offset of the same epoch
// (recovered ones from the client's offset on, live ones after the reply),
// and none arrives outside a subscription. Each breach is returned as a
// violation: a silent gap, a repeat, or a publication nobody was told about.
func (w *watcher) replay(ch string) (subs []*subRecord, violations []string) {
	msgs, sent, invalid := w.snapshot()
	var cur *subRecord
	bad := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	for _, line := range invalid {
		bad("a line that is no protocol.Message: %s", line)
	}
	for i, m := range msgs {
		switch {
		case m.Push == protocol.PushPub && m.Channel == ch:
			switch {
			case cur == nil:
				bad("message %d: publication %d outside any subscription", i, m.Offset)
			case m.Epoch != cur.epoch || m.Offset != cur.last()+1:
				bad("message %d: publication %d (epoch %s) after %d (epoch %s) in one subscription", i, m.Offset, m.Epoch, cur.last(), cur.epoch)
			}
			if cur != nil {
				cur.offsets, cur.data = append(cur.offsets, m.Offset), append(cur.data, m.Data)
			}
		case m.Push == protocol.PushUnsub && m.Channel == ch:
			if cur == nil {
				bad("message %d: unsub outside any subscription", i)
				continue
			}
			cur.ended, cur = "unsub", nil
		case m.ID != 0:
			cmd, ok := sent[m.ID]
			if !ok || cmd.Channel != ch || m.Result == nil {
				continue
			}
			switch cmd.Op {
			case protocol.OpSubscribe:
				if cur != nil {
					bad("message %d: subscribed while a subscription was live", i)
				}
				var res protocol.SubscribeResult
				if err := decodeStrict(m.Result, &res); err != nil {
					bad("message %d: subscribe result %s: %v", i, m.Result, err)
					continue
				}
				var v []string
				cur, v = newSubRecord(cmd, res)
				subs, violations = append(subs, cur), append(violations, v...)
			case protocol.OpUnsubscribe:
				if cur != nil {
					cur.ended, cur = "unsubscribe", nil
				}
			}
		}
	}
	return subs, violations
}

// newSubRecord starts a subscription from its subscribe command and reply,
// and checks the reply's publications: exactly the offsets after the
// client's, up to the reply's offset, when recovered; none otherwise.
func newSubRecord(cmd protocol.Command, res protocol.SubscribeResult) (*subRecord, []string) {
	s := &subRecord{recovering: cmd.Recover, recovered: res.Recovered, at: res.Offset, epoch: res.Epoch}
	var offsets []uint64
	for _, p := range res.Publications {
		offsets = append(offsets, p.Offset)
		s.data = append(s.data, p.Data)
	}
	s.offsets = offsets
	var want []uint64
	if s.recovered {
		want = seq(cmd.Offset+1, s.at)
	}
	if !equal(offsets, want) {
		return s, []string{fmt.Sprintf("subscribe reply (recovered=%v, from %d, at %d) carried publications %v, want %v",
			s.recovered, cmd.Offset, s.at, offsets, want)}
	}
	return s, nil
}

// summary describes subs for failure messages.
func summary(subs []*subRecord) string {
	var b strings.Builder
	for i, s := range subs {
		fmt.Fprintf(&b, "[sub %d: at %d epoch %s recovering=%v recovered=%v, %d pubs", i, s.at, s.epoch, s.recovering, s.recovered, len(s.offsets))
		if len(s.offsets) > 0 {
			fmt.Fprintf(&b, " %d..%d", s.offsets[0], s.last())
		}
		fmt.Fprintf(&b, ", ended %q] ", s.ended)
	}
	return b.String()
}

// describe is w's subscriptions to ch and the violations, for failures.
func (w *watcher) describe(ch string) string {
	subs, violations := w.replay(ch)
	return fmt.Sprintf("%s violations: %v", summary(subs), violations)
}

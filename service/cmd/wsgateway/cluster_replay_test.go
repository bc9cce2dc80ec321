package main

import (
	"fmt"
	"strings"
)

// subRecord is one subscription to a channel as a client saw it: from the
// subscribe reply to the unsub push or unsubscribe reply that ended it.
type subRecord struct {
	recovering, recovered bool
	epoch                 string   // the reply's epoch
	at                    uint64   // the reply's offset
	offsets               []uint64 // recovered publications, then live ones
	data                  []any    // their data, in the same order
	ended                 string   // "unsub", "unsubscribe", or "" while live
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
	msgs, sent := w.snapshot()
	var cur *subRecord
	bad := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	for i, m := range msgs {
		switch {
		case m["push"] == "pub" && m["channel"] == ch:
			off, epoch := num(m["offset"]), m["epoch"]
			switch {
			case cur == nil:
				bad("message %d: publication %d outside any subscription", i, off)
			case epoch != cur.epoch || off != cur.last()+1:
				bad("message %d: publication %d (epoch %v) after %d (epoch %s) in one subscription", i, off, epoch, cur.last(), cur.epoch)
			}
			if cur != nil {
				cur.offsets, cur.data = append(cur.offsets, off), append(cur.data, m["data"])
			}
		case m["push"] == "unsub" && m["channel"] == ch:
			if cur == nil {
				bad("message %d: unsub outside any subscription", i)
				continue
			}
			cur.ended, cur = "unsub", nil
		case m["id"] != nil:
			cmd := sent[num(m["id"])]
			if cmd == nil || cmd["channel"] != ch || m["result"] == nil {
				continue
			}
			switch cmd["op"] {
			case "subscribe":
				if cur != nil {
					bad("message %d: subscribed while a subscription was live", i)
				}
				var v []string
				cur, v = newSubRecord(cmd, m["result"].(map[string]any))
				subs, violations = append(subs, cur), append(violations, v...)
			case "unsubscribe":
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
func newSubRecord(cmd, res map[string]any) (*subRecord, []string) {
	s := &subRecord{recovering: cmd["recover"] == true, recovered: res["recovered"] == true, at: num(res["offset"])}
	s.epoch, _ = res["epoch"].(string)
	pubs, _ := res["publications"].([]any)
	var offsets []uint64
	for _, p := range pubs {
		m, _ := p.(map[string]any)
		offsets = append(offsets, num(m["offset"]))
		s.data = append(s.data, m["data"])
	}
	s.offsets = offsets
	var want []uint64
	if s.recovered {
		want = seq(uint64Of(cmd["offset"])+1, s.at)
	}
	if !equal(offsets, want) {
		return s, []string{fmt.Sprintf("subscribe reply (recovered=%v, from %v, at %d) carried publications %v, want %v",
			s.recovered, cmd["offset"], s.at, offsets, want)}
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

// uint64Of reads a number from a decoded reply (float64) or from a command
// a test built (an integer type).
func uint64Of(v any) uint64 {
	switch n := v.(type) {
	case float64:
		return uint64(n)
	case uint64:
		return n
	case int:
		return uint64(n)
	}
	return 0
}

// describe is w's subscriptions to ch and the violations, for failures.
func (w *watcher) describe(ch string) string {
	subs, violations := w.replay(ch)
	return fmt.Sprintf("%s violations: %v", summary(subs), violations)
}

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// push is a publication line as the gateway writes it.
func push(channel string, offset uint64, sent int64) string {
	return fmt.Sprintf(`{"push":"pub","channel":%q,"offset":%d,"epoch":"e1","data":{"t":%d,"pad":"xx"}}`, channel, offset, sent)
}

// counts is what a test compares of a subscriber.
type counts struct {
	Received, InWindow, Lost, Duplicated, Unparsed, Last, Latencies uint64
}

func countsOf(s *subscriber) counts {
	return counts{s.received, s.recvInWin, s.lost, s.duplicated, s.unparsed, s.lastOffset, s.latency.n}
}

func TestSubscriberAccounting(t *testing.T) {
	const ch = "bench:x"
	const sent, now = 1_000_000_000, 1_002_000_000 // 2 ms later
	tests := []struct {
		name   string
		frames []string // each frame's lines joined by \n
		want   counts
	}{
		{"in order, one per frame",
			[]string{push(ch, 6, sent), push(ch, 7, sent)},
			counts{Received: 2, InWindow: 2, Last: 7, Latencies: 2}},
		{"batched in one frame, with a reply between",
			[]string{push(ch, 6, sent) + "\n" + `{"id":3,"result":{}}` + "\n" + push(ch, 7, sent)},
			counts{Received: 2, InWindow: 2, Last: 7, Latencies: 2}},
		{"a gap is lost",
			[]string{push(ch, 6, sent), push(ch, 9, sent)},
			counts{Received: 2, InWindow: 2, Lost: 2, Last: 9, Latencies: 2}},
		{"a repeat is duplicated and not measured",
			[]string{push(ch, 6, sent), push(ch, 6, sent), push(ch, 5, sent)},
			counts{Received: 1, InWindow: 1, Duplicated: 2, Last: 6, Latencies: 1}},
		{"sent before the window: counted, not measured",
			[]string{push(ch, 6, 10)},
			counts{Received: 1, InWindow: 1, Last: 6}},
		{"other channel or shape is unparsed",
			[]string{push("bench:other", 6, sent), strings.Replace(push(ch, 6, sent), `"t"`, `"time"`, 1)},
			counts{Unparsed: 2, Last: 5}},
		{"other pushes are ignored",
			[]string{`{"push":"unsub","channel":"bench:x","reason":"x"}`},
			counts{Last: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			win := &window{}
			win.start.Store(sent - 1)
			win.end.Store(now + 1)
			s := newSubscriber(opened{offset: 5}, pushPrefix(ch), win)
			for _, f := range tc.frames {
				s.frame([]byte(f), now)
			}
			if diff := cmp.Diff(tc.want, countsOf(s)); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if s.last.Load() != s.lastOffset {
				t.Errorf("last %d != lastOffset %d", s.last.Load(), s.lastOffset)
			}
			if s.latency.n > 0 && s.latency.max != 2000 {
				t.Errorf("latency max %d µs, want 2000", s.latency.max)
			}
		})
	}
}

func TestLineDoesNotAllocate(t *testing.T) {
	win := &window{}
	win.end.Store(1 << 62)
	s := newSubscriber(opened{}, pushPrefix("c"), win)
	frame := []byte(push("c", 1, 5) + "\n" + push("c", 2, 5))
	allocs := testing.AllocsPerRun(100, func() {
		s.lastOffset = 0
		s.frame(frame, 10)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame, want 0", allocs)
	}
}

func TestCutUint(t *testing.T) {
	tests := []struct {
		in   string
		n    uint64
		rest string
		ok   bool
	}{
		{"123,", 123, ",", true},
		{"0}", 0, "}", true},
		{"x", 0, "x", false},
		{"", 0, "", false},
		{"1795243190308511566,", 1795243190308511566, ",", true},
	}
	for _, tc := range tests {
		n, rest, ok := cutUint([]byte(tc.in))
		if n != tc.n || string(rest) != tc.rest || ok != tc.ok {
			t.Errorf("cutUint(%q) = %d, %q, %v; want %d, %q, %v", tc.in, n, rest, ok, tc.n, tc.rest, tc.ok)
		}
	}
}

func BenchmarkFrame(b *testing.B) {
	win := &window{}
	win.end.Store(1 << 62)
	s := newSubscriber(opened{}, pushPrefix("bench:fanout-1"), win)
	frame := []byte(push("bench:fanout-1", 1, 5))
	b.SetBytes(int64(len(frame)))
	for range b.N {
		s.lastOffset = 0
		s.frame(frame, 10)
	}
}

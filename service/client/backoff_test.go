package client

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCeiling(t *testing.T) {
	const base, max = 250 * time.Millisecond, 10 * time.Second
	tests := []struct {
		name      string
		attempt   int
		base, max time.Duration
		want      time.Duration
	}{
		{"first retry is base", 0, base, max, base},
		{"doubles", 1, base, max, 500 * time.Millisecond},
		{"doubles again", 2, base, max, time.Second},
		{"below max", 5, base, max, 8 * time.Second},
		{"capped at max", 6, base, max, max},
		{"no overflow at 62", 62, base, max, max},
		{"no overflow far out", 1000, base, max, max},
		{"max below base", 0, time.Second, time.Millisecond, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ceiling(tt.attempt, tt.base, tt.max); got != tt.want {
				t.Errorf("ceiling(%d, %v, %v) = %v, want %v", tt.attempt, tt.base, tt.max, got, tt.want)
			}
		})
	}
}

func TestFullJitterIsUniformBelowCeiling(t *testing.T) {
	const base, max = 10 * time.Millisecond, time.Second
	rnd := rand.New(rand.NewPCG(1, 2))
	for attempt := range 10 {
		c := ceiling(attempt, base, max)
		var low, high bool
		for range 2000 {
			d := fullJitter(attempt, base, max, rnd.Int64N)
			if d < 0 || d >= c {
				t.Fatalf("attempt %d: delay %v outside [0, %v)", attempt, d, c)
			}
			low = low || d < c/4
			high = high || d >= c*3/4
		}
		if !low || !high {
			t.Errorf("attempt %d: 2000 delays never reached both ends of [0, %v): not full jitter", attempt, c)
		}
	}
}

// ceilings returns a rand that records the bound of each draw and draws 0.
func ceilings(got *[]time.Duration) func(int64) int64 {
	return func(n int64) int64 {
		*got = append(*got, time.Duration(n))
		return 0
	}
}

func TestBackoffGrowsThenResetsAfterStableConnection(t *testing.T) {
	var got []time.Duration
	b := backoff{base: 100 * time.Millisecond, max: time.Second, stableAfter: 30 * time.Second, rand: ceilings(&got)}
	b.next(0)                // dial failed
	b.next(0)                // dial failed
	b.next(5 * time.Second)  // lived, but not long enough
	b.next(0)                // dial failed
	b.next(0)                // dial failed: capped
	b.next(30 * time.Second) // stable: start over
	b.next(29999 * time.Millisecond)
	want := []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second,
		100 * time.Millisecond, 200 * time.Millisecond,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jitter ceilings (-want +got):\n%s", diff)
	}
}

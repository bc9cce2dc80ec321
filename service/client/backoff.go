package client

import "time"

// backoff computes reconnect delays: exponential with full jitter (AWS,
// "Exponential Backoff And Jitter"), so the clients of a node that drop
// together spread their reconnects over the whole window instead of coming
// back in waves. Owned by the connection loop.
type backoff struct {
	base, max   time.Duration
	stableAfter time.Duration
	rand        func(n int64) int64 // uniform in [0, n); rand.Int64N outside tests
	attempt     int
}

// next returns the wait before the next attempt, given how long the
// connection that just ended was up (0 if it never was). A connection that
// lived stableAfter or more starts the sequence again.
func (b *backoff) next(lived time.Duration) time.Duration {
	if lived >= b.stableAfter {
		b.attempt = 0
	}
	d := fullJitter(b.attempt, b.base, b.max, b.rand)
	if b.attempt < 62 {
		b.attempt++
	}
	return d
}

// fullJitter returns a uniformly random delay in [0, ceiling(attempt)).
func fullJitter(attempt int, base, max time.Duration, rand func(int64) int64) time.Duration {
	c := ceiling(attempt, base, max)
	if c <= 0 {
		return 0
	}
	return time.Duration(rand(int64(c)))
}

// ceiling is min(max, base·2^attempt), without overflowing.
func ceiling(attempt int, base, max time.Duration) time.Duration {
	if attempt >= 62 || base > max>>attempt {
		return max
	}
	return base << attempt
}

package main

import (
	"math"
	"math/bits"
)

// Latencies and setup times are counted in log-linear buckets, as HdrHistogram
// does: values below 2^subBits µs have a bucket each, and every power of two
// above is cut into 2^subBits equal buckets. A bucket is therefore never wider
// than 1/2^subBits (about 3%) of the values in it, whatever their size, and a
// histogram is a fixed array: recording is an increment, never an allocation.
const (
	subBits  = 5
	subCount = 1 << subBits
	// maxBits bounds the values told apart: 2^36 µs is 19 hours. Larger
	// values land in the last bucket (max stays exact).
	maxBits  = 36
	nBuckets = (maxBits - subBits + 1) * subCount
)

// histogram counts values in µs. It is owned by one goroutine (a subscriber,
// a dial worker, a publisher worker) and read only after that goroutine has
// finished; uint32 counts keep one at 4 KiB, which matters at 20k subscribers.
type histogram struct {
	counts [nBuckets]uint32
	n      uint64
	max    uint64
}

// bucketOf returns the index of the bucket that holds v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	if e > maxBits-subBits-1 {
		return nBuckets - 1
	}
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketHigh returns the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	e := i/subCount - 1
	m := uint64(i%subCount + subCount)
	return (m+1)<<e - 1
}

// record counts one value.
func (h *histogram) record(v uint64) {
	h.counts[bucketOf(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// merged is the sum of many histograms, with counts wide enough for any run.
type merged struct {
	counts [nBuckets]uint64
	n      uint64
	max    uint64
}

// add folds h into m. h's owner must have finished with it.
func (m *merged) add(h *histogram) {
	if h.n == 0 {
		return
	}
	for i, c := range h.counts {
		m.counts[i] += uint64(c)
	}
	m.n += h.n
	m.max = max(m.max, h.max)
}

// quantile returns the value at quantile q (0..1) as the highest value of its
// bucket, never above the largest value recorded: an estimate that errs on the
// slow side by at most one bucket width.
func (m *merged) quantile(q float64) uint64 {
	if m.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(m.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range m.counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), m.max)
		}
	}
	return m.max
}

// summary is a histogram as the JSON result shows it, in milliseconds.
type summary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// summarize turns µs counts into a millisecond summary.
func (m *merged) summarize() summary {
	ms := func(us uint64) float64 { return round3(float64(us) / 1000) }
	return summary{
		Count: m.n,
		P50:   ms(m.quantile(0.50)),
		P95:   ms(m.quantile(0.95)),
		P99:   ms(m.quantile(0.99)),
		Max:   ms(m.max),
	}
}

// round3 keeps three decimals, enough for ms and for rates.
func round3(f float64) float64 {
	return math.Round(f*1000) / 1000
}

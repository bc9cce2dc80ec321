package main

import (
	"math/rand/v2"
	"testing"
)

func TestBucketsCoverValuesWithinThreePercent(t *testing.T) {
	values := []uint64{0, 1, 31, 32, 33, 63, 64, 65, 100, 1000, 4095, 4096, 123456, 1 << 30, 1<<36 - 1}
	for range 1000 {
		values = append(values, rand.Uint64N(1<<36))
	}
	for _, v := range values {
		i := bucketOf(v)
		hi := bucketHigh(i)
		lo := uint64(0)
		if i > 0 {
			lo = bucketHigh(i-1) + 1
		}
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if width := hi - lo + 1; width > 1 && float64(width) > float64(lo)/subCount+1 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its values", i, lo, hi, subCount)
		}
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	for i := 1; i < nBuckets; i++ {
		if got := bucketOf(bucketHigh(i-1) + 1); got != i {
			t.Fatalf("value after bucket %d's high (%d) is in bucket %d", i-1, bucketHigh(i-1), got)
		}
	}
}

func TestHugeValuesLandInTheLastBucketWithExactMax(t *testing.T) {
	var h histogram
	h.record(1 << 50)
	if h.counts[nBuckets-1] != 1 || h.max != 1<<50 {
		t.Fatalf("last bucket %d, max %d", h.counts[nBuckets-1], h.max)
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values func(record func(uint64))
		q      float64
		want   uint64 // exact answer; the estimate may be up to 1/32 above, never below
	}{
		{"empty", func(func(uint64)) {}, 0.5, 0},
		{"one value", func(r func(uint64)) { r(700) }, 0.99, 700},
		{"small values are exact", func(r func(uint64)) {
			for v := range uint64(20) {
				r(v)
			}
		}, 0.5, 9},
		{"uniform p50", uniform(100000), 0.50, 50000},
		{"uniform p95", uniform(100000), 0.95, 95000},
		{"uniform p99", uniform(100000), 0.99, 99000},
		{"p100 is the max", uniform(100000), 1, 100000},
		{"tail of one outlier", func(r func(uint64)) {
			for range 999 {
				r(1000)
			}
			r(5_000_000)
		}, 0.999, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Spread over several histograms, as subscribers do, and merge.
			hs := make([]histogram, 3)
			n := 0
			tc.values(func(v uint64) { hs[n%3].record(v); n++ })
			var m merged
			for i := range hs {
				m.add(&hs[i])
			}
			got := m.quantile(tc.q)
			if got < tc.want || float64(got) > float64(tc.want)*(1+1.0/subCount)+1 {
				t.Errorf("quantile(%v) = %d, want %d (+1/%d)", tc.q, got, tc.want, subCount)
			}
		})
	}
}

// uniform records 1..n.
func uniform(n uint64) func(func(uint64)) {
	return func(r func(uint64)) {
		for v := uint64(1); v <= n; v++ {
			r(v)
		}
	}
}

func TestSummaryIsInMilliseconds(t *testing.T) {
	var h histogram
	h.record(1500) // µs
	var m merged
	m.add(&h)
	s := m.summarize()
	if s.Count != 1 || s.P50 != 1.5 || s.Max != 1.5 {
		t.Fatalf("summary %+v, want count 1 and 1.5 ms", s)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h histogram
	for i := range b.N {
		h.record(uint64(i) & 0xfffff)
	}
}

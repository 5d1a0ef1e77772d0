package bench

import (
	"math"
	"slices"
	"time"
)

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of sorted, which must be in
// ascending order: the smallest value with at least p% of the values at or below it. It is
// 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Summary holds the percentiles the report shows for one set of latencies.
type Summary struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// Summarize sorts a copy of ds and summarizes it.
func Summarize(ds []time.Duration) Summary {
	s := slices.Clone(ds)
	slices.Sort(s)
	out := Summary{N: len(s), P50: Percentile(s, 50), P95: Percentile(s, 95), P99: Percentile(s, 99)}
	if len(s) > 0 {
		out.Max = s[len(s)-1]
	}
	return out
}

// Rate is count events per second over the span from first to last. A span that is
// empty or negative has no rate (0).
func Rate(count int, first, last time.Time) float64 {
	span := last.Sub(first)
	if count == 0 || span <= 0 {
		return 0
	}
	return float64(count) / span.Seconds()
}

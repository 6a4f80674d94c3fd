package bench

import (
	"slices"
	"sync"
	"time"
)

// benchSample is one round of one figure: how many operations, in what
// wall time, and each operation's latency.
type benchSample struct {
	mu      sync.Mutex
	ops     int
	elapsed time.Duration
	lat     []time.Duration
	errors  int
}

func (s *benchSample) add(d time.Duration) {
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.ops++
	s.mu.Unlock()
}

// merge adds a worker's own latencies (kept without the lock while timing).
func (s *benchSample) merge(lat []time.Duration, errors int) {
	s.mu.Lock()
	s.lat = append(s.lat, lat...)
	s.ops += len(lat)
	s.errors += errors
	s.mu.Unlock()
}

// benchRoundResult is what one round of a figure reports.
type benchRoundResult struct {
	Ops     int     `json:"ops"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate"` // ops per second of wall time
	P50Ms   float64 `json:"p50_ms,omitempty"`
	P99Ms   float64 `json:"p99_ms,omitempty"`
	Errors  int     `json:"errors,omitempty"`
}

func (s *benchSample) result() benchRoundResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := benchRoundResult{Ops: s.ops, Seconds: s.elapsed.Seconds(), Errors: s.errors}
	if s.elapsed > 0 {
		r.Rate = float64(s.ops) / s.elapsed.Seconds()
	}
	if len(s.lat) > 0 {
		slices.Sort(s.lat)
		r.P50Ms = benchMs(benchQuantile(s.lat, 0.50))
		r.P99Ms = benchMs(benchQuantile(s.lat, 0.99))
	}
	return r
}

// benchQuantile is the nearest-rank quantile of sorted values.
func benchQuantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func benchMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchMedian is the median round of a figure: each field's median across
// rounds, taken on its own (so p99 is the median of the rounds' p99s).
func benchMedian(rounds []benchRoundResult) benchRoundResult {
	med := func(get func(benchRoundResult) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = get(r)
		}
		slices.Sort(v)
		if len(v) == 0 {
			return 0
		}
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	out := benchRoundResult{
		Rate:    med(func(r benchRoundResult) float64 { return r.Rate }),
		Seconds: med(func(r benchRoundResult) float64 { return r.Seconds }),
		P50Ms:   med(func(r benchRoundResult) float64 { return r.P50Ms }),
		P99Ms:   med(func(r benchRoundResult) float64 { return r.P99Ms }),
	}
	for _, r := range rounds {
		out.Ops += r.Ops
		out.Errors += r.Errors
	}
	return out
}

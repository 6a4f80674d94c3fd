package events

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Metrics counts what the store does, for GET /metrics.
type Metrics struct {
	Appends    atomic.Uint64 // events written
	Duplicates atomic.Uint64 // appends recognised as a retried command
	Conflicts  atomic.Uint64 // appends refused on a stale version
	Failures   atomic.Uint64 // appends that failed otherwise
	Latency    Histogram     // seconds per append, whatever the outcome
}

func (m *Metrics) observeAppend(d time.Duration, res Appended, err error) {
	m.Latency.Observe(d.Seconds())
	switch {
	case errors.Is(err, ErrVersionConflict):
		m.Conflicts.Add(1)
	case err != nil:
		m.Failures.Add(1)
	case res.Duplicate:
		m.Duplicates.Add(1)
	default:
		m.Appends.Add(1)
	}
}

// WritePrometheus writes the counters in the Prometheus text format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	counter(w, "kpiledger_appends_total", "Events appended to the log.", m.Appends.Load())
	counter(w, "kpiledger_append_duplicates_total", "Appends recognised as retries of a stored command.", m.Duplicates.Load())
	counter(w, "kpiledger_append_conflicts_total", "Appends refused because the aggregate had changed.", m.Conflicts.Load())
	counter(w, "kpiledger_append_failures_total", "Appends that failed for another reason.", m.Failures.Load())
	m.Latency.WritePrometheus(w, "kpiledger_append_duration_seconds", "Time to append one event, until JetStream acknowledged it.")
}

func counter(w io.Writer, name, help string, v uint64) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
}

// latencyBuckets are upper bounds in seconds.
var latencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Histogram is a fixed-bucket, lock-free latency histogram.
type Histogram struct {
	counts [len(latencyBuckets) + 1]atomic.Uint64
	sumNs  atomic.Uint64
}

// Observe records one value in seconds.
func (h *Histogram) Observe(seconds float64) {
	i := 0
	for i < len(latencyBuckets) && seconds > latencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(seconds * 1e9))
}

// WritePrometheus writes the histogram with cumulative buckets.
func (h *Histogram) WritePrometheus(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, le := range latencyBuckets {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, le, cum)
	}
	cum += h.counts[len(latencyBuckets)].Load()
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, cum, name, float64(h.sumNs.Load())/1e9, name, cum)
}

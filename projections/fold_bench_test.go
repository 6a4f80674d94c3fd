package projections

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/opdc/kpiledger/events"
)

// foldBenchEvents is a generated history as the stream stores it: each
// envelope's JSON and its sequence.
func foldBenchEvents(b *testing.B) [][]byte {
	b.Helper()
	l := generate(b, 11, 5000, 8)
	out := make([][]byte, len(l.envs))
	for i, e := range l.envs {
		c := *e
		c.Sequence = 0
		data, err := json.Marshal(&c)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = data
	}
	return out
}

// foldAll is what a rebuild does per event, without the transport: decode
// the stored message and fold it.
func foldAll(b *testing.B, msgs [][]byte) *State {
	st := NewState()
	for i, data := range msgs {
		e, err := events.DecodeMessage(data, uint64(i+1))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Apply(e); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkFold folds a generated history of 5,000 events from their
// stored bytes into a fresh State, and reports the time per event and the
// heap the folded State keeps per event (after GC).
func BenchmarkFold(b *testing.B) {
	msgs := foldBenchEvents(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := foldAll(b, msgs)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	runtime.KeepAlive(kept)
	kept = nil
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		foldAll(b, msgs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/event")
	b.ReportMetric(heap/float64(len(msgs)), "heap-B/event")
}

// BenchmarkDecodeMessage is the envelope decode alone.
func BenchmarkDecodeMessage(b *testing.B) {
	msgs := foldBenchEvents(b)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := events.DecodeMessage(msgs[i%len(msgs)], 1); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkBuildScorecard renders one unit-year's scorecard from a folded
// State, as GET …/scorecard does.
func BenchmarkBuildScorecard(b *testing.B) {
	st := foldAll(b, foldBenchEvents(b))
	var unit string
	var fy int
	for _, k := range SortedKeys(st.UnitYears) {
		uy := st.UnitYears[k]
		u, _ := st.Unit(uy.Unit)
		if len(uy.Indicators) >= 3 && st.Framework(uy.FiscalYear, u.Kind) != nil {
			unit, fy = uy.Unit, uy.FiscalYear
			break
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := BuildScorecard(st, unit, fy); err != nil {
			b.Fatal(err)
		}
	}
}

package projections

import (
	"context"
	"encoding/json"
	"testing"
)

// TestScoreCacheNeverStale folds a generated history into two states, one
// without the score cache, and after every event compares every unit-year's
// scorecard, comparison and trends: the cached views must be the ones computed
// afresh, whatever event came last.
func TestScoreCacheNeverStale(t *testing.T) {
	l := generate(t, 5, 1200, 3)
	cached, fresh := NewState(), NewState()
	fresh.scores = nil
	render := func(st *State, unit string, fy int) string {
		sc, err1 := BuildScorecard(st, unit, fy)
		cmp, err2 := BuildComparison(st, unit, fy-1, fy)
		b, _ := json.Marshal([]any{sc, err1 != nil, cmp, err2 != nil, BuildTrends(st, unit)})
		return string(b)
	}
	for i, e := range l.envs {
		c := *e
		if err := cached.Apply(&c); err != nil {
			t.Fatal(err)
		}
		f := *e
		if err := fresh.Apply(&f); err != nil {
			t.Fatal(err)
		}
		for _, k := range SortedKeys(cached.UnitYears) {
			uy := cached.UnitYears[k]
			if got, want := render(cached, uy.Unit, uy.FiscalYear), render(fresh, uy.Unit, uy.FiscalYear); got != want {
				t.Fatalf("after event %d, %s FY%d from the cache:\n%s\nafresh:\n%s", i+1, uy.Unit, uy.FiscalYear, got, want)
			}
		}
	}
}

// TestUnitYearIndicatorsLastIsTheLogs: the sequence a guard on a
// unit-year's indicators expects, kept by the fold as events come, is the
// one JetStream itself gives for the guard's subject filter, for every
// unit-year of a generated history (and stays so after a snapshot's
// round trip through JSON).
func TestUnitYearIndicatorsLastIsTheLogs(t *testing.T) {
	l := generate(t, 11, 1500, 4)
	store := storeFor(t, l.envs)
	var loaded State
	b, err := json.Marshal(l.st)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &loaded); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, k := range SortedKeys(l.st.UnitYears) {
		uy := l.st.UnitYears[k]
		if len(uy.Indicators) == 0 {
			continue
		}
		last, err := store.LastOf(context.Background(), UnitYearIndicatorsFilter(uy.Unit, uy.FiscalYear))
		if err != nil || last == nil {
			t.Fatalf("%s FY%d: the log's last event on its indicators: %v %v", uy.Unit, uy.FiscalYear, last, err)
		}
		if got := l.st.UnitYearIndicatorsLast(uy.Unit, uy.FiscalYear); got != last.Sequence {
			t.Errorf("%s FY%d: the fold says %d, the log %d", uy.Unit, uy.FiscalYear, got, last.Sequence)
		}
		if got := loaded.UnitYearIndicatorsLast(uy.Unit, uy.FiscalYear); got != last.Sequence {
			t.Errorf("%s FY%d after JSON: %d, the log %d", uy.Unit, uy.FiscalYear, got, last.Sequence)
		}
		checked++
	}
	if checked < 4 {
		t.Fatalf("only %d unit-years with indicators", checked)
	}
}

package projections

import (
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

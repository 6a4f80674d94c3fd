package projections

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// scorecardJSON renders a scorecard without its as_of instant.
func scorecardJSON(t testing.TB, sc Scorecard) []byte {
	t.Helper()
	sc.AsOf = ""
	return mustJSON(t, sc)
}

// TestScorecardAsOfEqualsFreshFold is the property of issue 4: for a
// generated history in a real JetStream store, the as-of scorecard at an
// event's recorded_at (and just before it) equals BuildScorecard on a fresh
// fold of every event recorded up to that instant. Instants are sampled to
// keep the test quick; the unit-years asked are the one the event touched
// and one drawn at random.
func TestScorecardAsOfEqualsFreshFold(t *testing.T) {
	l := generate(t, 42, 1200, 4)
	envs := l.envs
	store := storeFor(t, envs)
	full := l.st
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))

	type probe struct {
		at   time.Time
		unit string
		fy   int
	}
	var units []string
	for _, u := range full.Units() {
		if hasUnit(full, u.Code) {
			units = append(units, u.Code)
		}
	}
	var probes []probe
	add := func(at time.Time, unit string, fy int) {
		probes = append(probes, probe{at, unit, fy}, probe{at, units[rng.IntN(len(units))], genYears[rng.IntN(len(genYears))]})
	}
	add(genStart, "cdd", 2561) // before anything
	const samples = 120
	for _, i := range rng.Perm(len(envs))[:samples] {
		e := envs[i]
		unit, fy := e.Unit, e.FiscalYear
		if unit == "" { // a framework or a department: ask a unit it concerns
			unit = units[rng.IntN(len(units))]
			if fy == 0 {
				fy = genYears[rng.IntN(len(genYears))]
			}
		}
		add(e.RecordedAt, unit, fy)
		if i%4 == 0 {
			add(e.RecordedAt.Add(-time.Nanosecond), unit, fy) // just before it
		}
	}
	add(envs[len(envs)-1].RecordedAt.Add(time.Hour), units[0], 2564) // after everything
	slices.SortStableFunc(probes, func(a, b probe) int { return a.at.Compare(b.at) })

	ref := NewState()
	next := 0
	compared, found := 0, 0
	start := time.Now()
	for _, p := range probes {
		for next < len(envs) && !envs[next].RecordedAt.After(p.at) {
			if err := ref.Apply(envs[next]); err != nil {
				t.Fatal(err)
			}
			next++
		}
		got, gerr := ScorecardAsOf(ctx, store, mustUnit(t, full, p.unit), p.fy, p.at)
		want, werr := BuildScorecard(ref, p.unit, p.fy)
		compared++
		if werr != nil {
			if !errors.Is(werr, domain.ErrNotFound) || !errors.Is(gerr, domain.ErrNotFound) {
				t.Fatalf("%s FY%d as of %s: as-of error %v, fresh fold error %v", p.unit, p.fy, p.at, gerr, werr)
			}
			continue
		}
		if gerr != nil {
			t.Fatalf("%s FY%d as of %s: %v (a fresh fold of %d events scores it)", p.unit, p.fy, p.at, gerr, next)
		}
		found++
		if got.AsOf != p.at.UTC().Format(time.RFC3339Nano) {
			t.Fatalf("as_of %q for %s", got.AsOf, p.at)
		}
		if g, w := scorecardJSON(t, got), scorecardJSON(t, want); !bytes.Equal(g, w) {
			t.Fatalf("%s FY%d as of %s (after %d events):\n as-of %s\n fold  %s", p.unit, p.fy, p.at, next, g, w)
		}
	}
	t.Logf("%d events; %d as-of scorecards compared (%d with a framework) in %v", len(envs), compared, found, time.Since(start))
	if found < samples/2 {
		t.Errorf("only %d probes found a scorecard", found)
	}
}

// TestScorecardAsOfClockSkew: recorded_at can step back between nodes.
// Once an event of an aggregate is past the instant, its later events are
// left out too, even when their own time is earlier.
func TestScorecardAsOfClockSkew(t *testing.T) {
	l := newLedger(t)
	t0 := genStart
	l.step = func() time.Duration { return 0 }
	at := func(sec int) { l.now = t0.Add(time.Duration(sec) * time.Second) }
	spec := domain.IndicatorSpec{Component: "performance", TitleTH: "ตัวชี้วัด", Measure: "ร้อยละ", Direction: domain.DirectionUp, Weight: "20", Targets: spec6498}
	at(10)
	l.must(l.publish(fy2564(2564, domain.KindProvince)))
	at(20)
	l.must(l.propose("TH-50", 2564, "k1", spec))
	at(15) // approved on a node whose clock is 5 s behind
	l.must(l.review("k1", domain.DecisionApprove, ""))
	at(12)
	l.must(l.propose("TH-50", 2564, "k2", spec))
	at(13)
	l.must(l.review("k2", domain.DecisionApprove, ""))
	at(30)
	l.must(l.report("k1", 12, "98.87"))
	at(28)
	l.must(l.verify("k1", 12, domain.VerifyAccept, "", ""))
	at(40)
	l.must(l.report("k2", 12, "98.94"))
	at(41)
	l.must(l.verify("k2", 12, domain.VerifyAccept, "", ""))

	store := storeFor(t, l.envs)
	ctx := context.Background()
	ids := func(sec int) (out []string, total domain.Number) {
		sc, err := ScorecardAsOf(ctx, store, mustUnit(t, l.st, "TH-50"), 2564, t0.Add(time.Duration(sec)*time.Second))
		if err != nil {
			t.Fatalf("as of +%ds: %v", sec, err)
		}
		for _, i := range sc.Indicators {
			out = append(out, i.ID+":"+string(i.Score))
		}
		return out, sc.Total
	}
	for _, c := range []struct {
		sec   int
		want  []string
		total domain.Number
	}{
		// k1's proposal (20 s) is out, so its approval (15 s) is out as well.
		{17, []string{"k2:"}, "0"},
		{25, []string{"k1:", "k2:"}, "0"},
		// k1's report (30 s) is out, so its verification (28 s) is as well.
		{29, []string{"k1:", "k2:"}, "0"},
		{35, []string{"k1:87.5", "k2:"}, "43.75"},
		{45, []string{"k1:87.5", "k2:100"}, "93.75"},
	} {
		got, total := ids(c.sec)
		if !slices.Equal(got, c.want) || total != c.total {
			t.Errorf("as of +%ds: %v total %s, want %v total %s", c.sec, got, total, c.want, c.total)
		}
	}
	if _, err := ScorecardAsOf(ctx, store, mustUnit(t, l.st, "TH-50"), 2564, t0.Add(5*time.Second)); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("before the framework: %v, want not found", err)
	}
}

// TestUnitYearReadsStayInTheirSubjects proves that the as-of scorecard and
// the audit read only their unit-year and framework: an event elsewhere in
// the stream that no fold could apply does not disturb them.
func TestUnitYearReadsStayInTheirSubjects(t *testing.T) {
	l := fy2564Department(t, acceptAt("98.94"))
	var clock time.Time
	store := storeForClock(t, &clock, l.envs)
	ghost, err := events.NewEnvelope(domain.IndicatorReviewed{Decision: domain.DecisionApprove, OnVersion: 1},
		events.Aggregate{Kind: events.KindIndicator, ID: "ghost", Unit: "TH-57", FiscalYear: 2564})
	if err != nil {
		t.Fatal(err)
	}
	clock = l.now.Add(time.Minute)
	ctx := context.Background()
	if _, err := store.Append(ctx, ghost, 0); err != nil {
		t.Fatal(err)
	}
	whole := NewState()
	err = store.Read(ctx, events.ReadOptions{}, func(e *events.Envelope) error { return whole.Apply(e) })
	if err == nil {
		t.Fatal("the trap event folds; the test proves nothing")
	}
	sc, err := ScorecardAsOf(ctx, store, mustUnit(t, l.st, "cdd"), 2564, clock.Add(time.Hour))
	if err != nil || sc.Total != "85.625" {
		t.Fatalf("as-of scorecard: %v, total %s", err, sc.Total)
	}
	a, err := BuildAudit(ctx, store, mustUnit(t, l.st, "cdd"), 2564)
	if err != nil || !a.ChainIntact || len(a.Events) != len(l.envs)-1 {
		t.Fatalf("audit: %v, intact %v, %d events", err, a.ChainIntact, len(a.Events))
	}
}

func storeForClock(t testing.TB, clock *time.Time, envs []*events.Envelope) *events.Store {
	t.Helper()
	store := newClockStore(t, clock)
	appendAll(t, store, clock, envs)
	return store
}

// mustUnit is the unit the callers of ScorecardAsOf and BuildAudit look up
// in the read model before calling them.
func mustUnit(t testing.TB, st *State, code string) domain.Unit {
	t.Helper()
	u, ok := st.Unit(code)
	if !ok {
		t.Fatalf("no unit %q in the read model", code)
	}
	return u
}

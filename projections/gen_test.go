package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
	"github.com/opdc/kpiledger/events/history"
)

// This file builds event histories for tests: a ledger that decides every
// command through the domain's own decide functions on its own fold (so the
// history is one the API could have written), for hand-written scenarios,
// and generate, a seeded history from events/history (the generator the
// bench loads). Envelopes carry increasing sequences, per-aggregate
// versions and hash chains, and recorded_at times that never go back.

var (
	opdcActor = domain.Actor{Subject: "opdc-reviewer", Role: domain.RoleOPDC}
	genStart  = time.Date(2019, 10, 1, 2, 0, 0, 0, time.UTC)
)

func unitActor(unit string) domain.Actor {
	return domain.Actor{Subject: "officer-" + unit, Role: domain.RoleUnit, Unit: unit}
}

// ledger is an in-memory event log with its own fold.
type ledger struct {
	t    testing.TB
	st   *State
	envs []*events.Envelope
	now  time.Time
	// step is how far the clock moves before each event (default 1 minute).
	step func() time.Duration
	ids  int
}

func newLedger(t testing.TB) *ledger {
	return &ledger{t: t, st: NewState(), now: genStart, step: func() time.Duration { return time.Minute }}
}

func (l *ledger) newID(prefix string) string {
	l.ids++
	return fmt.Sprintf("%s%05d", prefix, l.ids)
}

// emit appends ev as the next event of its aggregate and folds it.
func (l *ledger) emit(ev domain.Event, kind, id, unit string, fy int, actor domain.Actor) *events.Envelope {
	l.t.Helper()
	h := l.st.Heads[AggregateKey(kind, id)]
	env, err := events.NewEnvelope(ev, events.Aggregate{Kind: kind, ID: id, Unit: unit, FiscalYear: fy,
		Version: h.Version, LastHash: h.Hash, LastSeq: h.Seq})
	if err != nil {
		l.t.Fatal(err)
	}
	l.now = l.now.Add(l.step())
	n := len(l.envs) + 1
	// A UUID v7 shape whose time and counter are deterministic.
	env.ID = fmt.Sprintf("%08x-%04x-7000-8000-%012x", l.now.Unix(), l.now.Nanosecond()&0xffff, n)
	env.CommandID = env.ID
	env.CorrelationID = "corr-" + strconv.Itoa(n)
	env.Actor = actor
	env.OccurredAt = l.now
	if _, _, err := env.SealAt(l.now); err != nil {
		l.t.Fatal(err)
	}
	env.Sequence = uint64(n)
	if err := l.st.Apply(env); err != nil {
		l.t.Fatalf("fold of generated event: %v", err)
	}
	l.envs = append(l.envs, env)
	return env
}

func (l *ledger) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

func (l *ledger) kindOf(unit string) domain.UnitKind {
	u, ok := l.st.Unit(unit)
	if !ok {
		l.t.Fatalf("unknown unit %s", unit)
	}
	return u.Kind
}

func (l *ledger) register(code, nameTH, nameEN string) error {
	_, exists := l.st.Unit(code)
	ev, err := domain.RegisterDepartment(code, domain.KindDepartment, nameTH, nameEN, exists)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindUnit, code, "", 0, opdcActor)
	return nil
}

func (l *ledger) publish(f domain.Framework) error {
	id := events.FrameworkID(f.FiscalYear, string(f.UnitKind))
	ev, err := domain.PublishFramework(l.st.Frameworks[id], f)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindFramework, id, "", f.FiscalYear, opdcActor)
	return nil
}

func (l *ledger) reviseFramework(f domain.Framework, reason string) error {
	id := events.FrameworkID(f.FiscalYear, string(f.UnitKind))
	ev, err := domain.ReviseFramework(l.st.Frameworks[id], f, reason, l.st.ComponentsInUse(f.FiscalYear, f.UnitKind))
	if err != nil {
		return err
	}
	l.emit(ev, events.KindFramework, id, "", f.FiscalYear, opdcActor)
	return nil
}

func (l *ledger) defineSeries(d domain.SeriesDefined) error {
	ev, err := domain.DefineSeries(d)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindSeries, d.ID, d.Unit, d.StartYear, unitActor(d.Unit))
	return nil
}

func (l *ledger) propose(unit string, fy int, id string, spec domain.IndicatorSpec) error {
	ctx := l.st.IndicatorContext(unit, fy, l.kindOf(unit), spec, "")
	ev, err := domain.ProposeIndicator(id, unit, fy, spec, ctx)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindIndicator, id, unit, fy, unitActor(unit))
	return nil
}

func (l *ledger) indicator(id string) *domain.Indicator {
	ind := l.st.Indicators[id]
	if ind == nil {
		l.t.Fatalf("unknown indicator %s", id)
	}
	return ind
}

func (l *ledger) review(id, decision, comment string) error {
	ind := l.indicator(id)
	ctx := l.st.IndicatorContext(ind.Unit, ind.FiscalYear, l.kindOf(ind.Unit), ind.Spec, ind.ID)
	ev, err := ind.Review(decision, comment, ctx)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindIndicator, id, ind.Unit, ind.FiscalYear, opdcActor)
	return nil
}

func (l *ledger) revise(id string, spec domain.IndicatorSpec, reason string) error {
	ind := l.indicator(id)
	ctx := l.st.IndicatorContext(ind.Unit, ind.FiscalYear, l.kindOf(ind.Unit), spec, ind.ID)
	ev, err := ind.Revise(spec, reason, ctx)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindIndicator, id, ind.Unit, ind.FiscalYear, unitActor(ind.Unit))
	return nil
}

func (l *ledger) withdraw(id, reason string) error {
	ind := l.indicator(id)
	ev, err := ind.Withdraw(reason)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindIndicator, id, ind.Unit, ind.FiscalYear, unitActor(ind.Unit))
	return nil
}

// report files a result; when the domain asks for obstacles (the actual
// misses the standard level) it gives them, as a unit would.
func (l *ledger) report(id string, round int, actual domain.Number) error {
	ind := l.indicator(id)
	fw := l.st.Framework(ind.FiscalYear, l.kindOf(ind.Unit))
	if fw == nil {
		return errors.New("no framework")
	}
	r := domain.ResultReported{Round: round, Actual: actual, Evidence: []string{"รายงานผลการดำเนินงาน รอบ " + strconv.Itoa(round) + " เดือน"}}
	ev, err := ind.Report(r, &fw.Framework)
	var ve *domain.ValidationError
	if errors.As(err, &ve) && ve.Fields[0].Field == "obstacles" {
		r.Obstacles = "งบประมาณได้รับการจัดสรรล่าช้า"
		ev, err = ind.Report(r, &fw.Framework)
	}
	if err != nil {
		return err
	}
	l.emit(ev, events.KindIndicator, id, ind.Unit, ind.FiscalYear, unitActor(ind.Unit))
	return nil
}

func (l *ledger) verify(id string, round int, decision string, verified domain.Number, comment string) error {
	ind := l.indicator(id)
	ev, err := ind.Verify(round, decision, verified, comment)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindIndicator, id, ind.Unit, ind.FiscalYear, opdcActor)
	return nil
}

func (l *ledger) proposeInnovation(e domain.InnovationProposed) error {
	ev, err := domain.ProposeInnovation(e)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindInnovation, e.ID, e.Unit, e.FiscalYear, unitActor(e.Unit))
	return nil
}

func (l *ledger) selectInnovation(id string) error {
	n := l.st.Innovations[id]
	ev, err := n.Select(true)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindInnovation, id, n.Unit, n.FiscalYear, unitActor(n.Unit))
	return nil
}

func (l *ledger) decideInnovation(id, decision, comment string) error {
	n := l.st.Innovations[id]
	ev, err := n.Decide(decision, comment)
	if err != nil {
		return err
	}
	l.emit(ev, events.KindInnovation, id, n.Unit, n.FiscalYear, opdcActor)
	return nil
}

// Framework templates, after SPEC.md's history of the framework.

var (
	threeLevels = domain.Scheme{Levels: []domain.Level{{Label: "ขั้นต้น", Score: "50"}, {Label: "มาตรฐาน", Score: "75"}, {Label: "ขั้นสูง", Score: "100"}}, BelowFirst: "0"}
	fiveLevels  = domain.Scheme{Levels: []domain.Level{{Label: "1", Score: "1"}, {Label: "2", Score: "2"}, {Label: "3", Score: "3"}, {Label: "4", Score: "4"}, {Label: "5", Score: "5"}}, BelowFirst: "1"}
	bands100    = []domain.Band{{Label: "ระดับคุณภาพ", Min: "90"}, {Label: "ระดับมาตรฐานขั้นสูง", Min: "75"}, {Label: "ระดับมาตรฐานขั้นต้น", Min: "50"}, {Label: "ระดับต้องปรับปรุง", Min: "0"}}
	bands5      = []domain.Band{{Label: "ดีเด่น", Min: "4.5"}, {Label: "ดีมาก", Min: "3.5"}, {Label: "ดี", Min: "2.5"}, {Label: "ต้องปรับปรุง", Min: "0"}}
)

// fy2564 is the FY2564 framework of API.md: Performance Base 70 % with 3–5
// indicators and Potential Base 30 %, three levels, weighted.
func fy2564(fy int, kind domain.UnitKind) domain.Framework {
	return domain.Framework{FiscalYear: fy, UnitKind: kind,
		Components: []domain.Component{
			{Code: "performance", NameTH: "การประเมินประสิทธิผลการดำเนินงาน", NameEN: "Performance Base", Weight: "70", MinIndicators: 3, MaxIndicators: 5},
			{Code: "potential", NameTH: "การประเมินศักยภาพในการดำเนินงาน", NameEN: "Potential Base", Weight: "30", MinIndicators: 1, MaxIndicators: 2}},
		Scheme: cloneScheme(threeLevels), Rollup: domain.RollupWeighted, Bands: slices.Clone(bands100), Rounds: []int{12}}
}

// fy2563 is a FY2562–63 framework: two components averaged without weights.
func fy2563(fy int, kind domain.UnitKind, scheme domain.Scheme, bands []domain.Band) domain.Framework {
	return domain.Framework{FiscalYear: fy, UnitKind: kind,
		Components: []domain.Component{
			{Code: "agenda", NameTH: "ตัวชี้วัดตามภารกิจยุทธศาสตร์", NameEN: "Agenda Base", MinIndicators: 1, MaxIndicators: 4},
			{Code: "area", NameTH: "ตัวชี้วัดตามพื้นที่", NameEN: "Area Base", MinIndicators: 1, MaxIndicators: 3}},
		Scheme: cloneScheme(scheme), Rollup: domain.RollupComponentMean, Bands: slices.Clone(bands), Rounds: []int{6, 9, 12}}
}

func cloneScheme(s domain.Scheme) domain.Scheme {
	s.Levels = slices.Clone(s.Levels)
	return s
}

// genYears are the fiscal years a generated history can cover: those the
// shared generator (events/history) plays.
var genYears = func() []int {
	var ys []int
	for fy := history.FirstYear; fy < history.FirstYear+10; fy++ {
		ys = append(ys, fy)
	}
	return ys
}()

// generate builds a history of n events over a few units (half of them
// provinces, half registered departments) with the generator the bench
// uses too (events/history), folding each event as it comes.
func generate(t testing.TB, seed uint64, n, units int) *ledger {
	t.Helper()
	l := newLedger(t)
	g := history.New(history.Config{Seed: seed, Events: n, Units: units}, func(_ string, data []byte, _ uint64) error {
		e, err := events.DecodeMessage(data, uint64(len(l.envs)+1))
		if err != nil {
			return err
		}
		if err := l.st.Apply(e); err != nil {
			return fmt.Errorf("fold of generated event %d: %w", e.Sequence, err)
		}
		l.envs = append(l.envs, e)
		return nil
	})
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	if g.Refused > 0 || len(l.envs) != n {
		t.Fatalf("generated %d of %d events; the domain refused %d decisions (first: %v)", len(l.envs), n, g.Refused, g.FirstRefusal)
	}
	l.now = l.envs[len(l.envs)-1].RecordedAt
	return l
}

func storeFor(t testing.TB, envs []*events.Envelope) *events.Store {
	t.Helper()
	var clock time.Time
	store := newClockStore(t, &clock)
	appendAll(t, store, &clock, envs)
	return store
}

// newClockStore starts a real store whose recorded_at clock reads *clock.
func newClockStore(t testing.TB, clock *time.Time) *events.Store {
	t.Helper()
	return eventstest.NewStore(t, events.WithClock(func() time.Time { return *clock }))
}

func appendAll(t testing.TB, store *events.Store, clock *time.Time, envs []*events.Envelope) {
	t.Helper()
	ctx := context.Background()
	last := map[string]uint64{}
	for _, e := range envs {
		c := *e
		*clock = e.RecordedAt
		key := AggregateKey(e.AggregateKind, e.AggregateID)
		res, err := store.Append(ctx, &c, last[key])
		if err != nil {
			t.Fatalf("append %d: %v", e.Sequence, err)
		}
		if res.Sequence != e.Sequence || c.Hash != e.Hash || res.Duplicate {
			t.Fatalf("append %d: stored at %d with hash %s (duplicate %v), generated %s", e.Sequence, res.Sequence, c.Hash, res.Duplicate, e.Hash)
		}
		last[key] = res.Sequence
	}
}

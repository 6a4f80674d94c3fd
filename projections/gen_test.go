package projections

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// This file builds event histories for tests: a ledger that decides every
// command through the domain's own decide functions on its own fold (so the
// history is one the API could have written), and a seeded generator that
// drives it with random but valid commands. Envelopes carry increasing
// sequences, per-aggregate versions and hash chains, and recorded_at times
// that never go back and often repeat.

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

// fy2561 is the FY2561 five-component framework, five levels, weighted.
func fy2561(fy int, kind domain.UnitKind) domain.Framework {
	return domain.Framework{FiscalYear: fy, UnitKind: kind,
		Components: []domain.Component{
			{Code: "function", NameTH: "ตัวชี้วัดตามภารกิจหลัก", NameEN: "Function Base", Weight: "40", MinIndicators: 1, MaxIndicators: 3},
			{Code: "agenda", NameTH: "ตัวชี้วัดตามนโยบายสำคัญเร่งด่วน", NameEN: "Agenda Base", Weight: "20", MinIndicators: 1, MaxIndicators: 2},
			{Code: "area", NameTH: "ตัวชี้วัดตามพื้นที่", NameEN: "Area Base", Weight: "20", MinIndicators: 0, MaxIndicators: 2},
			{Code: "innovation", NameTH: "การพัฒนานวัตกรรม", NameEN: "Innovation Base", Weight: "10", MinIndicators: 0, MaxIndicators: 1},
			{Code: "potential", NameTH: "การประเมินศักยภาพ", NameEN: "Potential Base", Weight: "10", MinIndicators: 1, MaxIndicators: 1}},
		Scheme: cloneScheme(fiveLevels), Rollup: domain.RollupWeighted, Bands: slices.Clone(bands5), Rounds: []int{6, 9, 12}}
}

func cloneScheme(s domain.Scheme) domain.Scheme {
	s.Levels = slices.Clone(s.Levels)
	return s
}

func cloneFramework(f domain.Framework) domain.Framework {
	f.Components = slices.Clone(f.Components)
	f.Scheme = cloneScheme(f.Scheme)
	f.Bands = slices.Clone(f.Bands)
	f.Rounds = slices.Clone(f.Rounds)
	return f
}

// genYears are the fiscal years a generated history covers.
var genYears = []int{2561, 2562, 2563, 2564, 2565}

func genFramework(fy int, kind domain.UnitKind) domain.Framework {
	switch fy {
	case 2561:
		return fy2561(fy, kind)
	case 2562:
		return fy2563(fy, kind, fiveLevels, bands5)
	case 2563:
		return fy2563(fy, kind, threeLevels, bands100)
	case 2565:
		f := fy2564(fy, kind)
		f.Rounds = []int{6, 12}
		return f
	}
	return fy2564(fy, kind)
}

var genTitles = []string{
	"ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้น",
	"อัตราการเบิกจ่ายงบประมาณ",
	"ร้อยละความพึงพอใจของผู้รับบริการ",
	"จำนวนผลิตภัณฑ์ชุมชนที่ได้รับการพัฒนา",
	"อัตราการเสียชีวิตจากอุบัติเหตุทางถนนต่อประชากรแสนคน",
	"ระดับความสำเร็จของการพัฒนาระบบบริการดิจิทัล",
	"ร้อยละของพื้นที่ป่าไม้ที่ได้รับการฟื้นฟู",
	"มูลค่าการค้าชายแดนที่เพิ่มขึ้น",
	"ร้อยละของเด็กปฐมวัยที่มีพัฒนาการสมวัย",
}

// generator drives a ledger with random valid commands.
type generator struct {
	*ledger
	rng   *rand.Rand
	units []string
}

// generate builds a history of at least n events (stopping at n) over a
// few provinces, two registered departments and genYears, from a seed.
func generate(t testing.TB, seed uint64, n, provinces int) *ledger {
	t.Helper()
	g := &generator{ledger: newLedger(t), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	// The clock moves 0–3 s per event, so many events share an instant,
	// and now and then a day passes.
	g.step = func() time.Duration {
		if g.rng.IntN(50) == 0 {
			return 24 * time.Hour
		}
		return time.Duration(g.rng.IntN(4)) * time.Second
	}
	all := domain.Provinces()
	for _, i := range g.rng.Perm(len(all))[:provinces] {
		g.units = append(g.units, all[i].Code)
	}
	slices.Sort(g.units)
	g.must(g.register("cdd", "กรมการพัฒนาชุมชน", "Community Development Department"))
	g.must(g.register("dopa", "กรมการปกครอง", "Department of Provincial Administration"))
	g.units = append(g.units, "cdd", "dopa")
	// The first year's frameworks come first; the rest arrive over time.
	for _, k := range []domain.UnitKind{domain.KindProvince, domain.KindDepartment} {
		g.must(g.publish(genFramework(genYears[0], k)))
	}
	type action struct {
		weight int
		do     func() error
	}
	actions := []action{
		{4, g.publishNext}, {1, g.reviseAFramework}, {3, g.defineASeries},
		{14, g.proposeOne}, {14, g.reviewOne}, {5, g.reviseOne}, {2, g.withdrawOne},
		{24, g.reportOne}, {22, g.verifyOne}, {3, g.proposeInnovationOne}, {2, g.selectInnovationOne}, {2, g.decideInnovationOne},
	}
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	for attempts := 0; len(g.envs) < n; attempts++ {
		if attempts > 200*n {
			t.Fatalf("generator stuck at %d events", len(g.envs))
		}
		k := g.rng.IntN(total)
		for _, a := range actions {
			if k < a.weight {
				_ = a.do() // a refused command appends nothing, as in the API
				break
			}
			k -= a.weight
		}
	}
	return g.ledger
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }

func (g *generator) chance(pct int) bool { return g.rng.IntN(100) < pct }

func (g *generator) unitYear() (string, int) {
	return g.units[g.pick(len(g.units))], genYears[g.pick(len(genYears))]
}

func (g *generator) publishNext() error {
	for _, fy := range genYears {
		for _, k := range []domain.UnitKind{domain.KindProvince, domain.KindDepartment} {
			if g.st.Framework(fy, k) == nil {
				return g.publish(genFramework(fy, k))
			}
		}
	}
	return errors.New("all published")
}

// reviseAFramework publishes a corrected revision of some framework:
// renamed, re-weighted, re-banded, a changed limit or floor.
func (g *generator) reviseAFramework() error {
	var ids []string
	for _, id := range SortedKeys(g.st.Frameworks) {
		if len(g.st.Frameworks[id].Revisions) < 4 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return errors.New("none")
	}
	h := g.st.Frameworks[ids[g.pick(len(ids))]]
	f := cloneFramework(h.Latest().Framework)
	switch g.pick(5) {
	case 0:
		c := &f.Components[g.pick(len(f.Components))]
		c.NameTH += " (ฉบับปรับปรุง)"
	case 1:
		if f.Rollup != domain.RollupWeighted {
			return errors.New("no weights")
		}
		a, b := f.Components[0].Weight.Rat(), f.Components[1].Weight.Rat()
		if a.Cmp(b) <= 0 {
			return errors.New("cannot shift")
		}
		f.Components[0].Weight = domain.Number(domain.FormatRat(a.Sub(a, ratOf(5)), 6))
		f.Components[1].Weight = domain.Number(domain.FormatRat(b.Add(b, ratOf(5)), 6))
	case 2:
		top := f.Bands[0].Min.Rat()
		step := ratOf(1)
		if len(f.Scheme.Levels) == 5 {
			step.SetFrac64(1, 10)
		}
		f.Bands[0].Min = domain.Number(domain.FormatRat(top.Sub(top, step), 6))
	case 3:
		c := &f.Components[g.pick(len(f.Components))]
		if c.MaxIndicators < 20 {
			c.MaxIndicators++
		}
	case 4:
		if f.Scheme.BelowFirst == "0" {
			f.Scheme.BelowFirst = "25"
		} else if f.Scheme.BelowFirst == "25" {
			f.Scheme.BelowFirst = "0"
		} else {
			f.Scheme.Levels[0].Label = "ต่ำกว่าเป้าหมาย"
		}
	}
	return g.reviseFramework(f, "แก้ไขตามมติคณะอนุกรรมการ")
}

func (g *generator) defineASeries() error {
	unit := g.units[g.pick(len(g.units))]
	if len(g.st.UnitSeries[unit]) >= 2 {
		return errors.New("enough")
	}
	span := 3 + g.pick(3)
	start := genYears[g.pick(len(genYears)-span+1)]
	if start+span-1 > genYears[len(genYears)-1] {
		span = genYears[len(genYears)-1] - start + 1
	}
	dir := domain.DirectionUp
	if g.chance(30) {
		dir = domain.DirectionDown
	}
	base := 30 + g.pick(40)
	targets := map[string]domain.Number{}
	for y := start; y < start+span; y++ {
		v := base + (y-start+1)*(1+g.pick(5))
		if dir == domain.DirectionDown {
			v = base - (y-start+1)*(1+g.pick(5))
		}
		targets[strconv.Itoa(y)] = domain.Number(strconv.Itoa(v))
	}
	return g.defineSeries(domain.SeriesDefined{ID: g.newID("s"), Unit: unit, TitleTH: genTitles[g.pick(len(genTitles))],
		Measure: "ร้อยละ", Direction: dir, Baseline: domain.Number(strconv.Itoa(base)),
		StartYear: start, EndYear: start + span - 1, Targets: targets})
}

// cents renders an integer count of hundredths as a decimal.
func cents(c int) domain.Number {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return domain.Number(fmt.Sprintf("%s%d.%02d", sign, c/100, c%100))
}

func (g *generator) targets(dir domain.Direction, levels int) []domain.Number {
	out := make([]domain.Number, levels)
	if dir == domain.DirectionMilestone {
		for i := range out {
			out[i] = domain.Number(strconv.Itoa(i + 1))
		}
		return out
	}
	v := 3000 + g.pick(6000)
	for i := range out {
		out[i] = cents(v)
		step := 10 + g.pick(400)
		if dir == domain.DirectionDown {
			step = -step
		}
		v += step
	}
	return out
}

func (g *generator) spec(unit string, fy int) (domain.IndicatorSpec, bool) {
	fw := g.st.Framework(fy, g.kindOf(unit))
	if fw == nil {
		return domain.IndicatorSpec{}, false
	}
	f := fw.Framework
	dirs := []domain.Direction{domain.DirectionUp, domain.DirectionUp, domain.DirectionDown, domain.DirectionMilestone}
	s := domain.IndicatorSpec{
		Component: f.Components[g.pick(len(f.Components))].Code,
		TitleTH:   genTitles[g.pick(len(genTitles))],
		Measure:   "ร้อยละ",
		Direction: dirs[g.pick(len(dirs))],
		Weight:    domain.Number(strconv.Itoa(5 * (1 + g.pick(6)))),
	}
	if g.chance(40) {
		// Join one of the unit's series running this year, if it is free.
		for _, id := range g.st.UnitSeries[unit] {
			sr := g.st.Series[id]
			if fy >= sr.StartYear && fy <= sr.EndYear {
				s.SeriesID, s.Direction, s.TitleTH = id, sr.Direction, sr.TitleTH
				break
			}
		}
	}
	s.Targets = g.targets(s.Direction, len(f.Scheme.Levels))
	if g.chance(50) {
		s.Baseline = cents(2000 + g.pick(5000))
	}
	return s, true
}

func (g *generator) proposeOne() error {
	unit, fy := g.unitYear()
	live := 0
	for _, ind := range g.st.UnitIndicators(unit, fy) {
		if ind.Status.Live() {
			live++
		}
	}
	if live >= 7 {
		return errors.New("enough")
	}
	s, ok := g.spec(unit, fy)
	if !ok {
		return errors.New("no framework")
	}
	return g.propose(unit, fy, g.newID("i"), s)
}

// someIndicator picks an indicator satisfying ok, in id order.
func (g *generator) someIndicator(ok func(*domain.Indicator) bool) *domain.Indicator {
	var c []*domain.Indicator
	for _, id := range SortedKeys(g.st.Indicators) {
		if ind := g.st.Indicators[id]; ok(ind) {
			c = append(c, ind)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[g.pick(len(c))]
}

func (g *generator) reviewOne() error {
	ind := g.someIndicator(func(i *domain.Indicator) bool {
		return i.Status == domain.StatusProposed || i.Status == domain.StatusRevised
	})
	if ind == nil {
		return errors.New("none")
	}
	switch k := g.pick(20); {
	case k < 14:
		return g.review(ind.ID, domain.DecisionApprove, "")
	case k < 18:
		return g.review(ind.ID, domain.DecisionRequestRevision, "โปรดปรับค่าเป้าหมายให้ท้าทายขึ้น")
	default:
		return g.review(ind.ID, domain.DecisionReject, "ตัวชี้วัดไม่สอดคล้องกับภารกิจ")
	}
}

func (g *generator) reviseOne() error {
	ind := g.someIndicator(func(i *domain.Indicator) bool {
		return i.Status == domain.StatusRevisionRequested || (i.Status == domain.StatusProposed && g.chance(10))
	})
	if ind == nil {
		return errors.New("none")
	}
	s := ind.Spec
	s.Targets = g.targets(s.Direction, len(s.Targets))
	s.Weight = domain.Number(strconv.Itoa(5 * (1 + g.pick(6))))
	return g.revise(ind.ID, s, "ปรับตามข้อเสนอแนะของสำนักงาน ก.พ.ร.")
}

func (g *generator) withdrawOne() error {
	ind := g.someIndicator(func(i *domain.Indicator) bool {
		return i.Status == domain.StatusProposed || i.Status == domain.StatusRevisionRequested || i.Status == domain.StatusRevised
	})
	if ind == nil {
		return errors.New("none")
	}
	return g.withdraw(ind.ID, "")
}

// actualFor draws a value around the targets: below, between and beyond.
func (g *generator) actualFor(ind *domain.Indicator) domain.Number {
	t := ind.Spec.Targets
	if ind.Spec.Direction == domain.DirectionMilestone {
		return domain.Number(strconv.Itoa(g.pick(len(t) + 2)))
	}
	lo, hi := t[0].Rat(), t[len(t)-1].Rat()
	if lo.Cmp(hi) > 0 {
		lo, hi = hi, lo
	}
	l, _ := new(big.Float).SetRat(lo).Float64()
	h, _ := new(big.Float).SetRat(hi).Float64()
	span := h - l
	x := l - span/2 + g.rng.Float64()*span*2
	return cents(int(x * 100))
}

func (g *generator) reportOne() error {
	ind := g.someIndicator(func(i *domain.Indicator) bool { return i.Status == domain.StatusApproved })
	if ind == nil {
		return errors.New("none")
	}
	fw := g.st.Framework(ind.FiscalYear, g.kindOf(ind.Unit))
	rounds := fw.Framework.Rounds
	return g.report(ind.ID, rounds[g.pick(len(rounds))], g.actualFor(ind))
}

func (g *generator) verifyOne() error {
	var c [][2]any
	for _, id := range SortedKeys(g.st.Indicators) {
		ind := g.st.Indicators[id]
		for _, r := range ind.Rounds {
			if r.Verification == nil {
				c = append(c, [2]any{ind, r.Round})
			}
		}
	}
	if len(c) == 0 {
		return errors.New("none")
	}
	p := c[g.pick(len(c))]
	ind, round := p[0].(*domain.Indicator), p[1].(int)
	switch k := g.pick(10); {
	case k < 7:
		return g.verify(ind.ID, round, domain.VerifyAccept, "", "")
	case k < 9:
		return g.verify(ind.ID, round, domain.VerifyAdjust, g.actualFor(ind), "ปรับตามหลักฐานที่ตรวจพบ")
	default:
		return g.verify(ind.ID, round, domain.VerifyReject, "", "หลักฐานไม่เพียงพอ")
	}
}

func (g *generator) proposeInnovationOne() error {
	unit, fy := g.unitYear()
	kinds := []string{domain.InnovationPolicy, domain.InnovationService, domain.InnovationManagement}
	return g.proposeInnovation(domain.InnovationProposed{ID: g.newID("n"), Unit: unit, FiscalYear: fy,
		TitleTH: "ระบบบริการประชาชนแบบเบ็ดเสร็จ", Agency: "สำนักงานจังหวัด", Kind: kinds[g.pick(len(kinds))]})
}

func (g *generator) someInnovation(status string) *domain.Innovation {
	var c []string
	for _, id := range SortedKeys(g.st.Innovations) {
		if g.st.Innovations[id].Status == status {
			c = append(c, id)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return g.st.Innovations[c[g.pick(len(c))]]
}

func (g *generator) selectInnovationOne() error {
	n := g.someInnovation(domain.InnovationStatusProposed)
	if n == nil {
		return errors.New("none")
	}
	return g.selectInnovation(n.ID)
}

func (g *generator) decideInnovationOne() error {
	n := g.someInnovation(domain.InnovationStatusSelected)
	if n == nil {
		return errors.New("none")
	}
	if g.chance(60) {
		return g.decideInnovation(n.ID, domain.InnovationAccept, "")
	}
	return g.decideInnovation(n.ID, domain.InnovationDecline, "ยังไม่เป็นนวัตกรรม")
}

// storeFor starts a real embedded JetStream store whose clock replays the
// recorded times of envs, appends them all with the expected last subject
// sequence of each aggregate, and checks that the store kept them exactly:
// the same sequence and the same hash as generated.
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

func ratOf(n int64) *big.Rat { return big.NewRat(n, 1) }

// TestGeneratorIsDeterministicAndValid checks the generator itself: the
// same seed gives the same history, every chain verifies, times never go
// back and do repeat, and the history exercises what the views read.
func TestGeneratorIsDeterministicAndValid(t *testing.T) {
	a := generate(t, 7, 1500, 4)
	b := generate(t, 7, 1500, 4)
	if len(a.envs) != len(b.envs) {
		t.Fatalf("lengths differ: %d and %d", len(a.envs), len(b.envs))
	}
	for i := range a.envs {
		if a.envs[i].Hash != b.envs[i].Hash {
			t.Fatalf("event %d differs between two runs with one seed", i+1)
		}
	}
	v := events.NewChainVerifier()
	equal := 0
	types := map[string]int{}
	for i, e := range a.envs {
		if brk := v.Check(e); brk != nil {
			t.Fatal(brk)
		}
		if e.Sequence != uint64(i+1) {
			t.Fatalf("sequence %d at %d", e.Sequence, i)
		}
		if i > 0 {
			switch c := e.RecordedAt.Compare(a.envs[i-1].RecordedAt); {
			case c < 0:
				t.Fatalf("recorded_at goes back at %d", e.Sequence)
			case c == 0:
				equal++
			}
		}
		types[e.Type]++
	}
	if equal == 0 {
		t.Error("no two events share a recorded_at")
	}
	for _, typ := range []string{events.TypeFrameworkPublished, events.TypeFrameworkRevised, events.TypeDepartmentRegistered,
		events.TypeIndicatorProposed, events.TypeIndicatorRevised, events.TypeIndicatorReviewed, events.TypeIndicatorWithdrawn,
		events.TypeResultReported, events.TypeResultVerified, events.TypeSeriesDefined,
		events.TypeInnovationProposed, events.TypeInnovationSelected, events.TypeInnovationReviewed} {
		if types[typ] == 0 {
			t.Errorf("no %s event in the generated history", typ)
		}
	}
	t.Logf("event types: %v", types)
}

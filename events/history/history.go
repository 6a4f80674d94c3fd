// Package history generates a synthetic ledger history shaped like real
// fiscal years: the benchmark's stream (kpiledger bench) and the
// projections tests' generated ledgers both come from it.
package history

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// The generator decides every event decided by the
// domain's own functions on a small local fold of its aggregate (so the
// history is one the API could have written), sealed as events.Store.Append
// seals it, and handed to a sink in stream order with the expected last
// subject sequence the store would send. The shape follows a real
// evaluation year, fiscal year after fiscal year: frameworks published in
// October, long-term series defined, 3-7 indicators proposed per unit,
// reviewed (some sent back, revised and reviewed again, a few rejected or
// withdrawn), innovation outlines proposed, selected and decided, frameworks
// now and then corrected, and for each of the framework's reporting rounds a
// result reported with evidence (and obstacles when it misses the standard
// level), verified, and when rejected reported and verified again. Events
// carry what an HTTP write gives them: a UUID v7 id and command id, an
// Idempotency-Key-derived command id and request hash on one write in ten,
// and the officer's actor.

// Sink takes one sealed event: its subject, its stored bytes, and the
// stream sequence the aggregate's previous event sits at (0: none).
type Sink func(subject string, data []byte, expectedLast uint64) error

// agg is an aggregate's chain position as the generator predicts it:
// with a single writer, the k-th event published lands at sequence base+k.
type agg struct {
	kind, id, unit string
	fy             int
	version        uint64
	hash           string
	seq            uint64
}

type unit struct {
	code, nameTH, nameEN string
	kind                 domain.UnitKind
	officers             []domain.Actor
	series               []*series
	register             bool // a department or LAO: registered before its first year
}

type series struct {
	agg agg
	s   domain.Series
}

type ind struct {
	agg  agg
	ind  domain.Indicator
	unit *unit
	// peers is the unit-year's indicators, this one included.
	peers *[]*ind
}

type inno struct {
	agg  agg
	n    domain.Innovation
	unit *unit
}

type framework struct {
	agg agg
	h   domain.FrameworkHistory
}

// Config says what to generate.
type Config struct {
	// Seed makes the history: the same seed, the same events.
	Seed uint64
	// Events is how many events to generate.
	Events int
	// Base is the stream sequence before the first event (0: empty).
	Base uint64
	// Units, when set, plays only that many units: half of them (rounded
	// up) real provinces, the rest real departments, and no local
	// administrative organisation. 0: every province and department, and
	// as many local administrative organisations as Events needs.
	Units int
}

// Generator is the generator. It is deterministic for a Config.
type Generator struct {
	rng   *rand.Rand
	sink  Sink
	limit int // stop after this many events
	count int
	seq   uint64 // predicted stream sequence of the last event emitted
	now   time.Time
	err   error // the sink's first error

	units      []*unit
	opdc       []domain.Actor
	frameworks map[string]*framework
	// Refused counts decisions the domain refused; a correct generator
	// makes none, and the test checks it.
	Refused      int
	FirstRefusal error
	// Years lists the fiscal years begun; Complete those finished.
	Years, Complete []int
	Types           map[string]int
	Bytes           int64
}

// errFull ends generation once the limit is reached.
var errFull = errors.New("enough events")

// eventsPerUnit is about how many events one unit produces over the
// ten fiscal years the generator plays (measured on the generator itself);
// it sizes the number of local administrative organisations for N events.
const eventsPerUnit = 330

// FirstYear and years: FY2561-FY2570, ten years.
const (
	FirstYear = 2561
	years     = 10
)

// New makes a generator that hands its events to sink; Run runs it.
func New(cfg Config, sink Sink) *Generator {
	seed, limit, base := cfg.Seed, cfg.Events, cfg.Base
	g := &Generator{
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), sink: sink, limit: limit, seq: base,
		frameworks: map[string]*framework{}, Types: map[string]int{},
	}
	for i := range 20 {
		g.opdc = append(g.opdc, domain.Actor{Subject: fmt.Sprintf("%s.%c@opdc.go.th", names[i%len(names)], 'a'+i), Role: domain.RoleOPDC})
	}
	provinces, deps := domain.Provinces(), departments
	if cfg.Units > 0 {
		np := min((cfg.Units+1)/2, len(provinces))
		provinces, deps = provinces[:np], deps[:min(cfg.Units-np, len(deps))]
	}
	for _, p := range provinces {
		slug := strings.ToLower(strings.ReplaceAll(p.NameEN, " ", ""))
		g.units = append(g.units, g.newUnit(p.Code, p.NameTH, p.NameEN, domain.KindProvince, slug, false))
	}
	for _, d := range deps {
		g.units = append(g.units, g.newUnit(d.code, d.nameTH, d.nameEN, domain.KindDepartment, d.code, true))
	}
	// Local administrative organisations fill up to the requested size.
	lao := (limit+eventsPerUnit-1)/eventsPerUnit - len(g.units)
	if cfg.Units > 0 {
		lao = 0
	}
	provinces = domain.Provinces()
	for i := range max(lao, 0) {
		k := laoKinds[i%len(laoKinds)]
		t := tambons[(i/len(laoKinds))%len(tambons)]
		p := provinces[i%len(provinces)]
		code := fmt.Sprintf("lao-%05d", i+1)
		g.units = append(g.units, g.newUnit(code, k.th+t.th+" จังหวัด"+p.NameTH, t.en+" "+k.en+", "+p.NameEN, domain.KindDepartment, code, true))
	}
	// Interleave kinds so that the stream does not hold all provinces first.
	g.rng.Shuffle(len(g.units), func(i, j int) { g.units[i], g.units[j] = g.units[j], g.units[i] })
	return g
}

func (g *Generator) newUnit(code, th, en string, kind domain.UnitKind, slug string, register bool) *unit {
	u := &unit{code: code, nameTH: th, nameEN: en, kind: kind, register: register}
	for range 2 + g.rng.IntN(2) {
		name := names[g.rng.IntN(len(names))]
		u.officers = append(u.officers, domain.Actor{Subject: fmt.Sprintf("%s.%c@%s.go.th", name, 'a'+g.rng.IntN(26), slug), Role: domain.RoleUnit, Unit: code})
	}
	return u
}

// Run generates until the limit: the registrations, then fiscal years.
func (g *Generator) Run() error {
	g.now = FYStart(FirstYear).AddDate(0, 0, -20)
	for _, u := range g.units {
		if u.register && !g.full() {
			ev, err := domain.RegisterDepartment(u.code, domain.KindDepartment, u.nameTH, u.nameEN, false)
			a := &agg{kind: events.KindUnit, id: u.code}
			g.decided(ev, err, a, g.opdcActor())
		}
	}
	for fy := FirstYear; !g.full(); fy++ {
		g.year(fy)
		if !g.full() {
			g.Complete = append(g.Complete, fy)
		}
	}
	if g.err != nil && !errors.Is(g.err, errFull) {
		return g.err
	}
	return nil
}

func (g *Generator) full() bool { return g.err != nil }

// UnitCounts says how many units of each sort the history plays.
func (g *Generator) UnitCounts() (provinces, departments, laos int) {
	for _, u := range g.units {
		switch {
		case u.kind == domain.KindProvince:
			provinces++
		case strings.HasPrefix(u.code, "lao-"):
			laos++
		default:
			departments++
		}
	}
	return provinces, departments, laos
}

func (g *Generator) opdcActor() domain.Actor { return g.opdc[g.rng.IntN(len(g.opdc))] }

func (u *unit) officer(rng *rand.Rand) domain.Actor {
	return u.officers[rng.IntN(len(u.officers))]
}

// FYStart is 1 October of the year before: FY2563 starts 1 Oct 2019
// (09:00 in Bangkok).
func FYStart(fy int) time.Time { return time.Date(fy-544, 10, 1, 2, 0, 0, 0, time.UTC) }

// phase moves the clock into a window of days from the start of fy, at
// fraction i/n of it, never backwards.
func (g *Generator) phase(fy int, fromDay, toDay float64, i, n int) {
	span := (toDay - fromDay) * 24 * float64(time.Hour)
	t := FYStart(fy).Add(time.Duration(fromDay*24*float64(time.Hour) + span*float64(i)/float64(max(n, 1))))
	if t.After(g.now) {
		g.now = t
	}
}

// v7 is a UUID v7 whose time is t, as uuid.NewV7 would have made then.
func (g *Generator) v7(t time.Time) string {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], g.rng.Uint64())
	binary.BigEndian.PutUint64(u[:8], uint64(t.UnixMilli())<<16|uint64(g.rng.Uint32()&0x0fff))
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

// decided emits a decision's event, or counts a refusal.
func (g *Generator) decided(ev domain.Event, err error, a *agg, actor domain.Actor) (domain.Meta, bool) {
	if g.err != nil {
		// Generation has ended; a decision on an event that was never
		// emitted may fail, and that is no refusal.
		return domain.Meta{}, false
	}
	if err != nil {
		g.Refused++
		if g.FirstRefusal == nil {
			g.FirstRefusal = fmt.Errorf("%s %s: %w", a.kind, a.id, err)
		}
		return domain.Meta{}, false
	}
	return g.emit(ev, a, actor)
}

// emit seals the event as the store would and hands it to the sink.
func (g *Generator) emit(ev domain.Event, a *agg, actor domain.Actor) (domain.Meta, bool) {
	if g.err != nil {
		return domain.Meta{}, false
	}
	if g.count >= g.limit {
		g.err = errFull
		return domain.Meta{}, false
	}
	env, err := events.NewEnvelope(ev, events.Aggregate{Kind: a.kind, ID: a.id, Unit: a.unit, FiscalYear: a.fy, Version: a.version, LastHash: a.hash})
	if err != nil {
		g.err = err
		return domain.Meta{}, false
	}
	// Writes are seconds apart, sometimes in the same millisecond, and one
	// in twenty at the same instant as the one before (a node's clock is
	// coarser than its writes): as-of views must cut between equal times.
	if g.rng.IntN(20) != 0 {
		g.now = g.now.Add(time.Duration(g.rng.IntN(3000)) * time.Millisecond).Add(time.Duration(g.rng.IntN(1000)) * time.Microsecond)
	}
	t := g.now
	env.ID = g.v7(t)
	if g.rng.IntN(10) == 0 {
		// A client that sent an Idempotency-Key: the command id is derived
		// from it and the request body's hash is kept.
		var k [16]byte
		binary.BigEndian.PutUint64(k[:], g.rng.Uint64())
		binary.BigEndian.PutUint64(k[8:], g.rng.Uint64())
		sum := sha256.Sum256(env.Data)
		env.CommandID = "idem-" + hex.EncodeToString(k[:])
		env.RequestHash = hex.EncodeToString(sum[:])
	} else {
		env.CommandID = g.v7(t)
	}
	env.CorrelationID = env.CommandID
	env.Actor = actor
	env.OccurredAt = t
	subject, data, err := env.SealAt(t)
	if err != nil {
		g.err = err
		return domain.Meta{}, false
	}
	if err := g.sink(subject, data, a.seq); err != nil {
		g.err = err
		return domain.Meta{}, false
	}
	g.seq++
	g.count++
	g.Bytes += int64(len(data))
	g.Types[env.Type]++
	a.version++
	a.hash, a.seq = env.Hash, g.seq
	return domain.Meta{EventID: env.ID, Sequence: g.seq, Version: a.version, RecordedAt: t, Actor: actor}, true
}

// frameworkFor returns a year's framework template, after SPEC.md's
// history: FY2561 five components and five levels, FY2562-63 two
// components averaged, FY2564 on Performance Base 70 % + Potential Base 30 %.
func frameworkFor(fy int, kind domain.UnitKind) domain.Framework {
	three := domain.Scheme{Levels: []domain.Level{{Label: "ขั้นต้น", Score: "50"}, {Label: "มาตรฐาน", Score: "75"}, {Label: "ขั้นสูง", Score: "100"}}, BelowFirst: "0"}
	five := domain.Scheme{Levels: []domain.Level{{Label: "1", Score: "1"}, {Label: "2", Score: "2"}, {Label: "3", Score: "3"}, {Label: "4", Score: "4"}, {Label: "5", Score: "5"}}, BelowFirst: "1"}
	bands100 := []domain.Band{{Label: "ระดับคุณภาพ", Min: "90"}, {Label: "ระดับมาตรฐานขั้นสูง", Min: "75"}, {Label: "ระดับมาตรฐานขั้นต้น", Min: "50"}, {Label: "ระดับต้องปรับปรุง", Min: "0"}}
	bands5 := []domain.Band{{Label: "ดีเด่น", Min: "4.5"}, {Label: "ดีมาก", Min: "3.5"}, {Label: "ดี", Min: "2.5"}, {Label: "ต้องปรับปรุง", Min: "0"}}
	switch fy {
	case 2561:
		return domain.Framework{FiscalYear: fy, UnitKind: kind,
			Components: []domain.Component{
				{Code: "function", NameTH: "ตัวชี้วัดตามภารกิจหลัก", NameEN: "Function Base", Weight: "40", MinIndicators: 1, MaxIndicators: 3},
				{Code: "agenda", NameTH: "ตัวชี้วัดตามนโยบายสำคัญเร่งด่วน", NameEN: "Agenda Base", Weight: "20", MinIndicators: 1, MaxIndicators: 2},
				{Code: "area", NameTH: "ตัวชี้วัดตามพื้นที่", NameEN: "Area Base", Weight: "20", MinIndicators: 0, MaxIndicators: 2},
				{Code: "innovation", NameTH: "การพัฒนานวัตกรรม", NameEN: "Innovation Base", Weight: "10", MinIndicators: 0, MaxIndicators: 1},
				{Code: "potential", NameTH: "การประเมินศักยภาพ", NameEN: "Potential Base", Weight: "10", MinIndicators: 1, MaxIndicators: 1}},
			Scheme: five, Rollup: domain.RollupWeighted, Bands: bands5, Rounds: []int{6, 9, 12}}
	case 2562, 2563:
		s, b := three, bands100
		if fy == 2562 {
			s, b = five, bands5
		}
		return domain.Framework{FiscalYear: fy, UnitKind: kind,
			Components: []domain.Component{
				{Code: "agenda", NameTH: "ตัวชี้วัดตามภารกิจยุทธศาสตร์", NameEN: "Agenda Base", MinIndicators: 1, MaxIndicators: 4},
				{Code: "area", NameTH: "ตัวชี้วัดตามพื้นที่", NameEN: "Area Base", MinIndicators: 1, MaxIndicators: 3}},
			Scheme: s, Rollup: domain.RollupComponentMean, Bands: b, Rounds: []int{6, 9, 12}}
	}
	rounds := []int{6, 12}
	if fy == 2564 {
		rounds = []int{12}
	}
	return domain.Framework{FiscalYear: fy, UnitKind: kind,
		Components: []domain.Component{
			{Code: "performance", NameTH: "การประเมินประสิทธิผลการดำเนินงาน", NameEN: "Performance Base", Weight: "70", MinIndicators: 3, MaxIndicators: 5},
			{Code: "potential", NameTH: "การประเมินศักยภาพในการดำเนินงาน", NameEN: "Potential Base", Weight: "30", MinIndicators: 1, MaxIndicators: 2}},
		Scheme: three, Rollup: domain.RollupWeighted, Bands: bands100, Rounds: rounds}
}

// year plays one fiscal year in time order.
func (g *Generator) year(fy int) {
	g.Years = append(g.Years, fy)
	kinds := []domain.UnitKind{domain.KindProvince, domain.KindDepartment}
	for i, k := range kinds {
		g.phase(fy, 0, 3, i, len(kinds))
		id := events.FrameworkID(fy, string(k))
		fw := &framework{agg: agg{kind: events.KindFramework, id: id, fy: fy}}
		ev, err := domain.PublishFramework(nil, frameworkFor(fy, k))
		if m, ok := g.decided(ev, err, &fw.agg, g.opdcActor()); ok {
			fw.h.Apply(ev, m)
			g.frameworks[id] = fw
		}
	}
	if g.full() {
		return
	}
	var inds []*ind
	var innos []*inno
	n := len(g.units)
	for i, u := range g.units {
		g.phase(fy, 5, 20, i, n)
		g.maybeSeries(u, fy)
	}
	for i, u := range g.units {
		g.phase(fy, 20, 60, i, n)
		inds = append(inds, g.propose(u, fy)...)
		if g.full() {
			return
		}
	}
	for i, u := range g.units {
		g.phase(fy, 60, 75, i, n)
		if g.rng.IntN(4) == 0 {
			for range 1 + g.rng.IntN(2) {
				innos = append(innos, g.proposeInnovation(u, fy))
			}
		}
	}
	g.review(fy, inds, 75, 95, true)
	g.innovations(fy, innos)
	for i, b := range inds {
		g.phase(fy, 110, 125, i, len(inds))
		switch b.ind.Status {
		case domain.StatusRevisionRequested:
			if g.rng.IntN(30) == 0 {
				ev, err := b.ind.Withdraw("หน่วยงานขอถอนตัวชี้วัดเนื่องจากซ้ำซ้อนกับภารกิจของกระทรวง")
				g.fold(b, ev, err, b.unit.officer(g.rng))
				continue
			}
			spec := b.ind.Spec
			spec.Targets = g.targets(spec.Direction, len(spec.Targets))
			spec.Rationale = Rationales[g.rng.IntN(len(Rationales))]
			ev, err := b.ind.Revise(spec, revisionReasons[g.rng.IntN(len(revisionReasons))], g.context(b, spec))
			g.fold(b, ev, err, b.unit.officer(g.rng))
		}
	}
	g.review(fy, inds, 125, 140, false)
	g.reviseFrameworks(fy, inds)
	rounds := frameworkFor(fy, domain.KindProvince).Rounds
	for _, r := range rounds {
		g.round(fy, r, inds)
	}
}

func (g *Generator) maybeSeries(u *unit, fy int) {
	active := 0
	for _, s := range u.series {
		if s.s.EndYear >= fy {
			active++
		}
	}
	if active >= 2 || g.rng.IntN(4) != 0 {
		return
	}
	span := 3 + g.rng.IntN(3)
	dir := domain.DirectionUp
	if g.rng.IntN(10) < 3 {
		dir = domain.DirectionDown
	}
	base := 3000 + g.rng.IntN(4000)
	targets := map[string]domain.Number{}
	v := base
	for y := fy; y < fy+span; y++ {
		step := 100 + g.rng.IntN(400)
		if dir == domain.DirectionDown {
			step = -step
		}
		v += step
		targets[strconv.Itoa(y)] = cents(v)
	}
	s := &series{agg: agg{kind: events.KindSeries, id: g.v7(g.now), unit: u.code, fy: fy}}
	d := domain.SeriesDefined{ID: s.agg.id, Unit: u.code, TitleTH: Titles[g.rng.IntN(len(Titles))],
		Measure: "ร้อยละ", Direction: dir, Baseline: cents(base), StartYear: fy, EndYear: fy + span - 1, Targets: targets}
	ev, err := domain.DefineSeries(d)
	if m, ok := g.decided(ev, err, &s.agg, u.officer(g.rng)); ok {
		s.s.Apply(ev, m)
		u.series = append(u.series, s)
	}
}

// cents renders hundredths as a decimal.
func cents(c int) domain.Number {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return domain.Number(fmt.Sprintf("%s%d.%02d", sign, c/100, c%100))
}

func (g *Generator) targets(dir domain.Direction, levels int) []domain.Number {
	out := make([]domain.Number, levels)
	if dir == domain.DirectionMilestone {
		for i := range out {
			out[i] = domain.Number(strconv.Itoa(i + 1))
		}
		return out
	}
	v := 3000 + g.rng.IntN(6000)
	for i := range out {
		out[i] = cents(v)
		step := 10 + g.rng.IntN(400)
		if dir == domain.DirectionDown {
			step = -step
		}
		v += step
	}
	return out
}

func (g *Generator) framework(fy int, kind domain.UnitKind) *domain.Framework {
	fw := g.frameworks[events.FrameworkID(fy, string(kind))]
	if fw == nil {
		return nil
	}
	return &fw.h.Latest().Framework
}

// context is IndicatorContext computed from the year's local aggregates.
func (g *Generator) context(self *ind, spec domain.IndicatorSpec) domain.IndicatorContext {
	ctx := domain.IndicatorContext{Framework: g.framework(self.agg.fy, self.unit.kind)}
	for _, s := range self.unit.series {
		if s.s.ID == spec.SeriesID {
			ctx.Series = &s.s
		}
	}
	for _, o := range *self.peers {
		if o == self || !o.ind.Status.Live() {
			continue
		}
		ctx.LiveInUnitYear++
		if spec.SeriesID != "" && o.ind.Spec.SeriesID == spec.SeriesID {
			ctx.SeriesTaken = true
		}
		if o.ind.Status == domain.StatusApproved && o.ind.Spec.Component == spec.Component {
			ctx.ApprovedInComponent++
		}
	}
	return ctx
}

// propose files a unit's indicators for the year, within each component's
// limits, one of them in a running long-term series when there is one.
func (g *Generator) propose(u *unit, fy int) []*ind {
	f := g.framework(fy, u.kind)
	if f == nil {
		return nil
	}
	out := new([]*ind)
	var series *series
	for _, s := range u.series {
		if fy >= s.s.StartYear && fy <= s.s.EndYear {
			series = s
			break
		}
	}
	dirs := []domain.Direction{domain.DirectionUp, domain.DirectionUp, domain.DirectionUp, domain.DirectionDown, domain.DirectionMilestone}
	for _, c := range f.Components {
		k := c.MinIndicators + g.rng.IntN(c.MaxIndicators-c.MinIndicators+1)
		if k > 2 && g.rng.IntN(2) == 0 {
			k--
		}
		for range k {
			spec := domain.IndicatorSpec{
				Component: c.Code,
				TitleTH:   Titles[g.rng.IntN(len(Titles))],
				Measure:   measures[g.rng.IntN(len(measures))],
				Direction: dirs[g.rng.IntN(len(dirs))],
				Weight:    domain.Number(strconv.Itoa(5 * (1 + g.rng.IntN(6)))),
				Rationale: Rationales[g.rng.IntN(len(Rationales))],
			}
			if g.rng.IntN(3) == 0 {
				spec.TitleEN = titlesEN[g.rng.IntN(len(titlesEN))]
			}
			if series != nil {
				spec.SeriesID, spec.Direction, spec.TitleTH, spec.Measure = series.s.ID, series.s.Direction, series.s.TitleTH, series.s.Measure
				series = nil
			}
			spec.Targets = g.targets(spec.Direction, len(f.Scheme.Levels))
			if g.rng.IntN(2) == 0 {
				spec.Baseline = cents(2000 + g.rng.IntN(5000))
			}
			b := &ind{agg: agg{kind: events.KindIndicator, id: g.v7(g.now), unit: u.code, fy: fy}, unit: u, peers: out}
			b.ind.Unit, b.ind.FiscalYear = u.code, fy
			ev, err := domain.ProposeIndicator(b.agg.id, u.code, fy, spec, g.context(b, spec))
			if m, ok := g.decided(ev, err, &b.agg, u.officer(g.rng)); ok {
				b.ind.Apply(ev, m)
				*out = append(*out, b)
			}
		}
	}
	return *out
}

func (g *Generator) fold(b *ind, ev domain.Event, err error, actor domain.Actor) bool {
	m, ok := g.decided(ev, err, &b.agg, actor)
	if ok {
		b.ind.Apply(ev, m)
	}
	return ok
}

// review decides on every indicator awaiting review: on the first pass
// most are approved, some sent back, a few rejected; on the second pass the
// revised ones are approved or rejected.
func (g *Generator) review(fy int, inds []*ind, from, to float64, first bool) {
	for i, b := range inds {
		if b.ind.Status != domain.StatusProposed && b.ind.Status != domain.StatusRevised {
			continue
		}
		g.phase(fy, from, to, i, len(inds))
		decision, comment := domain.DecisionApprove, ""
		switch k := g.rng.IntN(100); {
		case first && k < 20:
			decision, comment = domain.DecisionRequestRevision, reviewComments[g.rng.IntN(len(reviewComments))]
		case k >= 96:
			decision, comment = domain.DecisionReject, rejectComments[g.rng.IntN(len(rejectComments))]
		}
		ctx := g.context(b, b.ind.Spec)
		if decision == domain.DecisionApprove {
			if c, ok := ctx.Framework.Component(b.ind.Spec.Component); ok && ctx.ApprovedInComponent >= c.MaxIndicators {
				decision, comment = domain.DecisionReject, "เกินจำนวนตัวชี้วัดสูงสุดขององค์ประกอบ"
			}
		}
		ev, err := b.ind.Review(decision, comment, ctx)
		g.fold(b, ev, err, g.opdcActor())
	}
}

func (g *Generator) proposeInnovation(u *unit, fy int) *inno {
	kinds := []string{domain.InnovationPolicy, domain.InnovationService, domain.InnovationManagement}
	b := &inno{agg: agg{kind: events.KindInnovation, id: g.v7(g.now), unit: u.code, fy: fy}, unit: u}
	ev, err := domain.ProposeInnovation(domain.InnovationProposed{ID: b.agg.id, Unit: u.code, FiscalYear: fy,
		TitleTH: innovationTitles[g.rng.IntN(len(innovationTitles))], Agency: agencies[g.rng.IntN(len(agencies))],
		Kind: kinds[g.rng.IntN(len(kinds))], Summary: innovationSummaries[g.rng.IntN(len(innovationSummaries))]})
	if m, ok := g.decided(ev, err, &b.agg, u.officer(g.rng)); ok {
		b.n.Apply(ev, m)
	}
	return b
}

func (g *Generator) innovations(fy int, innos []*inno) {
	for i, b := range innos {
		g.phase(fy, 95, 100, i, len(innos))
		if b.n.Status == domain.InnovationStatusProposed && g.rng.IntN(10) < 6 {
			ev, err := b.n.Select(true)
			if m, ok := g.decided(ev, err, &b.agg, b.unit.officer(g.rng)); ok {
				b.n.Apply(ev, m)
			}
		}
	}
	for i, b := range innos {
		g.phase(fy, 100, 110, i, len(innos))
		if b.n.Status != domain.InnovationStatusSelected {
			continue
		}
		decision, comment := domain.InnovationAccept, ""
		if g.rng.IntN(10) < 4 {
			decision, comment = domain.InnovationDecline, innovationDeclines[g.rng.IntN(len(innovationDeclines))]
		}
		ev, err := b.n.Decide(decision, comment)
		if m, ok := g.decided(ev, err, &b.agg, g.opdcActor()); ok {
			b.n.Apply(ev, m)
		}
	}
}

// reviseFrameworks corrects one framework in six: a component renamed or
// the top band's minimum lowered, with OPDC's reason.
func (g *Generator) reviseFrameworks(fy int, inds []*ind) {
	for _, k := range []domain.UnitKind{domain.KindProvince, domain.KindDepartment} {
		fw := g.frameworks[events.FrameworkID(fy, string(k))]
		if fw == nil || g.rng.IntN(6) != 0 {
			continue
		}
		g.phase(fy, 141, 142, 0, 1)
		f := fw.h.Latest().Framework
		f.Components = slices.Clone(f.Components)
		f.Bands = slices.Clone(f.Bands)
		if g.rng.IntN(2) == 0 {
			c := &f.Components[g.rng.IntN(len(f.Components))]
			c.NameTH += " (ฉบับปรับปรุง)"
		} else {
			top := f.Bands[0].Min.Rat()
			step := big.NewRat(1, 1)
			if len(f.Scheme.Levels) == 5 {
				step = big.NewRat(1, 10)
			}
			f.Bands[0].Min = domain.NumberFromRat(top.Sub(top, step), 6)
		}
		inUse := map[string]int{}
		for _, b := range inds {
			if b.unit.kind == k && b.ind.Status.Live() {
				inUse[b.ind.Spec.Component]++
			}
		}
		ev, err := domain.ReviseFramework(&fw.h, f, frameworkReasons[g.rng.IntN(len(frameworkReasons))], inUse)
		if m, ok := g.decided(ev, err, &fw.agg, g.opdcActor()); ok {
			fw.h.Apply(ev, m)
		}
	}
}

// round reports and verifies one reporting round (months) of every
// approved indicator; a rejected report is filed and verified again.
func (g *Generator) round(fy, r int, inds []*ind) {
	start := float64(30*r - 25)
	report := func(b *ind) {
		res := domain.ResultReported{Round: r, Actual: g.actualFor(&b.ind)}
		for range 1 + g.rng.IntN(3) {
			res.Evidence = append(res.Evidence, Evidence[g.rng.IntN(len(Evidence))])
		}
		if g.rng.IntN(5) == 0 {
			res.Obstacles = Obstacles[g.rng.IntN(len(Obstacles))]
		}
		f := g.framework(fy, b.unit.kind)
		ev, err := b.ind.Report(res, f)
		var ve *domain.ValidationError
		if errors.As(err, &ve) && ve.Fields[0].Field == "obstacles" {
			res.Obstacles = Obstacles[g.rng.IntN(len(Obstacles))]
			ev, err = b.ind.Report(res, f)
		}
		g.fold(b, ev, err, b.unit.officer(g.rng))
	}
	verify := func(b *ind, again bool) {
		decision, value, comment := domain.VerifyAccept, domain.Number(""), ""
		switch k := g.rng.IntN(100); {
		case k < 15:
			decision, value, comment = domain.VerifyAdjust, g.actualFor(&b.ind), adjustComments[g.rng.IntN(len(adjustComments))]
		case k < 25 && !again:
			decision, comment = domain.VerifyReject, verifyRejectComments[g.rng.IntN(len(verifyRejectComments))]
		}
		ev, err := b.ind.Verify(r, decision, value, comment)
		g.fold(b, ev, err, g.opdcActor())
	}
	approved := make([]*ind, 0, len(inds))
	for _, b := range inds {
		if b.ind.Status == domain.StatusApproved {
			approved = append(approved, b)
		}
	}
	n := len(approved)
	for i, b := range approved {
		g.phase(fy, start, start+10, i, n)
		report(b)
	}
	var rejected []*ind
	for i, b := range approved {
		g.phase(fy, start+10, start+17, i, n)
		verify(b, false)
		if rr := b.ind.Round(r); rr != nil && rr.Verification != nil && rr.Verification.Decision == domain.VerifyReject {
			rejected = append(rejected, b)
		}
	}
	for i, b := range rejected {
		g.phase(fy, start+17, start+21, i, len(rejected))
		report(b)
	}
	for i, b := range rejected {
		g.phase(fy, start+21, start+24, i, len(rejected))
		verify(b, true)
	}
}

// actualFor draws a value around an indicator's targets: below the first,
// between levels and beyond the last.
func (g *Generator) actualFor(ind *domain.Indicator) domain.Number {
	t := ind.Spec.Targets
	if ind.Spec.Direction == domain.DirectionMilestone {
		return domain.Number(strconv.Itoa(g.rng.IntN(len(t) + 2)))
	}
	lo, hi := t[0].Float64(), t[len(t)-1].Float64()
	if lo > hi {
		lo, hi = hi, lo
	}
	span := hi - lo
	x := lo - span/3 + g.rng.Float64()*span*1.6
	return cents(int(x * 100))
}

package demo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// gen accumulates a plan's steps and a model of what they do, from which
// the expected scorecards are computed.
type gen struct {
	seed   int64
	steps  []Step
	last   map[string]time.Time // aggregate → instant of its last step
	errs   []error
	fw     map[string]domain.Framework // "2563/province" → current revision
	inds   []*indicator
	series []*series
	units  map[string]*unitCtx
}

func newGen(seed int64) *gen {
	return &gen{seed: seed, last: map[string]time.Time{}, fw: map[string]domain.Framework{}, units: map[string]*unitCtx{}}
}

// unitCtx is what the generator knows about one unit.
type unitCtx struct {
	unit     domain.Unit
	officer  api.Principal
	reviewer api.Principal // the OPDC officer who reviews this unit
	web      string        // web domain, for evidence links
	// templates are the indicators the unit may choose, in its order of
	// preference; a unit keeps much the same choice year after year.
	templates []template
	// bias shifts how well the unit tends to do (−0.12 … 0.12).
	bias float64
}

// indicator is the generator's model of one indicator aggregate.
type indicator struct {
	ref     string // placeholder name and step-name prefix
	u       *unitCtx
	fy      int
	t       template
	spec    domain.IndicatorSpec
	version uint64
	status  domain.Status
	rounds  map[int]*roundState
	actions map[string]int // counts per action, for unique step names
}

// roundState is the model of one reporting round.
type roundState struct {
	actual   domain.Number
	verified domain.Number // "" while pending or after a rejection
}

// series is the model of one long-term series.
type series struct {
	ref  string
	u    *unitCtx
	body api.SeriesBody
}

// rng returns a generator seeded by the plan's seed and the given parts,
// so that each unit-year draws its own numbers: adding a unit or a step
// elsewhere does not shift anyone else's.
func (g *gen) rng(parts ...any) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return rand.New(rand.NewPCG(uint64(g.seed), h.Sum64()))
}

// add appends a step of one aggregate; an aggregate's steps must move
// forward in time, or sorting the plan by instant would reorder them.
func (g *gen) add(aggregate string, s Step) {
	if prev, ok := g.last[aggregate]; ok && !s.At.After(prev) {
		g.errs = append(g.errs, fmt.Errorf("step %s at %s is not after the previous step of %s (%s)", s.Name, s.At, aggregate, prev))
	}
	g.last[aggregate] = s.At
	s.Aggregate = aggregate
	g.steps = append(g.steps, s)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("demo: encoding a request body: %v", err)) // only plain structs are encoded
	}
	return b
}

// Time: every instant is in Thailand's time zone, on a working day, during
// office hours.

var ict = time.FixedZone("ICT", 7*60*60)

// fyDay is a date of a fiscal year: October to December fall in the CE
// year before the one the fiscal year ends in (FY2563 = 1 Oct 2019 – 30
// Sep 2020). Days beyond a month's end roll over, as time.Date does.
func fyDay(fy int, m time.Month, d int) time.Time {
	y := fy - 543
	if m >= time.October {
		y--
	}
	return time.Date(y, m, d, 0, 0, 0, 0, ict)
}

// roundEnd is the last day of an n-month reporting round.
func roundEnd(fy, months int) time.Time { return fyDay(fy, time.October, 1).AddDate(0, months, -1) }

func workday(d time.Time) time.Time {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDate(0, 0, 2)
	case time.Sunday:
		return d.AddDate(0, 0, 1)
	}
	return d
}

// office is an instant during office hours (08:30–16:29) on day d, or on
// the Monday after if d is a weekend.
func office(r *rand.Rand, d time.Time) time.Time {
	d = workday(d)
	m := 8*60 + 30 + r.IntN(8*60)
	return time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, r.IntN(60), 0, ict)
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.In(ict).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, ict)
}

// after is an office-hours instant lo to hi days (lo ≥ 1) after t's day.
func after(r *rand.Rand, t time.Time, lo, hi int) time.Time {
	return office(r, dateOf(t).AddDate(0, 0, lo+r.IntN(hi-lo+1)))
}

// within is an office-hours instant on a day from `from` to `to`.
func within(r *rand.Rand, from, to time.Time) time.Time {
	days := int(to.Sub(from).Hours() / 24)
	return office(r, from.AddDate(0, 0, r.IntN(days+1)))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Numbers: values are drawn in whole units of the template's last decimal
// place (int64) and rendered exactly.

func pow10(dec int) int64 {
	p := int64(1)
	for range dec {
		p *= 10
	}
	return p
}

func toUnits(x float64, dec int) int64 { return int64(math.Round(x * float64(pow10(dec)))) }

func drawUnits(r *rand.Rand, lo, hi float64, dec int) int64 {
	a, b := toUnits(lo, dec), toUnits(hi, dec)
	if b <= a {
		return a
	}
	return a + r.Int64N(b-a+1)
}

func num(v int64, dec int) domain.Number {
	return domain.NumberFromRat(big.NewRat(v, pow10(dec)), dec)
}

func nums(vs []int64, dec int) []domain.Number {
	out := make([]domain.Number, len(vs))
	for i, v := range vs {
		out[i] = num(v, dec)
	}
	return out
}

// sign is +1 when higher is better, −1 when lower is.
func sign(d domain.Direction) int64 {
	if d == domain.DirectionDown {
		return -1
	}
	return 1
}

// newIndicator starts the model of a unit-year's k-th indicator.
func (g *gen) newIndicator(u *unitCtx, fy, k int, t template) *indicator {
	ind := &indicator{ref: fmt.Sprintf("%s.%d.i%d", u.unit.Code, fy, k), u: u, fy: fy, t: t,
		rounds: map[int]*roundState{}, actions: map[string]int{}}
	g.inds = append(g.inds, ind)
	return ind
}

// indicatorStep appends one command on an existing indicator, sent with
// the version it acts on as If-Match.
func (g *gen) indicatorStep(ind *indicator, action string, at time.Time, actor api.Principal, method, suffix string, body any, status int, typ string) {
	ind.actions[action]++
	name := ind.ref + "." + action
	if n := ind.actions[action]; n > 1 {
		name += "." + strconv.Itoa(n)
	}
	g.add(ind.ref, Step{Name: name, At: at, Actor: actor, Method: method, Path: "/v1/indicators/${" + ind.ref + "}" + suffix,
		Body: mustJSON(body), IfMatch: ind.version, Status: status, Version: ind.version + 1, Type: typ})
	ind.version++
}

func (g *gen) propose(ind *indicator, spec domain.IndicatorSpec, at time.Time) {
	ind.spec, ind.status, ind.version = spec, domain.StatusProposed, 1
	g.add(ind.ref, Step{Name: ind.ref + ".propose", At: at, Actor: ind.u.officer, Method: http.MethodPost,
		Path: fmt.Sprintf("/v1/units/%s/years/%d/indicators", ind.u.unit.Code, ind.fy), Body: mustJSON(spec),
		Status: http.StatusCreated, Version: 1, Saves: ind.ref, Type: events.TypeIndicatorProposed})
}

func (g *gen) review(ind *indicator, decision, comment string, at time.Time) {
	g.indicatorStep(ind, "review", at, ind.u.reviewer, http.MethodPost, "/review", api.ReviewBody{Decision: decision, Comment: comment},
		http.StatusOK, events.TypeIndicatorReviewed)
	switch decision {
	case domain.DecisionApprove:
		ind.status = domain.StatusApproved
	case domain.DecisionReject:
		ind.status = domain.StatusRejected
	case domain.DecisionRequestRevision:
		ind.status = domain.StatusRevisionRequested
	}
}

func (g *gen) revise(ind *indicator, spec domain.IndicatorSpec, reason string, at time.Time) {
	g.indicatorStep(ind, "revise", at, ind.u.officer, http.MethodPut, "", api.IndicatorRevisionBody{IndicatorSpec: spec, Reason: reason},
		http.StatusOK, events.TypeIndicatorRevised)
	ind.spec, ind.status = spec, domain.StatusRevised
}

func (g *gen) withdraw(ind *indicator, reason string, at time.Time) {
	g.indicatorStep(ind, "withdraw", at, ind.u.officer, http.MethodPost, "/withdraw", api.WithdrawBody{Reason: reason},
		http.StatusOK, events.TypeIndicatorWithdrawn)
	ind.status = domain.StatusWithdrawn
}

func (g *gen) report(ind *indicator, round int, actual domain.Number, evidence []string, obstacles string, at time.Time) {
	g.indicatorStep(ind, fmt.Sprintf("report-%d", round), at, ind.u.officer, http.MethodPost, "/results",
		api.ResultBody{Round: round, Actual: actual, Evidence: evidence, Obstacles: obstacles}, http.StatusCreated, events.TypeResultReported)
	ind.rounds[round] = &roundState{actual: actual}
}

func (g *gen) verify(ind *indicator, round int, decision string, value domain.Number, comment string, at time.Time) {
	g.indicatorStep(ind, fmt.Sprintf("verify-%d", round), at, ind.u.reviewer, http.MethodPost, fmt.Sprintf("/results/%d/verification", round),
		api.VerificationBody{Decision: decision, VerifiedActual: value, Comment: comment}, http.StatusOK, events.TypeResultVerified)
	rs := ind.rounds[round]
	switch decision {
	case domain.VerifyAccept:
		rs.verified = rs.actual
	case domain.VerifyAdjust:
		rs.verified = value
	case domain.VerifyReject:
		rs.verified = ""
	}
}

// framework returns the current framework of a year and kind.
func (g *gen) framework(fy int, kind domain.UnitKind) domain.Framework {
	return g.fw[fmt.Sprintf("%d/%s", fy, kind)]
}

// draft is an indicator's whole story in one unit-year, before times are
// drawn: what is proposed, what OPDC says, what is reported and verified.
type draft struct {
	t    template
	spec domain.IndicatorSpec // the spec that is approved (or rejected, or withdrawn)
	// first, when set, is proposed first and sent back with sendBack; the
	// unit then revises it to spec, giving reason.
	first            *domain.IndicatorSpec
	sendBack, reason string
	// fate is "" (approved), domain.DecisionReject or "withdraw"; note is
	// OPDC's comment or the unit's reason.
	fate, note string
	rounds     []roundPlan
}

// roundPlan is one reporting round of a draft.
type roundPlan struct {
	round int
	// reports are the values reported in order: a later one supersedes the
	// one before it, or follows its rejection when rejectWhy is set.
	reports   []domain.Number
	rejectWhy string
	// adjustTo, when set, is the value OPDC verifies instead of the
	// reported one, for adjustWhy.
	adjustTo, adjustWhy string
	late                bool
	// obstacles, when set, are the reports' obstacles in order; otherwise
	// they are written when a report misses the standard level.
	obstacles []string
}

// play turns a unit-year's drafts into timed steps: proposals in October
// and November, reviews in December and January, each round's report after
// the round ends (late ones six weeks after) and its verification after it.
func (g *gen) play(u *unitCtx, fy int, drafts []draft) {
	r := g.rng("play", u.unit.Code, fy)
	for k, d := range drafts {
		ind := g.newIndicator(u, fy, k+1, d.t)
		spec := d.spec
		if d.first != nil {
			spec = *d.first
		}
		at := within(r, fyDay(fy, time.October, 15), fyDay(fy, time.November, 30))
		g.propose(ind, spec, at)
		if d.first != nil {
			at = later(after(r, at, 10, 20), within(r, fyDay(fy, time.December, 1), fyDay(fy, time.December, 12)))
			g.review(ind, domain.DecisionRequestRevision, d.sendBack, at)
			at = after(r, at, 4, 10)
			g.revise(ind, d.spec, d.reason, at)
		}
		switch d.fate {
		case "withdraw":
			g.withdraw(ind, d.note, after(r, at, 3, 12))
			continue
		case domain.DecisionReject:
			g.review(ind, domain.DecisionReject, d.note, later(after(r, at, 7, 20), within(r, fyDay(fy, time.December, 1), fyDay(fy, time.December, 20))))
			continue
		}
		at = later(after(r, at, 5, 15), within(r, fyDay(fy, time.December, 10), fyDay(fy, time.January, 25)))
		comment := ""
		if r.IntN(3) == 0 {
			comment = "เห็นชอบตัวชี้วัดและค่าเป้าหมาย"
		}
		g.review(ind, domain.DecisionApprove, comment, at)
		for _, rp := range d.rounds {
			at = g.playRound(ind, rp, at, r)
		}
	}
}

func (g *gen) playRound(ind *indicator, rp roundPlan, at time.Time, r *rand.Rand) time.Time {
	end := roundEnd(ind.fy, rp.round)
	due := within(r, end.AddDate(0, 0, 3), end.AddDate(0, 0, 25))
	if rp.late {
		due = within(r, end.AddDate(0, 0, 45), end.AddDate(0, 0, 75))
	}
	at = later(after(r, at, 1, 5), due)
	n := 0
	send := func(v domain.Number, at time.Time) {
		obstacles := ""
		if n < len(rp.obstacles) {
			obstacles = rp.obstacles[n]
		} else {
			obstacles = g.obstacles(ind, rp.round, v, r)
		}
		g.report(ind, rp.round, v, g.evidence(ind, rp.round, n), obstacles, at)
		n++
	}
	send(rp.reports[0], at)
	rest := rp.reports[1:]
	if rp.rejectWhy != "" {
		at = after(r, at, 10, 20)
		g.verify(ind, rp.round, domain.VerifyReject, "", rp.rejectWhy, at)
		at = after(r, at, 5, 12)
		send(rest[0], at)
		rest = rest[1:]
	}
	for _, v := range rest {
		at = after(r, at, 2, 6)
		send(v, at)
	}
	at = after(r, at, 10, 30)
	if rp.adjustTo != "" {
		g.verify(ind, rp.round, domain.VerifyAdjust, domain.Number(rp.adjustTo), rp.adjustWhy, at)
	} else {
		g.verify(ind, rp.round, domain.VerifyAccept, "", "", at)
	}
	return at
}

// evidence is what a unit attaches to a report: the report itself and a
// link to its file on the unit's web site.
func (g *gen) evidence(ind *indicator, round, n int) []string {
	doc := fmt.Sprintf("รายงานผลการดำเนินงานตามตัวชี้วัด ปีงบประมาณ พ.ศ. %d รอบ %d เดือน", ind.fy, round)
	if ind.t.source != "" {
		doc += " (ข้อมูล: " + ind.t.source + ")"
	}
	link := fmt.Sprintf("https://www.%s/kpi/%d/%s-r%d.pdf", ind.u.web, ind.fy, ind.t.key, round)
	if n > 0 {
		link = fmt.Sprintf("https://www.%s/kpi/%d/%s-r%d-v%d.pdf", ind.u.web, ind.fy, ind.t.key, round, n+1)
	}
	return []string{doc, link}
}

// obstacles writes, in Thai, why a reported value misses the standard level
// (the API requires it then); a value at or above it needs none.
func (g *gen) obstacles(ind *indicator, round int, v domain.Number, r *rand.Rand) string {
	fw := g.framework(ind.fy, ind.u.unit.Kind)
	sc, err := domain.ScoreActual(fw.Scheme, ind.spec.Direction, ind.spec.Targets, v)
	if err != nil || sc.Level >= fw.Scheme.StandardLevel() {
		return ""
	}
	var parts []string
	if round < 12 {
		parts = append(parts, halfYearObstacle)
	}
	if _, shocked := ind.t.shock[ind.fy]; shocked || ((ind.fy == 2563 || ind.fy == 2564) && r.IntN(3) == 0) {
		parts = append(parts, covidObstacle)
	}
	if len(ind.t.obstacles) > 0 {
		parts = append(parts, ind.t.obstacles[r.IntN(len(ind.t.obstacles))])
	}
	if len(parts) == 0 || r.IntN(4) == 0 {
		parts = append(parts, generalObstacles[r.IntN(len(generalObstacles))])
	}
	return strings.Join(parts, " ")
}

// expectations computes every unit-year's scorecard from the model with
// the domain's own scoring, and each series' on-track verdict.
func (g *gen) expectations() ([]Expectation, []TrendExpectation) {
	type key struct {
		unit string
		fy   int
	}
	var order []key
	byYear := map[key][]*indicator{}
	for _, ind := range g.inds {
		k := key{ind.u.unit.Code, ind.fy}
		if _, ok := byYear[k]; !ok {
			order = append(order, k)
		}
		byYear[k] = append(byYear[k], ind)
	}
	var out []Expectation
	for _, k := range order {
		fw := g.framework(k.fy, g.units[k.unit].unit.Kind)
		var items []domain.ScoredIndicator
		for _, ind := range byYear[k] {
			if ind.status != domain.StatusApproved {
				continue
			}
			it := domain.ScoredIndicator{Component: ind.spec.Component, Weight: ind.spec.Weight}
			if v := ind.final(); v != "" {
				if sc, err := domain.ScoreActual(fw.Scheme, ind.spec.Direction, ind.spec.Targets, v); err == nil {
					it.Score = sc.Score
				}
			}
			items = append(items, it)
		}
		if len(items) == 0 {
			continue
		}
		t := domain.RollUp(&fw, items)
		out = append(out, Expectation{Unit: k.unit, FiscalYear: k.fy, Approved: len(items),
			Total: domain.NumberFromRat(t.Total, domain.ScoreDecimals), Band: t.Band})
	}
	var trends []TrendExpectation
	for _, s := range g.series {
		ds := domain.Series{Unit: s.u.unit.Code, Direction: s.body.Direction, Baseline: s.body.Baseline,
			StartYear: s.body.StartYear, EndYear: s.body.EndYear, Targets: s.body.Targets}
		actuals := map[int]domain.Number{}
		for _, ind := range g.inds {
			if ind.spec.SeriesID == "${"+s.ref+"}" && ind.status.Live() {
				if v := ind.final(); v != "" {
					actuals[ind.fy] = v
				}
			}
		}
		tr := domain.ComputeTrend(&ds, actuals)
		trends = append(trends, TrendExpectation{Unit: s.u.unit.Code, TitleTH: s.body.TitleTH, OnTrack: tr.OnTrack != nil && *tr.OnTrack})
	}
	return out, trends
}

// final is the verified value the score uses: the latest round that has
// one, as domain.Indicator.Final decides.
func (ind *indicator) final() domain.Number {
	best, v := 0, domain.Number("")
	for round, rs := range ind.rounds {
		if rs.verified != "" && round > best {
			best, v = round, rs.verified
		}
	}
	return v
}

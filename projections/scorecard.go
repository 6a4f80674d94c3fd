package projections

import (
	"fmt"
	"math/big"
	"slices"
	"sync"

	"github.com/opdc/kpiledger/domain"
)

// Scorecard is a unit's result for one fiscal year, scored under that
// year's current framework revision. Scores are exact (math/big) while
// computed and shown to domain.ScoreDecimals decimals as JSON numbers.
type Scorecard struct {
	Unit              string          `json:"unit"`
	UnitNameTH        string          `json:"unit_name_th"`
	FiscalYear        int             `json:"fiscal_year"`
	UnitKind          domain.UnitKind `json:"unit_kind"`
	FrameworkRevision int             `json:"framework_revision"`
	Rollup            domain.Rollup   `json:"rollup"`
	// Indicators holds the approved indicators only, in the order they were
	// proposed: only they count toward the total (SPEC.md), and a scorecard
	// that listed proposals or rejected ones beside them would invite
	// reading them as results. The indicator list endpoint shows the rest.
	Indicators []ScorecardIndicator `json:"indicators"`
	Components []ScorecardComponent `json:"components"`
	// Total is null while no indicator is approved.
	Total   domain.Number `json:"total"`
	Band    string        `json:"band"`
	Formula string        `json:"formula"`
	// Position is the total's place on the scheme's scale, 0 at
	// below_first and 1 at the top level's score (domain.ScalePosition),
	// comparable across years whose schemes differ.
	Position domain.Number `json:"position"`
	// LastSequence is the highest stream sequence of any event that fed the
	// scorecard: the unit-year's last event, or the framework revision's if
	// that came later. A client can wait for it or compare it.
	LastSequence uint64 `json:"last_sequence"`
	// AsOf is set when the scorecard was rebuilt as it stood at an instant.
	AsOf string `json:"as_of,omitempty"`
	// ScoreUnder is present with ?score_under=FY: the same verified
	// results re-scored under that year's framework, with derivations.
	ScoreUnder *Rescored `json:"score_under,omitempty"`
}

// ScorecardIndicator is one approved indicator on a scorecard.
type ScorecardIndicator struct {
	ID        string           `json:"id"`
	TitleTH   string           `json:"title_th"`
	Component string           `json:"component"`
	SeriesID  string           `json:"series_id,omitempty"`
	Weight    domain.Number    `json:"weight"`
	Status    domain.Status    `json:"status"`
	Direction domain.Direction `json:"direction"`
	Targets   []TargetLevel    `json:"targets"`
	// VerifiedActual is the verified value of the latest round that has
	// one (domain.Indicator.Final), and Round says which round that is.
	VerifiedActual domain.Number `json:"verified_actual"`
	Round          *int          `json:"round"`
	// Level is the label of the highest level reached; null when not
	// scored or below the first level.
	Level *string `json:"level"`
	// Score is null while no verified value exists (the rollup then counts
	// the indicator as 0).
	Score domain.Number `json:"score"`
	// WeightedScore is the indicator's contribution as domain.RollUp
	// computes it: to the total (weighted) or to its component
	// (component_mean). It is 0 for an approved indicator still awaiting a
	// verified value, because it counts as 0, and null only when the
	// indicator cannot take part at all (its component is not in the
	// framework revision).
	WeightedScore domain.Number `json:"weighted_score"`
	// Position is the score's place on the scheme's scale (0 to 1).
	Position domain.Number `json:"position"`
	// ScoreError says why a verified value could not be scored (e.g. the
	// targets do not fit the framework's levels); normally absent.
	ScoreError string `json:"score_error,omitempty"`
}

// TargetLevel is an indicator's target for one criteria level (1-based).
type TargetLevel struct {
	Level  int           `json:"level"`
	Label  string        `json:"label"`
	Target domain.Number `json:"target"`
}

// ScorecardComponent is one framework component's subtotal.
type ScorecardComponent struct {
	Code   string        `json:"code"`
	NameTH string        `json:"name_th"`
	Weight domain.Number `json:"weight"`
	// Score is Σ wᵢ·sᵢ / Σ wᵢ over the component's approved indicators,
	// null when it has none.
	Score domain.Number `json:"score"`
	// Position is the subtotal's place on the scheme's scale (0 to 1).
	Position      domain.Number `json:"position"`
	Indicators    int           `json:"indicators"`
	Pending       int           `json:"pending"`
	MinIndicators int           `json:"min_indicators"`
	MaxIndicators int           `json:"max_indicators"`
	Complete      bool          `json:"complete"`
}

// yearScore is a unit-year scored under its framework, with every
// intermediate value kept exact, so that the scorecard, the comparisons
// and the audit derivation all render one computation.
type yearScore struct {
	unit   domain.Unit
	fy     int
	fw     *domain.FrameworkRevision
	items  []itemScore
	totals domain.Totals
	// lastSeq is the highest sequence of the unit-year and the framework.
	lastSeq uint64
}

// itemScore is one approved indicator's part in a yearScore.
type itemScore struct {
	ind   *domain.Indicator
	final *domain.Round          // the round whose verified value is used; nil if none
	score *domain.IndicatorScore // nil when not scored
	err   error                  // why a verified value could not be scored
	// weighted is the contribution computed by domain.RollUp (nil when the
	// component is not in the framework).
	weighted *big.Rat
}

// BuildScorecard scores a unit's fiscal year from the state. It returns an
// error wrapping domain.ErrNotFound when the unit is unknown or no
// framework is published for that year and the unit's kind.
func BuildScorecard(st *State, unit string, fy int) (Scorecard, error) {
	u, ok := st.Unit(unit)
	if !ok {
		return Scorecard{}, fmt.Errorf("%w: unit %q", domain.ErrNotFound, unit)
	}
	return buildScorecard(st, u, fy)
}

// buildScorecard takes the unit rather than looking it up, because the
// as-of and audit folds hold only one unit-year's events: a department's
// registration is not among them.
func buildScorecard(st *State, u domain.Unit, fy int) (Scorecard, error) {
	ys, err := scoreYear(st, u, fy)
	if err != nil {
		return Scorecard{}, err
	}
	return ys.scorecard(), nil
}

// scoreYear scores every approved indicator of the unit-year with the
// current framework revision's scheme and rolls them up.
func scoreYear(st *State, u domain.Unit, fy int) (*yearScore, error) {
	fw := st.Framework(fy, u.Kind)
	if fw == nil {
		return nil, fmt.Errorf("%w: no FY%d %s framework is published", domain.ErrNotFound, fy, u.Kind)
	}
	key := UnitYearKey(u.Code, fy)
	var uySeq uint64
	if uy := st.UnitYears[key]; uy != nil {
		uySeq = uy.LastSeq
	}
	if ys := st.scores.get(key, uySeq, fw.Meta.Sequence); ys != nil {
		return ys, nil
	}
	ys := &yearScore{unit: u, fy: fy, fw: fw, lastSeq: max(fw.Meta.Sequence, uySeq)}
	f := &fw.Framework
	var inputs []domain.ScoredIndicator
	for _, ind := range st.UnitIndicators(u.Code, fy) {
		if ind.Status != domain.StatusApproved {
			continue
		}
		it := itemScore{ind: ind, final: ind.Final()}
		if it.final != nil {
			s, err := domain.ScoreActual(f.Scheme, ind.Spec.Direction, ind.Spec.Targets, it.final.Verified())
			if err != nil {
				it.err = err
			} else {
				it.score = &s
			}
		}
		in := domain.ScoredIndicator{Component: ind.Spec.Component, Weight: ind.Spec.Weight}
		if it.score != nil {
			in.Score = it.score.Score
		}
		inputs = append(inputs, in)
		ys.items = append(ys.items, it)
	}
	ys.totals = domain.RollUp(f, inputs)
	for i := range ys.items {
		ys.items[i].weighted = ys.totals.Weighted[i]
	}
	st.scores.put(key, uySeq, fw.Meta.Sequence, ys)
	return ys, nil
}

// scoreCache keeps the latest yearScore of each unit-year that was viewed,
// with the sequences it was computed at: the unit-year's last event and
// its framework revision's event. Every event that can change a unit-year's
// score moves one of them (State.Apply sets UnitYear.LastSeq for every
// event of the unit-year's indicators), so an entry whose sequences still
// match is exactly what scoreYear would compute again; views read it under
// the model's read lock, while no event is being applied. A yearScore is
// never changed once built. Scoring is most of a scorecard's, comparison's
// or framework comparison's cost, and dashboards ask for the same ones
// again and again.
type scoreCache struct {
	mu     sync.Mutex
	m      map[string]cachedYear
	trends map[string]cachedTrend
}

// cachedTrend is a series' trend and the last sequences of the unit-years
// it was computed from (see buildTrend).
type cachedTrend struct {
	deps []uint64
	tr   SeriesTrend
}

func (c *scoreCache) trend(id string, deps []uint64) (SeriesTrend, bool) {
	if c == nil {
		return SeriesTrend{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.trends[id]
	if !ok || !slices.Equal(e.deps, deps) {
		return SeriesTrend{}, false
	}
	// The caller gets its own points; what they point to is never changed.
	tr := e.tr
	tr.Points = slices.Clone(tr.Points)
	return tr, true
}

func (c *scoreCache) putTrend(id string, deps []uint64, tr SeriesTrend) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.trends == nil || len(c.trends) >= scoreCacheMax {
		c.trends = map[string]cachedTrend{}
	}
	tr.Points = slices.Clone(tr.Points)
	c.trends[id] = cachedTrend{deps: deps, tr: tr}
}

type cachedYear struct {
	uySeq, fwSeq uint64
	ys           *yearScore
}

// scoreCacheMax bounds the cache; past it the cache starts over.
const scoreCacheMax = 1 << 14

func (c *scoreCache) get(key string, uySeq, fwSeq uint64) *yearScore {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && e.uySeq == uySeq && e.fwSeq == fwSeq {
		return e.ys
	}
	return nil
}

func (c *scoreCache) put(key string, uySeq, fwSeq uint64, ys *yearScore) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= scoreCacheMax {
		c.m = map[string]cachedYear{}
	}
	c.m[key] = cachedYear{uySeq: uySeq, fwSeq: fwSeq, ys: ys}
}

// scorecard renders the computation.
func (ys *yearScore) scorecard() Scorecard {
	f := &ys.fw.Framework
	sc := Scorecard{
		Unit: ys.unit.Code, UnitNameTH: ys.unit.NameTH, FiscalYear: ys.fy, UnitKind: ys.unit.Kind,
		FrameworkRevision: ys.fw.Revision, Rollup: f.Rollup,
		Indicators: make([]ScorecardIndicator, 0, len(ys.items)),
		Components: make([]ScorecardComponent, 0, len(f.Components)),
		Total:      ratNumber(ys.totals.Total, domain.ScoreDecimals),
		Band:       ys.totals.Band, Formula: ys.totals.Formula,
		Position:     ratNumber(domain.ScalePosition(f.Scheme, ys.totals.Total), domain.PositionDecimals),
		LastSequence: ys.lastSeq,
	}
	for _, it := range ys.items {
		sc.Indicators = append(sc.Indicators, it.view(f))
	}
	for i, c := range f.Components {
		ct := ys.totals.Components[i]
		sc.Components = append(sc.Components, ScorecardComponent{
			Code: c.Code, NameTH: c.NameTH, Weight: c.Weight,
			Score:      ratNumber(ct.Score, domain.ScoreDecimals),
			Position:   ratNumber(domain.ScalePosition(f.Scheme, ct.Score), domain.PositionDecimals),
			Indicators: ct.Indicators, Pending: ct.Pending,
			MinIndicators: c.MinIndicators, MaxIndicators: c.MaxIndicators, Complete: ct.Complete,
		})
	}
	return sc
}

func (it *itemScore) view(f *domain.Framework) ScorecardIndicator {
	ind := it.ind
	v := ScorecardIndicator{
		ID: ind.ID, TitleTH: ind.Spec.TitleTH, Component: ind.Spec.Component, SeriesID: ind.Spec.SeriesID,
		Weight: ind.Spec.Weight, Status: ind.Status, Direction: ind.Spec.Direction,
		Targets:       targetLevels(f.Scheme, ind.Spec.Targets),
		WeightedScore: ratNumber(it.weighted, domain.ScoreDecimals),
	}
	if it.final != nil {
		r := it.final.Round
		v.Round = &r
		v.VerifiedActual = it.final.Verified()
	}
	if it.score != nil {
		v.Score = ratNumber(it.score.Score, domain.ScoreDecimals)
		v.Position = ratNumber(domain.ScalePosition(f.Scheme, it.score.Score), domain.PositionDecimals)
		if it.score.Level >= 0 {
			l := f.Scheme.Levels[it.score.Level].Label
			v.Level = &l
		}
	}
	if it.err != nil {
		v.ScoreError = it.err.Error()
	}
	return v
}

// targetLevels pairs each target with its level. Targets beyond the
// scheme's levels (possible only in a broken history) keep an empty label.
func targetLevels(s domain.Scheme, targets []domain.Number) []TargetLevel {
	out := make([]TargetLevel, 0, len(targets))
	for i, t := range targets {
		tl := TargetLevel{Level: i + 1, Target: t}
		if i < len(s.Levels) {
			tl.Label = s.Levels[i].Label
		}
		out = append(out, tl)
	}
	return out
}

// ratNumber renders an exact value as a JSON number token with the given
// decimals, or null for nil.
func ratNumber(r *big.Rat, decimals int) domain.Number {
	if r == nil {
		return ""
	}
	return domain.NumberFromRat(r, decimals)
}

// diff returns b − a, or nil when either is absent.
func diff(a, b *big.Rat) *big.Rat {
	if a == nil || b == nil {
		return nil
	}
	return new(big.Rat).Sub(b, a)
}

// LatestScored is the unit's scorecard for its most recent fiscal year with
// at least one scored indicator; ok is false when there is none. A year
// whose indicators all await verification would show a total of 0, which
// reads as a result and is not one, so it is passed over.
func LatestScored(st *State, u domain.Unit) (sc Scorecard, ok bool, err error) {
	var years []int
	for _, uy := range st.UnitYears {
		if uy.Unit == u.Code {
			years = append(years, uy.FiscalYear)
		}
	}
	slices.Sort(years)
	for i := len(years) - 1; i >= 0; i-- {
		if st.Framework(years[i], u.Kind) == nil {
			continue
		}
		if sc, err = BuildScorecard(st, u.Code, years[i]); err != nil {
			return sc, false, err
		}
		if slices.ContainsFunc(sc.Indicators, func(i ScorecardIndicator) bool { return i.Score != "" }) {
			return sc, true, nil
		}
	}
	return Scorecard{}, false, nil
}

package projections

import (
	"fmt"
	"slices"

	"github.com/opdc/kpiledger/domain"
)

// FrameworkComparison sets one fiscal year's framework for a unit kind
// against another's — the question OPDC asks when comparing FY2562 with
// FY2563 — and lists every unit's total under each.
type FrameworkComparison struct {
	UnitKind     domain.UnitKind       `json:"unit_kind"`
	From         int                   `json:"from"`
	To           int                   `json:"to"`
	FromRevision int                   `json:"from_revision"`
	ToRevision   int                   `json:"to_revision"`
	Components   ComponentChanges      `json:"components"`
	Scheme       Change[domain.Scheme] `json:"scheme"`
	Rollup       Change[domain.Rollup] `json:"rollup"`
	Bands        Change[[]domain.Band] `json:"bands"`
	Rounds       Change[[]int]         `json:"rounds"`
	// Units lists, by code, every unit of the kind with at least one scored
	// indicator in each year, with its total under each year's framework.
	Units []UnitTotals `json:"units"`
	// Distribution counts the units of the kind with a result in each
	// year per band (ranked units, whoever asks: counts name no unit).
	Distribution Distribution `json:"distribution"`
	// BandMoves counts the listed units by band movement from → to.
	BandMoves BandMoves `json:"band_moves"`
	// ScoreUnder is present with ?score_under=FY: the later year's
	// results re-scored under that year's framework, and how.
	ScoreUnder *ComparisonUnder `json:"score_under,omitempty"`
}

// Distribution is units per band in each year; ToUnder is the later
// year's results re-scored (with score_under), on that framework's bands.
type Distribution struct {
	From    []BandCount `json:"from"`
	To      []BandCount `json:"to"`
	ToUnder []BandCount `json:"to_under,omitempty"`
}

// BandMoves counts band movements; Under counts them from the earlier
// year to the later year's re-scored results (with score_under).
type BandMoves struct {
	Up    int        `json:"up"`
	Down  int        `json:"down"`
	Same  int        `json:"same"`
	Under *BandMoves `json:"under,omitempty"`
}

func (m *BandMoves) count(move string) {
	switch move {
	case BandUp:
		m.Up++
	case BandDown:
		m.Down++
	case BandSame:
		m.Same++
	}
}

// ComparisonUnder describes the re-scoring of a framework comparison: the
// later year's (To's) results scored under another framework revision.
type ComparisonUnder struct {
	ResultsYear int             `json:"results_year"`
	ScoreUnder  int             `json:"score_under"`
	Revision    int             `json:"revision"`
	Scheme      domain.Scheme   `json:"scheme"`
	Rollup      domain.Rollup   `json:"rollup"`
	Bands       []domain.Band   `json:"bands"`
	Mapping     Mapping         `json:"mapping"`
	UnitKind    domain.UnitKind `json:"unit_kind"`
}

// Change is one aspect of a framework in both years. Changed compares
// meaning, not spelling: 75 and 75.0 are the same score.
type Change[T any] struct {
	Changed bool `json:"changed"`
	From    T    `json:"from"`
	To      T    `json:"to"`
}

// ComponentChanges lists how the components differ, matched by code.
type ComponentChanges struct {
	Added                  []domain.Component    `json:"added"`   // in the later year's order
	Removed                []domain.Component    `json:"removed"` // in the earlier year's order
	Renamed                []ComponentRenamed    `json:"renamed"`
	Reweighted             []ComponentReweighted `json:"reweighted"`
	IndicatorLimitsChanged []ComponentLimits     `json:"indicator_limits_changed"`
}

// ComponentRenamed is a component whose Thai or English name changed.
type ComponentRenamed struct {
	Code       string `json:"code"`
	FromNameTH string `json:"from_name_th"`
	ToNameTH   string `json:"to_name_th"`
	FromNameEN string `json:"from_name_en"`
	ToNameEN   string `json:"to_name_en"`
}

// ComponentReweighted is a component whose weight changed (null: none,
// as in a component_mean framework).
type ComponentReweighted struct {
	Code       string        `json:"code"`
	FromWeight domain.Number `json:"from_weight"`
	ToWeight   domain.Number `json:"to_weight"`
}

// ComponentLimits is a component whose allowed number of indicators changed.
type ComponentLimits struct {
	Code              string `json:"code"`
	FromMinIndicators int    `json:"from_min_indicators"`
	ToMinIndicators   int    `json:"to_min_indicators"`
	FromMaxIndicators int    `json:"from_max_indicators"`
	ToMaxIndicators   int    `json:"to_max_indicators"`
}

// UnitTotals is one unit's total under each year's framework.
type UnitTotals struct {
	Unit      string        `json:"unit"`
	NameTH    string        `json:"name_th"`
	FromTotal domain.Number `json:"from_total"`
	ToTotal   domain.Number `json:"to_total"`
	// Delta is to_total − from_total; with different schemes (1–5 against
	// 0–100) it is arithmetic only, and the bands say more.
	Delta    domain.Number `json:"delta"`
	FromBand string        `json:"from_band"`
	ToBand   string        `json:"to_band"`
	// FromStanding and ToStanding are the totals in comparable terms;
	// Change is how the unit moved between them.
	FromStanding Standing       `json:"from_standing"`
	ToStanding   Standing       `json:"to_standing"`
	Change       StandingChange `json:"change"`
	// ScoreUnder is the later year's results re-scored (with score_under),
	// and UnderChange the move from the earlier year to it.
	ScoreUnder  *UnitRescore    `json:"score_under,omitempty"`
	UnderChange *StandingChange `json:"under_change,omitempty"`
}

// UnitRescore is one unit's later-year results re-scored, with the
// derivation of each figure: the total's formula, each component's score
// and each indicator's score formula on the mapped targets (the full
// sentences are on the unit's scorecard with the same score_under).
type UnitRescore struct {
	Standing
	Formula    string                      `json:"formula"`
	Components []RescoredComponent         `json:"components"`
	Indicators []RescoredLine              `json:"indicators"`
	Unmapped   []domain.ComponentTreatment `json:"unmapped"`
	Uncovered  []domain.ComponentTreatment `json:"uncovered"`
}

// RescoredLine is one indicator's re-scored score and its formula.
type RescoredLine struct {
	ID             string         `json:"id"`
	TitleTH        string         `json:"title_th"`
	Component      string         `json:"component"`
	Mapped         bool           `json:"mapped"`
	Targets        []MappedTarget `json:"targets"`
	VerifiedActual domain.Number  `json:"verified_actual"`
	OwnScore       domain.Number  `json:"own_score"`
	Score          domain.Number  `json:"score"`
	WeightUsed     domain.Number  `json:"weight_used"`
	Formula        string         `json:"formula"`
	ScoreError     string         `json:"score_error,omitempty"`
}

// CompareFrameworks compares the current revisions of the from and to
// frameworks for a unit kind. includeUnit chooses which units' totals are
// listed (the API passes the caller's visibility; nil lists all). It
// returns an error wrapping domain.ErrNotFound when either framework is
// missing.
func CompareFrameworks(st *State, kind domain.UnitKind, from, to int, includeUnit func(string) bool) (FrameworkComparison, error) {
	return CompareFrameworksUnder(st, kind, from, to, includeUnit, nil)
}

// CompareFrameworksUnder is CompareFrameworks with the later year's
// results also re-scored under the framework revision under (nil: not
// re-scored; see ResolveScoreUnder). With under = the earlier year's
// framework, each unit's later results are shown scored both ways, which
// separates the effect of the framework from the effect of the year.
func CompareFrameworksUnder(st *State, kind domain.UnitKind, from, to int, includeUnit func(string) bool, under *domain.FrameworkRevision) (FrameworkComparison, error) {
	a, b := st.Framework(from, kind), st.Framework(to, kind)
	for _, m := range []struct {
		fy int
		fw *domain.FrameworkRevision
	}{{from, a}, {to, b}} {
		if m.fw == nil {
			return FrameworkComparison{}, fmt.Errorf("%w: no FY%d %s framework is published", domain.ErrNotFound, m.fy, kind)
		}
	}
	fa, fb := &a.Framework, &b.Framework
	fc := FrameworkComparison{
		UnitKind: kind, From: from, To: to, FromRevision: a.Revision, ToRevision: b.Revision,
		Components: diffComponents(fa.Components, fb.Components),
		Scheme:     Change[domain.Scheme]{Changed: !sameScheme(fa.Scheme, fb.Scheme), From: normScheme(fa.Scheme), To: normScheme(fb.Scheme)},
		Rollup:     Change[domain.Rollup]{Changed: fa.Rollup != fb.Rollup, From: fa.Rollup, To: fb.Rollup},
		Bands:      Change[[]domain.Band]{Changed: !sameBands(fa.Bands, fb.Bands), From: cloneList(fa.Bands), To: cloneList(fb.Bands)},
		Rounds:     Change[[]int]{Changed: !slices.Equal(fa.Rounds, fb.Rounds), From: cloneList(fa.Rounds), To: cloneList(fb.Rounds)},
		Units:      []UnitTotals{},
	}
	popA, err := population(st, kind, from)
	if err != nil {
		return FrameworkComparison{}, err
	}
	popB, err := population(st, kind, to)
	if err != nil {
		return FrameworkComparison{}, err
	}
	rankA, rankB := newRanking(fa, nil), newRanking(fb, nil)
	if len(popA) > 0 {
		rankA = ownRanking(popA)
	}
	if len(popB) > 0 {
		rankB = ownRanking(popB)
	}
	fc.Distribution = Distribution{From: rankA.distribution(), To: rankB.distribution()}
	var (
		rankU    *ranking
		rescored map[string]domain.Rescoring
	)
	if under != nil {
		rankU, rescored = rescoredRanking(popB, under)
		fc.Distribution.ToUnder = rankU.distribution()
		fc.BandMoves.Under = &BandMoves{}
		lm := domain.Rescore(fb, &under.Framework, nil)
		fc.ScoreUnder = &ComparisonUnder{ResultsYear: to, ScoreUnder: under.Framework.FiscalYear, Revision: under.Revision,
			Scheme: normScheme(under.Framework.Scheme), Rollup: under.Framework.Rollup, Bands: cloneList(under.Framework.Bands),
			Mapping: newMapping(lm), UnitKind: kind}
	}
	inB := make(map[string]*yearScore, len(popB))
	for _, ys := range popB {
		inB[ys.unit.Code] = ys
	}
	same := sameBands(fa.Bands, fb.Bands)
	for _, x := range popA {
		u := x.unit
		y := inB[u.Code]
		if y == nil || (includeUnit != nil && !includeUnit(u.Code)) {
			continue
		}
		ut := UnitTotals{
			Unit: u.Code, NameTH: u.NameTH,
			FromTotal: ratNumber(x.totals.Total, domain.ScoreDecimals),
			ToTotal:   ratNumber(y.totals.Total, domain.ScoreDecimals),
			Delta:     ratNumber(diff(x.totals.Total, y.totals.Total), domain.ScoreDecimals),
			FromBand:  x.totals.Band, ToBand: y.totals.Band,
			FromStanding: rankA.standing(x.totals.Total, true),
			ToStanding:   rankB.standing(y.totals.Total, true),
		}
		ut.Change = change(ut.FromStanding, ut.ToStanding, same)
		fc.BandMoves.count(ut.Change.BandMove)
		if under != nil {
			rs := rescored[u.Code]
			ur := unitRescore(y, under, rs, rankU.standing(rs.Totals.Total, true))
			ut.ScoreUnder = &ur
			ch := change(ut.FromStanding, ur.Standing, sameBands(fa.Bands, under.Framework.Bands))
			ut.UnderChange = &ch
			fc.BandMoves.Under.count(ch.BandMove)
		}
		fc.Units = append(fc.Units, ut)
	}
	return fc, nil
}

func (ys *yearScore) anyScored() bool {
	for _, it := range ys.items {
		if it.score != nil {
			return true
		}
	}
	return false
}

func diffComponents(from, to []domain.Component) ComponentChanges {
	ch := ComponentChanges{Added: []domain.Component{}, Removed: []domain.Component{}, Renamed: []ComponentRenamed{},
		Reweighted: []ComponentReweighted{}, IndicatorLimitsChanged: []ComponentLimits{}}
	index := func(cs []domain.Component) map[string]domain.Component {
		m := make(map[string]domain.Component, len(cs))
		for _, c := range cs {
			m[c.Code] = c
		}
		return m
	}
	fromBy, toBy := index(from), index(to)
	for _, c := range from {
		if _, ok := toBy[c.Code]; !ok {
			ch.Removed = append(ch.Removed, c)
		}
	}
	for _, c := range to {
		old, ok := fromBy[c.Code]
		if !ok {
			ch.Added = append(ch.Added, c)
			continue
		}
		if old.NameTH != c.NameTH || old.NameEN != c.NameEN {
			ch.Renamed = append(ch.Renamed, ComponentRenamed{Code: c.Code, FromNameTH: old.NameTH, ToNameTH: c.NameTH, FromNameEN: old.NameEN, ToNameEN: c.NameEN})
		}
		if !sameNumber(old.Weight, c.Weight) {
			ch.Reweighted = append(ch.Reweighted, ComponentReweighted{Code: c.Code, FromWeight: old.Weight, ToWeight: c.Weight})
		}
		if old.MinIndicators != c.MinIndicators || old.MaxIndicators != c.MaxIndicators {
			ch.IndicatorLimitsChanged = append(ch.IndicatorLimitsChanged, ComponentLimits{Code: c.Code,
				FromMinIndicators: old.MinIndicators, ToMinIndicators: c.MinIndicators,
				FromMaxIndicators: old.MaxIndicators, ToMaxIndicators: c.MaxIndicators})
		}
	}
	return ch
}

// sameNumber compares two optional numbers by value.
func sameNumber(a, b domain.Number) bool {
	ra, rb := a.Rat(), b.Rat()
	if ra == nil || rb == nil {
		return ra == nil && rb == nil
	}
	return ra.Cmp(rb) == 0
}

func sameScheme(a, b domain.Scheme) bool {
	if len(a.Levels) != len(b.Levels) || !sameNumber(a.BelowFirst, b.BelowFirst) {
		return false
	}
	for i := range a.Levels {
		if a.Levels[i].Label != b.Levels[i].Label || !sameNumber(a.Levels[i].Score, b.Levels[i].Score) {
			return false
		}
	}
	return true
}

// sameBands compares bands as the sets of thresholds they are, in the
// order BandOf applies them (highest minimum first).
func sameBands(a, b []domain.Band) bool {
	if len(a) != len(b) {
		return false
	}
	sa, sb := sortedBands(a), sortedBands(b)
	for i := range sa {
		if sa[i].Label != sb[i].Label || !sameNumber(sa[i].Min, sb[i].Min) {
			return false
		}
	}
	return true
}

func sortedBands(bs []domain.Band) []domain.Band {
	out := slices.Clone(bs)
	slices.SortStableFunc(out, func(x, y domain.Band) int {
		rx, ry := x.Min.Rat(), y.Min.Rat()
		if rx == nil || ry == nil {
			return 0
		}
		return ry.Cmp(rx)
	})
	return out
}

func normScheme(s domain.Scheme) domain.Scheme {
	s.Levels = cloneList(s.Levels)
	return s
}

// cloneList copies a list out of the State, so that the view holds no
// reference into it once the model's lock is released, and makes an
// absent list encode as [] rather than null, so that a state decoded from
// a snapshot renders like a freshly folded one.
func cloneList[T any](s []T) []T {
	out := make([]T, len(s))
	copy(out, s)
	return out
}

// unitRescore renders a unit's re-scoring compactly for the comparison.
func unitRescore(ys *yearScore, under *domain.FrameworkRevision, rs domain.Rescoring, s Standing) UnitRescore {
	v := ys.rescoredView(under, rs)
	ur := UnitRescore{Standing: s, Formula: v.Formula, Components: v.Components, Indicators: make([]RescoredLine, 0, len(v.Indicators)),
		Unmapped: v.Unmapped, Uncovered: v.Uncovered}
	for _, iv := range v.Indicators {
		ur.Indicators = append(ur.Indicators, RescoredLine{ID: iv.ID, TitleTH: iv.TitleTH, Component: iv.Component, Mapped: iv.Mapped,
			Targets: iv.Targets, VerifiedActual: iv.VerifiedActual, OwnScore: iv.OwnScore, Score: iv.Score, WeightUsed: iv.WeightUsed,
			Formula: iv.Formula, ScoreError: iv.ScoreError})
	}
	return ur
}

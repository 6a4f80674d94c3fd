package projections

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/opdc/kpiledger/domain"
)

// Comparison is a unit's year-over-year view: both years' scorecards, each
// scored under its own year's framework, and their indicators matched.
type Comparison struct {
	Unit       string             `json:"unit"`
	UnitNameTH string             `json:"unit_name_th"`
	From       int                `json:"from"`
	To         int                `json:"to"`
	Scorecards ComparisonPair     `json:"scorecards"`
	Matched    []MatchedIndicator `json:"matched"`
	// UnmatchedFrom and UnmatchedTo are the approved indicators of one
	// year with no counterpart in the other.
	UnmatchedFrom []IndicatorRef `json:"unmatched_from"`
	UnmatchedTo   []IndicatorRef `json:"unmatched_to"`
	// TotalDelta is to.total − from.total, null when either is null. The
	// two totals may be on different scales when the schemes differ (a
	// five-level year against a 0–100 year); the delta is then only
	// arithmetic, which is why both scorecards are shown in full.
	TotalDelta domain.Number `json:"total_delta"`
	// Standings set both totals in terms that do compare: position on
	// each year's own scale, rank and percentile among the units of the
	// kind that year, band movement.
	Standings ComparisonStandings `json:"standings"`
	// ScoreUnder is present with ?score_under=FY: the later year's
	// results re-scored under that year's framework, with derivations.
	ScoreUnder *Rescored `json:"score_under,omitempty"`
}

// ComparisonStandings are the comparable figures of a unit's two years.
type ComparisonStandings struct {
	From *Standing `json:"from"` // null when the year has no framework
	To   *Standing `json:"to"`
	// Change is from → to; null when either side is null.
	Change *StandingChange `json:"change"`
	// ToUnder is the later year re-scored (with score_under), ranked among
	// the units of its year re-scored the same way; UnderChange is from →
	// to_under, which with score_under = from compares one framework's
	// scores of two years' results: the effect of the year alone.
	ToUnder     *Standing       `json:"to_under,omitempty"`
	UnderChange *StandingChange `json:"under_change,omitempty"`
}

// ComparisonPair holds the two scorecards; a year without a framework is null.
type ComparisonPair struct {
	From *Scorecard `json:"from"`
	To   *Scorecard `json:"to"`
}

// MatchedIndicator is one indicator followed from one year to the next.
type MatchedIndicator struct {
	FromID      string `json:"from_id"`
	ToID        string `json:"to_id"`
	TitleTH     string `json:"title_th"` // the later year's title
	FromTitleTH string `json:"from_title_th"`
	// MatchedBy is "series" (both belong to one long-term series) or
	// "title" (same Thai title, exactly).
	MatchedBy  string        `json:"matched_by"`
	SeriesID   string        `json:"series_id,omitempty"`
	FromActual domain.Number `json:"from_actual"`
	ToActual   domain.Number `json:"to_actual"`
	// ActualDelta and ScoreDelta are to − from, null when a side is null.
	ActualDelta domain.Number `json:"actual_delta"`
	FromScore   domain.Number `json:"from_score"`
	ToScore     domain.Number `json:"to_score"`
	ScoreDelta  domain.Number `json:"score_delta"`
	// FromPosition and ToPosition place each score on its own year's
	// scale (0 to 1); PositionDelta is to − from, which compares when the
	// scores' scales differ.
	FromPosition  domain.Number `json:"from_position"`
	ToPosition    domain.Number `json:"to_position"`
	PositionDelta domain.Number `json:"position_delta"`
}

// IndicatorRef names an indicator.
type IndicatorRef struct {
	ID       string `json:"id"`
	TitleTH  string `json:"title_th"`
	SeriesID string `json:"series_id,omitempty"`
}

// MatchedBySeries and MatchedByTitle are the values of MatchedIndicator.MatchedBy.
const (
	MatchedBySeries = "series"
	MatchedByTitle  = "title"
)

// BuildComparison compares a unit's fiscal years from and to. A year with
// no framework is shown as a null scorecard; both missing, or an unknown
// unit, is an error wrapping domain.ErrNotFound. Indicators are matched
// first by long-term series, then by exact Thai title, each in the order
// they were proposed.
func BuildComparison(st *State, unit string, from, to int) (Comparison, error) {
	return BuildComparisonUnder(st, unit, from, to, nil)
}

// BuildComparisonUnder is BuildComparison with the later year's results
// also re-scored under the framework revision under (nil: not re-scored;
// see ResolveScoreUnder). Re-scoring needs the later year's framework: its
// results are what is re-scored.
func BuildComparisonUnder(st *State, unit string, from, to int, under *domain.FrameworkRevision) (Comparison, error) {
	u, ok := st.Unit(unit)
	if !ok {
		return Comparison{}, fmt.Errorf("%w: unit %q", domain.ErrNotFound, unit)
	}
	a, err := optionalYear(st, u, from)
	if err != nil {
		return Comparison{}, err
	}
	b, err := optionalYear(st, u, to)
	if err != nil {
		return Comparison{}, err
	}
	if a == nil && b == nil {
		return Comparison{}, fmt.Errorf("%w: no %s framework is published for FY%d or FY%d", domain.ErrNotFound, u.Kind, from, to)
	}
	c := Comparison{Unit: u.Code, UnitNameTH: u.NameTH, From: from, To: to,
		Matched: []MatchedIndicator{}, UnmatchedFrom: []IndicatorRef{}, UnmatchedTo: []IndicatorRef{}}
	var fromItems, toItems []itemScore
	var fromTotal, toTotal *big.Rat
	if a != nil {
		sc := a.scorecard()
		c.Scorecards.From = &sc
		fromItems, fromTotal = a.items, a.totals.Total
	}
	if b != nil {
		sc := b.scorecard()
		c.Scorecards.To = &sc
		toItems, toTotal = b.items, b.totals.Total
	}
	c.TotalDelta = ratNumber(diff(fromTotal, toTotal), domain.ScoreDecimals)
	if err := c.standings(st, u, a, b, under); err != nil {
		return Comparison{}, err
	}

	usedFrom := make([]bool, len(fromItems))
	usedTo := make([]bool, len(toItems))
	pairs := make([][2]int, 0)
	match := func(same func(x, y *domain.Indicator) bool) {
		for j, y := range toItems {
			if usedTo[j] {
				continue
			}
			for i, x := range fromItems {
				if !usedFrom[i] && same(x.ind, y.ind) {
					usedFrom[i], usedTo[j] = true, true
					pairs = append(pairs, [2]int{i, j})
					break
				}
			}
		}
	}
	match(func(x, y *domain.Indicator) bool { return x.Spec.SeriesID != "" && x.Spec.SeriesID == y.Spec.SeriesID })
	bySeries := len(pairs)
	match(func(x, y *domain.Indicator) bool { return x.Spec.TitleTH == y.Spec.TitleTH })
	// Present the matches in the later year's order, whichever rule found them.
	order := make([]int, len(toItems))
	for k, p := range pairs {
		order[p[1]] = k + 1
	}
	for j := range toItems {
		k := order[j]
		if k == 0 {
			continue
		}
		p := pairs[k-1]
		by := MatchedByTitle
		if k-1 < bySeries {
			by = MatchedBySeries
		}
		c.Matched = append(c.Matched, matched(&fromItems[p[0]], &toItems[p[1]], by, a.fw.Framework.Scheme, b.fw.Framework.Scheme))
	}
	for i, it := range fromItems {
		if !usedFrom[i] {
			c.UnmatchedFrom = append(c.UnmatchedFrom, ref(it.ind))
		}
	}
	for j, it := range toItems {
		if !usedTo[j] {
			c.UnmatchedTo = append(c.UnmatchedTo, ref(it.ind))
		}
	}
	return c, nil
}

// optionalYear scores a year, or returns nil when it has no framework.
func optionalYear(st *State, u domain.Unit, fy int) (*yearScore, error) {
	ys, err := scoreYear(st, u, fy)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	return ys, err
}

func matched(x, y *itemScore, by string, xs, ys domain.Scheme) MatchedIndicator {
	m := MatchedIndicator{FromID: x.ind.ID, ToID: y.ind.ID, TitleTH: y.ind.Spec.TitleTH, FromTitleTH: x.ind.Spec.TitleTH, MatchedBy: by}
	if by == MatchedBySeries {
		m.SeriesID = y.ind.Spec.SeriesID
	}
	fa, ta := x.actual(), y.actual()
	m.FromActual, m.ToActual = fa, ta
	// Actuals carry at most domain.MaxDecimals decimals, so their
	// difference is exact at that precision.
	m.ActualDelta = ratNumber(diff(fa.Rat(), ta.Rat()), domain.MaxDecimals)
	fs, ts := x.exactScore(), y.exactScore()
	m.FromScore, m.ToScore = ratNumber(fs, domain.ScoreDecimals), ratNumber(ts, domain.ScoreDecimals)
	m.ScoreDelta = ratNumber(diff(fs, ts), domain.ScoreDecimals)
	fp, tp := domain.ScalePosition(xs, fs), domain.ScalePosition(ys, ts)
	m.FromPosition, m.ToPosition = ratNumber(fp, domain.PositionDecimals), ratNumber(tp, domain.PositionDecimals)
	m.PositionDelta = ratNumber(diff(fp, tp), domain.PositionDecimals)
	return m
}

func ref(ind *domain.Indicator) IndicatorRef {
	return IndicatorRef{ID: ind.ID, TitleTH: ind.Spec.TitleTH, SeriesID: ind.Spec.SeriesID}
}

// actual is the verified value used, "" if none.
func (it *itemScore) actual() domain.Number {
	if it.final == nil {
		return ""
	}
	return it.final.Verified()
}

// exactScore is the exact score, nil when not scored.
func (it *itemScore) exactScore() *big.Rat {
	if it.score == nil {
		return nil
	}
	return it.score.Score
}

// standings fills in the comparable figures and the re-scoring.
func (c *Comparison) standings(st *State, u domain.Unit, a, b *yearScore, under *domain.FrameworkRevision) error {
	place := func(ys *yearScore) (*Standing, error) {
		if ys == nil {
			return nil, nil
		}
		r, err := yearRanking(st, u.Kind, ys.fy)
		if err != nil {
			return nil, err
		}
		s := r.standing(ys.totals.Total, ys.anyScored())
		return &s, nil
	}
	var err error
	if c.Standings.From, err = place(a); err != nil {
		return err
	}
	if c.Standings.To, err = place(b); err != nil {
		return err
	}
	if a != nil && b != nil {
		ch := change(*c.Standings.From, *c.Standings.To, sameBands(a.fw.Framework.Bands, b.fw.Framework.Bands))
		c.Standings.Change = &ch
	}
	if under == nil {
		return nil
	}
	if b == nil {
		return fmt.Errorf("%w: no %s framework is published for FY%d, so it has no results to re-score under FY%d's", domain.ErrNotFound, u.Kind, c.To, under.Framework.FiscalYear)
	}
	pop, err := population(st, u.Kind, b.fy)
	if err != nil {
		return err
	}
	r, _ := rescoredRanking(pop, under)
	rs := b.rescore(under)
	rv := b.rescoredView(under, rs)
	c.ScoreUnder = &rv
	s := r.standing(rs.Totals.Total, b.anyScored())
	c.Standings.ToUnder = &s
	if a != nil {
		ch := change(*c.Standings.From, s, sameBands(a.fw.Framework.Bands, under.Framework.Bands))
		c.Standings.UnderChange = &ch
	}
	return nil
}

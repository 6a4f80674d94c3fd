package projections

import (
	"fmt"
	"math/big"
	"slices"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// Standing is a total in terms that compare across scales: its position on
// its own scheme's scale, its rank and percentile among the units of the
// same kind with a result that year (scored the same way), and its band's
// place among the framework's bands.
type Standing struct {
	Total domain.Number `json:"total"`
	Band  string        `json:"band"`
	// Position is (total − below_first)/(top level score − below_first):
	// 0 at the bottom of the scale, 1 at the top (domain.ScalePosition).
	Position domain.Number `json:"position"`
	// BandPosition is the band's place in the framework's bands, lowest 0,
	// highest 1: how band_move compares bands of different lists.
	BandPosition domain.Number `json:"band_position"`
	// Rank is 1 for the highest total; equal totals share a rank. Null
	// when the unit has no scored result that year.
	Rank *int `json:"rank"`
	// Percentile is 100·(units with a lower total)/(out_of − 1): 100 for
	// the best, 0 for the worst (100 when the unit is alone).
	Percentile domain.Number `json:"percentile"`
	OutOf      int           `json:"out_of"`
}

// StandingChange is how a unit's standing moved from one side to the other.
type StandingChange struct {
	// PositionChange is to.position − from.position, in fractions of each
	// scale: comparable when the raw totals are not. It is the difference
	// of the positions as shown (4 decimals), so a reader's subtraction
	// gives the same figure.
	PositionChange domain.Number `json:"position_change"`
	// RankChange is from.rank − to.rank: positive means the unit climbed.
	RankChange       *int          `json:"rank_change"`
	PercentileChange domain.Number `json:"percentile_change"`
	// BandMove is "up", "down" or "same"; "" when a side has no band.
	BandMove string `json:"band_move"`
	// SameBands is true when both sides use one list of bands, so the move
	// compares the bands themselves; otherwise it compares each band's
	// place in its own list (band_position).
	SameBands bool `json:"same_bands"`
}

// The values of StandingChange.BandMove.
const (
	BandUp   = "up"
	BandDown = "down"
	BandSame = "same"
)

// BandCount is how many units of a year fall in one band.
type BandCount struct {
	Label string        `json:"label"`
	Min   domain.Number `json:"min"`
	Units int           `json:"units"`
}

// ranking holds the totals of one population (units of a kind with a
// result in a year, scored one way), highest first.
type ranking struct {
	totals []*big.Rat
	bands  []domain.Band
	scheme domain.Scheme
	counts map[string]int
}

func newRanking(f *domain.Framework, totals []*big.Rat) *ranking {
	r := &ranking{bands: f.Bands, scheme: f.Scheme, counts: map[string]int{}}
	for _, t := range totals {
		if t == nil {
			continue
		}
		r.totals = append(r.totals, t)
		r.counts[domain.BandOf(f.Bands, t)]++
	}
	slices.SortFunc(r.totals, func(a, b *big.Rat) int { return b.Cmp(a) })
	return r
}

// standing places a total in the ranking; ranked says whether the unit
// belongs to the population (it has a scored result).
func (r *ranking) standing(total *big.Rat, ranked bool) Standing {
	s := Standing{Total: ratNumber(total, domain.ScoreDecimals), OutOf: len(r.totals)}
	if total == nil {
		return s
	}
	s.Band = domain.BandOf(r.bands, total)
	s.Position = ratNumber(domain.ScalePosition(r.scheme, total), domain.PositionDecimals)
	s.BandPosition = ratNumber(bandPosition(r.bands, s.Band), domain.PositionDecimals)
	if !ranked || len(r.totals) == 0 {
		return s
	}
	higher, lower := 0, 0
	for _, t := range r.totals {
		switch t.Cmp(total) {
		case 1:
			higher++
		case -1:
			lower++
		}
	}
	rank := higher + 1
	s.Rank = &rank
	pct := big.NewRat(100, 1)
	if n := len(r.totals); n > 1 {
		pct = big.NewRat(int64(100*lower), int64(n-1))
	}
	s.Percentile = ratNumber(pct, 2)
	return s
}

// distribution counts the ranked units per band, highest band first.
func (r *ranking) distribution() []BandCount {
	out := make([]BandCount, 0, len(r.bands))
	for _, b := range sortedBands(r.bands) {
		out = append(out, BandCount{Label: b.Label, Min: b.Min, Units: r.counts[b.Label]})
	}
	return out
}

// bandPosition is a band's place among bands, lowest 0 and highest 1.
func bandPosition(bands []domain.Band, label string) *big.Rat {
	sorted := sortedBands(bands)
	for i, b := range sorted {
		if b.Label == label {
			if len(sorted) == 1 {
				return big.NewRat(1, 1)
			}
			return big.NewRat(int64(len(sorted)-1-i), int64(len(sorted)-1))
		}
	}
	return nil
}

// change compares two standings; sameBands says whether they share one
// list of bands.
func change(from, to Standing, sameBands bool) StandingChange {
	c := StandingChange{SameBands: sameBands}
	c.PositionChange = ratNumber(diff(from.Position.Rat(), to.Position.Rat()), domain.PositionDecimals)
	if from.Rank != nil && to.Rank != nil {
		d := *from.Rank - *to.Rank
		c.RankChange = &d
	}
	c.PercentileChange = ratNumber(diff(from.Percentile.Rat(), to.Percentile.Rat()), 2)
	if a, b := from.BandPosition.Rat(), to.BandPosition.Rat(); a != nil && b != nil {
		switch b.Cmp(a) {
		case 1:
			c.BandMove = BandUp
		case -1:
			c.BandMove = BandDown
		default:
			c.BandMove = BandSame
		}
	}
	return c
}

// population scores every unit of a kind with a scored result in a fiscal
// year, in unit order.
func population(st *State, kind domain.UnitKind, fy int) ([]*yearScore, error) {
	var out []*yearScore
	for _, u := range st.Units() {
		if u.Kind != kind || st.UnitYears[UnitYearKey(u.Code, fy)] == nil {
			continue
		}
		ys, err := scoreYear(st, u, fy)
		if err != nil {
			return nil, err
		}
		if ys.anyScored() {
			out = append(out, ys)
		}
	}
	return out, nil
}

// ownRanking ranks a population under its own framework.
func ownRanking(pop []*yearScore) *ranking {
	if len(pop) == 0 {
		return nil
	}
	totals := make([]*big.Rat, len(pop))
	for i, ys := range pop {
		totals[i] = ys.totals.Total
	}
	return newRanking(&pop[0].fw.Framework, totals)
}

// yearRanking ranks the units of a kind in a year under its framework;
// nil when the year has no framework.
func yearRanking(st *State, kind domain.UnitKind, fy int) (*ranking, error) {
	fw := st.Framework(fy, kind)
	if fw == nil {
		return nil, nil
	}
	pop, err := population(st, kind, fy)
	if err != nil {
		return nil, err
	}
	if len(pop) == 0 {
		return newRanking(&fw.Framework, nil), nil
	}
	return ownRanking(pop), nil
}

// ScoreUnder names the framework to re-score results under: a fiscal
// year, the unit kind it is asked for ("" for the results' own kind) and
// a revision (0 for the current one).
type ScoreUnder struct {
	FiscalYear int
	Kind       domain.UnitKind
	Revision   int
}

// ResolveScoreUnder finds the framework revision that results of a unit
// kind are to be re-scored under. A kind other than the results' is a
// validation error (results are scored only under their own kind's
// framework); a year without a framework of the kind, or a revision it
// does not have, wraps domain.ErrNotFound.
func ResolveScoreUnder(st *State, kind domain.UnitKind, su ScoreUnder) (*domain.FrameworkRevision, error) {
	if su.Kind != "" && su.Kind != kind {
		return nil, domain.Invalid("score_under", "names a %s framework, but these are a %s's results: results are re-scored only under a framework of their own unit kind", su.Kind, kind)
	}
	h := st.Frameworks[events.FrameworkID(su.FiscalYear, string(kind))]
	if h.Latest() == nil {
		other := domain.KindDepartment
		if kind == domain.KindDepartment {
			other = domain.KindProvince
		}
		if st.Framework(su.FiscalYear, other) != nil {
			return nil, fmt.Errorf("%w: score_under: no FY%d %s framework is published (only a %s one, which cannot score a %s's results)",
				domain.ErrNotFound, su.FiscalYear, kind, other, kind)
		}
		return nil, fmt.Errorf("%w: score_under: no FY%d %s framework is published", domain.ErrNotFound, su.FiscalYear, kind)
	}
	if su.Revision == 0 {
		return h.Latest(), nil
	}
	if su.Revision < 1 || su.Revision > len(h.Revisions) {
		return nil, fmt.Errorf("%w: revision: the FY%d %s framework has no revision %d (it has 1 to %d)",
			domain.ErrNotFound, su.FiscalYear, kind, su.Revision, len(h.Revisions))
	}
	return &h.Revisions[su.Revision-1], nil
}

// rescore re-scores a scored unit-year under another framework revision.
func (ys *yearScore) rescore(under *domain.FrameworkRevision) domain.Rescoring {
	items := make([]domain.RescoreItem, len(ys.items))
	for i, it := range ys.items {
		s := it.ind.Spec
		items[i] = domain.RescoreItem{ID: it.ind.ID, Component: s.Component, Weight: s.Weight, Direction: s.Direction,
			Targets: s.Targets, Actual: it.actual()}
	}
	return domain.Rescore(&ys.fw.Framework, &under.Framework, items)
}

// rescoredRanking re-scores a population under a framework revision and
// ranks it; the re-scorings are returned by unit code.
func rescoredRanking(pop []*yearScore, under *domain.FrameworkRevision) (*ranking, map[string]domain.Rescoring) {
	by := make(map[string]domain.Rescoring, len(pop))
	totals := make([]*big.Rat, 0, len(pop))
	for _, ys := range pop {
		rs := ys.rescore(under)
		by[ys.unit.Code] = rs
		totals = append(totals, rs.Totals.Total)
	}
	return newRanking(&under.Framework, totals), by
}

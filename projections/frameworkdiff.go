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
}

// CompareFrameworks compares the current revisions of the from and to
// frameworks for a unit kind. includeUnit chooses which units' totals are
// listed (the API passes the caller's visibility; nil lists all). It
// returns an error wrapping domain.ErrNotFound when either framework is
// missing.
func CompareFrameworks(st *State, kind domain.UnitKind, from, to int, includeUnit func(string) bool) (FrameworkComparison, error) {
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
	for _, u := range st.Units() {
		if u.Kind != kind || (includeUnit != nil && !includeUnit(u.Code)) {
			continue
		}
		// Units with no event in either year cannot have results: skip
		// scoring them.
		if st.UnitYears[UnitYearKey(u.Code, from)] == nil || st.UnitYears[UnitYearKey(u.Code, to)] == nil {
			continue
		}
		x, err := scoreYear(st, u, from)
		if err != nil {
			return FrameworkComparison{}, err
		}
		y, err := scoreYear(st, u, to)
		if err != nil {
			return FrameworkComparison{}, err
		}
		if !x.anyScored() || !y.anyScored() {
			continue
		}
		fc.Units = append(fc.Units, UnitTotals{
			Unit: u.Code, NameTH: u.NameTH,
			FromTotal: ratNumber(x.totals.Total, domain.ScoreDecimals),
			ToTotal:   ratNumber(y.totals.Total, domain.ScoreDecimals),
			Delta:     ratNumber(diff(x.totals.Total, y.totals.Total), domain.ScoreDecimals),
			FromBand:  x.totals.Band, ToBand: y.totals.Band,
		})
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

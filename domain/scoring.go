package domain

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// Direction says which way an indicator's actual is better.
type Direction string

// The three directions of SPEC.md.
const (
	DirectionUp        Direction = "up"        // higher is better
	DirectionDown      Direction = "down"      // lower is better
	DirectionMilestone Direction = "milestone" // steps reached; no interpolation between them
)

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool {
	return d == DirectionUp || d == DirectionDown || d == DirectionMilestone
}

// ScoreDecimals is how many decimals a score is shown to; computation is exact.
const ScoreDecimals = 4

// IndicatorScore is how an actual scores against an indicator's targets,
// with the reasoning spelled out for the audit trail.
type IndicatorScore struct {
	Score *big.Rat
	// Level is the index of the highest level whose target the actual
	// reached, or -1 when it is below the first.
	Level int
	// Formula states the case and the numbers, so that an auditor can
	// recompute the score by hand.
	Formula string
}

// ScoreActual scores an actual value under a scheme. Targets hold one value
// per level, already validated as ordered for the direction.
//
// Up (targets T1 < … < Tn with scores S1 < … < Sn): x < T1 → below_first;
// x ≥ Tn → Sn (the cap); Tk ≤ x < Tk+1 → Sk + (Sk+1−Sk)·(x−Tk)/(Tk+1−Tk).
// Down mirrors it (T1 > … > Tn). Milestone scores the highest step reached.
func ScoreActual(s Scheme, dir Direction, targets []Number, actual Number) (IndicatorScore, error) {
	if len(targets) != len(s.Levels) {
		return IndicatorScore{}, fmt.Errorf("%d targets for %d levels", len(targets), len(s.Levels))
	}
	t := make([]*big.Rat, len(targets))
	shown := make([]string, len(targets))
	for i := range targets {
		t[i], shown[i] = targets[i].Rat(), string(targets[i])
		if t[i] == nil {
			return IndicatorScore{}, fmt.Errorf("level %d has no target or score", i+1)
		}
	}
	return scoreExact(s, dir, t, shown, actual)
}

// scoreExact is ScoreActual on exact targets, each with the text the
// formula shows for it: a target mapped from another scheme (MapTargets)
// may have no short decimal form.
func scoreExact(s Scheme, dir Direction, t []*big.Rat, shown []string, actual Number) (IndicatorScore, error) {
	if len(t) != len(s.Levels) {
		return IndicatorScore{}, fmt.Errorf("%d targets for %d levels", len(t), len(s.Levels))
	}
	x := actual.Rat()
	if x == nil {
		return IndicatorScore{}, fmt.Errorf("no actual value")
	}
	sc := make([]*big.Rat, len(t))
	for i := range t {
		sc[i] = s.Levels[i].Score.Rat()
		if t[i] == nil || sc[i] == nil {
			return IndicatorScore{}, fmt.Errorf("level %d has no target or score", i+1)
		}
	}
	n := len(t)
	// better(a, b) is a ≥ b in the indicator's own sense of "better or equal".
	better := func(a, b *big.Rat) bool {
		if dir == DirectionDown {
			return a.Cmp(b) <= 0
		}
		return a.Cmp(b) >= 0
	}
	xs := actual
	lvl := func(i int) string { return fmt.Sprintf("T%d(%s)=%s", i+1, s.Levels[i].Label, shown[i]) }
	if !better(x, t[0]) {
		return IndicatorScore{Score: s.BelowFirst.Rat(), Level: -1,
			Formula: fmt.Sprintf("x=%s is below the first level %s → below_first = %s", xs, lvl(0), s.BelowFirst)}, nil
	}
	if better(x, t[n-1]) {
		return IndicatorScore{Score: sc[n-1], Level: n - 1,
			Formula: fmt.Sprintf("x=%s reaches the top level %s → %s (capped)", xs, lvl(n-1), s.Levels[n-1].Score)}, nil
	}
	// Find k with x at or beyond Tk but not reaching Tk+1.
	k := 0
	for k+1 < n && better(x, t[k+1]) {
		k++
	}
	if dir == DirectionMilestone {
		return IndicatorScore{Score: sc[k], Level: k,
			Formula: fmt.Sprintf("milestone: step x=%s reaches %s but not %s → %s", xs, lvl(k), lvl(k+1), s.Levels[k].Score)}, nil
	}
	// Linear interpolation: Sk + (Sk+1−Sk)·|x−Tk|/|Tk+1−Tk|.
	num := new(big.Rat).Sub(x, t[k])
	den := new(big.Rat).Sub(t[k+1], t[k])
	frac := new(big.Rat).Quo(num, den) // the signs cancel for "down"
	step := new(big.Rat).Sub(sc[k+1], sc[k])
	score := new(big.Rat).Add(sc[k], new(big.Rat).Mul(step, frac))
	return IndicatorScore{Score: score, Level: k,
		Formula: fmt.Sprintf("x=%s between %s and %s: %s + (%s−%s)·(%s−%s)/(%s−%s) = %s",
			xs, lvl(k), lvl(k+1), s.Levels[k].Score, s.Levels[k+1].Score, s.Levels[k].Score,
			xs, shown[k], shown[k+1], shown[k], FormatRat(score, ScoreDecimals))}, nil
}

// ScoredIndicator is one approved indicator's input to the rollup; Score is
// nil while no verified result exists, and then counts as 0.
type ScoredIndicator struct {
	Component string
	Weight    Number
	Score     *big.Rat
	// exactWeight, when set, is the weight used instead of Weight: a
	// re-scored weight (Rescore) may have no short decimal form.
	exactWeight *big.Rat
}

func (it ScoredIndicator) weight() *big.Rat {
	if it.exactWeight != nil {
		return it.exactWeight
	}
	return it.Weight.Rat()
}

// ComponentTotal is one component's subtotal in a scorecard.
type ComponentTotal struct {
	Code       string
	Score      *big.Rat // Σ wᵢ·sᵢ / Σ wᵢ over the component's approved indicators; nil without any
	Indicators int      // approved indicators in the component
	Pending    int      // of which not yet scored
	// Complete is false when the component has fewer approved indicators
	// than the framework's minimum, or some are not scored yet.
	Complete bool
}

// Totals is a unit-year's rollup.
type Totals struct {
	// Weighted holds each indicator's weighted score, in input order: its
	// contribution to the total (weighted) or to its component (component_mean).
	Weighted   []*big.Rat
	Components []ComponentTotal
	Total      *big.Rat // nil when no indicator is approved
	Band       string
	Formula    string
}

// RollUp combines indicator scores under the framework's rollup and finds
// the band. Indicators whose component is not in the framework are ignored
// by the framework's own validation; here they simply form no component.
func RollUp(f *Framework, items []ScoredIndicator) Totals {
	out := Totals{Weighted: make([]*big.Rat, len(items))}
	type acc struct{ ws, w *big.Rat }
	byComp := map[string]*acc{}
	all := acc{new(big.Rat), new(big.Rat)}
	for _, c := range f.Components {
		byComp[c.Code] = &acc{new(big.Rat), new(big.Rat)}
	}
	count := map[string]int{}
	pending := map[string]int{}
	for _, it := range items {
		a, ok := byComp[it.Component]
		if !ok {
			continue
		}
		w := it.weight()
		s := it.Score
		if s == nil {
			s = new(big.Rat)
			pending[it.Component]++
		}
		ws := new(big.Rat).Mul(w, s)
		a.ws.Add(a.ws, ws)
		a.w.Add(a.w, w)
		all.ws.Add(all.ws, ws)
		all.w.Add(all.w, w)
		count[it.Component]++
	}
	for _, c := range f.Components {
		a := byComp[c.Code]
		ct := ComponentTotal{Code: c.Code, Indicators: count[c.Code], Pending: pending[c.Code]}
		if a.w.Sign() > 0 {
			ct.Score = new(big.Rat).Quo(a.ws, a.w)
		}
		ct.Complete = ct.Indicators >= c.MinIndicators && ct.Indicators > 0 && ct.Pending == 0
		out.Components = append(out.Components, ct)
	}
	for i, it := range items {
		a, ok := byComp[it.Component]
		if !ok {
			continue
		}
		denom := all.w
		if f.Rollup == RollupComponentMean {
			denom = a.w
		}
		s := it.Score
		if s == nil {
			s = new(big.Rat)
		}
		if denom.Sign() > 0 {
			out.Weighted[i] = new(big.Rat).Quo(new(big.Rat).Mul(it.weight(), s), denom)
		}
	}
	switch f.Rollup {
	case RollupWeighted:
		if all.w.Sign() > 0 {
			out.Total = new(big.Rat).Quo(all.ws, all.w)
			out.Formula = fmt.Sprintf("weighted: Σ wᵢ·sᵢ / Σ wᵢ = %s / %s = %s",
				FormatRat(all.ws, ScoreDecimals), FormatRat(all.w, ScoreDecimals), FormatRat(out.Total, ScoreDecimals))
		}
	case RollupComponentMean:
		if len(count) > 0 {
			sum := new(big.Rat)
			parts := make([]string, 0, len(out.Components))
			for _, ct := range out.Components {
				s := ct.Score
				if s == nil {
					s = new(big.Rat) // a component with no approved indicator counts as 0
				}
				sum.Add(sum, s)
				parts = append(parts, FormatRat(s, ScoreDecimals))
			}
			out.Total = new(big.Rat).Quo(sum, big.NewRat(int64(len(out.Components)), 1))
			out.Formula = fmt.Sprintf("component_mean: (%s) / %d = %s",
				strings.Join(parts, " + "), len(out.Components), FormatRat(out.Total, ScoreDecimals))
		}
	}
	if out.Total != nil {
		out.Band = BandOf(f.Bands, out.Total)
	}
	return out
}

// BandOf returns the label of the highest band whose minimum the total reaches.
func BandOf(bands []Band, total *big.Rat) string {
	sorted := append([]Band(nil), bands...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Min.Cmp(sorted[j].Min) > 0 })
	for _, b := range sorted {
		if total.Cmp(b.Min.Rat()) >= 0 {
			return b.Label
		}
	}
	return ""
}

// checkTargets validates an indicator's targets against a scheme and a
// direction: one per level, strictly improving level by level.
func checkTargets(p *problems, s Scheme, dir Direction, targets []Number) {
	if len(targets) != len(s.Levels) {
		p.add("targets", "must give one target per framework level (%d), in level order", len(s.Levels))
		return
	}
	ok := true
	for i, t := range targets {
		if t == "" {
			p.add(fmt.Sprintf("targets[%d]", i), "is required")
			ok = false
		} else if !checkNumber(p, fmt.Sprintf("targets[%d]", i), t) {
			ok = false
		}
	}
	if !ok || !dir.Valid() {
		return
	}
	for i := 1; i < len(targets); i++ {
		c := targets[i].Cmp(targets[i-1])
		if dir == DirectionDown && c >= 0 {
			p.add("targets", "for direction \"down\" (lower is better) each level's target must be lower than the previous level's")
			return
		}
		if dir != DirectionDown && c <= 0 {
			p.add("targets", "for direction %q each level's target must be higher than the previous level's", dir)
			return
		}
	}
}

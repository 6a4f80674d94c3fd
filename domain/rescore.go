package domain

import (
	"fmt"
	"math/big"
	"strings"
)

// Comparable figures and re-scoring under another framework.
//
// Two fiscal years' totals are not comparable as numbers when their schemes
// differ: FY2562 scores 1–5, FY2563 0–100. Two devices make them so. A
// score's scale position is the fraction of its scheme's range it reached,
// from below_first (0) to the top level's score (1). And a year's verified
// results can be re-scored under another year's framework — its scheme,
// rollup, weights and bands — which isolates the effect of the framework
// from the effect of the year. Re-scoring is a pure function of results
// and frameworks: it writes nothing.

// ScalePosition is (score − below_first) / (top − below_first): 0 at the
// score below the first level, 1 at the top level's score. It is nil for a
// nil score or a scheme without a range. A total can fall below 0 when
// unscored indicators count as 0 under a scheme whose floor is above 0
// (the five-level scheme's below_first is 1); it is not clamped, because
// the total it places is not either.
func ScalePosition(s Scheme, score *big.Rat) *big.Rat {
	if score == nil || len(s.Levels) == 0 {
		return nil
	}
	lo, hi := s.BelowFirst.Rat(), s.Levels[len(s.Levels)-1].Score.Rat()
	if lo == nil || hi == nil {
		return nil
	}
	span := new(big.Rat).Sub(hi, lo)
	if span.Sign() <= 0 {
		return nil
	}
	return new(big.Rat).Quo(new(big.Rat).Sub(score, lo), span)
}

// PositionDecimals is how many decimals a scale position is shown to.
const PositionDecimals = 4

// LevelMap places the levels of one scheme (the results' own, n levels) on
// another (the framework they are re-scored under, m levels) by the
// levels' positions: level i of n sits at (i−1)/(n−1), level j of m at
// (j−1)/(m−1), and the target for level j is read off the line through the
// own targets at that position. Three levels onto five: T1, halfway from
// T1 to T2, T2, halfway from T2 to T3, T3. Five onto three: T1, T3, T5.
// First and last levels always map onto each other, so a result that
// reached the top of its own scheme reaches the top of the other; and the
// mapped targets keep the direction's order, because the own targets do.
type LevelMap struct {
	FromLevels int `json:"from_levels"`
	ToLevels   int `json:"to_levels"`
	// Identity is true when the schemes have the same number of levels:
	// targets carry over level by level, unchanged.
	Identity bool          `json:"identity"`
	Levels   []MappedLevel `json:"levels"`
}

// MappedLevel is one level of the target scheme and where its target
// comes from in the own scheme.
type MappedLevel struct {
	Level int    `json:"level"` // 1-based, in the target scheme
	Label string `json:"label"`
	// Position is (level−1)/(levels−1), shown to PositionDecimals.
	Position Number `json:"position"`
	// From and To are the own scheme's levels (1-based) whose targets
	// bracket the position, equal when the position falls on one; Fraction
	// is how far from From's target toward To's (0 when equal).
	From     int    `json:"from"`
	To       int    `json:"to"`
	Fraction string `json:"fraction"` // an exact fraction such as "1/2"
	// Rule says it in words with the own scheme's labels.
	Rule string `json:"rule"`

	frac *big.Rat
}

// MapLevels maps scheme from's levels onto scheme to's by position.
func MapLevels(from, to Scheme) LevelMap {
	n, m := len(from.Levels), len(to.Levels)
	lm := LevelMap{FromLevels: n, ToLevels: m, Identity: n == m}
	for j := 0; j < m; j++ {
		ml := MappedLevel{Level: j + 1, Label: to.Levels[j].Label}
		pos := new(big.Rat)
		if m > 1 {
			pos.SetFrac64(int64(j), int64(m-1))
		}
		ml.Position = NumberFromRat(pos, PositionDecimals)
		// The own scheme's index at this position: pos·(n−1), between
		// level lower and lower+1.
		at := new(big.Rat).Mul(pos, big.NewRat(int64(max(n-1, 0)), 1))
		lower := int(new(big.Int).Quo(at.Num(), at.Denom()).Int64())
		frac := new(big.Rat).Sub(at, big.NewRat(int64(lower), 1))
		if lower >= n-1 {
			lower, frac = max(n-1, 0), new(big.Rat)
		}
		upper := lower
		if frac.Sign() > 0 {
			upper = lower + 1
		}
		ml.From, ml.To, ml.Fraction, ml.frac = lower+1, upper+1, frac.RatString(), frac
		label := func(i int) string {
			if i < n {
				return from.Levels[i].Label
			}
			return fmt.Sprintf("T%d", i+1)
		}
		if frac.Sign() == 0 {
			ml.Rule = fmt.Sprintf("%s ← the target of %s", ml.Label, label(lower))
		} else {
			ml.Rule = fmt.Sprintf("%s ← %s + (%s − %s)·%s", ml.Label, label(lower), label(upper), label(lower), frac.RatString())
		}
		lm.Levels = append(lm.Levels, ml)
	}
	return lm
}

// Rule is the mapping in one sentence, for a response and a derivation.
func (lm LevelMap) Rule() string {
	if lm.Identity {
		return fmt.Sprintf("both schemes have %d levels: each target carries over to the level of the same place", lm.ToLevels)
	}
	parts := make([]string, len(lm.Levels))
	for i, l := range lm.Levels {
		parts[i] = l.Rule
	}
	return fmt.Sprintf("targets mapped from %d levels onto %d by the levels' positions (level i of n at (i−1)/(n−1)), reading each new level's target off the line through the own targets: %s",
		lm.FromLevels, lm.ToLevels, strings.Join(parts, "; "))
}

// Targets maps an indicator's own targets, exactly. It returns nil when
// the targets do not match the own scheme's levels.
func (lm LevelMap) Targets(own []Number) []*big.Rat {
	if len(own) != lm.FromLevels {
		return nil
	}
	t := make([]*big.Rat, len(own))
	for i, n := range own {
		if t[i] = n.Rat(); t[i] == nil {
			return nil
		}
	}
	out := make([]*big.Rat, len(lm.Levels))
	for j, l := range lm.Levels {
		lo := t[l.From-1]
		if l.frac.Sign() == 0 {
			out[j] = new(big.Rat).Set(lo)
			continue
		}
		step := new(big.Rat).Sub(t[l.To-1], lo)
		out[j] = new(big.Rat).Add(lo, new(big.Rat).Mul(step, l.frac))
	}
	return out
}

// TargetDecimals is how many decimals a mapped target is shown to; the
// score is computed from the exact value.
const TargetDecimals = 6

// ShowTarget renders a mapped target, marking one that had to be rounded.
func ShowTarget(r *big.Rat) string {
	s := FormatRat(r, TargetDecimals)
	if x, ok := new(big.Rat).SetString(s); !ok || x.Cmp(r) != 0 {
		return "≈" + s
	}
	return s
}

// RescoreItem is one approved indicator's results, as its own year scored
// them: its component, weight and direction, its targets per level of its
// own year's scheme, and the verified value used ("" when none).
type RescoreItem struct {
	ID        string
	Component string
	Weight    Number
	Direction Direction
	Targets   []Number
	Actual    Number
}

// RescoredItem is one indicator re-scored.
type RescoredItem struct {
	// Mapped is true when the framework has a component of the same code;
	// an unmapped indicator takes no part in the rollup.
	Mapped  bool
	Targets []*big.Rat // on the framework's levels; nil when they could not be mapped
	Score   *IndicatorScore
	Err     error // why a verified value could not be scored
	// Weight is the weight used in the rollup (see Rescore); nil when unmapped.
	Weight   *big.Rat
	Weighted *big.Rat
	Position *big.Rat
	// Steps derive the score in sentences, mapping included.
	Steps []string
}

// ComponentTreatment says what re-scoring did with a component that is in
// only one of the two frameworks.
type ComponentTreatment struct {
	Code       string   `json:"code"`
	Indicators []string `json:"indicators"` // ids of the results filed under it
	Treatment  string   `json:"treatment"`
}

// Rescoring is a unit-year's results scored under another framework.
type Rescoring struct {
	Map   LevelMap
	Items []RescoredItem
	// Unmapped are the results' components the framework lacks;
	// Uncovered are the framework's components no result maps to.
	Unmapped  []ComponentTreatment
	Uncovered []ComponentTreatment
	Totals    Totals
	// ComponentPositions follow Totals.Components.
	ComponentPositions []*big.Rat
	Position           *big.Rat
	// WeightRule says how indicator weights were carried over.
	WeightRule string
}

// Rescore scores results, which their own framework scored, under another
// framework: its scheme (targets mapped by MapLevels), its components
// (matched by code), its rollup, weights and bands. Weights: under a
// weighted framework whose component has a weight W, the indicators of
// that component share W in proportion to their own weights (w·W/Σw), so
// the framework's component weights hold whatever the own year's were;
// under a component_mean framework only the weights within a component
// matter, and the own ones are used as they are. An indicator whose
// component the framework lacks is listed in Unmapped and left out of the
// total; a framework component no result maps to is listed in Uncovered
// and rolls up as the framework's own rule treats an empty component.
func Rescore(own, under *Framework, items []RescoreItem) Rescoring {
	rs := Rescoring{Map: MapLevels(own.Scheme, under.Scheme), Items: make([]RescoredItem, len(items)),
		Unmapped: []ComponentTreatment{}, Uncovered: []ComponentTreatment{}}
	sumW := map[string]*big.Rat{}
	unmapped := map[string]int{}
	for i, it := range items {
		if _, ok := under.Component(it.Component); !ok {
			if _, seen := unmapped[it.Component]; !seen {
				unmapped[it.Component] = len(rs.Unmapped)
				rs.Unmapped = append(rs.Unmapped, ComponentTreatment{Code: it.Component,
					Treatment: fmt.Sprintf("FY%d's framework has no component %q: its results are left out of the re-scored total and listed here", under.FiscalYear, it.Component)})
			}
			k := unmapped[it.Component]
			rs.Unmapped[k].Indicators = append(rs.Unmapped[k].Indicators, it.ID)
			continue
		}
		rs.Items[i].Mapped = true
		if w := it.Weight.Rat(); w != nil {
			if sumW[it.Component] == nil {
				sumW[it.Component] = new(big.Rat)
			}
			sumW[it.Component].Add(sumW[it.Component], w)
		}
	}
	weighted := under.Rollup == RollupWeighted
	if weighted {
		rs.WeightRule = fmt.Sprintf("FY%d's rollup is weighted: the indicators of each component share its weight in proportion to their own weights, w′ = w·W(component)/Σw(component)", under.FiscalYear)
	} else {
		rs.WeightRule = fmt.Sprintf("FY%d's rollup is the mean of components: the indicators' own weights are used within each component", under.FiscalYear)
	}
	var inputs []ScoredIndicator
	var at []int
	for i, it := range items {
		ri := &rs.Items[i]
		if !ri.Mapped {
			ri.Steps = []string{fmt.Sprintf("Component: FY%d's framework has no component %q, so this result takes no part in the re-scored total.", under.FiscalYear, it.Component)}
			continue
		}
		ri.Steps = append(ri.Steps, fmt.Sprintf("Component: %q, matched by code in FY%d's framework.", it.Component, under.FiscalYear))
		ri.Targets = rs.Map.Targets(it.Targets)
		if ri.Targets == nil {
			ri.Err = fmt.Errorf("%d targets for the own scheme's %d levels", len(it.Targets), rs.Map.FromLevels)
			ri.Steps = append(ri.Steps, fmt.Sprintf("Targets: cannot be mapped (%v); the indicator counts as 0.", ri.Err))
		} else {
			ri.Steps = append(ri.Steps, "Targets: "+mappedTargetsText(rs.Map, under.Scheme, it.Targets, ri.Targets)+".")
		}
		switch {
		case ri.Targets == nil:
		case it.Actual == "":
			ri.Steps = append(ri.Steps, "Score: no verified value; the rollup counts the indicator as 0.")
		default:
			shown := make([]string, len(ri.Targets))
			for k, t := range ri.Targets {
				shown[k] = ShowTarget(t)
			}
			s, err := scoreExact(under.Scheme, it.Direction, ri.Targets, shown, it.Actual)
			if err != nil {
				ri.Err = err
				ri.Steps = append(ri.Steps, fmt.Sprintf("Score: the value cannot be scored (%v); the indicator counts as 0.", err))
			} else {
				ri.Score = &s
				ri.Position = ScalePosition(under.Scheme, s.Score)
				ri.Steps = append(ri.Steps, fmt.Sprintf("Score under FY%d's levels: %s.", under.FiscalYear, s.Formula))
			}
		}
		w := it.Weight.Rat()
		if w == nil {
			w = new(big.Rat)
		}
		if c, _ := under.Component(it.Component); weighted && c.Weight.Rat() != nil && sumW[it.Component] != nil && sumW[it.Component].Sign() > 0 {
			cw := c.Weight.Rat()
			w = new(big.Rat).Quo(new(big.Rat).Mul(w, cw), sumW[it.Component])
			ri.Steps = append(ri.Steps, fmt.Sprintf("Weight: %s·%s/%s = %s (component %s's weight %s shared in proportion to the own weights).",
				it.Weight, c.Weight, FormatRat(sumW[it.Component], ScoreDecimals), FormatRat(w, ScoreDecimals), it.Component, c.Weight))
		} else {
			ri.Steps = append(ri.Steps, fmt.Sprintf("Weight: %s, the indicator's own, within component %s.", it.Weight, it.Component))
		}
		ri.Weight = w
		in := ScoredIndicator{Component: it.Component, Weight: NumberFromRat(w, ScoreDecimals), exactWeight: w}
		if ri.Score != nil {
			in.Score = ri.Score.Score
		}
		inputs = append(inputs, in)
		at = append(at, i)
	}
	rs.Totals = RollUp(under, inputs)
	for k, i := range at {
		rs.Items[i].Weighted = rs.Totals.Weighted[k]
		if rs.Totals.Weighted[k] != nil {
			rs.Items[i].Steps = append(rs.Items[i].Steps, fmt.Sprintf("Contribution (%s): %s.", under.Rollup, FormatRat(rs.Totals.Weighted[k], ScoreDecimals)))
		}
	}
	for _, ct := range rs.Totals.Components {
		rs.ComponentPositions = append(rs.ComponentPositions, ScalePosition(under.Scheme, ct.Score))
		if ct.Indicators == 0 {
			t := ComponentTreatment{Code: ct.Code, Indicators: []string{}}
			if under.Rollup == RollupComponentMean {
				t.Treatment = fmt.Sprintf("no result maps to FY%d's component %q: it counts as 0 in the mean of components, as the framework treats an empty component", under.FiscalYear, ct.Code)
			} else {
				t.Treatment = fmt.Sprintf("no result maps to FY%d's component %q: its weight is missing from Σw, so the total is the weighted mean of the components that have results", under.FiscalYear, ct.Code)
			}
			rs.Uncovered = append(rs.Uncovered, t)
		}
	}
	for i := range rs.Unmapped {
		if rs.Unmapped[i].Indicators == nil {
			rs.Unmapped[i].Indicators = []string{}
		}
	}
	rs.Position = ScalePosition(under.Scheme, rs.Totals.Total)
	return rs
}

// mappedTargetsText lists the mapped targets with how each was reached.
func mappedTargetsText(lm LevelMap, to Scheme, own []Number, mapped []*big.Rat) string {
	parts := make([]string, len(mapped))
	for j, l := range lm.Levels {
		lo := own[l.From-1]
		if l.frac.Sign() == 0 {
			parts[j] = fmt.Sprintf("%s %s", to.Levels[j].Label, ShowTarget(mapped[j]))
			continue
		}
		parts[j] = fmt.Sprintf("%s %s + (%s − %s)·%s = %s", to.Levels[j].Label, lo, own[l.To-1], lo, l.Fraction, ShowTarget(mapped[j]))
	}
	how := "carried over level by level"
	if !lm.Identity {
		how = fmt.Sprintf("mapped from %d levels onto %d by position", lm.FromLevels, lm.ToLevels)
	}
	return how + ": " + strings.Join(parts, ", ")
}

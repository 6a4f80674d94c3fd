package projections

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/opdc/kpiledger/domain"
)

// Rescored is a unit-year's verified results scored under another
// framework revision (?score_under=FY&revision=n): the counterfactual
// "what these results would have scored under that year's rules". It is
// computed on the fly by domain.Rescore and writes nothing.
type Rescored struct {
	// FiscalYear is the results' year; FrameworkRevision is the revision
	// of their own framework that scored them on the scorecard.
	FiscalYear        int `json:"fiscal_year"`
	FrameworkRevision int `json:"framework_revision"`
	// ScoreUnder and Revision name the framework they are re-scored under.
	ScoreUnder int                 `json:"score_under"`
	Revision   int                 `json:"revision"`
	UnitKind   domain.UnitKind     `json:"unit_kind"`
	Scheme     domain.Scheme       `json:"scheme"`
	Rollup     domain.Rollup       `json:"rollup"`
	Bands      []domain.Band       `json:"bands"`
	Mapping    Mapping             `json:"mapping"`
	Indicators []RescoredIndicator `json:"indicators"`
	Components []RescoredComponent `json:"components"`
	// Unmapped lists the results' components the framework lacks, with
	// their indicators and what was done with them; Uncovered lists the
	// framework's components no result maps to. Nothing is dropped
	// without being listed.
	Unmapped  []domain.ComponentTreatment `json:"unmapped"`
	Uncovered []domain.ComponentTreatment `json:"uncovered"`
	Total     domain.Number               `json:"total"`
	Band      string                      `json:"band"`
	Position  domain.Number               `json:"position"`
	Formula   string                      `json:"formula"`
}

// Mapping is how results of one scheme are carried onto another.
type Mapping struct {
	// Rule states the level mapping in a sentence; Levels gives it level
	// by level (domain.MapLevels).
	Rule       string               `json:"rule"`
	FromLevels int                  `json:"from_levels"`
	ToLevels   int                  `json:"to_levels"`
	Identity   bool                 `json:"identity"`
	Levels     []domain.MappedLevel `json:"levels"`
	// Components says how components are matched; Weights how indicator
	// weights are carried into the framework's rollup.
	Components string `json:"components"`
	Weights    string `json:"weights"`
}

// RescoredIndicator is one approved indicator re-scored.
type RescoredIndicator struct {
	ID        string `json:"id"`
	TitleTH   string `json:"title_th"`
	Component string `json:"component"`
	// Mapped is false when the framework has no component of this code.
	Mapped bool `json:"mapped"`
	// OwnTargets are the targets as proposed, on the own scheme's levels;
	// Targets are the mapped ones on the framework's levels.
	OwnTargets     []TargetLevel  `json:"own_targets"`
	Targets        []MappedTarget `json:"targets"`
	VerifiedActual domain.Number  `json:"verified_actual"`
	OwnScore       domain.Number  `json:"own_score"`
	Level          *string        `json:"level"`
	Score          domain.Number  `json:"score"`
	Position       domain.Number  `json:"position"`
	Weight         domain.Number  `json:"weight"`
	// WeightUsed is the weight in the framework's rollup (Mapping.Weights).
	WeightUsed    domain.Number `json:"weight_used"`
	WeightedScore domain.Number `json:"weighted_score"`
	Formula       string        `json:"formula"`
	ScoreError    string        `json:"score_error,omitempty"`
	// Steps derive the score in sentences, the mapping included.
	Steps []string `json:"steps"`
}

// MappedTarget is a target on one level of the framework's scheme, shown
// to domain.TargetDecimals; Rounded marks one whose exact value (which the
// score uses) has more decimals, such as a third.
type MappedTarget struct {
	Level   int           `json:"level"`
	Label   string        `json:"label"`
	Target  domain.Number `json:"target"`
	Rounded bool          `json:"rounded,omitempty"`
}

// RescoredComponent is one of the framework's components, re-scored.
type RescoredComponent struct {
	Code       string        `json:"code"`
	NameTH     string        `json:"name_th"`
	Weight     domain.Number `json:"weight"`
	Score      domain.Number `json:"score"`
	Position   domain.Number `json:"position"`
	Indicators int           `json:"indicators"`
	Pending    int           `json:"pending"`
	// Formula derives the score from the component's re-scored indicators
	// (an unscored one counts as 0); "" when none maps to the component.
	Formula string `json:"formula"`
}

// componentRule is Mapping.Components.
const componentRule = "components are matched by code; an indicator whose component the framework lacks is listed under unmapped and left out of the total, and a framework component no result maps to is listed under uncovered"

func newMapping(rs domain.Rescoring) Mapping {
	return Mapping{Rule: rs.Map.Rule(), FromLevels: rs.Map.FromLevels, ToLevels: rs.Map.ToLevels, Identity: rs.Map.Identity,
		Levels: cloneList(rs.Map.Levels), Components: componentRule, Weights: rs.WeightRule}
}

// rescoredView renders a re-scoring of ys under a revision.
func (ys *yearScore) rescoredView(under *domain.FrameworkRevision, rs domain.Rescoring) Rescored {
	f := &under.Framework
	v := Rescored{FiscalYear: ys.fy, FrameworkRevision: ys.fw.Revision, ScoreUnder: f.FiscalYear, Revision: under.Revision,
		UnitKind: f.UnitKind, Scheme: normScheme(f.Scheme), Rollup: f.Rollup, Bands: cloneList(f.Bands),
		Mapping: newMapping(rs), Indicators: make([]RescoredIndicator, 0, len(ys.items)),
		Components: make([]RescoredComponent, 0, len(f.Components)),
		Unmapped:   rs.Unmapped, Uncovered: rs.Uncovered,
		Total: ratNumber(rs.Totals.Total, domain.ScoreDecimals), Band: rs.Totals.Band,
		Position: ratNumber(rs.Position, domain.PositionDecimals), Formula: rs.Totals.Formula}
	for i, it := range ys.items {
		ri := rs.Items[i]
		ind := it.ind
		iv := RescoredIndicator{ID: ind.ID, TitleTH: ind.Spec.TitleTH, Component: ind.Spec.Component, Mapped: ri.Mapped,
			OwnTargets: targetLevels(ys.fw.Framework.Scheme, ind.Spec.Targets), Targets: []MappedTarget{},
			VerifiedActual: it.actual(), OwnScore: ratNumber(it.exactScore(), domain.ScoreDecimals),
			Weight: ind.Spec.Weight, WeightUsed: ratNumber(ri.Weight, domain.ScoreDecimals),
			WeightedScore: ratNumber(ri.Weighted, domain.ScoreDecimals), Steps: ri.Steps,
			Position: ratNumber(ri.Position, domain.PositionDecimals)}
		for k, t := range ri.Targets {
			shown := domain.NumberFromRat(t, domain.TargetDecimals)
			iv.Targets = append(iv.Targets, MappedTarget{Level: k + 1, Label: f.Scheme.Levels[k].Label, Target: shown, Rounded: shown.Rat().Cmp(t) != 0})
		}
		if ri.Score != nil {
			iv.Score, iv.Formula = ratNumber(ri.Score.Score, domain.ScoreDecimals), ri.Score.Formula
			if ri.Score.Level >= 0 {
				l := f.Scheme.Levels[ri.Score.Level].Label
				iv.Level = &l
			}
		}
		if ri.Err != nil {
			iv.ScoreError = ri.Err.Error()
		}
		v.Indicators = append(v.Indicators, iv)
	}
	for i, c := range f.Components {
		ct := rs.Totals.Components[i]
		v.Components = append(v.Components, RescoredComponent{Code: c.Code, NameTH: c.NameTH, Weight: c.Weight,
			Score: ratNumber(ct.Score, domain.ScoreDecimals), Position: ratNumber(rs.ComponentPositions[i], domain.PositionDecimals),
			Indicators: ct.Indicators, Pending: ct.Pending, Formula: componentFormula(ys, rs, c.Code, ct.Score)})
	}
	return v
}

// BuildScorecardUnder is BuildScorecard with the year's results also
// re-scored under the framework revision under (see ResolveScoreUnder).
func BuildScorecardUnder(st *State, unit string, fy int, under *domain.FrameworkRevision) (Scorecard, error) {
	u, ok := st.Unit(unit)
	if !ok {
		return Scorecard{}, fmt.Errorf("%w: unit %q", domain.ErrNotFound, unit)
	}
	ys, err := scoreYear(st, u, fy)
	if err != nil {
		return Scorecard{}, err
	}
	sc := ys.scorecard()
	if under != nil {
		rv := ys.rescoredView(under, ys.rescore(under))
		sc.ScoreUnder = &rv
	}
	return sc, nil
}

// componentFormula writes a re-scored component's subtotal out:
// Σ w′·s / Σ w′ over its indicators, with the weights used.
func componentFormula(ys *yearScore, rs domain.Rescoring, code string, score *big.Rat) string {
	if score == nil {
		return ""
	}
	var parts []string
	ws, w := new(big.Rat), new(big.Rat)
	for i, it := range ys.items {
		ri := rs.Items[i]
		if !ri.Mapped || it.ind.Spec.Component != code || ri.Weight == nil {
			continue
		}
		s := new(big.Rat)
		if ri.Score != nil {
			s = ri.Score.Score
		}
		parts = append(parts, domain.FormatRat(ri.Weight, domain.ScoreDecimals)+"×"+domain.FormatRat(s, domain.ScoreDecimals))
		ws.Add(ws, new(big.Rat).Mul(ri.Weight, s))
		w.Add(w, ri.Weight)
	}
	return fmt.Sprintf("Σ w′·s / Σ w′ = (%s) / %s = %s", strings.Join(parts, " + "), domain.FormatRat(w, domain.ScoreDecimals), domain.FormatRat(score, domain.ScoreDecimals))
}

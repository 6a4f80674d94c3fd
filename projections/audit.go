package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// AuditTrail is a unit-year as an auditor replays it: every event of the
// unit-year and of its year's framework in stream order, each checked
// against its hash chain, and the derivation of every approved indicator's
// score from those very events.
type AuditTrail struct {
	Unit       string          `json:"unit"`
	UnitNameTH string          `json:"unit_name_th"`
	FiscalYear int             `json:"fiscal_year"`
	UnitKind   domain.UnitKind `json:"unit_kind"`
	Events     []AuditEvent    `json:"events"`
	// ChainIntact is true when every listed event matches its hash and
	// links to the previous event of its aggregate.
	ChainIntact bool `json:"chain_intact"`
	// Derivations follow the scorecard's indicators, in the same order;
	// [] when no framework is published for the year.
	Derivations []Derivation `json:"derivations"`
	Total       AuditTotal   `json:"total"`
	// Flags name events that broke a rule spanning aggregates when they
	// were appended: history written before such rules were guarded at
	// append time, or a decision on a framework revision that another
	// revision had already replaced. The fold keeps them, as the log does.
	Flags []AuditFlag `json:"flags,omitempty"`
}

// AuditFlag is one event that broke a cross-aggregate rule.
type AuditFlag struct {
	Sequence uint64 `json:"sequence"`
	EventID  string `json:"event_id"`
	// Rule: indicators_per_unit_year, component_max_indicators,
	// series_per_year or superseded_framework.
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// AuditEvent is one stored event with everything its hash covers, so that
// an auditor can recompute the hash offline.
type AuditEvent struct {
	Sequence         uint64          `json:"sequence"`
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	SchemaVersion    int             `json:"schema_version"`
	AggregateKind    string          `json:"aggregate_kind"`
	AggregateID      string          `json:"aggregate_id"`
	AggregateVersion uint64          `json:"aggregate_version"`
	Unit             string          `json:"unit,omitempty"`
	FiscalYear       int             `json:"fiscal_year,omitempty"`
	Actor            domain.Actor    `json:"actor"`
	OccurredAt       time.Time       `json:"occurred_at"`
	RecordedAt       time.Time       `json:"recorded_at"`
	CommandID        string          `json:"command_id"`
	CorrelationID    string          `json:"correlation_id"`
	RequestHash      string          `json:"request_hash,omitempty"`
	Hash             string          `json:"hash"`
	PrevHash         string          `json:"prev_hash"`
	Data             json.RawMessage `json:"data"` // the payload exactly as stored
	ChainOK          bool            `json:"chain_ok"`
	ChainError       string          `json:"chain_error,omitempty"`
}

// Derivation explains how one approved indicator's score was reached.
type Derivation struct {
	IndicatorID string            `json:"indicator_id"`
	TitleTH     string            `json:"title_th"`
	Component   string            `json:"component"`
	Framework   DerivationSource  `json:"framework"`
	Levels      []DerivationLevel `json:"levels"`
	Direction   domain.Direction  `json:"direction"`
	// Report is the report whose value is used — or, when no round has a
	// verified value, the latest round's report, to show why. Null when
	// nothing was reported.
	Report       *DerivationReport       `json:"report"`
	Verification *DerivationVerification `json:"verification"`
	// ValueUsed is the verified value scored, null when none.
	ValueUsed     domain.Number `json:"value_used"`
	Formula       string        `json:"formula"` // domain.ScoreActual's
	Score         domain.Number `json:"score"`
	Weight        domain.Number `json:"weight"`
	WeightedScore domain.Number `json:"weighted_score"`
	// Steps are plain sentences an auditor can follow and recompute by
	// hand: the value chosen and why, the level bracket, the
	// interpolation, the weighting.
	Steps []string `json:"steps"`
}

// DerivationSource names the framework revision that scored a value.
type DerivationSource struct {
	FiscalYear    int             `json:"fiscal_year"`
	UnitKind      domain.UnitKind `json:"unit_kind"`
	Revision      int             `json:"revision"`
	EventID       string          `json:"event_id"`
	EventSequence uint64          `json:"event_sequence"`
}

// DerivationLevel is one criteria level with its score and the
// indicator's target for it.
type DerivationLevel struct {
	Label  string        `json:"label"`
	Score  domain.Number `json:"score"`
	Target domain.Number `json:"target"`
}

// DerivationReport is the result report a value came from.
type DerivationReport struct {
	Round      int           `json:"round"`
	Report     int           `json:"report"` // its number within the round (1 = first)
	EventID    string        `json:"event_id"`
	Sequence   uint64        `json:"sequence"`
	Actual     domain.Number `json:"actual"`
	ReportedAt time.Time     `json:"reported_at"`
	ReportedBy domain.Actor  `json:"reported_by"`
}

// DerivationVerification is OPDC's decision on that report.
type DerivationVerification struct {
	Decision       string        `json:"decision"`
	EventID        string        `json:"event_id"`
	Sequence       uint64        `json:"sequence"`
	VerifiedActual domain.Number `json:"verified_actual"`
	Comment        string        `json:"comment"`
	VerifiedAt     time.Time     `json:"verified_at"`
	VerifiedBy     domain.Actor  `json:"verified_by"`
}

// AuditTotal is how the indicator scores roll up.
type AuditTotal struct {
	Rollup  domain.Rollup `json:"rollup"`
	Formula string        `json:"formula"`
	Total   domain.Number `json:"total"`
	Band    string        `json:"band"`
}

// BuildAudit reads a unit-year's events and its year's framework events
// from the store (the same subjects as ScorecardAsOf, with no time limit),
// checks each against its aggregate's hash chain, and derives every
// approved indicator's score from a fresh fold of exactly those events, so
// the derivation can only speak of events it lists. The caller names the
// unit (looking it up is the caller's: the read model knows it); a
// unit-year with no events is an empty trail.
func BuildAudit(ctx context.Context, store SubjectReader, u domain.Unit, fy int) (AuditTrail, error) {
	evs, err := readUnitYear(ctx, store, u, fy, time.Time{})
	if err != nil {
		return AuditTrail{}, err
	}
	return buildAudit(evs, u, fy), nil
}

// buildAudit is BuildAudit on events already read, in stream order.
func buildAudit(evs []*events.Envelope, u domain.Unit, fy int) AuditTrail {
	a := AuditTrail{Unit: u.Code, UnitNameTH: u.NameTH, FiscalYear: fy, UnitKind: u.Kind,
		Events: make([]AuditEvent, 0, len(evs)), ChainIntact: true, Derivations: []Derivation{}}
	// One verifier per aggregate: each aggregate's events are all here
	// from version 1, because its subject is inside the filters read.
	verifiers := map[string]*events.ChainVerifier{}
	brokenAt := map[string]uint64{}
	fresh := NewState()
	for _, e := range evs {
		key := AggregateKey(e.AggregateKind, e.AggregateID)
		ev := AuditEvent{
			Sequence: e.Sequence, ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion,
			AggregateKind: e.AggregateKind, AggregateID: e.AggregateID, AggregateVersion: e.AggregateVersion,
			Unit: e.Unit, FiscalYear: e.FiscalYear, Actor: e.Actor,
			OccurredAt: e.OccurredAt.UTC(), RecordedAt: e.RecordedAt.UTC(),
			CommandID: e.CommandID, CorrelationID: e.CorrelationID, RequestHash: e.RequestHash,
			Hash: e.Hash, PrevHash: e.PrevHash, Data: e.Data, ChainOK: true,
		}
		if seq, broken := brokenAt[key]; broken {
			// The verifier stops at a break; everything after it in this
			// aggregate can no longer be tied to the aggregate's start.
			ev.ChainOK = false
			ev.ChainError = fmt.Sprintf("follows the break at sequence %d in this aggregate's chain", seq)
			if err := e.CheckHash(); err != nil {
				ev.ChainError += "; " + err.Error()
			}
		} else {
			v := verifiers[key]
			if v == nil {
				v = events.NewChainVerifier()
				verifiers[key] = v
			}
			if brk := v.Check(e); brk != nil {
				ev.ChainOK, ev.ChainError = false, brk.Reason
				brokenAt[key] = e.Sequence
			}
		}
		if err := fresh.Apply(e); err != nil && ev.ChainOK {
			// Cannot happen on an intact chain of complete aggregates; if
			// it does, the derivation below does not include this event.
			ev.ChainOK, ev.ChainError = false, err.Error()
		}
		if !ev.ChainOK {
			a.ChainIntact = false
		} else {
			a.Flags = append(a.Flags, ruleFlags(fresh, e, u, fy)...)
		}
		if ev.Data == nil {
			ev.Data = json.RawMessage("null")
		}
		a.Events = append(a.Events, ev)
	}
	ys, err := scoreYear(fresh, u, fy)
	if err != nil {
		return a // no framework: events only
	}
	a.Derivations = ys.derivations()
	a.Total = AuditTotal{Rollup: ys.fw.Framework.Rollup, Formula: ys.totals.Formula,
		Total: ratNumber(ys.totals.Total, domain.ScoreDecimals), Band: ys.totals.Band}
	return a
}

// ruleFlags checks the cross-aggregate rules the decision behind e had to
// keep, on the fold just after e.
func ruleFlags(st *State, e *events.Envelope, u domain.Unit, fy int) []AuditFlag {
	if e.AggregateKind != events.KindIndicator || e.Unit != u.Code || e.FiscalYear != fy {
		return nil
	}
	ev, err := e.Event()
	if err != nil {
		return nil
	}
	ind := st.Indicators[e.AggregateID]
	if ind == nil {
		return nil
	}
	var out []AuditFlag
	flag := func(rule, format string, args ...any) {
		out = append(out, AuditFlag{Sequence: e.Sequence, EventID: e.ID, Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	fw := st.Frameworks[events.FrameworkID(fy, string(u.Kind))]
	var recorded uint64
	switch ev := ev.(type) {
	case domain.IndicatorProposed:
		recorded = ev.FrameworkVersion
	case domain.IndicatorRevised:
		recorded = ev.FrameworkVersion
	case domain.IndicatorReviewed:
		recorded = ev.FrameworkVersion
	case domain.ResultReported:
		recorded = ev.FrameworkVersion
	}
	if recorded > 0 && recorded < fw.Version() {
		flag("superseded_framework", "decided on version %d of the FY%d %s framework, but version %d was already in the log", recorded, fy, u.Kind, fw.Version())
	}
	if !ind.Status.Live() {
		return out
	}
	live, approved, series := 0, 0, 0
	for _, other := range st.UnitIndicators(u.Code, fy) {
		if !other.Status.Live() {
			continue
		}
		live++
		if other.Status == domain.StatusApproved && other.Spec.Component == ind.Spec.Component {
			approved++
		}
		if ind.Spec.SeriesID != "" && other.Spec.SeriesID == ind.Spec.SeriesID {
			series++
		}
	}
	switch e.Type {
	case events.TypeIndicatorProposed:
		if live > domain.MaxIndicatorsPerUnitYear {
			flag("indicators_per_unit_year", "the unit-year holds %d live indicators with this one, more than the %d allowed", live, domain.MaxIndicatorsPerUnitYear)
		}
	case events.TypeIndicatorReviewed:
		if ind.Status == domain.StatusApproved && fw.Latest() != nil {
			if c, ok := fw.Latest().Framework.Component(ind.Spec.Component); ok && approved > c.MaxIndicators {
				flag("component_max_indicators", "component %q holds %d approved indicators with this one, more than its maximum of %d", c.Code, approved, c.MaxIndicators)
			}
		}
	}
	if (e.Type == events.TypeIndicatorProposed || e.Type == events.TypeIndicatorRevised) && series > 1 {
		flag("series_per_year", "%d live indicators of FY%d belong to series %s, where one may", series, fy, ind.Spec.SeriesID)
	}
	return out
}

// derivations explains each scored item of the unit-year.
func (ys *yearScore) derivations() []Derivation {
	f := &ys.fw.Framework
	// The weighting denominators, as domain.RollUp forms them: every
	// approved indicator whose component is in the framework (weighted),
	// or only those of the same component (component_mean).
	all := new(big.Rat)
	byComp := map[string]*big.Rat{}
	for _, it := range ys.items {
		if _, ok := f.Component(it.ind.Spec.Component); !ok {
			continue
		}
		w := it.ind.Spec.Weight.Rat()
		all.Add(all, w)
		if byComp[it.ind.Spec.Component] == nil {
			byComp[it.ind.Spec.Component] = new(big.Rat)
		}
		byComp[it.ind.Spec.Component].Add(byComp[it.ind.Spec.Component], w)
	}
	out := make([]Derivation, 0, len(ys.items))
	for _, it := range ys.items {
		ind := it.ind
		d := Derivation{
			IndicatorID: ind.ID, TitleTH: ind.Spec.TitleTH, Component: ind.Spec.Component,
			Framework: DerivationSource{FiscalYear: f.FiscalYear, UnitKind: f.UnitKind, Revision: ys.fw.Revision,
				EventID: ys.fw.Meta.EventID, EventSequence: ys.fw.Meta.Sequence},
			Levels:        make([]DerivationLevel, 0, len(f.Scheme.Levels)),
			Direction:     ind.Spec.Direction,
			ValueUsed:     it.actual(),
			Score:         ratNumber(it.exactScore(), domain.ScoreDecimals),
			Weight:        ind.Spec.Weight,
			WeightedScore: ratNumber(it.weighted, domain.ScoreDecimals),
		}
		for i, l := range f.Scheme.Levels {
			dl := DerivationLevel{Label: l.Label, Score: l.Score}
			if i < len(ind.Spec.Targets) {
				dl.Target = ind.Spec.Targets[i]
			}
			d.Levels = append(d.Levels, dl)
		}
		if it.score != nil {
			d.Formula = it.score.Formula
		}
		shown := it.final
		if shown == nil && len(ind.Rounds) > 0 {
			shown = &ind.Rounds[len(ind.Rounds)-1]
		}
		if shown != nil {
			d.Report = &DerivationReport{Round: shown.Round, Report: shown.Reports, EventID: shown.ReportMeta.EventID,
				Sequence: shown.ReportMeta.Sequence, Actual: shown.Report.Actual,
				ReportedAt: shown.ReportMeta.RecordedAt.UTC(), ReportedBy: shown.ReportMeta.Actor}
			if v, m := shown.Verification, shown.VerificationMeta; v != nil && m != nil {
				d.Verification = &DerivationVerification{Decision: v.Decision, EventID: m.EventID, Sequence: m.Sequence,
					VerifiedActual: shown.Verified(), Comment: v.Comment, VerifiedAt: m.RecordedAt.UTC(), VerifiedBy: m.Actor}
			}
		}
		denom := all
		if f.Rollup == domain.RollupComponentMean {
			denom = byComp[ind.Spec.Component]
		}
		d.Steps = ys.steps(&it, shown, denom)
		out = append(out, d)
	}
	return out
}

// steps writes the derivation out in sentences.
func (ys *yearScore) steps(it *itemScore, shown *domain.Round, denom *big.Rat) []string {
	f := &ys.fw.Framework
	ind := it.ind
	var steps []string

	levels := make([]string, len(f.Scheme.Levels))
	for i, l := range f.Scheme.Levels {
		levels[i] = fmt.Sprintf("%s = %s", l.Label, l.Score)
	}
	steps = append(steps, fmt.Sprintf("Framework FY%d %s, revision %d (event %s at sequence %d): levels %s; below the first level %s; rollup %s.",
		f.FiscalYear, f.UnitKind, ys.fw.Revision, ys.fw.Meta.EventID, ys.fw.Meta.Sequence,
		strings.Join(levels, ", "), f.Scheme.BelowFirst, f.Rollup))

	targets := make([]string, len(ind.Spec.Targets))
	for i, t := range ind.Spec.Targets {
		label := fmt.Sprintf("T%d", i+1)
		if i < len(f.Scheme.Levels) {
			label = f.Scheme.Levels[i].Label
		}
		targets[i] = fmt.Sprintf("%s %s", label, t)
	}
	steps = append(steps, fmt.Sprintf("Targets, direction %s (%s): %s.", ind.Spec.Direction, directionWords(ind.Spec.Direction), strings.Join(targets, ", ")))

	steps = append(steps, valueStep(ind, it.final, shown))

	if it.score != nil {
		s := it.score
		switch {
		case s.Level < 0:
			steps = append(steps, fmt.Sprintf("Level: none reached; %s falls short of the first level %s (%s), so the score is below_first.",
				it.actual(), f.Scheme.Levels[0].Label, ind.Spec.Targets[0]))
		case s.Level == len(f.Scheme.Levels)-1:
			steps = append(steps, fmt.Sprintf("Level: %s reaches the top level %s (%s); the score is capped at that level's score.",
				it.actual(), f.Scheme.Levels[s.Level].Label, ind.Spec.Targets[s.Level]))
		default:
			steps = append(steps, fmt.Sprintf("Level: %s reaches %s (%s) but not %s (%s).",
				it.actual(), f.Scheme.Levels[s.Level].Label, ind.Spec.Targets[s.Level],
				f.Scheme.Levels[s.Level+1].Label, ind.Spec.Targets[s.Level+1]))
		}
		steps = append(steps, fmt.Sprintf("Score: %s; shown to %d decimals: %s.", s.Formula, domain.ScoreDecimals, domain.FormatRat(s.Score, domain.ScoreDecimals)))
	} else if it.err != nil {
		steps = append(steps, fmt.Sprintf("Score: the value cannot be scored (%v); the indicator counts as 0.", it.err))
	} else {
		steps = append(steps, "Score: none; the rollup counts the indicator as 0 until a value is verified.")
	}

	switch {
	case it.weighted == nil || denom == nil:
		steps = append(steps, fmt.Sprintf("Weighting: component %q is not in this framework revision, so the indicator takes no part in the rollup.", ind.Spec.Component))
	case f.Rollup == domain.RollupComponentMean:
		steps = append(steps, fmt.Sprintf("Weighting within component %s: w·s / Σw(%s) = %s × %s / %s = %s; the total is the plain mean of the components' scores.",
			ind.Spec.Component, ind.Spec.Component, ind.Spec.Weight, scoreText(it), domain.FormatRat(denom, domain.ScoreDecimals),
			domain.FormatRat(it.weighted, domain.ScoreDecimals)))
	default:
		steps = append(steps, fmt.Sprintf("Weighting: w·s / Σw = %s × %s / %s = %s, this indicator's contribution to the total.",
			ind.Spec.Weight, scoreText(it), domain.FormatRat(denom, domain.ScoreDecimals), domain.FormatRat(it.weighted, domain.ScoreDecimals)))
	}
	return steps
}

// valueStep says which value is used and why.
func valueStep(ind *domain.Indicator, final, shown *domain.Round) string {
	if shown == nil {
		return "Value: no result has been reported, so there is no value to score."
	}
	rep := fmt.Sprintf("round %d, report %d (event %s at sequence %d, by %s) with actual %s",
		shown.Round, shown.Reports, shown.ReportMeta.EventID, shown.ReportMeta.Sequence, shown.ReportMeta.Actor.Subject, shown.Report.Actual)
	if final == nil {
		if shown.Verification == nil {
			return fmt.Sprintf("Value: none verified yet; the latest is %s, awaiting OPDC's verification.", rep)
		}
		return fmt.Sprintf("Value: none verified; the latest is %s, rejected by OPDC (event %s at sequence %d: %q); the unit must report again.",
			rep, shown.VerificationMeta.EventID, shown.VerificationMeta.Sequence, shown.Verification.Comment)
	}
	var later []string
	for _, r := range ind.Rounds {
		if r.Round > final.Round {
			later = append(later, fmt.Sprintf("round %d", r.Round))
		}
	}
	why := "the latest round with a verified value"
	if len(later) > 0 {
		why += fmt.Sprintf(" (%s has none yet)", strings.Join(later, ", "))
	}
	v, m := final.Verification, final.VerificationMeta
	switch v.Decision {
	case domain.VerifyAdjust:
		return fmt.Sprintf("Value used: %s, from %s — %s; OPDC adjusted the reported value to %s (event %s at sequence %d: %q).",
			final.Verified(), rep, why, v.VerifiedActual, m.EventID, m.Sequence, v.Comment)
	default:
		return fmt.Sprintf("Value used: %s, from %s — %s; OPDC accepted it (event %s at sequence %d).",
			final.Verified(), rep, why, m.EventID, m.Sequence)
	}
}

func scoreText(it *itemScore) string {
	if s := it.exactScore(); s != nil {
		return domain.FormatRat(s, domain.ScoreDecimals)
	}
	return "0"
}

func directionWords(d domain.Direction) string {
	switch d {
	case domain.DirectionDown:
		return "lower is better"
	case domain.DirectionMilestone:
		return "milestone steps, no interpolation"
	}
	return "higher is better"
}

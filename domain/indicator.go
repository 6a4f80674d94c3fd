package domain

import (
	"math/big"
	"slices"
	"strings"
)

// Status is where an indicator is in its lifecycle:
// proposed → (revision_requested → revised)* → approved | rejected, or
// withdrawn at any point before approval.
type Status string

// Indicator statuses.
const (
	StatusProposed          Status = "proposed"
	StatusRevisionRequested Status = "revision_requested"
	StatusRevised           Status = "revised"
	StatusApproved          Status = "approved"
	StatusRejected          Status = "rejected"
	StatusWithdrawn         Status = "withdrawn"
)

// Live reports whether the indicator still counts toward its unit-year
// (it is neither rejected nor withdrawn).
func (s Status) Live() bool { return s != StatusRejected && s != StatusWithdrawn }

// IndicatorSpec is what a unit proposes and revises.
type IndicatorSpec struct {
	Component string    `json:"component"`
	TitleTH   string    `json:"title_th"`
	TitleEN   string    `json:"title_en,omitempty"`
	Measure   string    `json:"measure"`
	Direction Direction `json:"direction"`
	Weight    Number    `json:"weight"`
	Baseline  Number    `json:"baseline,omitempty"`
	Targets   []Number  `json:"targets"`
	SeriesID  string    `json:"series_id,omitempty"`
	Rationale string    `json:"rationale,omitempty"`
}

// Limits on indicator text, in characters.
const (
	MaxTitleLen     = 500
	MaxMeasureLen   = 100
	MaxRationaleLen = 4000
	// MaxIndicatorsPerUnitYear bounds live indicators of one unit-year; a
	// real framework allows a handful, this stops a runaway client.
	MaxIndicatorsPerUnitYear = 50
)

// IndicatorContext is what a decision about an indicator needs to know from
// outside its own aggregate, gathered by the caller from the read models.
type IndicatorContext struct {
	Framework *Framework // the unit-year's current framework, nil if none
	Series    *Series    // the series named by the spec, nil if none or unknown
	// SeriesTaken is true when another live indicator of the same unit and
	// year already belongs to the named series.
	SeriesTaken bool
	// LiveInUnitYear counts live indicators of the unit-year, this one excluded.
	LiveInUnitYear int
	// ApprovedInComponent counts approved indicators in this indicator's component.
	ApprovedInComponent int
}

func (s *IndicatorSpec) validate(p *problems, unit string, fy int, ctx IndicatorContext) {
	checkText(p, "title_th", s.TitleTH, MaxTitleLen, true)
	checkText(p, "title_en", s.TitleEN, MaxTitleLen, false)
	checkText(p, "measure", s.Measure, MaxMeasureLen, true)
	checkText(p, "rationale", s.Rationale, MaxRationaleLen, false)
	if !s.Direction.Valid() {
		p.add("direction", `must be "up", "down" or "milestone"`)
	}
	if s.Weight == "" {
		p.add("weight", "is required")
	} else if checkNumber(p, "weight", s.Weight) {
		if w := s.Weight.Rat(); w.Sign() <= 0 || w.Cmp(bigHundred) > 0 {
			p.add("weight", "must be greater than 0 and at most 100")
		}
	}
	if s.Baseline != "" {
		checkNumber(p, "baseline", s.Baseline)
	}
	if ctx.Framework == nil {
		p.add("component", "no framework is published for FY%d", fy)
	} else {
		if _, ok := ctx.Framework.Component(s.Component); !ok {
			codes := make([]string, len(ctx.Framework.Components))
			for i, c := range ctx.Framework.Components {
				codes[i] = c.Code
			}
			p.add("component", "must be one of the FY%d framework's components: %s", fy, strings.Join(codes, ", "))
		}
		checkTargets(p, ctx.Framework.Scheme, s.Direction, s.Targets)
	}
	if s.SeriesID != "" {
		switch {
		case ctx.Series == nil:
			p.add("series_id", "no long-term series %q", s.SeriesID)
		case ctx.Series.Unit != unit:
			p.add("series_id", "the series belongs to another unit")
		case fy < ctx.Series.StartYear || fy > ctx.Series.EndYear:
			p.add("series_id", "the series runs FY%d–FY%d, not FY%d", ctx.Series.StartYear, ctx.Series.EndYear, fy)
		case ctx.Series.Direction != s.Direction:
			p.add("direction", "must match the series' direction %q", ctx.Series.Direction)
		}
	}
}

// seriesConflict refuses a well-formed spec whose series already has an
// indicator that year: a limit of the ledger's state, not of the request,
// so a 409 (ErrConflict) where two racing proposals meet it, the way the
// component's maximum is.
func (s IndicatorSpec) seriesConflict(fy int, ctx IndicatorContext) error {
	if s.SeriesID != "" && ctx.SeriesTaken {
		return conflictf("series %s: another indicator of FY%d already belongs to this series", s.SeriesID, fy)
	}
	return nil
}

// IndicatorProposed is the event of a new indicator.
type IndicatorProposed struct {
	ID         string        `json:"id"`
	Unit       string        `json:"unit"`
	FiscalYear int           `json:"fiscal_year"`
	Spec       IndicatorSpec `json:"spec"`
	// FrameworkVersion is the version of the year's framework the
	// decision was checked against (0: not recorded, before it was). The
	// framework is a boundary the append's guard does not cover, so the
	// audit trail flags a decision on a revision already superseded.
	FrameworkVersion uint64 `json:"framework_version,omitempty"`
}

// IndicatorRevised replaces the spec, with the unit's reason.
type IndicatorRevised struct {
	Spec   IndicatorSpec `json:"spec"`
	Reason string        `json:"reason"`
	// FrameworkVersion is the version of the year's framework the
	// decision was checked against (0: not recorded, before it was). The
	// framework is a boundary the append's guard does not cover, so the
	// audit trail flags a decision on a revision already superseded.
	FrameworkVersion uint64 `json:"framework_version,omitempty"`
}

// Review decisions.
const (
	DecisionApprove         = "approve"
	DecisionRequestRevision = "request_revision"
	DecisionReject          = "reject"
)

// IndicatorReviewed is OPDC's decision on a named version of an indicator.
type IndicatorReviewed struct {
	Decision  string `json:"decision"`
	Comment   string `json:"comment,omitempty"`
	OnVersion uint64 `json:"on_version"`
	// FrameworkVersion is the version of the year's framework the
	// approval was checked against (0: not recorded, before it was). The
	// framework is a boundary the append's guard does not cover, so the
	// audit trail flags a decision on a revision already superseded.
	FrameworkVersion uint64 `json:"framework_version,omitempty"`
}

// IndicatorWithdrawn is the unit taking an indicator back before approval.
type IndicatorWithdrawn struct {
	Reason string `json:"reason,omitempty"`
}

// ProposeIndicator decides on a new indicator.
func ProposeIndicator(id, unit string, fy int, spec IndicatorSpec, ctx IndicatorContext) (IndicatorProposed, error) {
	var p problems
	if fy < MinFiscalYear || fy > MaxFiscalYear {
		p.add("fiscal_year", "must be a Buddhist Era year between %d and %d", MinFiscalYear, MaxFiscalYear)
	}
	spec.validate(&p, unit, fy, ctx)
	if err := p.err(); err != nil {
		return IndicatorProposed{}, err
	}
	if ctx.LiveInUnitYear >= MaxIndicatorsPerUnitYear {
		return IndicatorProposed{}, conflictf("indicators: %s FY%d already has %d live indicators; a unit-year may have at most %d live indicators", unit, fy, ctx.LiveInUnitYear, MaxIndicatorsPerUnitYear)
	}
	if err := spec.seriesConflict(fy, ctx); err != nil {
		return IndicatorProposed{}, err
	}
	return IndicatorProposed{ID: id, Unit: unit, FiscalYear: fy, Spec: spec}, nil
}

// Round holds the current result report of one round and its verification.
type Round struct {
	Round int `json:"round"`
	// Report is the latest report; earlier ones were superseded and stay in the log.
	Report  ResultReported `json:"report"`
	Reports int            `json:"reports"` // how many reports this round has had
	// ReportMeta identifies the event of the current report.
	ReportMeta Meta `json:"report_meta"`
	// Verification is OPDC's decision on the current report, nil while pending.
	Verification     *ResultVerified `json:"verification,omitempty"`
	VerificationMeta *Meta           `json:"verification_meta,omitempty"`
}

// Verified returns the verified value of the round, or "" when the current
// report is pending or was rejected.
func (r *Round) Verified() Number {
	if r.Verification == nil {
		return ""
	}
	switch r.Verification.Decision {
	case VerifyAccept:
		return r.Report.Actual
	case VerifyAdjust:
		return r.Verification.VerifiedActual
	}
	return ""
}

// Indicator is the indicator aggregate folded from its events. Result
// reports and their verifications belong to it, so its version moves with
// them too.
type Indicator struct {
	ID         string        `json:"id"`
	Unit       string        `json:"unit"`
	FiscalYear int           `json:"fiscal_year"`
	Spec       IndicatorSpec `json:"spec"`
	Status     Status        `json:"status"`
	Version    uint64        `json:"version"`
	// LastReview is the latest review decision, if any.
	LastReview *IndicatorReviewed `json:"last_review,omitempty"`
	Rounds     []Round            `json:"rounds,omitempty"` // ordered by round
	Proposed   Meta               `json:"proposed"`
	Updated    Meta               `json:"updated"`
}

// Round returns the state of a reporting round, or nil if none was reported.
func (i *Indicator) Round(n int) *Round {
	for k := range i.Rounds {
		if i.Rounds[k].Round == n {
			return &i.Rounds[k]
		}
	}
	return nil
}

// Final returns the latest round with a verified value: the one the score
// uses. A 12-month verified value wins over a 6- or 9-month one.
func (i *Indicator) Final() *Round {
	for k := len(i.Rounds) - 1; k >= 0; k-- {
		if i.Rounds[k].Verified() != "" {
			return &i.Rounds[k]
		}
	}
	return nil
}

// Revise decides on a revision by the owning unit.
func (i *Indicator) Revise(spec IndicatorSpec, reason string, ctx IndicatorContext) (IndicatorRevised, error) {
	switch i.Status {
	case StatusProposed, StatusRevisionRequested, StatusRevised:
	default:
		return IndicatorRevised{}, conflictf("indicator is %s; only a proposed indicator or one sent back for revision can be revised", i.Status)
	}
	var p problems
	checkText(&p, "reason", reason, MaxReasonLen, true)
	spec.validate(&p, i.Unit, i.FiscalYear, ctx)
	if err := p.err(); err != nil {
		return IndicatorRevised{}, err
	}
	if err := spec.seriesConflict(i.FiscalYear, ctx); err != nil {
		return IndicatorRevised{}, err
	}
	return IndicatorRevised{Spec: spec, Reason: reason}, nil
}

// Review decides on OPDC's review of the indicator's current version.
func (i *Indicator) Review(decision, comment string, ctx IndicatorContext) (IndicatorReviewed, error) {
	var p problems
	switch decision {
	case DecisionApprove:
	case DecisionRequestRevision, DecisionReject:
		if strings.TrimSpace(comment) == "" {
			p.add("comment", "is required when the decision is %q", decision)
		}
	default:
		p.add("decision", `must be "approve", "request_revision" or "reject"`)
	}
	checkText(&p, "comment", comment, MaxReasonLen, false)
	if err := p.err(); err != nil {
		return IndicatorReviewed{}, err
	}
	switch i.Status {
	case StatusProposed, StatusRevised:
	case StatusRevisionRequested:
		return IndicatorReviewed{}, conflictf("a revision was already requested on version %d; the unit must revise it first", i.LastReview.OnVersion)
	default:
		return IndicatorReviewed{}, conflictf("indicator is already %s", i.Status)
	}
	if decision == DecisionApprove {
		if ctx.Framework == nil {
			return IndicatorReviewed{}, conflictf("no framework is published for FY%d", i.FiscalYear)
		}
		c, ok := ctx.Framework.Component(i.Spec.Component)
		if !ok {
			return IndicatorReviewed{}, Invalid("component", "component %q is not in the current FY%d framework", i.Spec.Component, i.FiscalYear)
		}
		if ctx.ApprovedInComponent >= c.MaxIndicators {
			return IndicatorReviewed{}, conflictf("component %q already has its maximum of %d approved indicators", c.Code, c.MaxIndicators)
		}
	}
	return IndicatorReviewed{Decision: decision, Comment: comment, OnVersion: i.Version}, nil
}

// Withdraw decides on the unit taking its indicator back.
func (i *Indicator) Withdraw(reason string) (IndicatorWithdrawn, error) {
	var p problems
	checkText(&p, "reason", reason, MaxReasonLen, false)
	if err := p.err(); err != nil {
		return IndicatorWithdrawn{}, err
	}
	switch i.Status {
	case StatusProposed, StatusRevisionRequested, StatusRevised:
		return IndicatorWithdrawn{Reason: reason}, nil
	}
	return IndicatorWithdrawn{}, conflictf("indicator is %s; only an indicator not yet approved can be withdrawn", i.Status)
}

// Apply folds one of the indicator's events.
func (i *Indicator) Apply(e Event, m Meta) {
	i.Version = m.Version
	i.Updated = m
	switch e := e.(type) {
	case IndicatorProposed:
		i.ID, i.Unit, i.FiscalYear, i.Spec = e.ID, e.Unit, e.FiscalYear, e.Spec
		i.Status = StatusProposed
		i.Proposed = m
	case IndicatorRevised:
		i.Spec = e.Spec
		i.Status = StatusRevised
	case IndicatorReviewed:
		r := e
		i.LastReview = &r
		switch e.Decision {
		case DecisionApprove:
			i.Status = StatusApproved
		case DecisionRequestRevision:
			i.Status = StatusRevisionRequested
		case DecisionReject:
			i.Status = StatusRejected
		}
	case IndicatorWithdrawn:
		i.Status = StatusWithdrawn
	case ResultReported:
		r := i.Round(e.Round)
		if r == nil {
			// Grown by one, not doubled: an indicator has one to a few
			// rounds, and a read model holds every indicator ever proposed.
			rounds := make([]Round, len(i.Rounds)+1)
			copy(rounds, i.Rounds)
			rounds[len(i.Rounds)].Round = e.Round
			i.Rounds = rounds
			slices.SortFunc(i.Rounds, func(a, b Round) int { return a.Round - b.Round })
			r = i.Round(e.Round)
		}
		r.Report, r.ReportMeta = e, m
		r.Reports++
		r.Verification, r.VerificationMeta = nil, nil
	case ResultVerified:
		if r := i.Round(e.Round); r != nil {
			v, vm := e, m
			r.Verification, r.VerificationMeta = &v, &vm
		}
	}
}

var bigHundred = big.NewRat(100, 1)

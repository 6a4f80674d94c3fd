package domain

import (
	"fmt"
	"strings"
)

// ResultReported is a unit's result report for one round of an indicator.
// A later report for the same round supersedes it; both stay in the log.
type ResultReported struct {
	Round     int      `json:"round"`
	Actual    Number   `json:"actual"`
	Evidence  []string `json:"evidence,omitempty"`
	Obstacles string   `json:"obstacles,omitempty"`
	// FrameworkVersion is the version of the year's framework the
	// decision was checked against (0: not recorded, before it was). The
	// framework is a boundary the append's guard does not cover, so the
	// audit trail flags a decision on a revision already superseded.
	FrameworkVersion uint64 `json:"framework_version,omitempty"`
}

// Verification decisions.
const (
	VerifyAccept = "accept"
	VerifyAdjust = "adjust"
	VerifyReject = "reject"
)

// ResultVerified is OPDC's decision on the current report of a round.
type ResultVerified struct {
	Round          int    `json:"round"`
	Decision       string `json:"decision"`
	VerifiedActual Number `json:"verified_actual,omitempty"`
	Comment        string `json:"comment,omitempty"`
	// OnReport is the number of the report decided on within the round
	// (1 for the first report, 2 for the one that superseded it, …).
	OnReport int `json:"on_report"`
}

// Limits on a result report. Evidence is references — links to the
// signed documents, file names in the unit's records — not the documents:
// 20 of at most 500 characters each hold a long Thai file path or URL.
// A round's result may be superseded, but not without end: ten reports a
// round is far beyond a real cycle's corrections and bounds what one
// unit's officer can add to the log.
const (
	MaxEvidenceItems   = 20
	MaxEvidenceLen     = 500
	MaxObstaclesLen    = 4000
	MaxReportsPerRound = 10
)

// Report decides on a result report for an approved indicator.
func (i *Indicator) Report(r ResultReported, f *Framework) (ResultReported, error) {
	var p problems
	if f == nil {
		return ResultReported{}, conflictf("no framework is published for FY%d", i.FiscalYear)
	}
	if !f.HasRound(r.Round) {
		p.add("round", "the FY%d framework has reporting rounds %v", i.FiscalYear, f.Rounds)
	}
	if r.Actual == "" {
		p.add("actual", "is required")
	} else {
		checkNumber(&p, "actual", r.Actual)
	}
	if len(r.Evidence) > MaxEvidenceItems {
		p.add("evidence", "at most %d items", MaxEvidenceItems)
	}
	for k, e := range r.Evidence {
		checkText(&p, fmt.Sprintf("evidence[%d]", k), e, MaxEvidenceLen, true)
	}
	checkText(&p, "obstacles", r.Obstacles, MaxObstaclesLen, false)
	if err := p.err(); err != nil {
		return ResultReported{}, err
	}
	if i.Status != StatusApproved {
		return ResultReported{}, conflictf("indicator is %s; results can be reported only for an approved indicator", i.Status)
	}
	if rd := i.Round(r.Round); rd != nil && rd.Reports >= MaxReportsPerRound {
		return ResultReported{}, conflictf("round %d already has %d reports, the most a round may have; ask OPDC to verify or adjust the current one", r.Round, rd.Reports)
	}
	if strings.TrimSpace(r.Obstacles) == "" {
		std := f.Scheme.StandardLevel()
		s, err := ScoreActual(f.Scheme, i.Spec.Direction, i.Spec.Targets, r.Actual)
		if err == nil && s.Level < std {
			return ResultReported{}, Invalid("obstacles", "is required: the actual %s misses the standard level %q (target %s)",
				r.Actual, f.Scheme.Levels[std].Label, i.Spec.Targets[std])
		}
	}
	return r, nil
}

// Verify decides on OPDC's verification of a round's current report.
func (i *Indicator) Verify(round int, decision string, verified Number, comment string) (ResultVerified, error) {
	var p problems
	switch decision {
	case VerifyAccept, VerifyReject:
		if decision == VerifyReject && strings.TrimSpace(comment) == "" {
			p.add("comment", "is required when a result is rejected")
		}
	case VerifyAdjust:
		if verified == "" {
			p.add("verified_actual", "is required when the decision is \"adjust\"")
		} else {
			checkNumber(&p, "verified_actual", verified)
		}
		if strings.TrimSpace(comment) == "" {
			p.add("comment", "is required when the value is adjusted: give the reason")
		}
	default:
		p.add("decision", `must be "accept", "adjust" or "reject"`)
	}
	checkText(&p, "comment", comment, MaxReasonLen, false)
	if err := p.err(); err != nil {
		return ResultVerified{}, err
	}
	r := i.Round(round)
	if r == nil {
		return ResultVerified{}, fmt.Errorf("%w: no result was reported for round %d", ErrNotFound, round)
	}
	if decision != VerifyAdjust && verified != "" && verified.Cmp(r.Report.Actual) != 0 {
		return ResultVerified{}, Invalid("verified_actual", "differs from the reported %s; use the decision \"adjust\" to change the value", r.Report.Actual)
	}
	if r.Verification != nil {
		return ResultVerified{}, conflictf("report %d of round %d was already decided (%s); a new report must come first", r.Reports, round, r.Verification.Decision)
	}
	v := ResultVerified{Round: round, Decision: decision, Comment: comment, OnReport: r.Reports}
	if decision == VerifyAdjust {
		v.VerifiedActual = verified
	}
	return v, nil
}

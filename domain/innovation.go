package domain

import "strings"

// Innovation kinds.
const (
	InnovationPolicy     = "policy"
	InnovationService    = "service"
	InnovationManagement = "management"
)

// Innovation statuses.
const (
	InnovationStatusProposed = "proposed"
	InnovationStatusSelected = "selected"
	InnovationStatusAccepted = "accepted"
	InnovationStatusDeclined = "declined"
)

// Innovation decisions by OPDC.
const (
	InnovationAccept  = "accept"
	InnovationDecline = "decline"
)

// Innovation is an innovation proposal (FY2561 Innovation Base): proposed by
// a unit's agency, selected by the unit to send to OPDC, accepted or declined.
type Innovation struct {
	ID         string              `json:"id"`
	Unit       string              `json:"unit"`
	FiscalYear int                 `json:"fiscal_year"`
	TitleTH    string              `json:"title_th"`
	Agency     string              `json:"agency"`
	Kind       string              `json:"kind"`
	Summary    string              `json:"summary,omitempty"`
	Status     string              `json:"status"`
	Review     *InnovationReviewed `json:"review,omitempty"`
	Version    uint64              `json:"version"`
	Proposed   Meta                `json:"proposed"`
	Updated    Meta                `json:"updated"`
}

// InnovationProposed is the event of a new innovation outline.
type InnovationProposed struct {
	ID         string `json:"id"`
	Unit       string `json:"unit"`
	FiscalYear int    `json:"fiscal_year"`
	TitleTH    string `json:"title_th"`
	Agency     string `json:"agency"`
	Kind       string `json:"kind"`
	Summary    string `json:"summary,omitempty"`
}

// InnovationSelected is the unit sending (or taking back) an outline to OPDC.
type InnovationSelected struct {
	Selected bool `json:"selected"`
}

// InnovationReviewed is OPDC's decision on a selected outline.
type InnovationReviewed struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment,omitempty"`
}

// ProposeInnovation decides on a new outline.
func ProposeInnovation(e InnovationProposed) (InnovationProposed, error) {
	var p problems
	if e.FiscalYear < MinFiscalYear || e.FiscalYear > MaxFiscalYear {
		p.add("fiscal_year", "must be a Buddhist Era year between %d and %d", MinFiscalYear, MaxFiscalYear)
	}
	checkText(&p, "title_th", e.TitleTH, MaxTitleLen, true)
	checkText(&p, "agency", e.Agency, MaxNameLen, true)
	checkText(&p, "summary", e.Summary, MaxRationaleLen, false)
	switch e.Kind {
	case InnovationPolicy, InnovationService, InnovationManagement:
	default:
		p.add("kind", `must be "policy", "service" or "management"`)
	}
	return e, p.err()
}

// Select decides on the unit's selection.
func (n *Innovation) Select(selected bool) (InnovationSelected, error) {
	switch n.Status {
	case InnovationStatusProposed:
		if !selected {
			return InnovationSelected{}, conflictf("the outline is not selected")
		}
	case InnovationStatusSelected:
		if selected {
			return InnovationSelected{}, conflictf("the outline is already selected")
		}
	default:
		return InnovationSelected{}, conflictf("OPDC already decided on the outline (%s)", n.Status)
	}
	return InnovationSelected{Selected: selected}, nil
}

// Decide decides on OPDC's review of a selected outline.
func (n *Innovation) Decide(decision, comment string) (InnovationReviewed, error) {
	var p problems
	switch decision {
	case InnovationAccept:
	case InnovationDecline:
		if strings.TrimSpace(comment) == "" {
			p.add("comment", "is required when an outline is declined")
		}
	default:
		p.add("decision", `must be "accept" or "decline"`)
	}
	checkText(&p, "comment", comment, MaxReasonLen, false)
	if err := p.err(); err != nil {
		return InnovationReviewed{}, err
	}
	switch n.Status {
	case InnovationStatusSelected:
		return InnovationReviewed{Decision: decision, Comment: comment}, nil
	case InnovationStatusProposed:
		return InnovationReviewed{}, conflictf("the unit has not selected this outline for OPDC")
	}
	return InnovationReviewed{}, conflictf("the outline was already decided (%s)", n.Status)
}

// Apply folds an innovation event.
func (n *Innovation) Apply(e Event, m Meta) {
	n.Version = m.Version
	n.Updated = m
	switch e := e.(type) {
	case InnovationProposed:
		*n = Innovation{ID: e.ID, Unit: e.Unit, FiscalYear: e.FiscalYear, TitleTH: e.TitleTH, Agency: e.Agency,
			Kind: e.Kind, Summary: e.Summary, Status: InnovationStatusProposed, Version: m.Version, Proposed: m, Updated: m}
	case InnovationSelected:
		if e.Selected {
			n.Status = InnovationStatusSelected
		} else {
			n.Status = InnovationStatusProposed
		}
	case InnovationReviewed:
		r := e
		n.Review = &r
		if e.Decision == InnovationAccept {
			n.Status = InnovationStatusAccepted
		} else {
			n.Status = InnovationStatusDeclined
		}
	}
}

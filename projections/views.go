package projections

import (
	"time"

	"github.com/opdc/kpiledger/domain"
)

// IndicatorView is an indicator as the API shows it: the fields of the
// proposal body, its status, and its reported and verified results.
type IndicatorView struct {
	ID         string `json:"id"`
	Unit       string `json:"unit"`
	FiscalYear int    `json:"fiscal_year"`
	domain.IndicatorSpec
	Status     domain.Status             `json:"status"`
	Version    uint64                    `json:"version"`
	Sequence   uint64                    `json:"sequence"`
	LastReview *domain.IndicatorReviewed `json:"last_review,omitempty"`
	Results    []RoundView               `json:"results"`
	ProposedBy domain.Actor              `json:"proposed_by"`
	ProposedAt time.Time                 `json:"proposed_at"`
	UpdatedAt  time.Time                 `json:"updated_at"`
}

// RoundView is one reporting round's current report and its verification.
type RoundView struct {
	Round          int                    `json:"round"`
	Actual         domain.Number          `json:"actual"`
	Evidence       []string               `json:"evidence"`
	Obstacles      string                 `json:"obstacles,omitempty"`
	Reports        int                    `json:"reports"`
	ReportedAt     time.Time              `json:"reported_at"`
	ReportedBy     domain.Actor           `json:"reported_by"`
	Verification   *domain.ResultVerified `json:"verification,omitempty"`
	VerifiedAt     *time.Time             `json:"verified_at,omitempty"`
	VerifiedActual domain.Number          `json:"verified_actual"`
}

// NewIndicatorView renders an indicator.
func NewIndicatorView(i *domain.Indicator) IndicatorView {
	v := IndicatorView{
		ID: i.ID, Unit: i.Unit, FiscalYear: i.FiscalYear, IndicatorSpec: i.Spec,
		Status: i.Status, Version: i.Version, Sequence: i.Updated.Sequence, LastReview: i.LastReview,
		Results: make([]RoundView, 0, len(i.Rounds)), ProposedBy: i.Proposed.Actor,
		ProposedAt: i.Proposed.RecordedAt, UpdatedAt: i.Updated.RecordedAt,
	}
	if v.Targets == nil {
		v.Targets = []domain.Number{}
	}
	for _, r := range i.Rounds {
		rv := RoundView{Round: r.Round, Actual: r.Report.Actual, Evidence: r.Report.Evidence, Obstacles: r.Report.Obstacles,
			Reports: r.Reports, ReportedAt: r.ReportMeta.RecordedAt, ReportedBy: r.ReportMeta.Actor,
			Verification: r.Verification, VerifiedActual: r.Verified()}
		if rv.Evidence == nil {
			rv.Evidence = []string{}
		}
		if r.VerificationMeta != nil {
			t := r.VerificationMeta.RecordedAt
			rv.VerifiedAt = &t
		}
		v.Results = append(v.Results, rv)
	}
	return v
}

// FrameworkView is one revision of a framework.
type FrameworkView struct {
	domain.Framework
	Revision    int          `json:"revision"`
	Revisions   int          `json:"revisions"` // how many exist
	Reason      string       `json:"reason,omitempty"`
	Version     uint64       `json:"version"`
	Sequence    uint64       `json:"sequence"`
	PublishedAt time.Time    `json:"published_at"`
	PublishedBy domain.Actor `json:"published_by"`
}

// NewFrameworkView renders revision n (1-based; 0 means the latest).
func NewFrameworkView(h *domain.FrameworkHistory, n int) (FrameworkView, bool) {
	if h == nil || len(h.Revisions) == 0 {
		return FrameworkView{}, false
	}
	if n == 0 {
		n = len(h.Revisions)
	}
	if n < 1 || n > len(h.Revisions) {
		return FrameworkView{}, false
	}
	r := h.Revisions[n-1]
	return FrameworkView{Framework: r.Framework, Revision: r.Revision, Revisions: len(h.Revisions), Reason: r.Reason,
		Version: h.Version(), Sequence: r.Meta.Sequence, PublishedAt: r.Meta.RecordedAt, PublishedBy: r.Meta.Actor}, true
}

// InnovationView is an innovation proposal with its version.
type InnovationView struct {
	domain.Innovation
	Sequence   uint64    `json:"sequence"`
	ProposedAt time.Time `json:"proposed_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NewInnovationView renders an innovation proposal.
func NewInnovationView(n *domain.Innovation) InnovationView {
	return InnovationView{Innovation: *n, Sequence: n.Updated.Sequence, ProposedAt: n.Proposed.RecordedAt, UpdatedAt: n.Updated.RecordedAt}
}

// SeriesView is a long-term series with its version.
type SeriesView struct {
	domain.Series
	Sequence  uint64    `json:"sequence"`
	DefinedAt time.Time `json:"defined_at"`
}

// NewSeriesView renders a series.
func NewSeriesView(s *domain.Series) SeriesView {
	return SeriesView{Series: *s, Sequence: s.Defined.Sequence, DefinedAt: s.Defined.RecordedAt}
}

// Units returns every unit: the 76 provinces by code, then registered
// departments by code.
func (s *State) Units() []domain.Unit {
	var out []domain.Unit
	for _, p := range domain.Provinces() {
		out = append(out, domain.Unit{Code: p.Code, Kind: domain.KindProvince, NameTH: p.NameTH, NameEN: p.NameEN, Region: p.Region})
	}
	for _, code := range SortedKeys(s.Departments) {
		out = append(out, *s.Departments[code])
	}
	return out
}

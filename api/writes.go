package api

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// Request bodies that are not domain types themselves (POST /v1/frameworks
// takes a domain.Framework; indicator proposals a domain.IndicatorSpec).
// Exported so that clients in Go (the demo loader, the bench) send what the
// handlers decode.
type (
	// FrameworkRevisionBody: POST /v1/frameworks/{fy}/{kind}/revisions. Its
	// fiscal_year and unit_kind default to the path's; the optional tag
	// tells the document so.
	FrameworkRevisionBody struct {
		domain.Framework `optional:"fiscal_year,unit_kind"`
		Reason           string `json:"reason"`
	}
	// UnitBody: POST /v1/units.
	UnitBody struct {
		Code   string          `json:"code"`
		Kind   domain.UnitKind `json:"kind"`
		NameTH string          `json:"name_th"`
		NameEN string          `json:"name_en"`
	}
	// IndicatorRevisionBody: PUT /v1/indicators/{id}.
	IndicatorRevisionBody struct {
		domain.IndicatorSpec
		Reason string `json:"reason"`
	}
	// ReviewBody: POST /v1/indicators/{id}/review.
	ReviewBody struct {
		Decision string `json:"decision" enum:"approve,request_revision,reject"`
		Comment  string `json:"comment,omitempty"`
	}
	// InnovationReviewBody: POST /v1/innovations/{id}/review; a type of its
	// own so the document can list an outline's decisions.
	InnovationReviewBody struct {
		Decision string `json:"decision" enum:"accept,decline"`
		Comment  string `json:"comment,omitempty"`
	}
	// WithdrawBody: POST /v1/indicators/{id}/withdraw (the body is optional).
	WithdrawBody struct {
		Reason string `json:"reason,omitempty"`
	}
	// ResultBody: POST /v1/indicators/{id}/results.
	ResultBody struct {
		Round     int           `json:"round"`
		Actual    domain.Number `json:"actual"`
		Evidence  []string      `json:"evidence,omitempty"`
		Obstacles string        `json:"obstacles,omitempty"`
	}
	// VerificationBody: POST /v1/indicators/{id}/results/{round}/verification.
	VerificationBody struct {
		Decision       string        `json:"decision" enum:"accept,adjust,reject"`
		VerifiedActual domain.Number `json:"verified_actual,omitempty"`
		Comment        string        `json:"comment,omitempty"`
	}
	// SeriesBody: POST /v1/units/{unit}/series.
	SeriesBody struct {
		TitleTH   string                   `json:"title_th"`
		TitleEN   string                   `json:"title_en,omitempty"`
		Measure   string                   `json:"measure"`
		Direction domain.Direction         `json:"direction"`
		Baseline  domain.Number            `json:"baseline"`
		StartYear int                      `json:"start_year"`
		EndYear   int                      `json:"end_year"`
		Targets   map[string]domain.Number `json:"targets"`
	}
	// InnovationBody: POST /v1/units/{unit}/years/{fy}/innovations.
	InnovationBody struct {
		TitleTH string `json:"title_th"`
		Agency  string `json:"agency"`
		Kind    string `json:"kind" enum:"policy,service,management"`
		Summary string `json:"summary,omitempty"`
	}
	// SelectionBody: POST /v1/innovations/{id}/selection. Selected is a
	// pointer so that a missing field is told from false.
	SelectionBody struct {
		Selected *bool `json:"selected"`
	}
	// unitView is a unit as written, with its version.
	unitView struct {
		domain.Unit
		Version  uint64 `json:"version"`
		Sequence uint64 `json:"sequence"`
	}
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func renderFramework(fy int, kind domain.UnitKind) func(*projections.State) (any, uint64) {
	return func(st *projections.State) (any, uint64) {
		v, _ := projections.NewFrameworkView(st.Frameworks[events.FrameworkID(fy, string(kind))], 0)
		return v, v.Version
	}
}

func renderIndicator(id string) func(*projections.State) (any, uint64) {
	return func(st *projections.State) (any, uint64) {
		v := projections.NewIndicatorView(st.Indicators[id])
		return v, v.Version
	}
}

func renderInnovation(id string) func(*projections.State) (any, uint64) {
	return func(st *projections.State) (any, uint64) {
		v := projections.NewInnovationView(st.Innovations[id])
		return v, v.Version
	}
}

// publishFramework: POST /v1/frameworks.
//
// Reads beyond its aggregate: nothing (whether the year's framework exists
// is its own aggregate). Guard: the framework's own subject.
func (s *Server) publishFramework(c echo.Context) error {
	if err := requireRole(c, domain.RoleOPDC); err != nil {
		return err
	}
	var f domain.Framework
	req, err := decode(c, &f, false)
	if err != nil {
		return err
	}
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.Execute(c.Request().Context(), cmd, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		id := events.FrameworkID(f.FiscalYear, string(f.UnitKind))
		ev, err := domain.PublishFramework(st.Frameworks[id], f)
		return ev, head(st, events.Aggregate{Kind: events.KindFramework, ID: id, FiscalYear: f.FiscalYear}), err
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/v1/frameworks/"+itoa(f.FiscalYear)+"/"+string(f.UnitKind))
	return s.respond(c, http.StatusCreated, w, renderFramework(f.FiscalYear, f.UnitKind))
}

// reviseFramework: POST /v1/frameworks/{fy}/{kind}/revisions.
//
// Reads beyond its aggregate: the components in use, i.e. the live
// indicators of every unit of the kind in the year
// (kpi.u.*.<fy>.indicator.>), which a revision may not remove nor change
// the number of levels under. Guard: the whole log's last sequence
// (Nats-Expected-Last-Sequence), because no subject filter covers both the
// framework (kpi.fw.<fy>.<kind>) and the indicators, and JetStream checks
// the stream's last sequence against writes still in flight on a
// replicated stream, which a wildcard subject guard does not see. A
// revision is rare; any write in between makes it decide again.
func (s *Server) reviseFramework(c echo.Context) error {
	if err := requireRole(c, domain.RoleOPDC); err != nil {
		return err
	}
	fy, err := fiscalYear("fy", c.Param("fy"))
	if err != nil {
		return err
	}
	kind := domain.UnitKind(c.Param("kind"))
	if !kind.Valid() {
		return badRequest("kind", `must be "province" or "department"`)
	}
	if err := requireIfMatchHeader(c); err != nil {
		return err
	}
	var b FrameworkRevisionBody
	req, err := decode(c, &b, false)
	if err != nil {
		return err
	}
	if b.FiscalYear == 0 {
		b.FiscalYear = fy
	}
	if b.UnitKind == "" {
		b.UnitKind = kind
	}
	id := events.FrameworkID(fy, string(kind))
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.ExecuteGuarded(c.Request().Context(), cmd, wholeLog, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		h := st.Frameworks[id]
		if h == nil {
			return nil, events.Aggregate{}, notFound("no FY%d %s framework is published", fy, kind)
		}
		if err := checkIfMatch(cmd.IfMatch, h.Version(), true); err != nil {
			return nil, events.Aggregate{}, err
		}
		ev, err := domain.ReviseFramework(h, b.Framework, b.Reason, st.ComponentsInUse(fy, kind))
		return ev, head(st, events.Aggregate{Kind: events.KindFramework, ID: id, FiscalYear: fy}), err
	})
	if err != nil {
		return err
	}
	return s.respond(c, http.StatusCreated, w, renderFramework(fy, kind))
}

// registerUnit: POST /v1/units.
//
// Reads beyond its aggregate: nothing (provinces are built in; a
// department's registration is its own subject kpi.reg.<code>).
func (s *Server) registerUnit(c echo.Context) error {
	if err := requireRole(c, domain.RoleOPDC); err != nil {
		return err
	}
	var b UnitBody
	req, err := decode(c, &b, false)
	if err != nil {
		return err
	}
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.Execute(c.Request().Context(), cmd, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		_, exists := st.Unit(b.Code)
		ev, err := domain.RegisterDepartment(b.Code, b.Kind, b.NameTH, b.NameEN, exists)
		return ev, head(st, events.Aggregate{Kind: events.KindUnit, ID: b.Code}), err
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/v1/units/"+b.Code)
	return s.respond(c, http.StatusCreated, w, func(st *projections.State) (any, uint64) {
		u, _ := st.Unit(b.Code)
		h := st.Heads[projections.AggregateKey(events.KindUnit, b.Code)]
		return unitView{Unit: u, Version: h.Version, Sequence: h.Seq}, h.Version
	})
}

// proposeIndicator: POST /v1/units/{unit}/years/{fy}/indicators.
//
// Reads beyond its aggregate (a new indicator, so everything it reads is
// beyond it): the unit-year's live indicators (at most 50) and whether one
// of them already belongs to the named series; the year's current
// framework (components, scheme); the named series (unit, years,
// direction; a series is never changed once defined). Guard: the
// unit-year's indicators, kpi.u.<unit>.<fy>.indicator.>. The framework is
// a second boundary no filter shares: the event records the framework
// version it was decided on (framework_version), and the audit trail
// flags a decision on a superseded revision.
func (s *Server) proposeIndicator(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireOwner(c, unit.Code); err != nil {
		return err
	}
	var spec domain.IndicatorSpec
	req, err := decode(c, &spec, false)
	if err != nil {
		return err
	}
	id := newID()
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.ExecuteGuarded(c.Request().Context(), cmd, unitYearIndicators(unit.Code, fy), func(st *projections.State) (domain.Event, events.Aggregate, error) {
		ev, err := domain.ProposeIndicator(id, unit.Code, fy, spec, st.IndicatorContext(unit.Code, fy, unit.Kind, spec, ""))
		return withFrameworkVersion(st, ev, fy, unit.Kind), head(st, events.Aggregate{Kind: events.KindIndicator, ID: id, Unit: unit.Code, FiscalYear: fy}), err
	})
	if err != nil {
		return err
	}
	if w.Replayed {
		id = w.Agg.ID
	}
	c.Response().Header().Set("Location", "/v1/indicators/"+id)
	return s.respond(c, http.StatusCreated, w, renderIndicator(id))
}

// indicatorCommand runs a command on an existing indicator: it finds the
// indicator, checks who may act on it, and hands the decision its state.
//
// unitYear says that the decision reads the unit-year's other indicators,
// and so is guarded by them (see proposeIndicator).
func (s *Server) indicatorCommand(c echo.Context, status int, ifMatchRequired, unitYear bool, body any, optionalBody bool,
	authorize func(c echo.Context, ind *domain.Indicator) error,
	decide func(st *projections.State, ind *domain.Indicator) (domain.Event, error)) error {
	id := c.Param("id")
	var ind domain.Indicator
	found := false
	s.model.Read(func(st *projections.State) {
		if i := st.Indicators[id]; i != nil {
			ind, found = *i, true
		}
	})
	if !found {
		return notFound("no indicator %q", id)
	}
	if err := authorize(c, &ind); err != nil {
		return err
	}
	if ifMatchRequired {
		if err := requireIfMatchHeader(c); err != nil {
			return err
		}
	}
	req, err := decode(c, body, optionalBody)
	if err != nil {
		return err
	}
	var g guardFunc
	if unitYear {
		g = unitYearIndicators(ind.Unit, ind.FiscalYear)
	}
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.ExecuteGuarded(c.Request().Context(), cmd, g, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		cur := st.Indicators[id]
		agg := head(st, events.Aggregate{Kind: events.KindIndicator, ID: id, Unit: cur.Unit, FiscalYear: cur.FiscalYear})
		if err := checkIfMatch(cmd.IfMatch, cur.Version, ifMatchRequired); err != nil {
			return nil, agg, err
		}
		ev, err := decide(st, cur)
		if err != nil {
			return nil, agg, err
		}
		return withFrameworkVersion(st, ev, cur.FiscalYear, s.unitKind(st, cur.Unit)), agg, nil
	})
	if err != nil {
		return err
	}
	return s.respond(c, status, w, renderIndicator(id))
}

// withFrameworkVersion records, in a decision that checked the year's
// framework, the framework version it checked: the framework is a second
// boundary beyond the append's guard, and the audit trail shows it.
func withFrameworkVersion(st *projections.State, ev domain.Event, fy int, kind domain.UnitKind) domain.Event {
	v := st.Frameworks[events.FrameworkID(fy, string(kind))].Version()
	switch e := ev.(type) {
	case domain.IndicatorProposed:
		e.FrameworkVersion = v
		return e
	case domain.IndicatorRevised:
		e.FrameworkVersion = v
		return e
	case domain.IndicatorReviewed:
		if e.Decision == domain.DecisionApprove {
			e.FrameworkVersion = v
		}
		return e
	case domain.ResultReported:
		e.FrameworkVersion = v
		return e
	}
	return ev
}

func ownerOf(c echo.Context, ind *domain.Indicator) error { return requireOwner(c, ind.Unit) }
func opdcOnly(c echo.Context, _ *domain.Indicator) error  { return requireRole(c, domain.RoleOPDC) }

func (s *Server) unitKind(st *projections.State, unit string) domain.UnitKind {
	u, _ := st.Unit(unit)
	return u.Kind
}

// reviseIndicator: PUT /v1/indicators/{id}.
//
// Reads beyond its aggregate: whether another live indicator of the
// unit-year already belongs to the named series; the year's framework;
// the series. Guard: the unit-year's indicators; the framework version is
// recorded (see proposeIndicator).
func (s *Server) reviseIndicator(c echo.Context) error {
	var b IndicatorRevisionBody
	return s.indicatorCommand(c, http.StatusOK, true, true, &b, false, ownerOf, func(st *projections.State, ind *domain.Indicator) (domain.Event, error) {
		return ind.Revise(b.IndicatorSpec, b.Reason, st.IndicatorContext(ind.Unit, ind.FiscalYear, s.unitKind(st, ind.Unit), b.IndicatorSpec, ind.ID))
	})
}

// reviewIndicator: POST /v1/indicators/{id}/review.
//
// Reads beyond its aggregate: on approval, how many indicators of the
// unit-year are approved in its component (at most the framework's
// max_indicators), and the framework's components. Guard: the unit-year's
// indicators; the framework version is recorded on an approval.
func (s *Server) reviewIndicator(c echo.Context) error {
	var b ReviewBody
	return s.indicatorCommand(c, http.StatusOK, true, true, &b, false, opdcOnly, func(st *projections.State, ind *domain.Indicator) (domain.Event, error) {
		return ind.Review(b.Decision, b.Comment, st.IndicatorContext(ind.Unit, ind.FiscalYear, s.unitKind(st, ind.Unit), ind.Spec, ind.ID))
	})
}

// withdrawIndicator: POST /v1/indicators/{id}/withdraw.
//
// Reads beyond its aggregate: nothing. (A withdrawal only lowers the
// counts other decisions check, so it needs no guard of theirs; it moves
// their guard's sequence all the same.)
func (s *Server) withdrawIndicator(c echo.Context) error {
	var b WithdrawBody
	return s.indicatorCommand(c, http.StatusOK, false, false, &b, true, ownerOf, func(_ *projections.State, ind *domain.Indicator) (domain.Event, error) {
		return ind.Withdraw(b.Reason)
	})
}

// reportResult: POST /v1/indicators/{id}/results.
//
// Reads beyond its aggregate: the year's framework (its reporting rounds
// and the standard level that makes obstacles required). Guard: the
// indicator itself; the framework is a second boundary, recorded in the
// event as framework_version.
func (s *Server) reportResult(c echo.Context) error {
	var b ResultBody
	return s.indicatorCommand(c, http.StatusCreated, false, false, &b, false, ownerOf, func(st *projections.State, ind *domain.Indicator) (domain.Event, error) {
		var fw *domain.Framework
		if r := st.Framework(ind.FiscalYear, s.unitKind(st, ind.Unit)); r != nil {
			fw = &r.Framework
		}
		return ind.Report(domain.ResultReported{Round: b.Round, Actual: b.Actual, Evidence: b.Evidence, Obstacles: b.Obstacles}, fw)
	})
}

// verifyResult: POST /v1/indicators/{id}/results/{round}/verification.
//
// Reads beyond its aggregate: nothing.
func (s *Server) verifyResult(c echo.Context) error {
	round, err := pathInt(c, "round")
	if err != nil {
		return err
	}
	var b VerificationBody
	return s.indicatorCommand(c, http.StatusOK, true, false, &b, false, opdcOnly, func(_ *projections.State, ind *domain.Indicator) (domain.Event, error) {
		return ind.Verify(round, b.Decision, b.VerifiedActual, b.Comment)
	})
}

// defineSeries: POST /v1/units/{unit}/series.
//
// Reads beyond its aggregate: nothing (the unit exists: provinces are
// built in, and a department is never unregistered).
func (s *Server) defineSeries(c echo.Context) error {
	unit, err := s.unitOf(c.Param("unit"))
	if err != nil {
		return err
	}
	if err := requireOwner(c, unit.Code); err != nil {
		return err
	}
	var b SeriesBody
	req, err := decode(c, &b, false)
	if err != nil {
		return err
	}
	id := newID()
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.Execute(c.Request().Context(), cmd, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		ev, err := domain.DefineSeries(domain.SeriesDefined{ID: id, Unit: unit.Code, TitleTH: b.TitleTH, TitleEN: b.TitleEN,
			Measure: b.Measure, Direction: b.Direction, Baseline: b.Baseline, StartYear: b.StartYear, EndYear: b.EndYear, Targets: b.Targets})
		return ev, head(st, events.Aggregate{Kind: events.KindSeries, ID: id, Unit: unit.Code, FiscalYear: b.StartYear}), err
	})
	if err != nil {
		return err
	}
	if w.Replayed {
		id = w.Agg.ID
	}
	c.Response().Header().Set("Location", "/v1/units/"+unit.Code+"/series/"+id)
	return s.respond(c, http.StatusCreated, w, func(st *projections.State) (any, uint64) {
		v := projections.NewSeriesView(st.Series[id])
		return v, v.Version
	})
}

// proposeInnovation: POST /v1/units/{unit}/years/{fy}/innovations.
//
// Reads beyond its aggregate: nothing; no rule limits a unit-year's
// outlines.
func (s *Server) proposeInnovation(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireOwner(c, unit.Code); err != nil {
		return err
	}
	var b InnovationBody
	req, err := decode(c, &b, false)
	if err != nil {
		return err
	}
	id := newID()
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.Execute(c.Request().Context(), cmd, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		ev, err := domain.ProposeInnovation(domain.InnovationProposed{ID: id, Unit: unit.Code, FiscalYear: fy,
			TitleTH: b.TitleTH, Agency: b.Agency, Kind: b.Kind, Summary: b.Summary})
		return ev, head(st, events.Aggregate{Kind: events.KindInnovation, ID: id, Unit: unit.Code, FiscalYear: fy}), err
	})
	if err != nil {
		return err
	}
	if w.Replayed {
		id = w.Agg.ID
	}
	return s.respond(c, http.StatusCreated, w, renderInnovation(id))
}

// innovationCommand runs a command on an existing innovation proposal.
func (s *Server) innovationCommand(c echo.Context, body any, authorize func(c echo.Context, n *domain.Innovation) error,
	decide func(n *domain.Innovation) (domain.Event, error)) error {
	id := c.Param("id")
	var n domain.Innovation
	found := false
	s.model.Read(func(st *projections.State) {
		if x := st.Innovations[id]; x != nil {
			n, found = *x, true
		}
	})
	if !found {
		return notFound("no innovation proposal %q", id)
	}
	if err := authorize(c, &n); err != nil {
		return err
	}
	req, err := decode(c, body, false)
	if err != nil {
		return err
	}
	cmd, err := s.command(c, req)
	if err != nil {
		return err
	}
	w, err := s.Execute(c.Request().Context(), cmd, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		cur := st.Innovations[id]
		agg := head(st, events.Aggregate{Kind: events.KindInnovation, ID: id, Unit: cur.Unit, FiscalYear: cur.FiscalYear})
		if err := checkIfMatch(cmd.IfMatch, cur.Version, false); err != nil {
			return nil, agg, err
		}
		ev, err := decide(cur)
		return ev, agg, err
	})
	if err != nil {
		return err
	}
	return s.respond(c, http.StatusOK, w, renderInnovation(id))
}

// selectInnovation: POST /v1/innovations/{id}/selection.
//
// Reads beyond its aggregate: nothing; the SPEC sets no limit on how many
// outlines a unit selects, so selection is the outline's own state.
func (s *Server) selectInnovation(c echo.Context) error {
	var b SelectionBody
	return s.innovationCommand(c, &b, func(c echo.Context, n *domain.Innovation) error { return requireOwner(c, n.Unit) },
		func(n *domain.Innovation) (domain.Event, error) {
			if b.Selected == nil {
				return nil, domain.Invalid("selected", "is required: true sends the outline to OPDC, false takes it back")
			}
			return n.Select(*b.Selected)
		})
}

// reviewInnovation: POST /v1/innovations/{id}/review.
//
// Reads beyond its aggregate: nothing.
func (s *Server) reviewInnovation(c echo.Context) error {
	var b InnovationReviewBody
	return s.innovationCommand(c, &b, func(c echo.Context, _ *domain.Innovation) error { return requireRole(c, domain.RoleOPDC) },
		func(n *domain.Innovation) (domain.Event, error) { return n.Decide(b.Decision, b.Comment) })
}

// unitYearParams parses {unit} and {fy} and checks the unit exists.
func (s *Server) unitYearParams(c echo.Context) (domain.Unit, int, error) {
	fy, err := fiscalYear("fy", c.Param("fy"))
	if err != nil {
		return domain.Unit{}, 0, err
	}
	u, err := s.unitOf(c.Param("unit"))
	return u, fy, err
}

func itoa(n int) string { return strconv.Itoa(n) }

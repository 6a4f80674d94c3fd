package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api/sheets"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// List responses wrap their items so that fields can be added later.
type (
	frameworkList struct {
		Frameworks []projections.FrameworkView `json:"frameworks"`
	}
	unitList struct {
		Units []domain.Unit `json:"units"`
	}
	indicatorList struct {
		Unit       string                      `json:"unit"`
		FiscalYear int                         `json:"fiscal_year"`
		Indicators []projections.IndicatorView `json:"indicators"`
	}
	innovationList struct {
		Unit        string                       `json:"unit"`
		FiscalYear  int                          `json:"fiscal_year"`
		Innovations []projections.InnovationView `json:"innovations"`
	}
	seriesList struct {
		Unit   string                   `json:"unit"`
		Series []projections.SeriesView `json:"series"`
	}
	trendList struct {
		Unit   string                    `json:"unit"`
		Trends []projections.SeriesTrend `json:"trends"`
	}
	eventPage struct {
		Events []*events.Envelope `json:"events"`
		// Next is the `after` value of the next page (the last sequence
		// returned), or the request's own when the page is empty.
		Next uint64 `json:"next"`
		More bool   `json:"more"`
	}
)

// listFrameworks: GET /v1/frameworks — the current revision of each.
func (s *Server) listFrameworks(c echo.Context) error {
	out := frameworkList{Frameworks: []projections.FrameworkView{}}
	s.model.Read(func(st *projections.State) {
		for _, id := range projections.SortedKeys(st.Frameworks) {
			if v, ok := projections.NewFrameworkView(st.Frameworks[id], 0); ok {
				out.Frameworks = append(out.Frameworks, v)
			}
		}
	})
	return c.JSON(http.StatusOK, out)
}

// getFramework: GET /v1/frameworks/{fy}/{kind}?revision=n.
func (s *Server) getFramework(c echo.Context) error {
	fy, err := fiscalYear("fy", c.Param("fy"))
	if err != nil {
		return err
	}
	kind := domain.UnitKind(c.Param("kind"))
	if !kind.Valid() {
		return badRequest("kind", `must be "province" or "department"`)
	}
	rev := 0
	if r := c.QueryParam("revision"); r != "" {
		if rev, err = strconv.Atoi(r); err != nil || rev < 1 {
			return badRequest("revision", "must be a revision number from 1")
		}
	}
	var (
		v  projections.FrameworkView
		ok bool
	)
	s.model.Read(func(st *projections.State) {
		v, ok = projections.NewFrameworkView(st.Frameworks[events.FrameworkID(fy, string(kind))], rev)
	})
	if !ok {
		if rev > 0 {
			return notFound("FY%d %s framework has no revision %d", fy, kind, rev)
		}
		return notFound("no FY%d %s framework is published", fy, kind)
	}
	setETag(c, v.Version)
	return c.JSON(http.StatusOK, v)
}

// listUnits: GET /v1/units.
func (s *Server) listUnits(c echo.Context) error {
	f, err := viewFormat(c)
	if err != nil {
		return err
	}
	if f != formatJSON {
		// A download lists each unit with its total: for ?fiscal_year=
		// when given, else for the unit's latest scored year.
		fy := 0
		if v := c.QueryParam("fiscal_year"); v != "" {
			if fy, err = fiscalYear("fiscal_year", v); err != nil {
				return err
			}
		}
		var rows []sheets.UnitTotal
		s.model.Read(func(st *projections.State) { rows, err = unitTotals(st, principal(c), fy) })
		if err != nil {
			return err
		}
		return answerView(c, rows)
	}
	var out unitList
	s.model.Read(func(st *projections.State) { out.Units = st.Units() })
	return c.JSON(http.StatusOK, out)
}

// getUnit: GET /v1/units/{unit} — where POST /v1/units's Location points.
// A built-in province has version and sequence 0.
func (s *Server) getUnit(c echo.Context) error {
	u, err := s.unitOf(c.Param("unit"))
	if err != nil {
		return err
	}
	var h projections.Head
	s.model.Read(func(st *projections.State) { h = st.Heads[projections.AggregateKey(events.KindUnit, u.Code)] })
	return c.JSON(http.StatusOK, unitView{Unit: u, Version: h.Version, Sequence: h.Seq})
}

// listIndicators: GET /v1/units/{unit}/years/{fy}/indicators.
func (s *Server) listIndicators(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireReader(c, unit.Code); err != nil {
		return err
	}
	out := indicatorList{Unit: unit.Code, FiscalYear: fy, Indicators: []projections.IndicatorView{}}
	s.model.Read(func(st *projections.State) {
		for _, ind := range st.UnitIndicators(unit.Code, fy) {
			out.Indicators = append(out.Indicators, projections.NewIndicatorView(ind))
		}
	})
	return c.JSON(http.StatusOK, out)
}

// getIndicator: GET /v1/indicators/{id}, with its version as ETag.
func (s *Server) getIndicator(c echo.Context) error {
	var (
		v  projections.IndicatorView
		ok bool
	)
	s.model.Read(func(st *projections.State) {
		if ind := st.Indicators[c.Param("id")]; ind != nil {
			v, ok = projections.NewIndicatorView(ind), true
		}
	})
	if !ok {
		return notFound("no indicator %q", c.Param("id"))
	}
	if err := requireReader(c, v.Unit); err != nil {
		return err
	}
	setETag(c, v.Version)
	return c.JSON(http.StatusOK, v)
}

// listInnovations: GET /v1/units/{unit}/years/{fy}/innovations.
func (s *Server) listInnovations(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireReader(c, unit.Code); err != nil {
		return err
	}
	out := innovationList{Unit: unit.Code, FiscalYear: fy, Innovations: []projections.InnovationView{}}
	s.model.Read(func(st *projections.State) {
		for _, n := range st.UnitInnovations(unit.Code, fy) {
			out.Innovations = append(out.Innovations, projections.NewInnovationView(n))
		}
	})
	return c.JSON(http.StatusOK, out)
}

// getInnovation: GET /v1/innovations/{id}.
func (s *Server) getInnovation(c echo.Context) error {
	var (
		v  projections.InnovationView
		ok bool
	)
	s.model.Read(func(st *projections.State) {
		if n := st.Innovations[c.Param("id")]; n != nil {
			v, ok = projections.NewInnovationView(n), true
		}
	})
	if !ok {
		return notFound("no innovation proposal %q", c.Param("id"))
	}
	if err := requireReader(c, v.Unit); err != nil {
		return err
	}
	setETag(c, v.Version)
	return c.JSON(http.StatusOK, v)
}

// listSeries: GET /v1/units/{unit}/series.
func (s *Server) listSeries(c echo.Context) error {
	unit, err := s.readableUnit(c)
	if err != nil {
		return err
	}
	out := seriesList{Unit: unit.Code, Series: []projections.SeriesView{}}
	s.model.Read(func(st *projections.State) {
		for _, id := range st.UnitSeries[unit.Code] {
			out.Series = append(out.Series, projections.NewSeriesView(st.Series[id]))
		}
	})
	return answerView(c, out)
}

// readableUnit resolves the :unit parameter to a known unit that the
// caller may read (requireReader).
func (s *Server) readableUnit(c echo.Context) (domain.Unit, error) {
	unit, err := s.unitOf(c.Param("unit"))
	if err != nil {
		return unit, err
	}
	return unit, requireReader(c, unit.Code)
}

// unitSeries is the unit's long-term series id, or nil when the unit has
// none by that id (another unit's series is not this unit's).
func unitSeries(st *projections.State, unit, id string) *domain.Series {
	if sr := st.Series[id]; sr != nil && sr.Unit == unit {
		return sr
	}
	return nil
}

func noSeries(unit, id string) error {
	return notFound("unit %s has no long-term series %q", unit, id)
}

// getSeries: GET /v1/units/{unit}/series/{id}, with its version as ETag
// — where POST /v1/units/{unit}/series's Location points.
func (s *Server) getSeries(c echo.Context) error {
	unit, err := s.readableUnit(c)
	if err != nil {
		return err
	}
	var (
		v  projections.SeriesView
		ok bool
	)
	s.model.Read(func(st *projections.State) {
		if sr := unitSeries(st, unit.Code, c.Param("id")); sr != nil {
			v, ok = projections.NewSeriesView(sr), true
		}
	})
	if !ok {
		return noSeries(unit.Code, c.Param("id"))
	}
	setETag(c, v.Version)
	return c.JSON(http.StatusOK, v)
}

// trends: GET /v1/units/{unit}/trends.
func (s *Server) trends(c echo.Context) error {
	unit, err := s.readableUnit(c)
	if err != nil {
		return err
	}
	return s.view(c, func(st *projections.State) (any, error) {
		out := trendList{Unit: unit.Code, Trends: projections.BuildTrends(st, unit.Code)}
		if out.Trends == nil {
			out.Trends = []projections.SeriesTrend{}
		}
		return out, nil
	})
}

// trend: GET /v1/units/{unit}/series/{id}/trend.
func (s *Server) trend(c echo.Context) error {
	unit, err := s.readableUnit(c)
	if err != nil {
		return err
	}
	var (
		out projections.SeriesTrend
		ok  bool
	)
	s.model.Read(func(st *projections.State) {
		if sr := unitSeries(st, unit.Code, c.Param("id")); sr != nil {
			out, err = projections.BuildTrend(st, sr.ID)
			ok = true
		}
	})
	if !ok {
		return noSeries(unit.Code, c.Param("id"))
	}
	if err != nil {
		return err
	}
	return answerView(c, out)
}

// ScoreUnderParam reads ?score_under=FY (or FY/kind, to name the kind
// explicitly) and ?revision=n, the framework revision to re-score results
// under; nil when score_under is absent. The dashboard reads its own
// pages' parameters with it too.
func ScoreUnderParam(c echo.Context) (*projections.ScoreUnder, error) {
	v, rv := c.QueryParam("score_under"), c.QueryParam("revision")
	if v == "" {
		if rv != "" {
			return nil, badRequest("revision", "names a revision of the score_under framework: give score_under too")
		}
		return nil, nil
	}
	fyText, kindText, hasKind := strings.Cut(v, "/")
	fy, err := fiscalYear("score_under", fyText)
	if err != nil {
		return nil, err
	}
	su := &projections.ScoreUnder{FiscalYear: fy}
	if hasKind {
		if su.Kind = domain.UnitKind(kindText); !su.Kind.Valid() {
			return nil, badRequest("score_under", `must be a fiscal year, or a fiscal year and a unit kind such as 2562/province`)
		}
	}
	if rv != "" {
		if su.Revision, err = strconv.Atoi(rv); err != nil || su.Revision < 1 {
			return nil, badRequest("revision", "must be a revision number from 1")
		}
	}
	return su, nil
}

// scorecard: GET /v1/units/{unit}/years/{fy}/scorecard(?as_of=RFC3339)
// (&score_under=FY&revision=n).
func (s *Server) scorecard(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireReader(c, unit.Code); err != nil {
		return err
	}
	su, err := ScoreUnderParam(c)
	if err != nil {
		return err
	}
	var under *domain.FrameworkRevision
	if su != nil {
		s.model.Read(func(st *projections.State) { under, err = projections.ResolveScoreUnder(st, unit.Kind, *su) })
		if err != nil {
			return err
		}
	}
	if v := c.QueryParam("as_of"); v != "" {
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return badRequest("as_of", "must be an RFC 3339 instant, e.g. 2020-06-30T00:00:00Z")
		}
		// The framework to re-score under is the one named, as it is now
		// (it was resolved above): as_of cuts the results only.
		sc, err := projections.ScorecardAsOfUnder(c.Request().Context(), s.store, unit, fy, at, under)
		if err != nil {
			return err
		}
		return answerView(c, sc)
	}
	return s.view(c, func(st *projections.State) (any, error) {
		return projections.BuildScorecardUnder(st, unit.Code, fy, under)
	})
}

// comparison: GET /v1/units/{unit}/comparison?from=&to=(&score_under=FY&revision=n).
func (s *Server) comparison(c echo.Context) error {
	unit, err := s.readableUnit(c)
	if err != nil {
		return err
	}
	from, err := fiscalYear("from", c.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := fiscalYear("to", c.QueryParam("to"))
	if err != nil {
		return err
	}
	su, err := ScoreUnderParam(c)
	if err != nil {
		return err
	}
	return s.view(c, func(st *projections.State) (any, error) {
		var under *domain.FrameworkRevision
		if su != nil {
			var err error
			if under, err = projections.ResolveScoreUnder(st, unit.Kind, *su); err != nil {
				return nil, err
			}
		}
		return projections.BuildComparisonUnder(st, unit.Code, from, to, under)
	})
}

// compareFrameworks: GET /v1/frameworks/compare?from=&to=&kind=
// (&score_under=FY&revision=n). A unit officer sees the framework changes
// and only its own unit's totals.
func (s *Server) compareFrameworks(c echo.Context) error {
	from, err := fiscalYear("from", c.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := fiscalYear("to", c.QueryParam("to"))
	if err != nil {
		return err
	}
	kind := domain.UnitKind(c.QueryParam("kind"))
	if kind == "" {
		kind = domain.KindProvince
	}
	if !kind.Valid() {
		return badRequest("kind", `must be "province" or "department"`)
	}
	su, err := ScoreUnderParam(c)
	if err != nil {
		return err
	}
	p := principal(c)
	include := func(unit string) bool { return p.Role != domain.RoleUnit || unit == p.Unit }
	var out projections.FrameworkComparison
	s.model.Read(func(st *projections.State) {
		var under *domain.FrameworkRevision
		if su != nil {
			if under, err = projections.ResolveScoreUnder(st, kind, *su); err != nil {
				return
			}
		}
		out, err = projections.CompareFrameworksUnder(st, kind, from, to, include, under)
	})
	if err != nil {
		return err
	}
	return answerView(c, out)
}

// audit: GET /v1/units/{unit}/years/{fy}/audit.
func (s *Server) audit(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	out, err := projections.BuildAudit(c.Request().Context(), s.store, unit, fy)
	if err != nil {
		return err
	}
	return answerView(c, out)
}

// maxEventPage bounds one page of the raw feed.
const maxEventPage = 1000

// eventFeed: GET /v1/events?after=&limit=&unit=&fiscal_year=.
func (s *Server) eventFeed(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	filters, err := feedFilters(c)
	if err != nil {
		return err
	}
	after, limit := uint64(0), 100
	if v := c.QueryParam("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return badRequest("after", "must be a stream sequence number")
		}
		// Beyond the log's end there is nothing to page through (and
		// after+1 would wrap around at the largest sequence).
		if after == math.MaxUint64 {
			return badRequest("after", "is beyond the end of the log")
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		last, err := s.store.LastSequence(ctx)
		cancel()
		if err == nil && after > last {
			p := badRequest("after", fmt.Sprintf("is beyond the end of the log, whose last sequence is %d", last))
			p.Sequence = &last
			return p
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxEventPage {
			return badRequest("limit", "must be between 1 and "+strconv.Itoa(maxEventPage))
		}
	}
	page := eventPage{Events: []*events.Envelope{}, Next: after}
	// Read one more than asked, to tell whether another page exists.
	err = s.store.Read(c.Request().Context(), events.ReadOptions{Filters: filters, After: after, Limit: limit + 1}, func(e *events.Envelope) error {
		if len(page.Events) == limit {
			page.More = true
			return nil
		}
		page.Events = append(page.Events, e)
		page.Next = e.Sequence
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// feedFilters turns ?unit= and ?fiscal_year= into subject filters. A
// fiscal year alone selects that year's unit aggregates and frameworks.
func feedFilters(c echo.Context) ([]string, error) {
	unit, fyv := c.QueryParam("unit"), c.QueryParam("fiscal_year")
	if unit != "" && !domain.IsUnitCode(unit) {
		return nil, badRequest("unit", "must be a unit code such as TH-50 or cdd")
	}
	fy := 0
	if fyv != "" {
		var err error
		if fy, err = fiscalYear("fiscal_year", fyv); err != nil {
			return nil, err
		}
	}
	switch {
	case unit != "" && fy != 0:
		return []string{events.UnitYearFilter(unit, fy)}, nil
	case unit != "":
		return []string{events.UnitFilter(unit)}, nil
	case fy != 0:
		return []string{"kpi.u.*." + strconv.Itoa(fy) + ".>", "kpi.fw." + strconv.Itoa(fy) + ".*"}, nil
	}
	return nil, nil
}

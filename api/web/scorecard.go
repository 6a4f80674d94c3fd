package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

type scorecardPage struct {
	layout
	Unit  domain.Unit
	FY    int
	Years []int
	// SC is nil when there is nothing to show (no framework for the year,
	// or none yet at the as-of instant); Missing then says why.
	SC      *projections.Scorecard
	Missing string
	Levels  []domain.Level
	// Groups are the indicators under each component, in the framework's
	// order: the table shows one row group per component.
	Groups     []indicatorGroup
	Rows       []scorecardRow
	Components []componentRow
	BandRank   int
	// Others are the unit-year's indicators that do not count (yet): the
	// scorecard holds approved ones only. Shown on the live view only.
	Others []otherIndicator
	// AsOf is set for a scorecard as it stood at an instant.
	AsOf *time.Time
	// AsOfInput is the date field's value. The field has no max: a reader
	// may type a Buddhist Era year, which parseAsOf converts.
	AsOfInput string
	CanAudit  bool
}

// scorecardRow is an indicator with its targets aligned to the framework's
// levels and its component named.
type scorecardRow struct {
	projections.ScorecardIndicator
	ComponentName string
	Targets       []domain.Number
}

type componentRow struct {
	projections.ScorecardComponent
	NameEN string
}

type indicatorGroup struct {
	Component componentRow
	Rows      []scorecardRow
}

type otherIndicator struct {
	TitleTH string
	Status  domain.Status
}

// scorecard: GET /units/{unit}/years/{fy}(?as_of=) — the page of
// GET /v1/units/{unit}/years/{fy}/scorecard, with a date picker for as_of.
func (d *Dashboard) scorecard(c echo.Context, s *session) error {
	u, fy, err := d.unitYearParams(c, s)
	if err != nil {
		return err
	}
	pg := scorecardPage{Unit: u, FY: fy, CanAudit: api.CanAudit(s.P), BandRank: -1}
	pg.layout = newLayout(s, u.NameTH+" · ปีงบประมาณ "+itoa(fy), "units",
		crumb{"หน่วยรับการประเมิน", "/units"}, crumb{u.NameTH, unitPath(u.Code)}, crumb{"ปีงบประมาณ " + itoa(fy), ""})

	var sc projections.Scorecard
	if v := c.QueryParam("as_of"); v != "" {
		at, perr := parseAsOf(v)
		if perr != nil {
			return perr
		}
		pg.AsOf = &at
		pg.AsOfInput = at.In(bangkok).Format("2006-01-02")
		pg.Downloads = downloads("/v1/units/"+u.Code+"/years/"+itoa(fy)+"/scorecard", url.Values{"as_of": {at.UTC().Format(time.RFC3339)}})
		sc, err = projections.ScorecardAsOf(c.Request().Context(), d.store, u, fy, at)
	} else {
		pg.Downloads = downloads("/v1/units/"+u.Code+"/years/"+itoa(fy)+"/scorecard", nil)
		d.model.Read(func(st *projections.State) { sc, err = projections.BuildScorecard(st, u.Code, fy) })
	}
	status := http.StatusOK
	switch {
	case errors.Is(err, domain.ErrNotFound):
		// The page still offers the years and the date picker, so the
		// reader can move on from a date before the framework existed.
		status = http.StatusNotFound
		pg.Missing = "ยังไม่มีกรอบการประเมินของปีงบประมาณนี้สำหรับหน่วยประเภทนี้"
		if pg.AsOf != nil {
			pg.Missing += " ณ เวลาที่เลือก"
		}
		pg.Missing += " (no framework published for this year and unit kind"
		if pg.AsOf != nil {
			pg.Missing += " at that time"
		}
		pg.Missing += ")"
	case err != nil:
		return err
	default:
		pg.SC = &sc
	}

	d.model.Read(func(st *projections.State) {
		pg.Years = unitYears(st, u)
		if pg.SC == nil {
			return
		}
		// The revision that scored the scorecard: revisions never change
		// once published, so the live history has it even for an as-of view.
		h := st.Frameworks[events.FrameworkID(fy, string(u.Kind))]
		if h == nil || sc.FrameworkRevision < 1 || sc.FrameworkRevision > len(h.Revisions) {
			return
		}
		fw := &h.Revisions[sc.FrameworkRevision-1].Framework
		pg.Levels = slices.Clone(fw.Scheme.Levels)
		pg.BandRank = bandRank(fw.Bands, sc.Band)
		for _, ind := range sc.Indicators {
			row := scorecardRow{ScorecardIndicator: ind, ComponentName: ind.Component, Targets: make([]domain.Number, len(pg.Levels))}
			if comp, ok := fw.Component(ind.Component); ok {
				row.ComponentName = comp.NameTH
			}
			for _, t := range ind.Targets {
				if t.Level >= 1 && t.Level <= len(row.Targets) {
					row.Targets[t.Level-1] = t.Target
				}
			}
			pg.Rows = append(pg.Rows, row)
		}
		for _, ct := range sc.Components {
			row := componentRow{ScorecardComponent: ct}
			if comp, ok := fw.Component(ct.Code); ok {
				row.NameEN = comp.NameEN
			}
			pg.Components = append(pg.Components, row)
		}
		pg.Groups = groupByComponent(pg.Rows, pg.Components)
		if pg.AsOf == nil {
			for _, ind := range st.UnitIndicators(u.Code, fy) {
				if ind.Status != domain.StatusApproved {
					pg.Others = append(pg.Others, otherIndicator{TitleTH: ind.Spec.TitleTH, Status: ind.Status})
				}
			}
		}
	})
	d.render(c, status, "scorecard", pg)
	return nil
}

// groupByComponent puts each indicator under its component. An indicator
// of a component the framework revision lacks (possible only in a broken
// history) still shows, in a group of its own at the end.
func groupByComponent(rows []scorecardRow, comps []componentRow) []indicatorGroup {
	groups := make([]indicatorGroup, 0, len(comps)+1)
	placed := make([]bool, len(rows))
	for _, c := range comps {
		g := indicatorGroup{Component: c}
		for i, r := range rows {
			if r.Component == c.Code {
				g.Rows, placed[i] = append(g.Rows, r), true
			}
		}
		if len(g.Rows) > 0 {
			groups = append(groups, g)
		}
	}
	other := indicatorGroup{Component: componentRow{ScorecardComponent: projections.ScorecardComponent{NameTH: "องค์ประกอบที่ไม่อยู่ในกรอบการประเมิน"},
		NameEN: "Component not in the framework"}}
	for i, r := range rows {
		if !placed[i] {
			other.Rows = append(other.Rows, r)
		}
	}
	if len(other.Rows) > 0 {
		groups = append(groups, other)
	}
	return groups
}

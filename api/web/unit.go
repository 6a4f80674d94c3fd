package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

type unitPageData struct {
	layout
	Unit  domain.Unit
	Years []yearRow
	// The year-over-year comparison of two chosen years (?from=&to=).
	CmpYears []int
	From, To int
	Cmp      *projections.Comparison
	CmpNote  string
	// Under shows the later year's results also scored under the earlier
	// year's framework (?under=1, the API's &score_under=<from>);
	// ToggleHref flips it, PosChart draws the positions.
	Under      bool
	ToggleHref string
	PosChart   barChart
	Trends     []trendView
	CanAudit   bool
}

// yearRow is one fiscal year of a unit in the multi-year table.
type yearRow struct {
	FiscalYear int
	Revision   int
	Approved   int
	Scored     int
	Total      domain.Number
	Band       string
	BandRank   int
	// Delta is this year's total minus the previous listed year's, as the
	// API's comparison computes it (exactly, then rounded).
	Delta domain.Number
	// ScaleChanged says the two years score on different scales (a
	// five-level year against a 0–100 one): the delta is arithmetic only.
	ScaleChanged bool
}

type trendView struct {
	projections.SeriesTrend
	Chart chartModel
}

// unitPage: GET /units/{unit}(?from=&to=) — a unit across years: each
// year's total, a year-over-year comparison of two years (the page of
// GET /v1/units/{unit}/comparison) and a chart of every long-term series
// (GET /v1/units/{unit}/trends).
func (d *Dashboard) unitPage(c echo.Context, s *session) error {
	u, err := d.unitParam(c, s)
	if err != nil {
		return err
	}
	pg := unitPageData{Unit: u, CanAudit: api.CanAudit(s.P)}
	pg.layout = newLayout(s, u.NameTH, "units", crumb{"หน่วยรับการประเมิน", "/units"}, crumb{u.NameTH, ""})
	pg.Downloads = downloads("/v1/units/"+u.Code+"/trends", nil)
	var from, to int
	if v := c.QueryParam("from"); v != "" {
		if from, err = fiscalYearParam("from", v); err != nil {
			return err
		}
	}
	if v := c.QueryParam("to"); v != "" {
		if to, err = fiscalYearParam("to", v); err != nil {
			return err
		}
	}
	under := c.QueryParam("under") == "1"
	var (
		trends []projections.SeriesTrend
		cmpErr error
	)
	d.model.Read(func(st *projections.State) {
		if pg.Years, err = yearRows(st, u); err != nil {
			return
		}
		for _, r := range pg.Years {
			pg.CmpYears = append(pg.CmpYears, r.FiscalYear)
		}
		from, to = defaultComparison(pg.Years, from, to)
		if from != 0 && to != 0 {
			var cmp projections.Comparison
			var underFW *domain.FrameworkRevision
			if under && st.Framework(to, u.Kind) != nil {
				underFW = st.Framework(from, u.Kind)
			}
			if cmp, cmpErr = projections.BuildComparisonUnder(st, u.Code, from, to, underFW); cmpErr == nil {
				pg.Cmp = &cmp
			}
		}
		trends = projections.BuildTrends(st, u.Code)
	})
	if err != nil {
		return err
	}
	if cmpErr != nil {
		pe, known := toPageError(cmpErr)
		if !known || pe.Status != http.StatusNotFound {
			return cmpErr
		}
		// Neither chosen year has a framework: say so where the
		// comparison would be, and keep the rest of the page.
		pg.CmpNote = "ไม่มีกรอบการประเมินของปี " + strconv.Itoa(from) + " และ " + strconv.Itoa(to) + " (" + pe.Detail + ")"
	}
	pg.From, pg.To = from, to
	if pg.Cmp != nil {
		pg.Under = pg.Cmp.ScoreUnder != nil
		pg.PosChart = positionChart(pg.Cmp)
		q := url.Values{"from": {strconv.Itoa(from)}, "to": {strconv.Itoa(to)}}
		if !under {
			q.Set("under", "1")
		}
		pg.ToggleHref = unitPath(u.Code) + "?" + q.Encode() + "#cmp-h"
	}
	for _, tr := range trends {
		pg.Trends = append(pg.Trends, trendView{SeriesTrend: tr, Chart: trendChart(tr)})
	}
	d.render(c, http.StatusOK, "unit", pg)
	return nil
}

// yearRows is each fiscal year with a framework for the unit's kind, with
// the unit's total under it and the change from the year before.
func yearRows(st *projections.State, u domain.Unit) ([]yearRow, error) {
	var (
		rows      []yearRow
		prevFY    int
		prevTotal domain.Number
		prevTop   domain.Number
	)
	for _, fy := range unitYears(st, u) {
		fw := st.Framework(fy, u.Kind)
		if fw == nil {
			continue
		}
		sc, err := projections.BuildScorecard(st, u.Code, fy)
		if err != nil {
			return nil, err
		}
		row := yearRow{FiscalYear: fy, Revision: sc.FrameworkRevision, Approved: len(sc.Indicators), Total: sc.Total, Band: sc.Band,
			BandRank: bandRank(fw.Framework.Bands, sc.Band)}
		for _, ind := range sc.Indicators {
			if ind.Score != "" {
				row.Scored++
			}
		}
		if row.Scored == 0 {
			// A total of 0 while nothing is verified is not a result.
			row.Total, row.Band, row.BandRank = "", "", -1
		}
		top := topScore(fw.Framework.Scheme)
		if prevTotal != "" && row.Total != "" {
			cmp, err := projections.BuildComparison(st, u.Code, prevFY, fy)
			if err != nil {
				return nil, err
			}
			row.Delta = cmp.TotalDelta
			row.ScaleChanged = cmpNumbers(prevTop, top) != 0
		}
		rows = append(rows, row)
		prevFY, prevTotal, prevTop = fy, row.Total, top
	}
	return rows, nil
}

// defaultComparison fills in the years to compare when the reader chose
// none: the last two years with a result, else the last two years with a
// framework. A year chosen alone is compared with the one before it.
func defaultComparison(rows []yearRow, from, to int) (int, int) {
	if from != 0 && to != 0 {
		return from, to
	}
	var scored, all []int
	for _, r := range rows {
		all = append(all, r.FiscalYear)
		if r.Total != "" {
			scored = append(scored, r.FiscalYear)
		}
	}
	pick := scored
	if len(pick) < 2 {
		pick = all
	}
	switch {
	case from != 0:
		return from, from + 1
	case to != 0:
		return to - 1, to
	case len(pick) >= 2:
		return pick[len(pick)-2], pick[len(pick)-1]
	}
	return 0, 0
}

// topScore is the score of a scheme's top level: 100 on a 0–100 scale, 5
// on a five-level one.
func topScore(s domain.Scheme) domain.Number {
	if len(s.Levels) == 0 {
		return ""
	}
	return s.Levels[len(s.Levels)-1].Score
}

type seriesPageData struct {
	layout
	Unit  domain.Unit
	Trend trendView
}

// seriesPage: GET /units/{unit}/series/{id} — one long-term series, the
// page of GET /v1/units/{unit}/series/{id}/trend.
func (d *Dashboard) seriesPage(c echo.Context, s *session) error {
	u, err := d.unitParam(c, s)
	if err != nil {
		return err
	}
	var (
		tr projections.SeriesTrend
		ok bool
	)
	d.model.Read(func(st *projections.State) {
		if sr := st.Series[c.Param("id")]; sr != nil && sr.Unit == u.Code {
			tr, err = projections.BuildTrend(st, sr.ID)
			ok = true
		}
	})
	if !ok {
		return notFoundf("%s ไม่มีตัวชี้วัดระยะยาวรหัส %q (unit %s has no long-term series %q)", u.NameTH, c.Param("id"), u.Code, c.Param("id"))
	}
	if err != nil {
		return err
	}
	pg := seriesPageData{Unit: u, Trend: trendView{SeriesTrend: tr, Chart: trendChart(tr)}}
	pg.layout = newLayout(s, tr.TitleTH, "units", crumb{"หน่วยรับการประเมิน", "/units"}, crumb{u.NameTH, unitPath(u.Code)}, crumb{"ตัวชี้วัดระยะยาว", ""})
	pg.Downloads = downloads("/v1/units/"+u.Code+"/series/"+tr.SeriesID+"/trend", nil)
	d.render(c, http.StatusOK, "series", pg)
	return nil
}

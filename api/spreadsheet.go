package api

import (
	"bytes"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api/sheets"
	"github.com/opdc/kpiledger/projections"
)

// Representations a view can be downloaded in.
const (
	formatJSON = "json"
	formatXLSX = "xlsx"
	formatCSV  = "csv"
)

// viewFormat is the representation a view GET asks for: ?format= when
// given, else the first of the Accept header's media types that a view
// has, else JSON.
func viewFormat(c echo.Context) (string, error) {
	switch f := c.QueryParam("format"); f {
	case formatJSON, formatXLSX, formatCSV:
		return f, nil
	case "":
	default:
		return "", badRequest("format", `must be "json", "xlsx" or "csv"`)
	}
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case sheets.MediaXLSX:
			return formatXLSX, nil
		case "text/csv":
			return formatCSV, nil
		case echo.MIMEApplicationJSON:
			return formatJSON, nil
		}
	}
	return formatJSON, nil
}

// answerView answers a view GET in the representation asked for: the view as
// JSON, or its tables as an XLSX workbook or one table as CSV (?sheet=
// picks which; the first by default).
func answerView(c echo.Context, v any) error {
	f, err := viewFormat(c)
	if err != nil {
		return err
	}
	// The representation follows Accept as well as the query.
	c.Response().Header().Add("Vary", echo.HeaderAccept)
	if f == formatJSON {
		return c.JSON(http.StatusOK, v)
	}
	ts, err := tablesOf(v)
	if err != nil {
		return err
	}
	name := downloadName(c)
	var (
		buf   bytes.Buffer
		media string
	)
	switch f {
	case formatXLSX:
		media = sheets.MediaXLSX
		err = sheets.WriteXLSX(&buf, ts)
	case formatCSV:
		var t sheets.Table
		if t, err = pickSheet(c.QueryParam("sheet"), ts); err != nil {
			return err
		}
		if k := c.QueryParam("sheet"); k != "" {
			name += "-" + k
		}
		media = sheets.MediaCSV
		err = sheets.WriteCSV(&buf, t)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + f}))
	return c.Blob(http.StatusOK, media, buf.Bytes())
}

// tablesOf is a view's spreadsheet form.
func tablesOf(v any) ([]sheets.Table, error) {
	switch x := v.(type) {
	case projections.Scorecard:
		return sheets.Scorecard(x), nil
	case projections.Comparison:
		return sheets.Comparison(x), nil
	case projections.FrameworkComparison:
		return sheets.FrameworkComparison(x), nil
	case trendList:
		return sheets.Trends(x.Trends), nil
	case projections.SeriesTrend:
		return sheets.Trends([]projections.SeriesTrend{x}), nil
	case seriesList:
		return sheets.Series(x.Series), nil
	case []sheets.UnitTotal:
		return sheets.Units(x), nil
	case projections.AuditTrail:
		return sheets.Audit(x), nil
	}
	return nil, problem(http.StatusNotAcceptable, "not-acceptable", "No spreadsheet form",
		"this resource is JSON only; format=xlsx and format=csv are for the views (scorecard, comparisons, trends, series, units, audit)")
}

// downloadName names a download after the view's path and the query
// parameters that choose its content: units-TH-50-years-2563-scorecard,
// frameworks-compare-from-2562-to-2563-kind-province.
func downloadName(c echo.Context) string {
	parts := []string{strings.Trim(strings.TrimPrefix(c.Request().URL.Path, "/v1/"), "/")}
	for _, k := range []string{"from", "to", "kind", "fiscal_year", "as_of", "score_under", "revision"} {
		if v := c.QueryParam(k); v != "" {
			parts = append(parts, strings.ReplaceAll(k, "_", "-"), v)
		}
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '-'
	}, strings.Join(parts, "-"))
	return strings.Trim(name, "-")
}

// pickSheet is the table a CSV download holds.
func pickSheet(key string, ts []sheets.Table) (sheets.Table, error) {
	if key == "" && len(ts) > 0 {
		return ts[0], nil
	}
	keys := make([]string, len(ts))
	for i, t := range ts {
		if t.Key == key {
			return t, nil
		}
		keys[i] = t.Key
	}
	return sheets.Table{}, badRequest("sheet", "must be one of this view's tables: "+strings.Join(keys, ", "))
}

// unitTotals is the units list as a spreadsheet exports it: each unit with
// its total for fiscal year fy, or for its latest scored year when fy is 0.
// Totals are left empty for units the caller may not read.
func unitTotals(st *projections.State, p Principal, fy int) ([]sheets.UnitTotal, error) {
	var out []sheets.UnitTotal
	for _, u := range st.Units() {
		row := sheets.UnitTotal{Unit: u}
		if CanRead(p, u.Code) {
			var (
				sc  projections.Scorecard
				ok  bool
				err error
			)
			if fy == 0 {
				sc, ok, err = projections.LatestScored(st, u)
			} else if st.UnitYears[projections.UnitYearKey(u.Code, fy)] != nil && st.Framework(fy, u.Kind) != nil {
				sc, err = projections.BuildScorecard(st, u.Code, fy)
				ok = true
			}
			if err != nil {
				return nil, err
			}
			if ok {
				row.FiscalYear, row.Total, row.Band = sc.FiscalYear, sc.Total, sc.Band
			}
		}
		out = append(out, row)
	}
	return out, nil
}

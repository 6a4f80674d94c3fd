package api

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api/sheets"
	"github.com/opdc/kpiledger/domain"
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

// view answers a view GET in the representation asked for: the view as
// JSON, or its tables as an XLSX workbook or one table as CSV
// (?sheet= picks which; the first by default). name is the download's
// file name without extension, ASCII only.
func view(c echo.Context, v any, name string, tables func() []sheets.Table) error {
	f, err := viewFormat(c)
	if err != nil {
		return err
	}
	if f == formatJSON {
		return c.JSON(http.StatusOK, v)
	}
	ts := tables()
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

// fileName joins a download's name parts: "scorecard-TH-50-2563".
func fileName(parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		switch x := p.(type) {
		case int:
			s[i] = strconv.Itoa(x)
		case string:
			s[i] = x
		case domain.UnitKind:
			s[i] = string(x)
		}
	}
	return strings.Join(s, "-")
}

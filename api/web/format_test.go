package web

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

func TestParseAsOf(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // RFC 3339 in UTC
	}{
		// A date is the end of that day in Thai time.
		{"2020-06-30", "2020-06-30T16:59:59.999999999Z"},
		// The same date typed in the Buddhist Era.
		{"2563-06-30", "2020-06-30T16:59:59.999999999Z"},
		// datetime-local: the end of that minute, Thai time.
		{"2020-06-30T09:15", "2020-06-30T02:15:59.999999999Z"},
		{"2020-06-30T09:15:30", "2020-06-30T02:15:30.999999999Z"},
		// An instant from an audit trail link is taken as is.
		{"2020-11-20T06:00:00.000123Z", "2020-11-20T06:00:00.000123Z"},
		{"2020-11-20T13:00:00+07:00", "2020-11-20T06:00:00Z"},
	} {
		got, err := parseAsOf(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != c.want {
			t.Errorf("%q → %s, want %s", c.in, s, c.want)
		}
	}
	for _, bad := range []string{"yesterday", "2020-13-01", "30/06/2020", "2020-06-30T25:00"} {
		if _, err := parseAsOf(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestThaiDates(t *testing.T) {
	// 23:30 UTC on 30 September 2020 is already 1 October in Thailand:
	// the first day of FY2564.
	at := time.Date(2020, 9, 30, 23, 30, 5, 0, time.UTC)
	if got := thaiDate(at); got != "1 ต.ค. 2563" {
		t.Errorf("thaiDate %q", got)
	}
	if got := thaiDateTime(at); got != "1 ต.ค. 2563 06:30:05 น." {
		t.Errorf("thaiDateTime %q", got)
	}
	if got := fiscalYearSpan(2563); got != "1 ต.ค. 2562 – 30 ก.ย. 2563" {
		t.Errorf("fiscalYearSpan %q", got)
	}
}

func TestNumbers(t *testing.T) {
	for _, c := range []struct {
		n           domain.Number
		num, signed string
		sign        string
	}{
		{"85.625", "85.625", "+85.625", "up"},
		{"-12.25", "-12.25", "−12.25", "down"},
		{"0", "0", "0", "flat"},
		{"", "—", "—", ""},
	} {
		if got := num(c.n); got != c.num {
			t.Errorf("num(%q) = %q", c.n, got)
		}
		if got := signed(c.n); got != c.signed {
			t.Errorf("signed(%q) = %q", c.n, got)
		}
		if got := sign(c.n); got != c.sign {
			t.Errorf("sign(%q) = %q", c.n, got)
		}
	}
	// Absent values sort after every present one.
	ns := []domain.Number{"", "75", "100", "", "66.6667"}
	slices.SortFunc(ns, cmpNumbers)
	if !slices.Equal(ns, []domain.Number{"66.6667", "75", "100", "", ""}) {
		t.Errorf("sorted %q", ns)
	}
}

func TestBandRank(t *testing.T) {
	bands := []domain.Band{{Label: "ระดับต้องปรับปรุง", Min: "0"}, {Label: "ระดับคุณภาพ", Min: "90"},
		{Label: "ระดับมาตรฐานขั้นต้น", Min: "50"}, {Label: "ระดับมาตรฐานขั้นสูง", Min: "75"}}
	for label, want := range map[string]int{"ระดับคุณภาพ": 0, "ระดับมาตรฐานขั้นสูง": 1, "ระดับมาตรฐานขั้นต้น": 2, "ระดับต้องปรับปรุง": 3, "": -1, "อื่น": -1} {
		if got := bandRank(bands, label); got != want {
			t.Errorf("bandRank(%q) = %d, want %d", label, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "/units",
		"/units/TH-50/years/2563":        "/units/TH-50/years/2563",
		"/units/TH-50?from=2563&to=2564": "/units/TH-50?from=2563&to=2564",
		"//evil.example/":                "/units",
		`/\evil.example`:                 "/units",
		"https://evil.example/units":     "/units",
		"javascript:alert(1)":            "/units",
		"units":                          "/units",
		"/signin?next=/x":                "/units",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNiceRange(t *testing.T) {
	for _, c := range []struct {
		values       []float64
		lo, hi, step float64
	}{
		{[]float64{30, 35, 35.5, 40, 41, 45, 46.5}, 30, 50, 5},
		{[]float64{98.72, 98.94}, 98.7, 99, 0.1},
		{[]float64{7}, 6, 8, 0.5},
		{nil, 0, 1, 0.25},
	} {
		lo, hi, step := niceRange(c.values)
		if !near(lo, c.lo) || !near(hi, c.hi) || !near(step, c.step) {
			t.Errorf("niceRange(%v) = %v..%v by %v, want %v..%v by %v", c.values, lo, hi, step, c.lo, c.hi, c.step)
		}
	}
	if d := stepDecimals(0.05); d != 2 { // 0.05 needs two decimals
		t.Errorf("stepDecimals(0.05) = %d", d)
	}
	if d := stepDecimals(5); d != 0 {
		t.Errorf("stepDecimals(5) = %d", d)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestTrendChart(t *testing.T) {
	yes, no := true, false
	id := "01a2-series"
	tr := projections.SeriesTrend{SeriesID: id, TitleTH: "ร้อยละของครัวเรือน", Measure: "ร้อยละ", Direction: domain.DirectionUp,
		Baseline: "30", StartYear: 2563, EndYear: 2565, EndTarget: "45", ProjectedEndValue: "46.5", OnTrack: &yes,
		Points: []projections.TrendPoint{
			{FiscalYear: 2563, Target: "35", VerifiedActual: "35.5", Met: &yes},
			{FiscalYear: 2564, Target: "40", VerifiedActual: "39", Met: &no},
			{FiscalYear: 2565, Target: "45"},
		}}
	m := trendChart(tr)
	if len(m.Targets) != 3 || len(m.Actuals) != 2 || m.Projected == nil || m.Verdict != "on" {
		t.Fatalf("chart: %d targets, %d actuals, projected %v, verdict %s", len(m.Targets), len(m.Actuals), m.Projected, m.Verdict)
	}
	// Years run left to right, from the baseline year.
	if !(m.Baseline.X < m.Targets[0].X && m.Targets[0].X < m.Targets[1].X && m.Targets[1].X < m.Targets[2].X) {
		t.Errorf("x positions %v %v %v %v", m.Baseline.X, m.Targets[0].X, m.Targets[1].X, m.Targets[2].X)
	}
	// Higher values are higher on the page (smaller y), all inside the plot.
	if !(m.Targets[2].Y < m.Targets[0].Y && m.Baseline.Y > m.Targets[0].Y) {
		t.Errorf("y positions: baseline %v, 2563 %v, 2565 %v", m.Baseline.Y, m.Targets[0].Y, m.Targets[2].Y)
	}
	for _, p := range append(append([]chartPoint{m.Baseline, *m.Projected, m.EndTarget}, m.Targets...), m.Actuals...) {
		if p.X < m.Left || p.X > m.Right || p.Y < m.Top || p.Y > m.Bottom {
			t.Errorf("point %+v outside the plot", p)
		}
	}
	if m.Actuals[0].Met != "met" || m.Actuals[1].Met != "missed" {
		t.Errorf("met markers %q %q", m.Actuals[0].Met, m.Actuals[1].Met)
	}
	if !strings.HasPrefix(m.TargetPath, "M") || strings.Count(m.TargetPath, "L") != 3 || strings.Count(m.ActualPath, "L") != 2 {
		t.Errorf("paths %q / %q", m.TargetPath, m.ActualPath)
	}
	if !strings.Contains(m.Desc, "ปี 2564: เป้าหมาย 40, ผล 39 (ไม่บรรลุ (missed))") {
		t.Errorf("description %q", m.Desc)
	}

	// It renders, and the text in it is escaped.
	tr.TitleTH = `<script>x</script>`
	var buf bytes.Buffer
	if err := pages["series"].ExecuteTemplate(&buf, "chart", trendChart(tr)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>") || !strings.Contains(buf.String(), `role="img"`) {
		t.Errorf("chart SVG:\n%s", buf.String())
	}

	// No actual yet: no actual line, no projection, an unknown verdict.
	tr.Points = []projections.TrendPoint{{FiscalYear: 2563, Target: "35"}, {FiscalYear: 2564, Target: "40"}, {FiscalYear: 2565, Target: "45"}}
	tr.OnTrack, tr.ProjectedEndValue = nil, ""
	m = trendChart(tr)
	if m.ActualPath != "" || m.Projected != nil || m.Verdict != "unknown" {
		t.Errorf("no actuals: path %q, projected %v, verdict %s", m.ActualPath, m.Projected, m.Verdict)
	}
}

func TestSortCompareRows(t *testing.T) {
	rows := []compareRow{
		{UnitTotals: projections.UnitTotals{Unit: "TH-57", NameTH: "เชียงราย", FromTotal: "85", ToTotal: "72.75", Delta: "-12.25",
			Change: projections.StandingChange{PositionChange: "-0.1225"}}},
		{UnitTotals: projections.UnitTotals{Unit: "TH-50", NameTH: "เชียงใหม่", FromTotal: "84.375", ToTotal: "85.625", Delta: "1.25",
			Change: projections.StandingChange{PositionChange: "0.0125"}}},
		{UnitTotals: projections.UnitTotals{Unit: "TH-54", NameTH: "แพร่", FromTotal: "70", ToTotal: "", Delta: ""}},
		{UnitTotals: projections.UnitTotals{Unit: "TH-62", NameTH: "กำแพงเพชร", FromTotal: "90", ToTotal: "90", Delta: "0",
			Change: projections.StandingChange{PositionChange: "0"}}},
	}
	order := func() []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Unit)
		}
		return out
	}
	for _, c := range []struct {
		key, dir string
		want     []string
	}{
		{"to", "desc", []string{"TH-62", "TH-50", "TH-57", "TH-54"}},
		{"to", "asc", []string{"TH-57", "TH-50", "TH-62", "TH-54"}},
		{"delta", "asc", []string{"TH-57", "TH-62", "TH-50", "TH-54"}},
		{"unit", "asc", []string{"TH-50", "TH-54", "TH-57", "TH-62"}},
		// Thai order: กำแพงเพชร, เชียงราย, เชียงใหม่, แพร่.
		{"name", "asc", []string{"TH-62", "TH-57", "TH-50", "TH-54"}},
		// Position change; a unit without one sorts last either way.
		{"move", "desc", []string{"TH-50", "TH-62", "TH-57", "TH-54"}},
		{"move", "asc", []string{"TH-57", "TH-62", "TH-50", "TH-54"}},
	} {
		sortCompareRows(rows, c.key, c.dir)
		if got := order(); !slices.Equal(got, c.want) {
			t.Errorf("sort %s %s: %v, want %v", c.key, c.dir, got, c.want)
		}
	}
	hs := sortHeaders(columnsFor(true), domain.KindProvince, 2563, 2564, true, "delta", "asc")
	if len(hs) != len(compareColumns)+len(underColumns) || !strings.Contains(hs[0].Href, "under=1") {
		t.Errorf("headers with the re-scored columns: %+v", hs)
	}
	for _, h := range hs {
		switch h.Key {
		case "delta":
			if h.AriaSort != "ascending" || !strings.Contains(h.Href, "dir=desc") {
				t.Errorf("delta header %+v", h)
			}
		case "to":
			if h.AriaSort != "" || !strings.Contains(h.Href, "dir=desc") || !strings.Contains(h.Href, "from=2563") {
				t.Errorf("to header %+v", h)
			}
		}
	}
}

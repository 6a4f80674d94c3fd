package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// A trend chart is computed here as plain geometry and drawn by the
// "chart" template in parts.html, so that html/template escapes every text
// in it (series titles are user input) and the SVG needs no script. The
// chart is a picture of the trend's table, which the page shows beside it
// for screen readers and for exact values.

// chartModel is one long-term series drawn as an SVG line chart: the
// target line from the baseline through each year's target, the verified
// actuals, the projection to the end year at the pace so far, and a marker
// at the end-year target saying whether the series is on track.
type chartModel struct {
	ID         string
	W, H       int
	YLabel     string
	Title      string
	Desc       string
	Left       float64
	Right      float64
	Top        float64
	Bottom     float64
	YTicks     []chartTick
	XTicks     []chartTick
	TargetPath string
	Targets    []chartPoint
	ActualPath string
	Actuals    []chartPoint
	// ProjectionPath runs from the latest actual to the projected
	// end-year value; empty without an actual.
	ProjectionPath string
	Projected      *chartPoint
	Baseline       chartPoint
	EndTarget      chartPoint
	// Verdict is the on-track marker's state: "on", "off" or "unknown".
	Verdict     string
	VerdictText string
	LegendY     float64
}

type chartTick struct {
	Pos   float64
	Label string
}

type chartPoint struct {
	X, Y  float64
	Label string
	// LX, LY and Anchor place the value's label (see placeLabels).
	LX, LY float64
	Anchor string
	// Met is "met", "missed" or "" (a target, or no verdict).
	Met string
}

// Chart geometry, in SVG user units; the SVG scales to the page width.
const (
	chartW      = 720
	chartH      = 380
	chartLeft   = 70
	chartRight  = 690
	chartTop    = 48
	chartBottom = 280
)

// trendChart lays out a series' trend.
func trendChart(tr projections.SeriesTrend) chartModel {
	m := chartModel{ID: "chart-" + safeID(tr.SeriesID), W: chartW, H: chartH,
		Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom, LegendY: chartBottom + 62}
	m.YLabel = "หน่วย: " + tr.Measure
	m.Title = fmt.Sprintf("แนวโน้ม: %s (%s) ปีงบประมาณ %d–%d", tr.TitleTH, tr.Measure, tr.StartYear, tr.EndYear)

	// The baseline belongs to the year before the series starts (the
	// on-track rule draws its line from there).
	first := tr.StartYear - 1
	slots := tr.EndYear - first
	x := func(fy int) float64 {
		if slots <= 0 {
			return chartLeft
		}
		return chartLeft + 30 + float64(fy-first)*(chartRight-chartLeft-60)/float64(slots)
	}

	values := []float64{}
	add := func(n domain.Number) {
		if n != "" {
			values = append(values, n.Float64())
		}
	}
	add(tr.Baseline)
	add(tr.ProjectedEndValue)
	for _, p := range tr.Points {
		add(p.Target)
		add(p.VerifiedActual)
	}
	lo, hi, step := niceRange(values)
	y := func(v float64) float64 {
		return chartBottom - (v-lo)/(hi-lo)*(chartBottom-chartTop)
	}
	decimals := stepDecimals(step)
	for v := lo; v <= hi+step/2; v += step {
		m.YTicks = append(m.YTicks, chartTick{Pos: y(v), Label: strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	m.XTicks = append(m.XTicks, chartTick{Pos: x(first), Label: fmt.Sprintf("%d (ฐาน)", first)})
	for _, p := range tr.Points {
		m.XTicks = append(m.XTicks, chartTick{Pos: x(p.FiscalYear), Label: strconv.Itoa(p.FiscalYear)})
	}

	var desc []string
	if tr.Baseline != "" {
		m.Baseline = chartPoint{X: x(first), Y: y(tr.Baseline.Float64()), Label: string(tr.Baseline)}
		m.Baseline.LX, m.Baseline.LY, m.Baseline.Anchor = m.Baseline.X+10, m.Baseline.Y+18, "start"
		if m.Baseline.LY > chartBottom-4 {
			m.Baseline.LY = m.Baseline.Y - 10
		}
		desc = append(desc, fmt.Sprintf("ค่าฐาน ปี %d: %s", first, tr.Baseline))
	}
	var target, actual pathBuilder
	if tr.Baseline != "" {
		target.to(m.Baseline.X, m.Baseline.Y)
		actual.to(m.Baseline.X, m.Baseline.Y)
	}
	var last *chartPoint
	for _, p := range tr.Points {
		line := fmt.Sprintf("ปี %d: เป้าหมาย %s", p.FiscalYear, num(p.Target))
		var t, a *chartPoint
		if p.Target != "" {
			t = &chartPoint{X: x(p.FiscalYear), Y: y(p.Target.Float64()), Label: string(p.Target)}
			target.to(t.X, t.Y)
		}
		if p.VerifiedActual != "" {
			a = &chartPoint{X: x(p.FiscalYear), Y: y(p.VerifiedActual.Float64()), Label: string(p.VerifiedActual)}
			if p.Met != nil {
				a.Met = map[bool]string{true: "met", false: "missed"}[*p.Met]
				line += fmt.Sprintf(", ผล %s (%s)", p.VerifiedActual, metTH(p.Met))
			} else {
				line += fmt.Sprintf(", ผล %s", p.VerifiedActual)
			}
			actual.to(a.X, a.Y)
		} else {
			line += ", ยังไม่มีผลที่ตรวจสอบแล้ว"
		}
		placeLabels(a, t)
		if t != nil {
			m.Targets = append(m.Targets, *t)
		}
		if a != nil {
			m.Actuals = append(m.Actuals, *a)
			last = &m.Actuals[len(m.Actuals)-1]
		}
		desc = append(desc, line)
	}
	m.TargetPath = target.String()
	if len(m.Actuals) > 0 {
		m.ActualPath = actual.String()
	}
	if last != nil && tr.ProjectedEndValue != "" {
		// Once the end year has its actual, the projection is that actual:
		// only a projection into years still to come is drawn.
		if p := (chartPoint{X: x(tr.EndYear), Y: y(tr.ProjectedEndValue.Float64()), Label: "≈ " + string(tr.ProjectedEndValue)}); p.X > last.X {
			var proj pathBuilder
			proj.to(last.X, last.Y)
			proj.to(p.X, p.Y)
			m.ProjectionPath = proj.String()
			// Left of the point, on the side away from the end-year target.
			p.LX, p.Anchor = p.X-12, "end"
			p.LY = p.Y - 10
			if tr.EndTarget != "" && y(tr.EndTarget.Float64()) < p.Y {
				p.LY = p.Y + 18
			}
			m.Projected = &p
		}
		desc = append(desc, fmt.Sprintf("ค่าคาดการณ์ปี %d ตามแนวโน้ม: %s", tr.EndYear, tr.ProjectedEndValue))
	}
	if tr.EndTarget != "" {
		m.EndTarget = chartPoint{X: x(tr.EndYear), Y: y(tr.EndTarget.Float64()), Label: string(tr.EndTarget)}
	}
	m.Verdict, m.VerdictText = verdict(tr.OnTrack)
	desc = append(desc, m.VerdictText)
	m.Desc = strings.Join(desc, "; ")
	return m
}

// placeLabels puts a year's actual and target labels on opposite sides of
// their points — the actual's on the side away from the target — so that
// two close values do not print over each other, and keeps a label that
// would fall onto the year axis above its point instead.
func placeLabels(actual, target *chartPoint) {
	const above, below = -11.0, 19.0
	actualAbove := actual != nil && (target == nil || actual.Y <= target.Y)
	if actual != nil {
		actual.LX, actual.Anchor = actual.X, "middle"
		actual.LY = actual.Y + below
		if actualAbove || actual.LY > chartBottom-4 {
			actual.LY = actual.Y + above
		}
	}
	if target != nil {
		target.LX, target.Anchor = target.X+9, "start"
		target.LY = target.Y + below
		if (actual != nil && !actualAbove) || target.LY > chartBottom-4 {
			target.LY = target.Y + above
		}
	}
}

func verdict(onTrack *bool) (string, string) {
	switch {
	case onTrack == nil:
		return "unknown", "ยังไม่มีผลที่ตรวจสอบแล้ว (no verified result yet)"
	case *onTrack:
		return "on", "✓ อยู่ในแนวทางบรรลุเป้าหมายปลายทาง (on track)"
	}
	return "off", "✗ ไม่อยู่ในแนวทางบรรลุเป้าหมายปลายทาง (off track)"
}

// onTrackTH is the verdict for tables and badges.
func onTrackTH(onTrack *bool) string {
	_, text := verdict(onTrack)
	return text
}

// metTH says whether one year's actual met its target.
func metTH(met *bool) string {
	switch {
	case met == nil:
		return "—"
	case *met:
		return "บรรลุ (met)"
	}
	return "ไม่บรรลุ (missed)"
}

// niceRange widens [min, max] of the values to round tick steps (1, 2 or
// 5 × 10ⁿ) with four or five intervals, so axis labels read naturally.
func niceRange(values []float64) (lo, hi, step float64) {
	if len(values) == 0 {
		return 0, 1, 0.25
	}
	lo, hi = values[0], values[0]
	for _, v := range values[1:] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		pad := math.Max(math.Abs(lo)*0.1, 1)
		lo, hi = lo-pad, hi+pad
	}
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step, step
}

// stepDecimals is how many decimals a tick step needs (0.25 → 2, 5 → 0).
func stepDecimals(step float64) int {
	for d := 0; d < 6; d++ {
		if s := step * math.Pow(10, float64(d)); math.Abs(s-math.Round(s)) < 1e-9 {
			return d
		}
	}
	return 6
}

// pathBuilder writes an SVG path of straight segments.
type pathBuilder struct{ b strings.Builder }

func (p *pathBuilder) to(x, y float64) {
	cmd := "L"
	if p.b.Len() == 0 {
		cmd = "M"
	} else {
		p.b.WriteByte(' ')
	}
	fmt.Fprintf(&p.b, "%s%.1f,%.1f", cmd, x, y)
}

func (p *pathBuilder) String() string { return p.b.String() }

// safeID keeps an element id to letters, digits and dashes.
func safeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A bar chart draws counts or scale positions as horizontal bars, in
// groups: units per band for each year of a framework comparison, or one
// unit's place on each year's scale. Like the trend chart it is plain
// geometry for the "bars" template, and the page shows the same figures
// in a table beside it.

// barChart is a horizontal bar chart.
type barChart struct {
	ID    string
	W, H  float64
	Title string
	Desc  string
	// Left and Right bound the bars' area; Zero is the x of value 0.
	Left, Right, Zero float64
	Top, Bottom       float64
	Ticks             []chartTick
	Rows              []barRow
	// Spans are the vertical extents of the groups' bars: the grid is
	// drawn behind the bars only, not through the groups' headings.
	Spans []barSpan
}

type barSpan struct{ Y1, Y2 float64 }

// barRow is a group heading (Heading) or one bar.
type barRow struct {
	Heading bool
	Label   string
	Y       float64 // the row's text baseline
	X, W    float64 // the bar's rectangle, left edge and width
	Value   string  // the figure drawn beside the bar, as the API gives it
	Key     string  // what the bar stands for (a band's label, a year)
	Series  string  // "from", "to" or "under": the bar's colour
	VX      float64 // where the figure is written
}

// barGroup is one group of bars: a heading and its bars.
type barGroup struct {
	Heading string
	Series  string
	Bars    []barInput
}

type barInput struct {
	Label  string
	Key    string
	Value  domain.Number
	Series string // overrides the group's
}

// Bar chart geometry, in SVG user units.
const (
	barW       = 720
	barLeft    = 250
	barRight   = 650
	barRowH    = 24
	barHeadH   = 30
	barTop     = 30
	barAxisPad = 26
)

// newBarChart lays out groups of bars on a scale from lo to hi (lo ≤ 0).
func newBarChart(id, title string, groups []barGroup, lo, hi float64, tickStep float64) barChart {
	m := barChart{ID: id, W: barW, Title: title, Left: barLeft, Right: barRight, Top: barTop}
	x := func(v float64) float64 {
		if hi <= lo {
			return barLeft
		}
		return barLeft + (v-lo)/(hi-lo)*(barRight-barLeft)
	}
	m.Zero = x(0)
	y := float64(barTop)
	var desc []string
	for _, g := range groups {
		y += barHeadH
		m.Rows = append(m.Rows, barRow{Heading: true, Label: g.Heading, Y: y - 8})
		span := barSpan{Y1: y}
		var parts []string
		for _, b := range g.Bars {
			y += barRowH
			v := b.Value.Float64()
			left, right := x(math.Min(0, v)), x(math.Max(0, v))
			r := barRow{Label: b.Label, Key: b.Key, Series: g.Series, Y: y - 7, X: left, W: right - left, Value: num(b.Value)}
			if b.Series != "" {
				r.Series = b.Series
			}
			r.VX = right + 6
			m.Rows = append(m.Rows, r)
			parts = append(parts, fmt.Sprintf("%s %s", b.Label, num(b.Value)))
		}
		span.Y2 = y + 4
		m.Spans = append(m.Spans, span)
		desc = append(desc, g.Heading+": "+strings.Join(parts, ", "))
	}
	m.Bottom = y + 8
	for v := lo; v <= hi+tickStep/2; v += tickStep {
		m.Ticks = append(m.Ticks, chartTick{Pos: x(v), Label: strconv.FormatFloat(v, 'f', stepDecimals(tickStep), 64)})
	}
	m.H = m.Bottom + barAxisPad
	m.Desc = strings.Join(desc, "; ")
	return m
}

// distributionChart draws units per band for each year of a framework
// comparison, and for the later year re-scored when it is shown.
func distributionChart(fc *projections.FrameworkComparison) barChart {
	groups := []barGroup{
		{Heading: fmt.Sprintf("ปี %d ตามกรอบปี %d (FY%d under its own framework)", fc.From, fc.From, fc.From), Series: "from", Bars: bandBars(fc.Distribution.From)},
		{Heading: fmt.Sprintf("ปี %d ตามกรอบปี %d (FY%d under its own framework)", fc.To, fc.To, fc.To), Series: "to", Bars: bandBars(fc.Distribution.To)},
	}
	if fc.ScoreUnder != nil {
		groups = append(groups, barGroup{Heading: fmt.Sprintf("ปี %d ตามกรอบปี %d (FY%d's results under FY%d's framework)", fc.To, fc.ScoreUnder.ScoreUnder, fc.To, fc.ScoreUnder.ScoreUnder),
			Series: "under", Bars: bandBars(fc.Distribution.ToUnder)})
	}
	hi := 1.0
	for _, g := range groups {
		for _, b := range g.Bars {
			hi = math.Max(hi, b.Value.Float64())
		}
	}
	_, top, step := niceRange([]float64{0, hi})
	return newBarChart("distribution-chart", fmt.Sprintf("จำนวนหน่วยในแต่ละระดับผลการประเมิน ปี %d และ %d (units per band)", fc.From, fc.To), groups, 0, top, step)
}

func bandBars(counts []projections.BandCount) []barInput {
	out := make([]barInput, len(counts))
	for i, c := range counts {
		out[i] = barInput{Label: c.Label, Key: c.Label, Value: domain.Number(strconv.Itoa(c.Units))}
	}
	return out
}

// positionChart draws one unit's position on each year's scale: the
// earlier year, the later year, and the later year re-scored when shown.
func positionChart(c *projections.Comparison) barChart {
	st := c.Standings
	var bars []barInput
	add := func(label, key string, s *projections.Standing) {
		if s != nil && s.Position != "" {
			bars = append(bars, barInput{Label: label, Key: key, Value: s.Position, Series: key})
		}
	}
	add(fmt.Sprintf("ปี %d ตามกรอบปี %d", c.From, c.From), "from", st.From)
	add(fmt.Sprintf("ปี %d ตามกรอบปี %d", c.To, c.To), "to", st.To)
	if c.ScoreUnder != nil {
		add(fmt.Sprintf("ปี %d ตามกรอบปี %d", c.To, c.ScoreUnder.ScoreUnder), "under", st.ToUnder)
	}
	lo := 0.0
	for _, b := range bars {
		lo = math.Min(lo, b.Value.Float64())
	}
	if lo < 0 {
		lo = math.Floor(lo*4) / 4
	}
	groups := []barGroup{{Heading: "ตำแหน่งบนมาตรวัดของกรอบ 0 (ต่ำสุด) ถึง 1 (สูงสุด) · position on the framework's scale", Series: "position", Bars: bars}}
	return newBarChart("position-chart", fmt.Sprintf("%s: ตำแหน่งบนมาตรวัด ปี %d และ %d (scale position)", c.UnitNameTH, c.From, c.To), groups, lo, 1, 0.25)
}

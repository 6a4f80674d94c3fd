package domain

import "testing"

// Benchmarks of the scoring engine, for benchstat: one indicator scored by
// interpolation (the common case), and a unit-year's rollup.

func BenchmarkScoreActualThreeLevel(b *testing.B) {
	s, targets := threeLevel(), nums("98.72", "98.84", "98.90")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ScoreActual(s, DirectionUp, targets, "98.87"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScoreActualFiveLevelDown(b *testing.B) {
	s, targets := fiveLevel(), nums("100", "90", "80", "70", "60")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ScoreActual(s, DirectionDown, targets, "85"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRollUpWeighted rolls up SPEC.md's FY2564 department example:
// weights 20/25/25/15/15, scores 100/87.5/75/66.6667/100.
func BenchmarkRollUpWeighted(b *testing.B) {
	f := &Framework{Rollup: RollupWeighted,
		Components: []Component{{Code: "performance", Weight: "70", MinIndicators: 3, MaxIndicators: 5}, {Code: "potential", Weight: "30", MinIndicators: 1, MaxIndicators: 2}},
		Bands:      []Band{{Label: "ระดับคุณภาพ", Min: "90"}, {Label: "ระดับมาตรฐานขั้นสูง", Min: "75"}, {Label: "ระดับมาตรฐานขั้นต้น", Min: "50"}, {Label: "ระดับต้องปรับปรุง", Min: "0"}}}
	var items []ScoredIndicator
	for i, w := range []Number{"20", "25", "25", "15", "15"} {
		c := "performance"
		if i >= 3 {
			c = "potential"
		}
		items = append(items, ScoredIndicator{Component: c, Weight: w, Score: Number([]string{"100", "87.5", "75", "66.6667", "100"}[i]).Rat()})
	}
	b.ReportAllocs()
	for b.Loop() {
		if t := RollUp(f, items); t.Band == "" {
			b.Fatal("no band")
		}
	}
}

// BenchmarkDecideReport is the decision behind POST …/results: validation
// of a report with evidence and obstacles against the framework.
func BenchmarkDecideReport(b *testing.B) {
	f := &Framework{Scheme: threeLevel(), Rounds: []int{6, 12}}
	ind := &Indicator{Status: StatusApproved, FiscalYear: 2563, Spec: IndicatorSpec{Direction: DirectionUp, Targets: nums("98.72", "98.84", "98.90")}}
	r := ResultReported{Round: 12, Actual: "98.80", Evidence: []string{"รายงานผลการดำเนินงานประจำรอบการประเมิน ลงนามโดยผู้ว่าราชการจังหวัด", "https://kpi.opdc.go.th/e/1.pdf"}}
	b.ReportAllocs()
	for b.Loop() {
		// Below the standard level without obstacles: refused, so the
		// scoring runs too; then with obstacles: accepted.
		if _, err := ind.Report(r, f); err == nil {
			b.Fatal("accepted without obstacles")
		}
		r2 := r
		r2.Obstacles = "งบประมาณได้รับการจัดสรรล่าช้า"
		if _, err := ind.Report(r2, f); err != nil {
			b.Fatal(err)
		}
	}
}

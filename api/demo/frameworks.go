package demo

import "github.com/opdc/kpiledger/domain"

// The demo's fiscal years (Buddhist Era).
const (
	// FirstYear is FY2561 (October 2017 – September 2018), the last year
	// of the five-component framework.
	FirstYear = 2561
	// LastYear is FY2567 (October 2023 – September 2024).
	LastYear = 2567
)

// Component codes used by the demo frameworks.
const (
	compFunction    = "function"
	compAgenda      = "agenda"
	compArea        = "area"
	compInnovation  = "innovation"
	compPotential   = "potential"
	compPerformance = "performance"
)

var (
	// fiveLevels is the 1–5 scheme of FY2561–FY2562: a result below level 1
	// still scores 1.
	fiveLevels = domain.Scheme{Levels: []domain.Level{
		{Label: "ระดับ 1", Score: "1"}, {Label: "ระดับ 2", Score: "2"}, {Label: "ระดับ 3", Score: "3"},
		{Label: "ระดับ 4", Score: "4"}, {Label: "ระดับ 5", Score: "5"}}, BelowFirst: "1"}
	// threeLevels is the ขั้นต้น/มาตรฐาน/ขั้นสูง scheme from FY2563 on.
	threeLevels = domain.Scheme{Levels: []domain.Level{
		{Label: "ขั้นต้น", Score: "50"}, {Label: "มาตรฐาน", Score: "75"}, {Label: "ขั้นสูง", Score: "100"}}, BelowFirst: "0"}

	fiveLevelBands = []domain.Band{{Label: "ดีเด่น", Min: "4.5"}, {Label: "ดีมาก", Min: "3.5"}, {Label: "ดี", Min: "2.5"},
		{Label: "พอใช้", Min: "1.5"}, {Label: "ต้องปรับปรุง", Min: "0"}}
	threeLevelBands = []domain.Band{{Label: "ระดับคุณภาพ", Min: "90"}, {Label: "ระดับมาตรฐานขั้นสูง", Min: "75"},
		{Label: "ระดับมาตรฐานขั้นต้น", Min: "50"}, {Label: "ระดับต้องปรับปรุง", Min: "0"}}
)

// framework returns the framework OPDC publishes for a fiscal year and unit
// kind: FY2561 five weighted components; FY2562–FY2563 two components
// averaged without weights (five levels, then three); FY2564 on Performance
// Base 70 % and Potential Base 30 % on the three levels.
func framework(fy int, kind domain.UnitKind) domain.Framework {
	f := domain.Framework{FiscalYear: fy, UnitKind: kind}
	performance := domain.Component{Code: compPerformance, NameTH: "การประเมินประสิทธิผลการดำเนินงาน", NameEN: "Performance Base"}
	potential := domain.Component{Code: compPotential, NameTH: "การประเมินศักยภาพในการดำเนินงาน", NameEN: "Potential Base"}
	switch {
	case fy == 2561:
		f.Components = []domain.Component{
			{Code: compFunction, NameTH: "การประเมินผลการปฏิบัติราชการตามภารกิจหลัก", NameEN: "Function Base", Weight: "20", MinIndicators: 1, MaxIndicators: 5},
			{Code: compAgenda, NameTH: "การประเมินผลการปฏิบัติราชการตามนโยบายสำคัญเร่งด่วน", NameEN: "Agenda Base", Weight: "30", MinIndicators: 1, MaxIndicators: 5},
			{Code: compArea, NameTH: "การประเมินผลการปฏิบัติราชการตามภารกิจพื้นที่", NameEN: "Area Base", Weight: "20", MinIndicators: 1, MaxIndicators: 5},
			{Code: compInnovation, NameTH: "การประเมินผลการพัฒนานวัตกรรม", NameEN: "Innovation Base", Weight: "10", MinIndicators: 1, MaxIndicators: 2},
			{Code: compPotential, NameTH: "การประเมินศักยภาพในการดำเนินการ", NameEN: "Potential Base", Weight: "20", MinIndicators: 1, MaxIndicators: 3},
		}
		f.Scheme, f.Rollup, f.Bands, f.Rounds = fiveLevels, domain.RollupWeighted, fiveLevelBands, []int{6, 9, 12}
	case fy == 2562:
		performance.MinIndicators, performance.MaxIndicators = 1, 5
		potential.MinIndicators, potential.MaxIndicators = 1, 3
		f.Components = []domain.Component{performance, potential}
		f.Scheme, f.Rollup, f.Bands, f.Rounds = fiveLevels, domain.RollupComponentMean, fiveLevelBands, []int{6, 9, 12}
	case fy == 2563:
		performance.MinIndicators, performance.MaxIndicators = 1, 5
		potential.MinIndicators, potential.MaxIndicators = 1, 2
		f.Components = []domain.Component{performance, potential}
		f.Scheme, f.Rollup, f.Bands, f.Rounds = threeLevels, domain.RollupComponentMean, threeLevelBands, []int{6, 9, 12}
	default:
		performance.Weight, performance.MinIndicators, performance.MaxIndicators = "70", 3, 5
		potential.Weight, potential.MinIndicators, potential.MaxIndicators = "30", 2, 2
		f.Components = []domain.Component{performance, potential}
		f.Scheme, f.Rollup, f.Bands, f.Rounds = threeLevels, domain.RollupWeighted, threeLevelBands, []int{12}
	}
	return f
}

// revisedFY2563Province is the demo's one framework revision: in April 2020
// OPDC dropped the nine-month round for provinces, which were busy with
// COVID-19 control. Components and levels stay, so every indicator already
// proposed still fits.
func revisedFY2563Province() (domain.Framework, string) {
	f := framework(2563, domain.KindProvince)
	f.Rounds = []int{6, 12}
	return f, "งดการรายงานผลรอบ 9 เดือน เนื่องจากจังหวัดต้องระดมบุคลากรควบคุมการแพร่ระบาดของโรคติดเชื้อไวรัสโคโรนา 2019 (COVID-19)"
}

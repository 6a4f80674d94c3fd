package api

import (
	"testing"

	"github.com/opdc/kpiledger/domain"
)

// FuzzDecodeRequest feeds arbitrary bytes to the strict decoder of every
// request body, then hands whatever decodes to the domain's validation, as
// a handler would. Nothing may panic: bad input is a 400, never a 500.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []string{
		`{"fiscal_year": 2564, "unit_kind": "department", "components": [{"code": "performance", "name_th": "ก", "weight": 70, "min_indicators": 3, "max_indicators": 5}, {"code": "potential", "name_th": "ข", "weight": 30, "min_indicators": 1, "max_indicators": 2}], "scheme": {"levels": [{"label": "ขั้นต้น", "score": 50}, {"label": "มาตรฐาน", "score": 75}, {"label": "ขั้นสูง", "score": 100}], "below_first": 0}, "rollup": "weighted", "bands": [{"label": "ดี", "min": 75}, {"label": "ต้องปรับปรุง", "min": 0}], "rounds": [12]}`,
		`{"component": "performance", "title_th": "ร้อยละ", "measure": "ร้อยละ", "direction": "down", "weight": 20, "targets": [3, 2, 1e0], "series_id": "s"}`,
		`{"round": 12, "actual": 98.87, "evidence": ["x"], "obstacles": "น้ำท่วม"}`,
		`{"decision": "adjust", "verified_actual": -0.5, "comment": "เหตุผล"}`,
		`{"title_th": "ก", "measure": "บาท", "direction": "up", "baseline": 1, "start_year": 2563, "end_year": 2565, "targets": {"2563": 1, "2564": 2, "2565": 3}}`,
		`{"title_th": "ก", "agency": "ข", "kind": "policy"}`,
		`{"selected": true}`,
		`{"code": "cdd", "kind": "department", "name_th": "กรม", "name_en": "Dept"}`,
		`{"reason": "เหตุผล", "component": "x"}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"weight": 1e999, "targets": [NaN]}`,
		"{\"title_th\": \"\xff\"}",
		`{"a": "\"}"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fw domain.Framework
		if decodeStrict(body, &fw) == nil {
			_, _ = domain.PublishFramework(nil, fw)
			h := &domain.FrameworkHistory{}
			h.Apply(domain.FrameworkPublished{Framework: fw}, domain.Meta{Version: 1})
			_, _ = domain.ReviseFramework(h, fw, "r", map[string]int{"performance": 1})
		}
		var spec domain.IndicatorSpec
		if decodeStrict(body, &spec) == nil {
			ctx := domain.IndicatorContext{Framework: &fw}
			_, _ = domain.ProposeIndicator("id", "TH-50", 2563, spec, ctx)
			ind := &domain.Indicator{Unit: "TH-50", FiscalYear: 2563, Status: domain.StatusApproved, Spec: spec}
			_, _ = ind.Report(domain.ResultReported{Round: 12, Actual: spec.Weight}, &fw)
		}
		var rb IndicatorRevisionBody
		_ = decodeStrict(body, &rb)
		var res ResultBody
		if decodeStrict(body, &res) == nil {
			ind := &domain.Indicator{Status: domain.StatusApproved, Spec: domain.IndicatorSpec{Direction: domain.DirectionUp, Targets: []domain.Number{"1", "2", "3"}}}
			f3 := fw
			f3.Scheme = domain.Scheme{Levels: []domain.Level{{Label: "a", Score: "50"}, {Label: "b", Score: "75"}, {Label: "c", Score: "100"}}, BelowFirst: "0"}
			f3.Rounds = []int{12}
			_, _ = ind.Report(domain.ResultReported{Round: res.Round, Actual: res.Actual, Evidence: res.Evidence, Obstacles: res.Obstacles}, &f3)
		}
		var vb VerificationBody
		if decodeStrict(body, &vb) == nil {
			ind := &domain.Indicator{Rounds: []domain.Round{{Round: 12, Report: domain.ResultReported{Actual: "1"}, Reports: 1}}}
			_, _ = ind.Verify(12, vb.Decision, vb.VerifiedActual, vb.Comment)
		}
		var sb SeriesBody
		if decodeStrict(body, &sb) == nil {
			_, _ = domain.DefineSeries(domain.SeriesDefined{TitleTH: sb.TitleTH, Measure: sb.Measure, Direction: sb.Direction,
				Baseline: sb.Baseline, StartYear: sb.StartYear, EndYear: sb.EndYear, Targets: sb.Targets})
		}
		var ib InnovationBody
		if decodeStrict(body, &ib) == nil {
			_, _ = domain.ProposeInnovation(domain.InnovationProposed{FiscalYear: 2561, TitleTH: ib.TitleTH, Agency: ib.Agency, Kind: ib.Kind, Summary: ib.Summary})
		}
		var ub UnitBody
		if decodeStrict(body, &ub) == nil {
			_, _ = domain.RegisterDepartment(ub.Code, ub.Kind, ub.NameTH, ub.NameEN, false)
		}
		var rv ReviewBody
		_ = decodeStrict(body, &rv)
		var sel SelectionBody
		_ = decodeStrict(body, &sel)
	})
}

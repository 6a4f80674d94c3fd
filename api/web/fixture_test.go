package web_test

import (
	"fmt"
	"strings"
)

// The fixture is two fiscal years of Chiang Mai (TH-50) and Chiang Rai
// (TH-57), written through the HTTP API at plausible instants: FY2563 under
// a two-component framework averaged without weights, with three reporting
// rounds; FY2564 under Performance Base 70 % / Potential Base 30 %, scored
// by weight; a long-term series FY2563–2565 that is on track; an indicator
// sent back and revised; an early round-6 result below the standard level
// (with its obstacles); and a result the reviewer adjusted. The SPEC.md
// arithmetic gives the totals the tests expect:
//
//	TH-50 FY2563: function 87.5, agenda 81.25 → mean 84.375 (ระดับมาตรฐานขั้นสูง)
//	TH-50 FY2564: 100, 87.5, 75, 66.6667, 100 weighted 20/25/25/15/15 → 85.625
//	TH-57 FY2563: 85 and 85 → 85; FY2564: 60, 100, 62.5 weighted 40/30/30 → 72.75
//
// and, as of 30 June 2020 (Thai time), TH-50 FY2563 has only the round-6
// value of its first indicator: 66.6667.
type fixture struct {
	seriesID string
	// cmFY2563 are Chiang Mai's FY2563 indicator ids, in order proposed.
	cmFY2563 []string
}

const fy2563Province = `{"fiscal_year": 2563, "unit_kind": "province",
 "components": [
  {"code": "function", "name_th": "การประเมินตามภารกิจหลัก", "name_en": "Function Base", "min_indicators": 1, "max_indicators": 5},
  {"code": "agenda", "name_th": "การประเมินตามนโยบายสำคัญเร่งด่วน", "name_en": "Agenda Base", "min_indicators": 1, "max_indicators": 5}],
 "scheme": {"levels": [{"label": "ขั้นต้น", "score": 50}, {"label": "มาตรฐาน", "score": 75},
                       {"label": "ขั้นสูง", "score": 100}], "below_first": 0},
 "rollup": "component_mean",
 "bands": [{"label": "ระดับคุณภาพ", "min": 90}, {"label": "ระดับมาตรฐานขั้นสูง", "min": 75},
           {"label": "ระดับมาตรฐานขั้นต้น", "min": 50}, {"label": "ระดับต้องปรับปรุง", "min": 0}],
 "rounds": [6, 9, 12]}`

const fy2564Province = `{"fiscal_year": 2564, "unit_kind": "province",
 "components": [
  {"code": "performance", "name_th": "การประเมินประสิทธิผลการดำเนินงาน", "name_en": "Performance Base",
   "weight": 70, "min_indicators": 3, "max_indicators": 5},
  {"code": "potential", "name_th": "การประเมินศักยภาพในการดำเนินงาน", "name_en": "Potential Base",
   "weight": 30, "min_indicators": 1, "max_indicators": 2}],
 "scheme": {"levels": [{"label": "ขั้นต้น", "score": 50}, {"label": "มาตรฐาน", "score": 75},
                       {"label": "ขั้นสูง", "score": 100}], "below_first": 0},
 "rollup": "weighted",
 "bands": [{"label": "ระดับคุณภาพ", "min": 90}, {"label": "ระดับมาตรฐานขั้นสูง", "min": 75},
           {"label": "ระดับมาตรฐานขั้นต้น", "min": 50}, {"label": "ระดับต้องปรับปรุง", "min": 0}],
 "rounds": [12]}`

// planned is one indicator's life in the fixture.
type planned struct {
	component string
	title     string
	direction string
	weight    float64
	targets   []float64
	series    bool
	actual    float64 // round 12
	obstacles string
	// adjustTo, when set, is the value OPDC verifies instead of actual.
	adjustTo float64
}

func (p planned) body(seriesID string) map[string]any {
	dir := p.direction
	if dir == "" {
		dir = "up"
	}
	b := map[string]any{"component": p.component, "title_th": p.title, "measure": "ร้อยละ", "direction": dir,
		"weight": p.weight, "targets": p.targets}
	if p.series {
		b["series_id"] = seriesID
	}
	return b
}

// seed writes the fixture through the API.
func seed(l *ledger) fixture {
	l.t.Helper()
	var fx fixture
	opdc, cm, cr := l.opdc(), l.officer("TH-50"), l.officer("TH-57")

	l.at("2019-09-01T09:00:00+07:00")
	l.api(201, "POST", "/v1/units", opdc, map[string]any{"code": "cdd", "kind": "department",
		"name_th": "กรมการพัฒนาชุมชน", "name_en": "Community Development Department"}, 0)
	l.at("2019-09-20T09:00:00+07:00")
	l.api(201, "POST", "/v1/frameworks", opdc, fy2563Province, 0)
	l.at("2019-10-15T10:00:00+07:00")
	fx.seriesID = l.api(201, "POST", "/v1/units/TH-50/series", cm, map[string]any{
		"title_th": "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้นจากการท่องเที่ยวชุมชน", "measure": "ร้อยละ", "direction": "up",
		"baseline": 30, "start_year": 2563, "end_year": 2565,
		"targets": map[string]any{"2563": 35, "2564": 40, "2565": 45}}, 0)["id"].(string)

	// Chiang Mai FY2563, step by step: the untidy parts happen here.
	l.at("2019-11-05T10:00:00+07:00")
	revenue := planned{component: "function", title: "ร้อยละความสำเร็จของการจัดเก็บรายได้ของจังหวัด", weight: 1, targets: []float64{98.72, 98.84, 98.90}}
	tourism := planned{component: "agenda", title: "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้นจากการท่องเที่ยวชุมชน", weight: 1, targets: []float64{33, 35, 37}, series: true}
	a1 := l.api(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, revenue.body(fx.seriesID), 0)["id"].(string)
	a2 := l.api(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, tourism.body(fx.seriesID), 0)["id"].(string)
	fx.cmFY2563 = []string{a1, a2}
	l.at("2019-11-20T14:00:00+07:00")
	l.api(200, "POST", "/v1/indicators/"+a1+"/review", opdc, map[string]any{"decision": "request_revision", "comment": "ขอให้ระบุแหล่งข้อมูลรายได้ที่ใช้คำนวณ"}, 1)
	l.at("2019-11-25T11:00:00+07:00")
	rev := revenue.body(fx.seriesID)
	rev["rationale"] = "ใช้ข้อมูลจากระบบบัญชีคอมพิวเตอร์ขององค์กรปกครองส่วนท้องถิ่น (e-LAAS)"
	rev["reason"] = "ระบุแหล่งข้อมูลตามข้อเสนอแนะของ ก.พ.ร."
	l.api(200, "PUT", "/v1/indicators/"+a1, cm, rev, 2)
	l.at("2019-12-10T15:00:00+07:00")
	l.api(200, "POST", "/v1/indicators/"+a1+"/review", opdc, map[string]any{"decision": "approve"}, 3)
	l.api(200, "POST", "/v1/indicators/"+a2+"/review", opdc, map[string]any{"decision": "approve"}, 1)
	l.at("2020-04-10T09:30:00+07:00")
	l.api(201, "POST", "/v1/indicators/"+a1+"/results", cm, map[string]any{"round": 6, "actual": 98.80,
		"evidence": []string{"https://www.chiangmai.go.th/report/2563/r6"}, "obstacles": "การจัดเก็บภาษีล่าช้าจากสถานการณ์โควิด-19"}, 0)
	l.at("2020-04-30T16:00:00+07:00")
	l.verify(a1, 6, "accept", 0, "")
	l.at("2020-10-15T10:00:00+07:00")
	l.api(201, "POST", "/v1/indicators/"+a1+"/results", cm, map[string]any{"round": 12, "actual": 98.87,
		"evidence": []string{"https://www.chiangmai.go.th/report/2563/r12"}}, 0)
	l.api(201, "POST", "/v1/indicators/"+a2+"/results", cm, map[string]any{"round": 12, "actual": 35.8,
		"evidence": []string{"https://www.chiangmai.go.th/report/2563/tourism"}}, 0)
	l.at("2020-11-20T13:00:00+07:00")
	l.verify(a1, 12, "accept", 0, "")
	l.verify(a2, 12, "adjust", 35.5, "หลักฐานรองรับได้ร้อยละ 35.5")

	// Chiang Rai FY2563, in one go.
	l.cycle("TH-57", 2563, cr, fx.seriesID, []planned{
		{component: "function", title: "ร้อยละของผู้ป่วยโรคไข้เลือดออกที่ลดลง", weight: 1, targets: []float64{10, 15, 20}, actual: 17},
		{component: "agenda", title: "จำนวนจุดความร้อนสะสมจากการเผาในที่โล่ง", direction: "down", weight: 1, targets: []float64{900, 800, 700}, actual: 760},
	}, "2019-11-06", "2019-12-11", "2020-10-16", "2020-11-21")

	l.at("2020-09-25T09:00:00+07:00")
	l.api(201, "POST", "/v1/frameworks", opdc, fy2564Province, 0)
	l.cycle("TH-50", 2564, cm, fx.seriesID, []planned{
		{component: "performance", title: revenue.title, weight: 20, targets: []float64{98.72, 98.84, 98.90}, actual: 98.94},
		{component: "performance", title: tourism.title, weight: 25, targets: []float64{38, 40, 42}, series: true, actual: 41},
		{component: "performance", title: "ร้อยละของผลิตภัณฑ์ OTOP ที่ได้มาตรฐาน", weight: 25, targets: []float64{50, 60, 70}, actual: 60},
		{component: "potential", title: "ร้อยละความสำเร็จของการพัฒนาจังหวัดดิจิทัล", weight: 15, targets: []float64{98.72, 98.84, 98.90}, actual: 98.80,
			obstacles: "งบประมาณถูกปรับลดกลางปี ทำให้จัดซื้อระบบล่าช้า"},
		{component: "potential", title: "ระดับความสำเร็จของการพัฒนาคุณภาพการบริหารจัดการภาครัฐ (PMQA 4.0)", weight: 15, targets: []float64{3, 4, 5}, actual: 5},
	}, "2020-11-10", "2020-12-05", "2021-10-12", "2021-11-15")
	l.cycle("TH-57", 2564, cr, fx.seriesID, []planned{
		{component: "performance", title: "ร้อยละของผู้ป่วยโรคไข้เลือดออกที่ลดลง", weight: 40, targets: []float64{10, 15, 20}, actual: 12,
			obstacles: "ฝนตกชุกกว่าปกติ ยุงลายระบาดมากขึ้น"},
		{component: "performance", title: "ร้อยละของหมู่บ้านที่ปลอดหมอกควัน", weight: 30, targets: []float64{60, 70, 80}, actual: 80},
		{component: "potential", title: "ระดับความสำเร็จของการพัฒนาคุณภาพการบริหารจัดการภาครัฐ (PMQA 4.0)", weight: 30, targets: []float64{3, 4, 5}, actual: 3.5,
			obstacles: "บุคลากรที่รับผิดชอบย้ายกลางปี"},
	}, "2020-11-11", "2020-12-06", "2021-10-13", "2021-11-16")
	return fx
}

// cycle proposes, approves, reports (round 12) and verifies a unit-year's
// indicators on four days, a few minutes apart on each.
func (l *ledger) cycle(unit string, fy int, tok, seriesID string, plan []planned, propose, approve, report, verify string) []string {
	l.t.Helper()
	opdc := l.opdc()
	ids := make([]string, len(plan))
	step := func(day string, i int) { l.at(fmt.Sprintf("%sT%02d:%02d:00+07:00", day, 9+i/6, (i%6)*10)) }
	for i, p := range plan {
		step(propose, i)
		ids[i] = l.api(201, "POST", fmt.Sprintf("/v1/units/%s/years/%d/indicators", unit, fy), tok, p.body(seriesID), 0)["id"].(string)
	}
	for i, id := range ids {
		step(approve, i)
		l.api(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, 1)
	}
	for i, p := range plan {
		step(report, i)
		body := map[string]any{"round": 12, "actual": p.actual, "evidence": []string{"https://" + strings.ToLower(unit) + ".go.th/report/" + ids[i]}}
		if p.obstacles != "" {
			body["obstacles"] = p.obstacles
		}
		l.api(201, "POST", "/v1/indicators/"+ids[i]+"/results", tok, body, 0)
	}
	for i, p := range plan {
		step(verify, i)
		if p.adjustTo != 0 {
			l.verify(ids[i], 12, "adjust", p.adjustTo, "ปรับตามหลักฐาน")
		} else {
			l.verify(ids[i], 12, "accept", 0, "")
		}
	}
	return ids
}

// verify decides on a round's current report, at the indicator's version.
func (l *ledger) verify(id string, round int, decision string, value float64, comment string) {
	l.t.Helper()
	opdc := l.opdc()
	v := l.api(200, "GET", "/v1/indicators/"+id, opdc, nil, 0)["version"]
	var version uint64
	fmt.Sscan(str(v), &version)
	body := map[string]any{"decision": decision}
	if decision == "adjust" {
		body["verified_actual"] = value
	}
	if comment != "" {
		body["comment"] = comment
	}
	l.api(200, "POST", fmt.Sprintf("/v1/indicators/%s/results/%d/verification", id, round), opdc, body, version)
}

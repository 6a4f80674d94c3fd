package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDepartmentCycle drives the Community Development Department through
// FY2564 with SPEC.md's five indicators: publish, register, propose, send
// back, revise, approve, report (with obstacles where a target is missed),
// verify (one adjusted) — and checks the scorecard total 85.625 and that
// every event carries the actor who caused it.
func TestDepartmentCycle(t *testing.T) {
	h := newHarness(t)
	opdc, cdd := h.opdc(), h.officer("cdd")

	h.must(201, "POST", "/v1/frameworks", opdc, fy2564Department)
	h.must(201, "POST", "/v1/units", opdc, map[string]any{"code": "cdd", "kind": "department", "name_th": "กรมการพัฒนาชุมชน", "name_en": "Community Development Department"})

	type ind struct {
		component string
		title     string
		weight    float64
		actual    float64
		obstacles string
		score     string
	}
	plan := []ind{
		{"performance", "ร้อยละของครัวเรือนยากจนที่มีรายได้เพิ่มขึ้น", 20, 98.94, "", "100"},
		{"performance", "ร้อยละของกองทุนหมู่บ้านที่มีการบริหารจัดการดี", 25, 98.87, "", "87.5"},
		{"performance", "ร้อยละของผลิตภัณฑ์ OTOP ที่ได้มาตรฐาน", 25, 98.84, "", "75"},
		{"potential", "ร้อยละความสำเร็จของการพัฒนาองค์กรดิจิทัล", 15, 98.80, "งบประมาณถูกปรับลดกลางปี ทำให้จัดซื้อระบบล่าช้า", "66.6667"},
		{"potential", "ระดับความสำเร็จของการพัฒนาคุณภาพการบริหารจัดการภาครัฐ (PMQA 4.0)", 15, 98.95, "", "100"},
	}
	ids := make([]string, len(plan))
	for i, p := range plan {
		out := h.must(201, "POST", "/v1/units/cdd/years/2564/indicators", cdd, indicatorBody(p.component, p.title, p.weight, 98.72, 98.84, 98.90))
		if out["status"] != "proposed" || str(out["version"]) != "1" {
			t.Fatalf("proposal answered %v", out)
		}
		if _, ok := out["sequence"]; !ok {
			t.Fatal("write answer has no sequence")
		}
		ids[i] = out["id"].(string)
	}

	// OPDC sends the fifth back; the department revises it on its advice.
	h.must(200, "POST", "/v1/indicators/"+ids[4]+"/review", opdc,
		map[string]any{"decision": "request_revision", "comment": "ขอให้ระบุเกณฑ์การให้คะแนนให้ชัดเจน"}, ifMatch(1)...)
	rev := indicatorBody("potential", plan[4].title, 15, 98.72, 98.84, 98.90)
	rev["rationale"] = "ปรับตามข้อเสนอแนะของ ก.พ.ร."
	rev["reason"] = "ระบุเกณฑ์ตามข้อเสนอแนะ"
	r := h.do("PUT", "/v1/indicators/"+ids[4], cdd, rev, ifMatch(2)...)
	if r.Status != 200 || r.Header.Get("ETag") != `"3"` {
		t.Fatalf("revise: %d %s %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
	for i, id := range ids {
		v := 1
		if i == 4 {
			v = 3
		}
		out := h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(v)...)
		if out["status"] != "approved" {
			t.Fatalf("approve %d: %v", i, out)
		}
	}
	for i, id := range ids {
		body := map[string]any{"round": 12, "actual": plan[i].actual, "evidence": []string{"https://cdd.go.th/report/2564/" + id}}
		if plan[i].obstacles != "" {
			body["obstacles"] = plan[i].obstacles
		}
		h.must(201, "POST", "/v1/indicators/"+id+"/results", cdd, body)
	}
	for i, id := range ids {
		got := h.must(200, "GET", "/v1/indicators/"+id, opdc, nil)
		v := got["version"]
		body := map[string]any{"decision": "accept"}
		if i == 4 {
			// Evidence supports 98.94 only: OPDC adjusts, with the reason.
			body = map[string]any{"decision": "adjust", "verified_actual": 98.94, "comment": "หลักฐานรองรับได้ร้อยละ 98.94"}
		}
		h.must(200, "POST", "/v1/indicators/"+id+"/results/12/verification", opdc, body, ifMatch(v)...)
	}

	sc := h.must(200, "GET", "/v1/units/cdd/years/2564/scorecard", cdd, nil)
	if str(sc["total"]) != "85.625" || sc["band"] != "ระดับมาตรฐานขั้นสูง" {
		t.Fatalf("scorecard total %v band %v", sc["total"], sc["band"])
	}
	for i, row := range sc["indicators"].([]any) {
		if got := str(row.(map[string]any)["score"]); got != plan[i].score {
			t.Errorf("indicator %d score %s, want %s", i, got, plan[i].score)
		}
	}

	// Every event carries the actor who caused it.
	feed := h.must(200, "GET", "/v1/events?limit=1000", h.auditor(), nil)
	byType := map[string]string{
		"framework.published":        "opdc/opdc-reviewer",
		"unit.department_registered": "opdc/opdc-reviewer",
		"indicator.proposed":         "unit/officer@cdd",
		"indicator.revised":          "unit/officer@cdd",
		"indicator.reviewed":         "opdc/opdc-reviewer",
		"indicator.result_reported":  "unit/officer@cdd",
		"indicator.result_verified":  "opdc/opdc-reviewer",
	}
	evs := feed["events"].([]any)
	if len(evs) != 2+5+1+1+5+5+5 {
		t.Fatalf("%d events in the log", len(evs))
	}
	for _, e := range evs {
		m := e.(map[string]any)
		actor := m["actor"].(map[string]any)
		if got := str(actor["role"]) + "/" + str(actor["sub"]); got != byType[str(m["type"])] {
			t.Errorf("%s by %s, want %s", m["type"], got, byType[str(m["type"])])
		}
		if actor["role"] == "unit" && actor["unit"] != "cdd" {
			t.Errorf("%s: actor unit %v", m["type"], actor["unit"])
		}
	}
}

// TestProvinceCycleWithSeries drives Chiang Mai through FY2563 with a
// long-term series, three reporting rounds, a superseded report and a
// rejected then re-reported result.
func TestProvinceCycleWithSeries(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)

	series := h.must(201, "POST", "/v1/units/TH-50/series", cm, map[string]any{
		"title_th": "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว", "measure": "ร้อยละ", "direction": "up",
		"baseline": 30, "start_year": 2563, "end_year": 2565,
		"targets": map[string]any{"2563": 40, "2564": 45, "2565": 50}})
	sid := series["id"].(string)

	body := indicatorBody("function", "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว", 1, 35, 40, 45)
	body["series_id"] = sid
	a := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, body)["id"].(string)
	b := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", "ร้อยละของหมู่บ้านที่ปลอดหมอกควัน", 1, 60, 70, 80))["id"].(string)
	for _, id := range []string{a, b} {
		h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)
	}
	// Six-month report, superseded by a corrected one; then year end.
	h.must(201, "POST", "/v1/indicators/"+a+"/results", cm, map[string]any{"round": 6, "actual": 20, "obstacles": "สถานการณ์โควิด-19 ทำให้นักท่องเที่ยวลดลง"})
	h.must(201, "POST", "/v1/indicators/"+a+"/results", cm, map[string]any{"round": 6, "actual": 22, "obstacles": "สถานการณ์โควิด-19 ทำให้นักท่องเที่ยวลดลง"})
	got := h.must(200, "GET", "/v1/indicators/"+a, cm, nil)
	res := got["results"].([]any)[0].(map[string]any)
	if str(res["actual"]) != "22" || str(res["reports"]) != "2" {
		t.Fatalf("superseding report not current: %v", res)
	}
	h.must(201, "POST", "/v1/indicators/"+a+"/results", cm, map[string]any{"round": 12, "actual": 42.5, "evidence": []string{"รายงานการท่องเที่ยวจังหวัดเชียงใหม่ 2563"}})
	v := h.must(200, "GET", "/v1/indicators/"+a, opdc, nil)["version"]
	h.must(200, "POST", "/v1/indicators/"+a+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, ifMatch(v)...)

	// The second is rejected and reported again.
	h.must(201, "POST", "/v1/indicators/"+b+"/results", cm, map[string]any{"round": 12, "actual": 75})
	v = h.must(200, "GET", "/v1/indicators/"+b, opdc, nil)["version"]
	h.must(200, "POST", "/v1/indicators/"+b+"/results/12/verification", opdc, map[string]any{"decision": "reject", "comment": "ไม่มีหลักฐานประกอบ"}, ifMatch(v)...)
	h.must(201, "POST", "/v1/indicators/"+b+"/results", cm, map[string]any{"round": 12, "actual": 75, "evidence": []string{"ภาพถ่ายดาวเทียม GISTDA"}})
	v = h.must(200, "GET", "/v1/indicators/"+b, opdc, nil)["version"]
	h.must(200, "POST", "/v1/indicators/"+b+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, ifMatch(v)...)

	// function: 42.5 between 40 (75) and 45 (100) → 87.5; agenda: 75 → 87.5.
	sc := h.must(200, "GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil)
	if str(sc["total"]) != "87.5" {
		t.Fatalf("scorecard total %v: %v", sc["total"], sc)
	}
	tr := h.must(200, "GET", "/v1/units/TH-50/series/"+sid+"/trend", cm, nil)
	pt := tr["points"].([]any)[0].(map[string]any)
	if str(pt["verified_actual"]) != "42.5" || str(pt["achievement_pct"]) != "125" {
		t.Errorf("trend point 2563: %v", pt)
	}

	// Innovation outlines: proposed, selected, accepted.
	n := h.must(201, "POST", "/v1/units/TH-50/years/2563/innovations", cm, map[string]any{
		"title_th": "ระบบแจ้งเตือนไฟป่าผ่านไลน์", "agency": "สำนักงานทรัพยากรธรรมชาติและสิ่งแวดล้อมจังหวัดเชียงใหม่", "kind": "service", "summary": "แจ้งเตือนจุดความร้อนแก่ผู้นำชุมชน"})
	nid := n["id"].(string)
	h.must(200, "POST", "/v1/innovations/"+nid+"/selection", cm, map[string]any{"selected": true})
	acc := h.must(200, "POST", "/v1/innovations/"+nid+"/review", opdc, map[string]any{"decision": "accept", "comment": "นำไปขยายผล"})
	if acc["status"] != "accepted" {
		t.Fatalf("innovation: %v", acc)
	}
	list := h.must(200, "GET", "/v1/units/TH-50/years/2563/innovations", h.auditor(), nil)
	if len(list["innovations"].([]any)) != 1 {
		t.Fatalf("innovations: %v", list)
	}
}

// TestThaiRoundTrip: Thai text comes back byte for byte, HTML-significant
// characters included.
func TestThaiRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	title := "ร้อยละของผู้สูงอายุที่ได้รับการดูแล <ระยะยาว> & \"ต่อเนื่อง\" ๑๒๓"
	out := h.must(201, "POST", "/v1/units/TH-57/years/2563/indicators", h.officer("TH-57"), indicatorBody("function", title, 1, 1, 2, 3))
	got := h.must(200, "GET", "/v1/indicators/"+out["id"].(string), h.officer("TH-57"), nil)
	if got["title_th"] != title {
		t.Fatalf("title came back as %q", got["title_th"])
	}
	r := h.do("GET", "/v1/indicators/"+out["id"].(string), h.officer("TH-57"), nil)
	var raw struct {
		TitleTH json.RawMessage `json:"title_th"`
	}
	_ = json.Unmarshal(r.Body, &raw)
	if len(raw.TitleTH) == 0 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
}

package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestRequestLimits: each limit is answered with a problem naming it, and
// Thai text is measured in characters, not bytes.
func TestRequestLimits(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	path := "/v1/units/TH-50/years/2563/indicators"

	// 500 Thai characters are 1,500 bytes, and allowed; 501 are not.
	ok := strings.Repeat("ก", 500)
	h.must(201, "POST", path, cm, indicatorBody("function", ok, 1, 1, 2, 3))
	p := problemOf(t, h.do("POST", path, cm, indicatorBody("function", ok+"ข", 1, 1, 2, 3)), 400, "title_th")
	if !strings.Contains(fmt.Sprint(p["errors"]), "at most 500 characters") {
		t.Errorf("title limit not named: %v", p["errors"])
	}
	// Numbers beyond ±10¹² are refused; JSON has no NaN or Infinity.
	problemOf(t, h.do("POST", path, cm, indicatorBody("function", "x", 1, 1, 2, 1e13)), 400, "targets[2]")
	problemOf(t, h.do("POST", path, cm, `{"weight": Infinity}`), 400, "body")
	// Depth and size limits name themselves.
	p = problemOf(t, h.do("POST", path, cm, `{"title_th": `+strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat("}", 41)), 400, "body")
	if p["limit"] != "json_depth" {
		t.Errorf("depth problem: %v", p)
	}
	p = problemOf(t, h.do("POST", path, cm, strings.Repeat(" ", 1<<20+1)), 413, "")
	if p["limit"] != "body_size" {
		t.Errorf("size problem: %v", p)
	}
	// A unit-year holds at most 50 live indicators.
	for i := 2; i <= 50; i++ {
		h.must(201, "POST", path, cm, indicatorBody("agenda", fmt.Sprintf("ตัวชี้วัดที่ %d", i), 1, 1, 2, 3))
	}
	before := h.lastSeq()
	p = problemOf(t, h.do("POST", path, cm, indicatorBody("agenda", "ตัวชี้วัดที่ 51", 1, 1, 2, 3)), 409, "")
	if !strings.Contains(p["detail"].(string), "at most 50 live indicators") || p["type"] != "https://kpiledger.opdc.go.th/problems/conflict" {
		t.Errorf("the 51st indicator: %v, want a conflict naming the limit of 50", p)
	}
	if h.lastSeq() != before {
		t.Fatal("the 51st indicator was appended")
	}
}

// TestReportLimits: evidence is a list of references (links, file names),
// not documents, and a round's result can be superseded only so often, so
// one unit officer cannot fill the log with reports.
func TestReportLimits(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	id := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("function", "ร้อยละของครัวเรือน", 1, 1, 2, 3))["id"].(string)
	h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)
	results := "/v1/indicators/" + id + "/results"
	link := "https://kpi.opdc.go.th/e/" + strings.Repeat("ก", 475) // 500 characters
	many := make([]string, 20)
	for i := range many {
		many[i] = link
	}
	before := h.lastSeq()
	problemOf(t, h.do("POST", results, cm, map[string]any{"round": 6, "actual": 3, "evidence": append(many, "x")}), 400, "evidence")
	problemOf(t, h.do("POST", results, cm, map[string]any{"round": 6, "actual": 3, "evidence": []string{link + "ข"}}), 400, "evidence[0]")
	problemOf(t, h.do("POST", results, cm, map[string]any{"round": 6, "actual": 3, "obstacles": strings.Repeat("ก", 4001)}), 400, "obstacles")
	if h.lastSeq() != before {
		t.Fatal("an oversized report was appended")
	}
	h.must(201, "POST", results, cm, map[string]any{"round": 6, "actual": 3, "evidence": many, "obstacles": strings.Repeat("ก", 4000)})
	for i := 2; i <= 10; i++ {
		h.must(201, "POST", results, cm, map[string]any{"round": 6, "actual": 3, "evidence": []string{fmt.Sprintf("report-%d.pdf", i)}})
	}
	before = h.lastSeq()
	p := problemOf(t, h.do("POST", results, cm, map[string]any{"round": 6, "actual": 3}), 409, "")
	if !strings.Contains(fmt.Sprint(p["detail"]), "10 reports") {
		t.Errorf("limit not named: %v", p["detail"])
	}
	if h.lastSeq() != before {
		t.Fatal("an eleventh report was appended")
	}
	// Another round has its own allowance.
	h.must(201, "POST", results, cm, map[string]any{"round": 9, "actual": 3})
}

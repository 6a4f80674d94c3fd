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
	problemOf(t, h.do("POST", path, cm, indicatorBody("agenda", "ตัวชี้วัดที่ 51", 1, 1, 2, 3)), 400, "indicators")
	if h.lastSeq() != before {
		t.Fatal("the 51st indicator was appended")
	}
}

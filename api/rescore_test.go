package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestScoreUnderBadInput: every way of naming a framework to re-score
// under that does not exist, or may not score the results, is a clear
// problem+json on each of the three reads that take score_under.
func TestScoreUnderBadInput(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	h.must(201, "POST", "/v1/frameworks", opdc, fy2564Department)
	id := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", "จำนวนจุดความร้อนลดลง", 1, 10, 20, 30))["id"].(string)
	h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)
	h.must(201, "POST", "/v1/indicators/"+id+"/results", cm, map[string]any{"round": 12, "actual": 25})
	h.must(200, "POST", "/v1/indicators/"+id+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, ifMatch(3)...)
	before := h.lastSeq()

	scorecard := "/v1/units/TH-50/years/2563/scorecard"
	comparison := "/v1/units/TH-50/comparison?from=2562&to=2563"
	compare := "/v1/frameworks/compare?from=2563&to=2563&kind=province"
	for _, c := range []struct {
		name, path   string
		status       int
		field        string
		detailSubstr string
	}{
		{"a year without a framework", scorecard + "?score_under=2550", 404, "", "score_under: no FY2550 province framework is published"},
		{"a year with only another kind's framework", scorecard + "?score_under=2564", 404, "", "only a department one"},
		{"another unit kind named", scorecard + "?score_under=2564/department", 400, "score_under", "only under a framework of their own unit kind"},
		{"a revision that does not exist", scorecard + "?score_under=2563&revision=4", 404, "", "has no revision 4 (it has 1 to 1)"},
		{"a revision without score_under", scorecard + "?revision=1", 400, "revision", "give score_under too"},
		{"a revision that is not a number", scorecard + "?score_under=2563&revision=x", 400, "revision", "revision number"},
		{"not a year", scorecard + "?score_under=ปี2563", 400, "score_under", "Buddhist Era fiscal year"},
		{"an unknown kind", scorecard + "?score_under=2563/ministry", 400, "score_under", "2562/province"},
		{"as_of with a missing framework", scorecard + "?as_of=2020-06-30T00:00:00Z&score_under=2550", 404, "", "no FY2550 province framework"},
		{"comparison: a year without a framework", comparison + "&score_under=2550", 404, "", "no FY2550 province framework"},
		{"comparison: another kind", comparison + "&score_under=2564/department", 400, "score_under", "own unit kind"},
		{"comparison: no results to re-score", "/v1/units/TH-50/comparison?from=2563&to=2565&score_under=2563", 404, "", "no results to re-score"},
		{"framework comparison: a year without a framework", "/v1/frameworks/compare?from=2550&to=2563&kind=province", 404, "", "no FY2550 province framework"},
		{"framework comparison: score_under of another kind", compare + "&score_under=2564", 404, "", "only a department one"},
		{"framework comparison: a revision that does not exist", compare + "&score_under=2563&revision=2", 404, "", "no revision 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := problemOf(t, h.do("GET", c.path, opdc, nil), c.status, c.field)
			if d, _ := p["detail"].(string); !strings.Contains(d, c.detailSubstr) {
				t.Errorf("detail %q lacks %q", d, c.detailSubstr)
			}
		})
	}
	if h.lastSeq() != before {
		t.Errorf("reads appended: %d → %d", before, h.lastSeq())
	}

	// Re-scoring a year under its own framework changes nothing: the
	// mapping is the identity and the totals agree.
	sc := h.must(200, "GET", scorecard+"?score_under=2563&revision=1", cm, nil)
	su := sc["score_under"].(map[string]any)
	if su["total"] != sc["total"] || su["mapping"].(map[string]any)["identity"] != true || su["revision"] != float64(1) {
		t.Errorf("own framework: total %v vs %v, %v", su["total"], sc["total"], su["mapping"])
	}
	if _, ok := h.must(200, "GET", scorecard, cm, nil)["score_under"]; ok {
		t.Error("score_under present without being asked for")
	}
}

// TestOpenAPIDescribesComparableFields: the generated document carries the
// new response fields.
func TestOpenAPIDescribesComparableFields(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/openapi.json", "", nil)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	for schema, fields := range map[string][]string{
		"Scorecard":           {"position", "score_under"},
		"ScorecardComponent":  {"position"},
		"Comparison":          {"standings", "score_under"},
		"FrameworkComparison": {"distribution", "band_moves", "score_under"},
		"UnitTotals":          {"from_standing", "to_standing", "change", "score_under", "under_change"},
		"UnitRescore":         {"position", "rank", "percentile", "formula", "indicators", "unmapped", "uncovered"},
		"Rescored":            {"mapping", "indicators", "unmapped", "uncovered", "total", "position"},
		"Mapping":             {"rule", "levels", "components", "weights"},
		"Standing":            {"position", "rank", "percentile", "out_of", "band_position"},
	} {
		props := doc.Components.Schemas[schema].Properties
		for _, f := range fields {
			if _, ok := props[f]; !ok {
				t.Errorf("schema %s lacks %q", schema, f)
			}
		}
	}
	for path, want := range map[string]string{
		"/v1/frameworks/compare":                "&score_under=FY",
		"/v1/units/{unit}/comparison":           "&score_under=FY",
		"/v1/units/{unit}/years/{fy}/scorecard": "&score_under=FY",
	} {
		if s := doc.Paths[path]["get"].Summary; !strings.Contains(s, want) {
			t.Errorf("%s: summary %q does not describe %s", path, s, want)
		}
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/openapitest"
	"github.com/opdc/kpiledger/projections"
)

// TestOpenAPILoadsInIndependentTools: the served document loads and
// validates in kin-openapi (its default, strict checks: schema names,
// $refs, patterns, defaults against their schemas) and libopenapi builds
// its v3 model without an error.
func TestOpenAPILoadsInIndependentTools(t *testing.T) {
	srv := api.New(api.Config{Model: projections.NewModel(), TokenKey: []byte("k")})
	_, raw := openapitest.Load(t, srv.Handler())
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatalf("libopenapi cannot read /openapi.json: %v", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("libopenapi cannot build the v3 model of /openapi.json: %v", err)
	}
	if n := model.Model.Paths.PathItems.Len(); n < 30 {
		t.Errorf("libopenapi sees %d paths", n)
	}
}

// TestOpenAPIDescribesEveryRoute fails when a route registered with Echo
// is missing from /openapi.json, or the document lists one that is not
// served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	srv := api.New(api.Config{Model: projections.NewModel(), TokenKey: []byte("k")})
	doc := srv.OpenAPI()
	paths := doc["paths"].(map[string]map[string]any)
	documented := map[string]bool{}
	for p, ops := range paths {
		for m, op := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
			o := op.(map[string]any)
			if o["summary"] == "" {
				t.Errorf("%s %s has no summary", m, p)
			}
			if _, ok := o["responses"]; !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
	// The API is /v1 and the four operational paths; anything else on the
	// same Echo instance (the dashboard's pages, mounted through
	// Config.Extra) is not part of the documented contract.
	ops := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.json": true}
	served := map[string]bool{}
	for _, r := range srv.Echo().Routes() {
		if r.Method == "echo_route_not_found" || !(strings.HasPrefix(r.Path, "/v1/") || r.Path == "/v1" || ops[r.Path]) {
			continue
		}
		p := r.Path
		parts := strings.Split(p, "/")
		for i, part := range parts {
			if strings.HasPrefix(part, ":") {
				parts[i] = "{" + part[1:] + "}"
			}
		}
		key := r.Method + " " + strings.Join(parts, "/")
		served[key] = true
		if !documented[key] {
			t.Errorf("route %s is served but not in /openapi.json", key)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("/openapi.json lists %s, which is not served", k)
		}
	}
	if len(served) < 30 {
		t.Errorf("only %d routes served", len(served))
	}
}

// TestUnknownPathIs404: a path that is not a route is a 404 problem, not
// a 401 from a catch-all behind the token check.
func TestUnknownPathIs404(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/favicon.ico", "/nope", "/v1/nope"} {
		problemOf(t, h.do("GET", p, "", nil), 404, "")
	}
	problemOf(t, h.do("DELETE", "/v1/units", h.opdc(), nil), 405, "")
}

// TestLocationHeadersResolve: every Location a create answers with names a
// route that serves the created resource (the unit and series routes were
// missing), and the new reads answer as their lists do.
func TestLocationHeadersResolve(t *testing.T) {
	h := newHarness(t)
	opdc, cm, other := h.opdc(), h.officer("TH-50"), h.officer("TH-57")
	follow := func(r resp, token string) map[string]any {
		t.Helper()
		if r.Status != 201 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		loc := r.Header.Get("Location")
		if loc == "" {
			t.Fatalf("201 without Location: %s", r.Body)
		}
		got := h.must(200, "GET", loc, token, nil)
		created := r.json(t)
		for _, k := range []string{"id", "code", "fiscal_year", "version"} {
			if created[k] != nil && str(got[k]) != str(created[k]) {
				t.Errorf("GET %s: %s = %v, the create answered %v", loc, k, got[k], created[k])
			}
		}
		return got
	}
	follow(h.do("POST", "/v1/frameworks", opdc, fy2563Province), opdc)
	u := follow(h.do("POST", "/v1/units", opdc, map[string]any{"code": "cdd", "kind": "department",
		"name_th": "กรมการพัฒนาชุมชน", "name_en": "Community Development Department"}), cm)
	if u["name_th"] != "กรมการพัฒนาชุมชน" || str(u["version"]) != "1" || u["sequence"] == nil {
		t.Errorf("GET /v1/units/cdd: %v", u)
	}
	follow(h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("function", "ร้อยละของเกษตรกรที่ได้รับการรับรอง GAP", 1, 1, 2, 3)), cm)
	r := h.do("POST", "/v1/units/TH-50/series", cm, map[string]any{"title_th": "รายได้ครัวเรือน", "measure": "บาท", "direction": "up",
		"baseline": 1, "start_year": 2563, "end_year": 2565, "targets": map[string]int{"2563": 2, "2564": 3, "2565": 4}})
	s := follow(r, h.auditor())
	if s["title_th"] != "รายได้ครัวเรือน" || s["unit"] != "TH-50" {
		t.Errorf("GET series: %v", s)
	}
	loc := r.Header.Get("Location")
	if got := h.do("GET", loc, cm, nil); got.Header.Get("ETag") != `"1"` {
		t.Errorf("GET %s: ETag %q, want \"1\"", loc, got.Header.Get("ETag"))
	}

	// A built-in province is version 0; unknown units and series are 404;
	// another unit's officer may not read the series.
	p := h.must(200, "GET", "/v1/units/TH-50", other, nil)
	if p["kind"] != "province" || p["region"] == nil || str(p["version"]) != "0" {
		t.Errorf("GET /v1/units/TH-50: %v", p)
	}
	problemOf(t, h.do("GET", "/v1/units/TH-99", opdc, nil), 404, "")
	problemOf(t, h.do("GET", "/v1/units/TH-50/series/nope", opdc, nil), 404, "")
	problemOf(t, h.do("GET", strings.Replace(loc, "TH-50", "TH-57", 1), opdc, nil), 404, "")
	problemOf(t, h.do("GET", loc, other, nil), 403, "")
}

// TestContractCorners drives, through the validating harness, what the
// document declares but the other API tests do not reach: every query
// parameter and request header the handlers read, the second success
// status of POST /v1/checkpoints, a framework revision that leaves
// fiscal_year and unit_kind to the path, NDJSON export, metrics and health.
func TestContractCorners(t *testing.T) {
	h := newHarness(t)
	opdc, cm, auditor := h.opdc(), h.officer("TH-50"), h.auditor()
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	h.must(201, "POST", "/v1/frameworks", opdc, strings.Replace(fy2563Province, "2563", "2562", 1))

	// The revision body may leave fiscal_year and unit_kind to the path.
	var rev map[string]any
	if err := json.Unmarshal([]byte(fy2563Province), &rev); err != nil {
		t.Fatal(err)
	}
	delete(rev, "fiscal_year")
	delete(rev, "unit_kind")
	rev["reason"] = "แก้ไขเกณฑ์การประเมิน"
	rev["rounds"] = []int{6, 12}
	h.must(201, "POST", "/v1/frameworks/2563/province/revisions", opdc, rev, ifMatch(1)...)
	if got := h.must(200, "GET", "/v1/frameworks/2563/province?revision=1&pretty", opdc, nil); str(got["revision"]) != "1" {
		t.Errorf("?revision=1: %v", got["revision"])
	}

	// Command headers: Idempotency-Key (replayed), X-Occurred-At, X-Correlation-ID.
	body := indicatorBody("function", "ร้อยละของเกษตรกรที่ได้รับการรับรอง GAP", 1, 1, 2, 3)
	hdrs := []string{"Idempotency-Key", "contract-1", "X-Occurred-At", "2020-09-15T09:30:00+07:00", "X-Correlation-ID", "batch-7"}
	first := h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, body, hdrs...)
	again := h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, body, hdrs...)
	if first.Status != 201 || again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("idempotent retry: %d, %d, Idempotent-Replayed %q", first.Status, again.Status, again.Header.Get("Idempotent-Replayed"))
	}
	seq := str(first.json(t)["sequence"])

	// Read parameters, each of them.
	for _, path := range []string{
		"/v1/units?min_sequence=" + seq,
		"/v1/units/TH-50/years/2563/scorecard?as_of=" + time.Now().UTC().Format(time.RFC3339Nano) + "&pretty",
		"/v1/units/TH-50/comparison?from=2562&to=2563",
		"/v1/frameworks/compare?from=2562&to=2563&kind=province",
		"/v1/events?after=1&limit=2&unit=TH-50&fiscal_year=2563",
		"/v1/events?fiscal_year=2563",
	} {
		h.must(200, "GET", path, opdc, nil)
	}
	h.must(200, "GET", "/v1/units/TH-50/years/2563/indicators", cm, nil, "X-Min-Sequence", seq)
	problemOf(t, h.do("GET", "/v1/events?limit=0", auditor, nil), 400, "limit")

	// A checkpoint is 201; asked again with nothing new, 200 and the same one.
	cp := h.must(201, "POST", "/v1/checkpoints", opdc, nil)
	same := h.must(200, "POST", "/v1/checkpoints", opdc, nil)
	if same["created"] != false || str(same["event_sequence"]) != str(cp["event_sequence"]) {
		t.Errorf("second checkpoint: %v, first %v", same, cp)
	}

	// Export is JSON Lines; the validator checks every line is an object.
	ex := h.do("GET", "/v1/export?unit=TH-50&fiscal_year=2563", auditor, nil)
	if ex.Status != 200 || !strings.HasPrefix(ex.Header.Get("Content-Type"), "application/x-ndjson") || bytes.Count(ex.Body, []byte("\n")) < 3 {
		t.Fatalf("export: %d %q %s", ex.Status, ex.Header.Get("Content-Type"), ex.Body)
	}

	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json?pretty"} {
		if r := h.do("GET", path, "", nil); r.Status != 200 {
			t.Errorf("GET %s: %d", path, r.Status)
		}
	}
}

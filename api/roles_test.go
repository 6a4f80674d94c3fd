package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestRoleMatrix walks every /v1 endpoint with every kind of caller:
// no token (401), a bad token (401), and each role — OPDC, an auditor, an
// officer of the unit concerned, an officer of another unit. Callers the
// endpoint does not allow get 403 and nothing is appended; allowed callers
// get past authorisation. A test below keeps the matrix in step with the
// registered routes.
func TestRoleMatrix(t *testing.T) {
	h := newHarness(t)
	roleMatrix(t, h, h.opdc(), h.officer("TH-50"), h.officer("TH-57"), h.auditor())
}

// roleMatrix runs the matrix with one token per kind of caller; it runs for
// local tokens here and for the identity provider's in oidc_test.go.
func roleMatrix(t *testing.T, h *harness, opdc, own, other, auditor string) {
	t.Helper()
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	ind := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", own, indicatorBody("function", "ร้อยละของเกษตรกรที่ได้รับการรับรอง GAP", 1, 1, 2, 3))["id"].(string)
	inn := h.must(201, "POST", "/v1/units/TH-50/years/2563/innovations", own, map[string]any{"title_th": "ตลาดออนไลน์ของชุมชน", "agency": "สำนักงานพาณิชย์จังหวัด", "kind": "service"})["id"].(string)
	ser := h.must(201, "POST", "/v1/units/TH-50/series", own, map[string]any{"title_th": "รายได้ครัวเรือน", "measure": "บาท", "direction": "up", "baseline": 1, "start_year": 2563, "end_year": 2565, "targets": map[string]int{"2563": 2, "2564": 3, "2565": 4}})["id"].(string)

	const (
		O = 1 << iota // opdc
		A             // auditor
		U             // officer of the unit concerned
		X             // officer of another unit
	)
	everyone := O | A | U | X
	readers := O | A | U
	cases := []struct {
		method, path string
		allowed      int
	}{
		{"POST", "/v1/frameworks", O},
		{"GET", "/v1/frameworks", everyone},
		{"GET", "/v1/frameworks/compare?from=2562&to=2563&kind=province", everyone},
		{"GET", "/v1/frameworks/2563/province", everyone},
		{"POST", "/v1/frameworks/2563/province/revisions", O},
		{"GET", "/v1/units", everyone},
		{"POST", "/v1/units", O},
		{"GET", "/v1/units/TH-50", everyone},
		{"POST", "/v1/units/TH-50/years/2563/indicators", U},
		{"GET", "/v1/units/TH-50/years/2563/indicators", readers},
		{"GET", "/v1/units/TH-50/years/2563/indicators/template", readers},
		{"POST", "/v1/units/TH-50/years/2563/indicators/import", U},
		{"GET", "/v1/units/TH-50/years/2563/results/template", readers},
		{"POST", "/v1/units/TH-50/years/2563/results/import", U},
		{"GET", "/v1/indicators/" + ind, readers},
		{"PUT", "/v1/indicators/" + ind, U},
		{"POST", "/v1/indicators/" + ind + "/review", O},
		{"POST", "/v1/indicators/" + ind + "/withdraw", U},
		{"POST", "/v1/indicators/" + ind + "/results", U},
		{"POST", "/v1/indicators/" + ind + "/results/12/verification", O},
		{"POST", "/v1/units/TH-50/series", U},
		{"GET", "/v1/units/TH-50/series", readers},
		{"GET", "/v1/units/TH-50/series/" + ser, readers},
		{"GET", "/v1/units/TH-50/trends", readers},
		{"GET", "/v1/units/TH-50/series/" + ser + "/trend", readers},
		{"POST", "/v1/units/TH-50/years/2563/innovations", U},
		{"GET", "/v1/units/TH-50/years/2563/innovations", readers},
		{"GET", "/v1/innovations/" + inn, readers},
		{"POST", "/v1/innovations/" + inn + "/selection", U},
		{"POST", "/v1/innovations/" + inn + "/review", O},
		{"GET", "/v1/units/TH-50/years/2563/scorecard", readers},
		{"GET", "/v1/units/TH-50/comparison?from=2562&to=2563", readers},
		{"GET", "/v1/units/TH-50/years/2563/audit", O | A},
		{"GET", "/v1/events", O | A},
		{"GET", "/v1/export?unit=TH-50&fiscal_year=2563", O | A},
		{"GET", "/v1/verify", O | A},
		{"GET", "/v1/verify/key", everyone},
		{"POST", "/v1/checkpoints", O},
		{"GET", "/v1/checkpoints", O | A},
		{"GET", "/v1/checkpoints/latest", O | A},
		{"POST", "/v1/units/TH-50/years/2563/statement", O},
		{"GET", "/v1/checkpoints/1", O | A},
		{"POST", "/v1/checkpoints/1/cosignatures", O | A},
		{"GET", "/v1/proofs/inclusion?sequence=1&size=1", O | A},
		{"GET", "/v1/proofs/consistency?from=1&to=2", O | A},
	}
	callers := []struct {
		name  string
		token string
		bit   int
	}{{"opdc", opdc, O}, {"auditor", auditor, A}, {"own unit", own, U}, {"other unit", other, X}}
	// An empty object passes decoding; for most endpoints it is then an
	// invalid command (400), which is enough to show authorisation passed.
	body := map[string]any{}
	for _, c := range cases {
		for _, who := range []struct{ name, token string }{{"no token", ""}, {"forged token", own[:len(own)-4] + "AAAA"}} {
			before := h.lastSeq()
			r := h.do(c.method, c.path, who.token, body, ifMatch(1)...)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: %d, want 401", c.method, c.path, who.name, r.Status)
			}
			if h.lastSeq() != before {
				t.Errorf("%s %s with %s appended", c.method, c.path, who.name)
			}
		}
		for _, who := range callers {
			before := h.lastSeq()
			r := h.do(c.method, c.path, who.token, body, ifMatch(1)...)
			allowed := c.allowed&who.bit != 0
			switch {
			case allowed && (r.Status == 401 || r.Status == 403):
				t.Errorf("%s %s as %s: %d, want it allowed: %s", c.method, c.path, who.name, r.Status, r.Body)
			case !allowed && r.Status != 403:
				t.Errorf("%s %s as %s: %d, want 403: %s", c.method, c.path, who.name, r.Status, r.Body)
			}
			if !allowed && h.lastSeq() != before {
				t.Errorf("%s %s as %s: denied but appended", c.method, c.path, who.name)
			}
		}
	}
	// The matrix covers every /v1 route.
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.method+" "+routeShape(strings.Split(c.path, "?")[0])] = true
	}
	for _, r := range h.routes() {
		if strings.HasPrefix(r, "GET /v1") || strings.HasPrefix(r, "POST /v1") || strings.HasPrefix(r, "PUT /v1") {
			if !covered[r] {
				t.Errorf("route %s is not in the role matrix", r)
			}
		}
	}
}

// routeShape turns a concrete path into its route shape by the position of
// ids and parameters, e.g. /v1/indicators/0190…/review → /v1/indicators/:id/review.
func routeShape(p string) string {
	parts := strings.Split(p, "/")
	names := map[string]string{"units": ":unit", "years": ":fy", "indicators": ":id", "innovations": ":id", "series": ":id", "results": ":round"}
	frameworks := false
	for i := 1; i < len(parts); i++ {
		prev := parts[i-1]
		if prev == "frameworks" && parts[i] != "compare" {
			frameworks = true
			parts[i] = ":fy"
			continue
		}
		if prev == "checkpoints" && parts[i] != "latest" {
			parts[i] = ":size"
			continue
		}
		if frameworks && parts[i-1] == ":fy" {
			parts[i] = ":kind"
			continue
		}
		if n, ok := names[prev]; ok && i < len(parts) && parts[i] != "" && parts[i] != "template" && parts[i] != "import" {
			parts[i] = n
		}
	}
	return strings.Join(parts, "/")
}

func (h *harness) routes() []string {
	h.t.Helper()
	doc := h.must(200, "GET", "/openapi.json", "", nil)
	var out []string
	for path, ops := range doc["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			p := strings.NewReplacer("{", ":", "}", "").Replace(path)
			out = append(out, fmt.Sprintf("%s %s", strings.ToUpper(method), p))
		}
	}
	return out
}

package api_test

import (
	"strings"
	"testing"

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

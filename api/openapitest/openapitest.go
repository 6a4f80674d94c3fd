// Package openapitest holds kpiledger's HTTP API to its own OpenAPI
// document: the API tests serve through Handler, which validates every
// request and response against the document the server serves at
// /openapi.json (kin-openapi's openapi3filter), and fails the test on any
// mismatch. Only tests import it.
package openapitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func init() {
	// A spreadsheet download or upload is an XLSX workbook: a ZIP file.
	openapi3filter.RegisterBodyDecoder("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			return nil, fmt.Errorf("not an XLSX workbook (no ZIP header)")
		}
		return string(b), nil
	})
	// An export bundle is JSON Lines: each line must be a JSON object.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for n := 1; sc.Scan(); n++ {
			var obj map[string]any
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				return nil, fmt.Errorf("line %d is not a JSON object: %w", n, err)
			}
		}
		return string(b), sc.Err()
	})
}

// Load fetches /openapi.json from h and loads it in kin-openapi, failing
// the test unless it validates with kin-openapi's default (strict) checks.
func Load(t testing.TB, h http.Handler) (*openapi3.T, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d: %s", rec.Code, rec.Body)
	}
	raw := rec.Body.Bytes()
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("kin-openapi cannot load /openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("/openapi.json does not validate in kin-openapi: %v", err)
	}
	return doc, raw
}

// Handler serves h, checking every exchange on a documented path (/v1/…
// and the operational endpoints) against h's own OpenAPI document:
//   - a request the document accepts must get a response the document
//     describes: a declared status, its headers and its body schema;
//   - a request the document refuses (a missing or malformed parameter,
//     an undeclared query parameter, a body that breaks its schema) must
//     be refused by the server too, with a 4xx problem the operation
//     declares — else the document is stricter than the server;
//   - a path or method the document does not have must be a 404 or 405
//     problem.
//
// Other paths (the dashboard's pages) pass through unchecked.
func Handler(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	doc, _ := Load(t, h)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("kin-openapi cannot route /openapi.json: %v", err)
	}
	return &validator{t: t, next: h, router: router}
}

type validator struct {
	t      testing.TB
	next   http.Handler
	router routers.Router
}

var operational = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.json": true}

func (v *validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !(strings.HasPrefix(r.URL.Path, "/v1/") || operational[r.URL.Path]) {
		v.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	v.next.ServeHTTP(rec, r)
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())

	if err := v.check(r, body, rec); err != nil {
		excerpt := rec.Body.String()
		if len(excerpt) > 400 {
			excerpt = excerpt[:400] + "…"
		}
		v.t.Errorf("OpenAPI mismatch: %s %s → %d: %v\nresponse: %s", r.Method, r.URL.RequestURI(), rec.Code, err, excerpt)
	}
}

// check returns what about the exchange disagrees with the document.
func (v *validator) check(r *http.Request, body []byte, rec *httptest.ResponseRecorder) error {
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, pathParams, err := v.router.FindRoute(req)
	if err != nil {
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			return fmt.Errorf("the document has no such operation (%v), but the server answered it", err)
		}
		return isProblem(rec)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: bearerPresent},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr == nil {
		reqErr = undeclaredQuery(route.Operation, req)
	}

	status := strconv.Itoa(rec.Code)
	if route.Operation.Responses.Value(status) == nil && rec.Code != http.StatusInternalServerError {
		return fmt.Errorf("status %d is not among the operation's responses", rec.Code)
	}
	if reqErr != nil {
		if rec.Code < 400 || rec.Code >= 500 {
			return fmt.Errorf("the document refuses the request (%v) but the server answered %d", reqErr, rec.Code)
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body:    io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	})
	if err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// bearerPresent stands in for the server's token check: the document's
// bearerAuth requirement is met by an Authorization: Bearer header.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, tok, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// undeclaredQuery refuses query parameters the operation does not declare:
// a handler that reads one the route table leaves out is caught here.
func undeclaredQuery(op *openapi3.Operation, req *http.Request) error {
	declared := map[string]bool{}
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			declared[p.Value.Name] = true
		}
	}
	for name := range req.URL.Query() {
		if !declared[name] {
			return fmt.Errorf("query parameter %q is not declared", name)
		}
	}
	return nil
}

func isProblem(rec *httptest.ResponseRecorder) error {
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if mt != "application/problem+json" {
		return fmt.Errorf("error status %d with Content-Type %q, not application/problem+json", rec.Code, rec.Header().Get("Content-Type"))
	}
	return nil
}

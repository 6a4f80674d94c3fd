package openapitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps the errors instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

const tinyDoc = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
 "paths": {"/v1/things": {"get": {
  "parameters": [{"name": "n", "in": "query", "schema": {"type": "integer"}}],
  "responses": {
   "200": {"description": "ok", "content": {"application/json": {"schema": {
     "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}},
   "400": {"description": "bad", "content": {"application/problem+json": {"schema": {"type": "object"}}}}}}}}}`

// tinyServer serves tinyDoc and a /v1/things that answers as the X-Say
// header tells it (a header the document need not declare).
func tinyServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tinyDoc)
			return
		}
		switch r.Header.Get("X-Say") {
		case "problem":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(400)
			io.WriteString(w, `{"status": 400}`)
		case "404":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			io.WriteString(w, `{"status": 404}`)
		case "number":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": 7}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "a"}`)
		}
	})
}

// TestValidatorCatchesMismatches: each kind of disagreement between an
// exchange and the document is reported, and agreeing exchanges are not.
func TestValidatorCatchesMismatches(t *testing.T) {
	cases := []struct {
		query, say string
		mismatch   string // "" when the exchange agrees with the document
	}{
		{"?n=1", "", ""},
		{"?n=x", "problem", ""},                  // refused by both
		{"?n=x", "", "refuses the request"},      // the server accepts what the document refuses
		{"", "number", "response"},               // the body breaks the schema
		{"", "404", "not among"},                 // an undeclared status
		{"?n=1&secret=1", "", "is not declared"}, // an undeclared query parameter
	}
	for _, c := range cases {
		rec := &recorder{TB: t}
		srv := httptest.NewServer(Handler(rec, tinyServer()))
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/things"+c.query, nil)
		req.Header.Set("X-Say", c.say)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		srv.Close()
		switch {
		case c.mismatch == "" && len(rec.errs) > 0:
			t.Errorf("%s: reported %q", c.query, rec.errs)
		case c.mismatch != "" && (len(rec.errs) != 1 || !strings.Contains(rec.errs[0], c.mismatch)):
			t.Errorf("%s: reported %q, want one error with %q", c.query, rec.errs, c.mismatch)
		}
	}
}

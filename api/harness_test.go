package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/openapitest"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
	"github.com/opdc/kpiledger/projections"
)

// harness is a real ledger: an embedded nats-server with JetStream in a
// temp dir, the store, the read model kept current by its runner, and the
// HTTP API on a random loopback port.
type harness struct {
	t     testing.TB
	url   string
	store *events.Store
	model *projections.Model
	key   []byte
	// signer signs checkpoints and bundles.
	signer *events.SigningKey
}

func newHarness(t testing.TB) *harness { t.Helper(); return newHarnessWith(t, nil) }

// newHarnessWith lets a test adjust the server's configuration (single
// sign-on, a clock) before it starts.
func newHarnessWith(t testing.TB, adjust func(*api.Config)) *harness {
	t.Helper()
	key := []byte("test-key-0123456789-0123456789-0123456789")
	signer, err := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessOn(t, eventstest.NewStore(t), key, signer, adjust)
}

// newHarnessOn serves the API over a given store (one node of a cluster),
// with its own read model and runner; adjust, when not nil, changes the
// server's configuration before it starts.
func newHarnessOn(t testing.TB, store *events.Store, key []byte, signer *events.SigningKey, adjust ...func(*api.Config)) *harness {
	t.Helper()
	model := projections.NewModel()
	ctx, cancel := context.WithCancel(context.Background())
	runner := &projections.Runner{Store: store, Model: model}
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	cfg := api.Config{Store: store, Model: model, TokenKey: key, Signer: signer}
	for _, a := range adjust {
		if a != nil {
			a(&cfg)
		}
	}
	// Every exchange of the API tests is checked against /openapi.json.
	srv := httptest.NewServer(openapitest.Handler(t, api.New(cfg).Handler()))
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	h := &harness{t: t, url: srv.URL, store: store, model: model, key: key, signer: signer}
	deadline := time.Now().Add(30 * time.Second)
	for !model.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("read model never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h
}

func (h *harness) token(role domain.Role, unit, sub string) string {
	h.t.Helper()
	tok, err := api.IssueToken(h.key, api.Principal{Subject: sub, Role: role, Unit: unit}, time.Hour, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func (h *harness) opdc() string    { return h.token(domain.RoleOPDC, "", "opdc-reviewer") }
func (h *harness) auditor() string { return h.token(domain.RoleAuditor, "", "auditor-1") }
func (h *harness) officer(unit string) string {
	return h.token(domain.RoleUnit, unit, "officer@"+unit)
}

// resp is a decoded answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %s", r.Status, r.Body)
	}
	return m
}

// do sends a request. body may be nil, a string (sent as is) or a value
// (JSON-encoded). headers come in name, value pairs.
func (h *harness) do(method, path, token string, body any, headers ...string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// must sends a request and fails the test unless the status matches.
func (h *harness) must(status int, method, path, token string, body any, headers ...string) map[string]any {
	h.t.Helper()
	r := h.do(method, path, token, body, headers...)
	if r.Status != status {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(h.t)
}

func (h *harness) lastSeq() uint64 {
	h.t.Helper()
	s, err := h.store.LastSequence(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func ifMatch(v any) []string { return []string{"If-Match", fmt.Sprintf(`"%v"`, v)} }

// version reads a JSON number field as an integer string.
func str(v any) string { return fmt.Sprint(v) }

// Request bodies of the SPEC.md examples.

const fy2564Department = `{"fiscal_year": 2564, "unit_kind": "department",
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

// fy2563Province has two components averaged without weights and three
// reporting rounds.
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

func indicatorBody(component, title string, weight float64, targets ...float64) map[string]any {
	return map[string]any{"component": component, "title_th": title, "measure": "ร้อยละ", "direction": "up",
		"weight": weight, "targets": targets}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// problemOf checks that a response is a problem document with the status,
// naming the field, and returns it.
func problemOf(t *testing.T, r resp, status int, field string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	p := r.json(t)
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := p[k]; !ok {
			t.Fatalf("problem lacks %q: %s", k, r.Body)
		}
	}
	if field != "" {
		found := false
		errs, _ := p["errors"].([]any)
		for _, e := range errs {
			if e.(map[string]any)["field"] == field {
				found = true
			}
		}
		if !found {
			t.Fatalf("problem does not name field %q: %s", field, r.Body)
		}
	}
	return p
}

// TestBadInputAppendsNothing walks every kind of bad input SPEC.md lists:
// each gets a problem+json answer naming the field at fault, and the
// stream's last sequence does not move.
func TestBadInputAppendsNothing(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	proposed := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("function", "ร้อยละของครัวเรือนที่เข้าถึงน้ำประปา", 1, 80, 90, 95))["id"].(string)
	decided := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", "จำนวนจุดความร้อนลดลง", 1, 10, 20, 30))["id"].(string)
	h.must(200, "POST", "/v1/indicators/"+decided+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)
	h.must(201, "POST", "/v1/indicators/"+decided+"/results", cm, map[string]any{"round": 12, "actual": 25})
	h.must(200, "POST", "/v1/indicators/"+decided+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, ifMatch(3)...)

	weights := strings.Replace(fy2564Department, `"weight": 30`, `"weight": 20`, 1)
	unordered := strings.Replace(fy2564Department, `{"label": "มาตรฐาน", "score": 75}`, `{"label": "มาตรฐาน", "score": 40}`, 1)
	noZeroBand := strings.Replace(fy2564Department, `{"label": "ระดับต้องปรับปรุง", "min": 0}`, `{"label": "ระดับต้องปรับปรุง", "min": 10}`, 1)
	indicators := "/v1/units/TH-50/years/2563/indicators"

	cases := []struct {
		name, method, path, token string
		body                      any
		headers                   []string
		status                    int
		field                     string
	}{
		{"malformed JSON", "POST", indicators, cm, `{"component": "function", "title_th": `, nil, 400, "body"},
		{"not an object", "POST", indicators, cm, `[1,2,3]`, nil, 400, "body"},
		{"trailing data", "POST", indicators, cm, `{"component":"function"} {}`, nil, 400, "body"},
		{"NaN is not JSON", "POST", "/v1/indicators/" + decided + "/results", cm, `{"round": 12, "actual": NaN}`, nil, 400, "body"},
		{"unknown field", "POST", indicators, cm, map[string]any{"component": "function", "title_th": "x", "measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []int{1, 2, 3}, "colour": "red"}, nil, 400, "colour"},
		{"missing title", "POST", indicators, cm, map[string]any{"component": "function", "measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []int{1, 2, 3}}, nil, 400, "title_th"},
		{"string for a number", "POST", indicators, cm, map[string]any{"component": "function", "title_th": "x", "measure": "ร้อยละ", "direction": "up", "weight": "หนึ่ง", "targets": []int{1, 2, 3}}, nil, 400, "weight"},
		{"weight out of range", "POST", indicators, cm, indicatorBody("function", "x", 0, 1, 2, 3), nil, 400, "weight"},
		{"too many decimals", "POST", indicators, cm, map[string]any{"component": "function", "title_th": "x", "measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []float64{1.0000001, 2, 3}}, nil, 400, "targets[0]"},
		{"unknown component", "POST", indicators, cm, indicatorBody("innovation", "x", 1, 1, 2, 3), nil, 400, "component"},
		{"targets out of order", "POST", indicators, cm, indicatorBody("function", "x", 1, 3, 2, 1), nil, 400, "targets"},
		{"wrong number of targets", "POST", indicators, cm, indicatorBody("function", "x", 1, 1, 2), nil, 400, "targets"},
		{"fiscal year out of range", "POST", "/v1/units/TH-50/years/1999/indicators", cm, indicatorBody("function", "x", 1, 1, 2, 3), nil, 400, "fy"},
		{"title too long (characters)", "POST", indicators, cm, indicatorBody("function", strings.Repeat("ก", 501), 1, 1, 2, 3), nil, 400, "title_th"},
		{"weights do not add up", "POST", "/v1/frameworks", opdc, weights, nil, 400, "components"},
		{"levels not ordered", "POST", "/v1/frameworks", opdc, unordered, nil, 400, "scheme.levels[1].score"},
		{"bands do not cover 0", "POST", "/v1/frameworks", opdc, noZeroBand, nil, 400, "bands"},
		{"framework exists", "POST", "/v1/frameworks", opdc, fy2563Province, nil, 409, ""},
		{"report for an unapproved indicator", "POST", "/v1/indicators/" + proposed + "/results", cm, map[string]any{"round": 12, "actual": 91}, nil, 409, ""},
		{"round the framework lacks", "POST", "/v1/indicators/" + decided + "/results", cm, map[string]any{"round": 3, "actual": 25}, nil, 400, "round"},
		{"obstacles required below standard", "POST", "/v1/indicators/" + decided + "/results", cm, map[string]any{"round": 12, "actual": 15}, nil, 400, "obstacles"},
		{"verification decided twice", "POST", "/v1/indicators/" + decided + "/results/12/verification", opdc, map[string]any{"decision": "accept"}, ifMatch(4), 409, ""},
		{"review decided twice", "POST", "/v1/indicators/" + decided + "/review", opdc, map[string]any{"decision": "reject", "comment": "ซ้ำ"}, ifMatch(4), 409, ""},
		{"unknown decision", "POST", "/v1/indicators/" + proposed + "/review", opdc, map[string]any{"decision": "maybe"}, ifMatch(1), 400, "decision"},
		{"adjust without a value", "POST", "/v1/indicators/" + decided + "/results/12/verification", opdc, map[string]any{"decision": "adjust", "comment": "x"}, ifMatch(4), 400, "verified_actual"},
		{"department code malformed", "POST", "/v1/units", opdc, map[string]any{"code": "Bad.Code", "kind": "department", "name_th": "ก", "name_en": "x"}, nil, 400, "code"},
		{"province cannot be registered", "POST", "/v1/units", opdc, map[string]any{"code": "th-50", "kind": "province", "name_th": "ก", "name_en": "x"}, nil, 400, "kind"},
		{"series span too long", "POST", "/v1/units/TH-50/series", cm, map[string]any{"title_th": "x", "measure": "ร้อยละ", "direction": "up", "baseline": 1, "start_year": 2563, "end_year": 2569, "targets": map[string]int{}}, nil, 400, "end_year"},
		{"invalid UTF-8", "POST", indicators, cm, []byte("{\"component\": \"function\", \"title_th\": \"\xff\xfe\"}"), nil, 400, "body"},
		{"too deep", "POST", indicators, cm, strings.Repeat("[", 40) + strings.Repeat("]", 40), nil, 400, "body"},
		{"oversized body", "POST", indicators, cm, `{"title_th": "` + strings.Repeat("ก", 400_000) + `"}`, nil, 413, ""},
		{"empty body", "POST", indicators, cm, "", nil, 400, "body"},
		{"unknown unit", "POST", "/v1/units/TH-99/years/2563/indicators", h.opdc(), indicatorBody("function", "x", 1, 1, 2, 3), nil, 404, ""},
		{"unknown indicator", "POST", "/v1/indicators/nope/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1), 404, ""},
		{"as-of scorecard of an unknown unit", "GET", "/v1/units/TH-99/years/2563/scorecard?as_of=2020-06-30T00:00:00Z", opdc, nil, nil, 404, ""},
		{"audit of an unknown unit", "GET", "/v1/units/TH-99/years/2563/audit", opdc, nil, nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.lastSeq()
			r := h.do(c.method, c.path, c.token, c.body, c.headers...)
			problemOf(t, r, c.status, c.field)
			if after := h.lastSeq(); after != before {
				t.Fatalf("the stream moved from %d to %d", before, after)
			}
		})
	}
}

// TestIfMatch: a versioned write without If-Match is 428, with a stale one
// 409 naming the current version; nothing is appended in either case.
func TestIfMatch(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	r := h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("function", "ร้อยละของป่าที่ได้รับการฟื้นฟู", 1, 1, 2, 3))
	id := r.json(t)["id"].(string)
	if r.Header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", r.Header.Get("ETag"))
	}
	before := h.lastSeq()
	problemOf(t, h.do("POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}), 428, "")
	p := problemOf(t, h.do("POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(7)...), 409, "")
	if str(p["current_version"]) != "1" {
		t.Fatalf("stale If-Match problem: %v", p)
	}
	rev := indicatorBody("function", "ร้อยละของป่าที่ได้รับการฟื้นฟู", 1, 1, 2, 4)
	rev["reason"] = "ปรับค่าเป้าหมาย"
	problemOf(t, h.do("PUT", "/v1/indicators/"+id, cm, rev), 428, "")
	problemOf(t, h.do("POST", "/v1/frameworks/2563/province/revisions", opdc, fy2563Province), 428, "")
	if h.lastSeq() != before {
		t.Fatal("a refused write appended")
	}
	// The framework revision needs a reason and keeps the old revision.
	fr := h.do("GET", "/v1/frameworks/2563/province", cm, nil)
	if fr.Header.Get("ETag") != `"1"` {
		t.Fatalf("framework ETag %q", fr.Header.Get("ETag"))
	}
	var body map[string]any
	_ = json.Unmarshal([]byte(fy2563Province), &body)
	problemOf(t, h.do("POST", "/v1/frameworks/2563/province/revisions", opdc, body, ifMatch(1)...), 400, "reason")
	body["reason"] = "แก้ไขชื่อองค์ประกอบตามมติ ก.พ.ร."
	body["components"].([]any)[1].(map[string]any)["name_en"] = "Agenda Base (revised)"
	out := h.must(201, "POST", "/v1/frameworks/2563/province/revisions", opdc, body, ifMatch(1)...)
	if str(out["revision"]) != "2" || out["reason"] != body["reason"] {
		t.Fatalf("revision answer %v", out)
	}
	old := h.must(200, "GET", "/v1/frameworks/2563/province?revision=1", cm, nil)
	if old["components"].([]any)[1].(map[string]any)["name_en"] != "Agenda Base" {
		t.Fatal("revision 1 was not kept")
	}
}

// TestIdempotencyKey: the same key and body return the first answer and
// append nothing; the same key with another body is refused.
func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	body := indicatorBody("function", "ร้อยละของผู้ป่วยเบาหวานที่ควบคุมน้ำตาลได้", 1, 40, 50, 60)
	first := h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, body, "Idempotency-Key", "cm-2563-001")
	if first.Status != 201 {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	seq := h.lastSeq()
	again := h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, body, "Idempotency-Key", "cm-2563-001")
	if again.Status != 201 || string(again.Body) != string(first.Body) {
		t.Fatalf("repeat answered %d %s\nfirst was %s", again.Status, again.Body, first.Body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("repeat not marked as replayed")
	}
	if h.lastSeq() != seq {
		t.Fatal("the repeat appended")
	}
	other := indicatorBody("function", "อีกตัวชี้วัดหนึ่ง", 1, 40, 50, 60)
	problemOf(t, h.do("POST", "/v1/units/TH-50/years/2563/indicators", cm, other, "Idempotency-Key", "cm-2563-001"), 422, "")
	// The same key from another caller is another command.
	h.must(201, "POST", "/v1/units/TH-57/years/2563/indicators", h.officer("TH-57"), body, "Idempotency-Key", "cm-2563-001")
	if h.lastSeq() != seq+1 {
		t.Fatal("a different caller's key was treated as a repeat")
	}
}

// TestIdempotencyKeyConcurrentRetries: retries of one keyed proposal that
// race each other (a client that timed out and retried while the first
// attempt was still in flight) all answer with the one indicator that was
// created, whether they are answered from the read model or from
// JetStream's duplicate window.
func TestIdempotencyKeyConcurrentRetries(t *testing.T) {
	h := newHarness(t)
	cm := h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	const keys, retries = 4, 6
	for k := range keys {
		seq := h.lastSeq()
		body, _ := json.Marshal(indicatorBody("function", fmt.Sprintf("ตัวชี้วัดที่ %d", k), 1, 40, 50, 60))
		key := fmt.Sprintf("retry-%d", k)
		type answer struct {
			status int
			id     string
			body   string
		}
		answers := make(chan answer, retries)
		var start sync.WaitGroup
		start.Add(1)
		for range retries {
			go func() {
				start.Wait()
				req, _ := http.NewRequest("POST", h.url+"/v1/units/TH-50/years/2563/indicators", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+cm)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					answers <- answer{body: err.Error()}
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				answers <- answer{status: res.StatusCode, id: fmt.Sprint(m["id"]), body: string(b)}
			}()
		}
		start.Done()
		var id string
		for range retries {
			a := <-answers
			if a.status != 201 {
				t.Fatalf("key %s: a retry answered %d %s", key, a.status, a.body)
			}
			if id == "" {
				id = a.id
			} else if a.id != id {
				t.Fatalf("key %s: retries answered with indicators %s and %s", key, id, a.id)
			}
		}
		if got := h.lastSeq(); got != seq+1 {
			t.Fatalf("key %s: %d retries appended %d events, want 1", key, retries, got-seq)
		}
		h.must(200, "GET", "/v1/indicators/"+id, cm, nil)
	}
}

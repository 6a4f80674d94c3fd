package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestViewETags: the scorecard, trends and comparison views carry an ETag;
// sending it back in If-None-Match gets 304 with no body while the answer
// is the same, an event that changes the answer changes the ETag (and the
// old one then gets the new answer), and an event that does not change it
// keeps it. Access is checked before the cache answers.
func TestViewETags(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	id := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("function", "ร้อยละของป่าที่ได้รับการฟื้นฟู", 1, 35, 40, 45))["id"].(string)
	h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)

	scorecard := "/v1/units/TH-50/years/2563/scorecard"
	first := h.do("GET", scorecard, cm, nil)
	etag := first.Header.Get("ETag")
	if first.Status != http.StatusOK || etag == "" || etag[0] != '"' {
		t.Fatalf("scorecard: status %d, ETag %q: %s", first.Status, etag, first.Body)
	}
	if ct := first.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var sc map[string]any
	if err := json.Unmarshal(first.Body, &sc); err != nil || sc["unit"] != "TH-50" || !bytes.HasSuffix(first.Body, []byte("}\n")) {
		t.Fatalf("scorecard body (%v): %s", err, first.Body)
	}
	// A repeat is the same bytes, from the cache, with the same ETag.
	again := h.do("GET", scorecard, opdc, nil)
	if !bytes.Equal(again.Body, first.Body) || again.Header.Get("ETag") != etag {
		t.Fatalf("repeat differs: ETag %q, %s", again.Header.Get("ETag"), again.Body)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		r := h.do("GET", scorecard, cm, nil, "If-None-Match", inm)
		if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: status %d, ETag %q, body %q", inm, r.Status, r.Header.Get("ETag"), r.Body)
		}
	}
	if r := h.do("GET", scorecard, cm, nil, "If-None-Match", `"other"`); r.Status != http.StatusOK || !bytes.Equal(r.Body, first.Body) {
		t.Errorf("another ETag: status %d", r.Status)
	}
	// Access is checked first: another unit's officer gets 403, not 304.
	if r := h.do("GET", scorecard, h.officer("TH-57"), nil, "If-None-Match", etag); r.Status != http.StatusForbidden {
		t.Errorf("another unit's officer: status %d", r.Status)
	}

	// An event elsewhere moves the read model but not this answer: the
	// ETag is the hash of the answer, so it stays and 304 still holds.
	h.must(201, "POST", "/v1/units/TH-57/years/2563/indicators", h.officer("TH-57"), indicatorBody("agenda", "ร้อยละของหมู่บ้านปลอดหมอกควัน", 1, 60, 70, 80))
	if r := h.do("GET", scorecard, cm, nil, "If-None-Match", etag); r.Status != http.StatusNotModified {
		t.Errorf("after an event of another unit: status %d, ETag %q", r.Status, r.Header.Get("ETag"))
	}

	// A new event of this unit-year changes the answer and its ETag.
	h.must(201, "POST", "/v1/indicators/"+id+"/results", cm, map[string]any{"round": 12, "actual": 42.5})
	changed := h.do("GET", scorecard, cm, nil, "If-None-Match", etag)
	next := changed.Header.Get("ETag")
	if changed.Status != http.StatusOK || next == "" || next == etag || bytes.Equal(changed.Body, first.Body) {
		t.Fatalf("after a report: status %d, ETag %q (was %q)", changed.Status, next, etag)
	}
	if r := h.do("GET", scorecard, cm, nil, "If-None-Match", next); r.Status != http.StatusNotModified {
		t.Errorf("the new ETag: status %d", r.Status)
	}

	// ?pretty is indented for people, as Echo does it (not cached).
	if r := h.do("GET", scorecard+"?pretty", cm, nil); r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("\n  ")) {
		t.Errorf("pretty: status %d: %s", r.Status, r.Body)
	}

	// The other cached views: trends and comparison, each its own answer.
	for _, path := range []string{"/v1/units/TH-50/trends", "/v1/units/TH-50/comparison?from=2563&to=2563"} {
		r := h.do("GET", path, cm, nil)
		tag := r.Header.Get("ETag")
		if r.Status != http.StatusOK || tag == "" || tag == next {
			t.Fatalf("%s: status %d, ETag %q: %s", path, r.Status, tag, r.Body)
		}
		if r := h.do("GET", path, cm, nil, "If-None-Match", tag); r.Status != http.StatusNotModified {
			t.Errorf("%s with its ETag: status %d", path, r.Status)
		}
	}
}

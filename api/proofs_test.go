package api_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/events"
)

// TestProofEndpoints: the checkpoint notes, inclusion and consistency
// proofs, and cosignatures collected from any witness whose signature
// verifies under the key it names (no serve --witness-keys set).
func TestProofEndpoints(t *testing.T) {
	h := newHarness(t)
	opdc, auditor, own := h.opdc(), h.auditor(), h.officer("TH-50")
	if r := h.do("GET", "/v1/checkpoints/latest", auditor, nil); r.Status != 404 {
		t.Fatalf("latest with none signed: %d %s", r.Status, r.Body)
	}
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", own, indicatorBody("function", "ร้อยละของเกษตรกรที่ได้รับการรับรอง GAP", 1, 1, 2, 3))
	first := h.must(201, "POST", "/v1/checkpoints", opdc, nil)
	h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", own, indicatorBody("function", "จำนวนจุดความร้อน", 1, 1, 2, 3))
	second := h.must(201, "POST", "/v1/checkpoints", opdc, nil)
	from, to := uint64(first["count"].(float64)), uint64(second["count"].(float64))
	if from != 2 || to != 4 {
		t.Fatalf("checkpoint sizes %d and %d, want 2 and 4 (the first checkpoint event is a leaf)", from, to)
	}
	open := func(size uint64) events.Checkpoint {
		t.Helper()
		r := h.do("GET", fmt.Sprintf("/v1/checkpoints/%d", size), auditor, nil)
		text, err := events.OpenNote(string(r.Body), h.signer.VerifierKey())
		if err != nil {
			t.Fatalf("checkpoint %d: %d %s: %v", size, r.Status, r.Body, err)
		}
		cp, err := events.ParseCheckpoint(text)
		if err != nil || cp.Size != size || cp.Groups == nil {
			t.Fatalf("checkpoint %d: %+v %v", size, cp, err)
		}
		return cp
	}
	cp1, cp2 := open(from), open(to)
	for seq := uint64(1); seq <= to; seq++ {
		r := h.do("GET", fmt.Sprintf("/v1/proofs/inclusion?sequence=%d&size=%d", seq, to), auditor, nil)
		var p events.InclusionProof
		if err := json.Unmarshal(r.Body, &p); err != nil || p.Check() != nil || p.Root != cp2.Root || p.Checkpoint == "" {
			t.Fatalf("inclusion of %d: %d %s", seq, r.Status, r.Body)
		}
		idx, hashes, note, err := events.ParseTlogProof(p.TlogProof)
		if err != nil || idx != seq-1 || len(hashes) != len(p.Hashes) || note != p.Checkpoint {
			t.Fatalf("tlog-proof of %d: %v\n%s", seq, err, p.TlogProof)
		}
	}
	var p events.ConsistencyProof
	r := h.do("GET", fmt.Sprintf("/v1/proofs/consistency?from=%d&to=%d", from, to), auditor, nil)
	if err := json.Unmarshal(r.Body, &p); err != nil || events.CheckConsistency(p.Hashes, cp1, cp2) != nil {
		t.Fatalf("consistency: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"/v1/proofs/inclusion?sequence=5&size=4", "/v1/proofs/inclusion?sequence=0&size=4",
		"/v1/proofs/consistency?from=4&to=2", "/v1/proofs/consistency?from=x&to=2"} {
		if r := h.do("GET", bad, auditor, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := h.do("GET", "/v1/proofs/inclusion?sequence=1&size=99", auditor, nil); r.Status != 404 {
		t.Errorf("a size beyond the log: %d %s", r.Status, r.Body)
	}

	// A witness cosigns the latest checkpoint; the ledger keeps and serves it.
	skey, vkey, _ := events.GenerateCosignerKey("oag.go.th/witness", rand.Reader)
	w, _ := events.NewCosigner(skey, nil)
	latest := h.do("GET", "/v1/checkpoints/latest", auditor, nil)
	cosigned, err := w.Cosign(string(latest.Body))
	if err != nil {
		t.Fatal(err)
	}
	post := func(key, body string) resp {
		return h.do("POST", fmt.Sprintf("/v1/checkpoints/%d/cosignatures?%s", to, url.Values{"key": {key}}.Encode()), auditor, body, "Content-Type", "text/plain; charset=utf-8")
	}
	if r := post(vkey, strings.Replace(cosigned, "\n4\n", "\n5\n", 1)); r.Status != 400 {
		t.Fatalf("a cosignature over another text: %d %s", r.Status, r.Body)
	}
	_, otherKey, _ := events.GenerateCosignerKey("oag.go.th/witness", rand.Reader)
	if r := post(otherKey, cosigned); r.Status != 400 {
		t.Fatalf("a cosignature that does not verify under the named key: %d %s", r.Status, r.Body)
	}
	if r := post(vkey, cosigned); r.Status != 200 {
		t.Fatalf("cosignature: %d %s", r.Status, r.Body)
	}
	served := h.do("GET", "/v1/checkpoints/latest", auditor, nil)
	if names, err := events.Cosigners(string(served.Body), []string{vkey}); err != nil || len(names) != 1 {
		t.Fatalf("the served checkpoint carries cosigners %v (%v):\n%s", names, err, served.Body)
	}
	if _, err := events.OpenNote(string(served.Body), h.signer.VerifierKey()); err != nil {
		t.Fatalf("the cosigned checkpoint lost the ledger's signature: %v", err)
	}
}

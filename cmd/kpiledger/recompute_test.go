package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// TestRecomputeScores: OPDC signs TH-50 FY2565's results statement after
// three indicators are approved, reported and verified; the unit-year's
// export carries it, and verify --recompute
// re-folds the bundle with the domain's scoring and finds every figure
// equal. A statement re-signed with the ledger's key but a changed score
// is caught: verify names the figure, prints its derivation and exits 1.
func TestRecomputeScores(t *testing.T) {
	ctx := context.Background()
	env := func(string) string { return "" }
	dataDir := t.TempDir()
	base, _ := startRun(t, dataDir, "--checkpoint-every", "0")
	waitReady(t, base)
	var out, errb strings.Builder
	if err := run(ctx, []string{"token", "--role", "opdc", "--data-dir", dataDir}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	opdc := strings.TrimSpace(out.String())
	out.Reset()
	if err := run(ctx, []string{"token", "--role", "unit", "--unit", "TH-50", "--data-dir", dataDir}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	cm := strings.TrimSpace(out.String())
	send := func(path, token string, body any, want int, headers ...string) map[string]any {
		t.Helper()
		code, b, err := post(http.DefaultClient, base+path, token, body, headers...)
		if err != nil || code != want {
			t.Fatalf("POST %s: %d %s %v", path, code, b, err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	send("/v1/frameworks", opdc, jsonMap(t, crashFramework), 201)
	for i, actual := range []float64{2.5, 1.5, 3.2} {
		id := send("/v1/units/TH-50/years/2565/indicators", cm, map[string]any{"component": "performance",
			"title_th": []string{"ร้อยละของครัวเรือนที่มีน้ำประปา", "จำนวนจุดความร้อน", "รายได้จากการท่องเที่ยว"}[i],
			"measure":  "ร้อยละ", "direction": "up", "weight": 1 + i, "targets": []int{1, 2, 3}}, 201)["id"].(string)
		send("/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, 200, "If-Match", `"1"`)
		send("/v1/indicators/"+id+"/results", cm, map[string]any{"round": 12, "actual": actual, "obstacles": "ภัยแล้ง"}, 201)
		send("/v1/indicators/"+id+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, 200, "If-Match", `"3"`)
	}
	code, signed, err := post(http.DefaultClient, base+"/v1/units/TH-50/years/2565/statement", opdc, nil)
	if err != nil || code != 201 || !strings.HasPrefix(string(signed), "kpiledger results v1\n") {
		t.Fatalf("statement: %d %s %v", code, signed, err)
	}
	// A later event: the export is cut at a later checkpoint, which the
	// bundle proves extends the statement's.
	send("/v1/units/TH-50/years/2565/indicators", cm, map[string]any{"component": "performance", "title_th": "ตัวชี้วัดที่เสนอภายหลัง",
		"measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []int{1, 2, 3}}, 201)
	bundle := filepath.Join(t.TempDir(), "th50-2565.jsonl")
	if err := run(ctx, []string{"export", "--url", base, "--data-dir", dataDir, "--unit", "TH-50", "--fiscal-year", "2565", "--out", bundle}, env, &out, &errb); err != nil {
		t.Fatalf("export: %v\n%s", err, errb.String())
	}
	logKey, err := events.LoadSigningKey(dataDir, env)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(file string) (string, error) {
		var o strings.Builder
		err := run(ctx, []string{"verify", "--file", file, "--trust", logKey.VerifierKey(), "--recompute"}, env, &o, &errb)
		return o.String(), err
	}
	said, err := verify(bundle)
	if err != nil || !strings.Contains(said, "recomputed: 3 indicator scores, 1 component scores") || !strings.Contains(said, "match the signed statement") {
		t.Fatalf("verify --recompute: %v\n%s", err, said)
	}

	// The operator publishes a better total under the ledger's own key.
	b, _ := os.ReadFile(bundle)
	lines := strings.SplitN(string(b), "\n", 2)
	var hdr map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil {
		t.Fatal(err)
	}
	text, err := events.OpenNote(hdr["statement"].(string), logKey.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := projections.ParseStatement(text)
	if err != nil {
		t.Fatal(err)
	}
	truth := stmt.Total
	stmt.Total = "99.5"
	if hdr["statement"], err = logKey.Sign(stmt.Text()); err != nil {
		t.Fatal(err)
	}
	h, _ := json.Marshal(hdr)
	forged := filepath.Join(t.TempDir(), "forged.jsonl")
	_ = os.WriteFile(forged, []byte(string(h)+"\n"+lines[1]), 0o644)
	said, err = verify(forged)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 || !strings.Contains(said, "NOT INTACT: 1 published figure(s) of TH-50 FY2565 differ") ||
		!strings.Contains(said, "total: the signed statement says 99.5, recomputed "+string(truth)) || !strings.Contains(said, "derivation: ") {
		t.Fatalf("a changed total: %v\n%s", err, said)
	}
	t.Logf("verify --recompute on the forged statement:\n%s", said)
}

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

// TestRecomputeScores: OPDC signs TH-50 FY2563's results statement on the
// demo ledger, the unit-year's export carries it, and verify --recompute
// re-folds the bundle with the domain's scoring and finds every figure
// equal. A statement re-signed with the ledger's key but a changed score
// is caught: verify names the figure, prints its derivation and exits 1.
func TestRecomputeScores(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data")
	}
	ctx := context.Background()
	env := func(string) string { return "" }
	dataDir := t.TempDir()
	base, _ := startRun(t, dataDir, "--demo", "--checkpoint-every", "0")
	waitReady(t, base)
	var out, errb strings.Builder
	if err := run(ctx, []string{"token", "--role", "opdc", "--data-dir", dataDir}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	opdc := strings.TrimSpace(out.String())
	code, signed, err := post(http.DefaultClient, base+"/v1/units/TH-50/years/2563/statement", opdc, nil)
	if err != nil || code != 201 || !strings.HasPrefix(string(signed), "kpiledger results v1\n") {
		t.Fatalf("statement: %d %s %v", code, signed, err)
	}
	// Later events: the export's checkpoint extends the statement's.
	if code, body, err := post(http.DefaultClient, base+"/v1/checkpoints", opdc, nil); err != nil || (code != 201 && code != 200) {
		t.Fatalf("checkpoint: %d %s %v", code, body, err)
	}
	bundle := filepath.Join(t.TempDir(), "th50-2563.jsonl")
	if err := run(ctx, []string{"export", "--url", base, "--data-dir", dataDir, "--unit", "TH-50", "--fiscal-year", "2563", "--out", bundle}, env, &out, &errb); err != nil {
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
	if err != nil || !strings.Contains(said, "recomputed: ") || !strings.Contains(said, "match the signed statement") {
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
	if !errors.As(err, &ec) || ec != 1 || !strings.Contains(said, "NOT INTACT: 1 published figure(s) of TH-50 FY2563 differ") ||
		!strings.Contains(said, "total: the signed statement says 99.5, recomputed "+string(truth)) || !strings.Contains(said, "derivation: ") {
		t.Fatalf("a changed total: %v\n%s", err, said)
	}
	t.Logf("verify --recompute on the forged statement:\n%s", said)
}

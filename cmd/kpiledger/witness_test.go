package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/events"
)

// TestWitnessCosignsAndRefusesForks runs a ledger that collects the
// cosignatures of one witness: the witness cosigns two checkpoints (the
// second after checking it extends the first), the export carries the
// cosigned checkpoint and verify --witness --quorum 1 accepts it; a witness
// whose state holds a larger tree (rollback) or another tree of the same
// or a smaller size (fork) refuses, exits 1 and cosigns nothing.
func TestWitnessCosignsAndRefusesForks(t *testing.T) {
	ctx := context.Background()
	env := func(string) string { return "" }
	dir := t.TempDir()
	keyFile, state := filepath.Join(dir, "witness.key"), filepath.Join(dir, "witness.state")
	var out, errb strings.Builder
	if err := run(ctx, []string{"witness", "--generate", "oag.go.th/witness", "--key-file", keyFile}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	wkey := strings.TrimSpace(out.String())
	dataDir := t.TempDir()
	base, _ := startRun(t, dataDir, "--witness-keys", wkey, "--checkpoint-every", "0")
	waitReady(t, base)
	out.Reset()
	if err := run(ctx, []string{"token", "--role", "opdc", "--data-dir", dataDir}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	opdc := strings.TrimSpace(out.String())
	logKey, err := events.LoadSigningKey(dataDir, env)
	if err != nil {
		t.Fatal(err)
	}
	witness := func() (string, error) {
		var o strings.Builder
		err := run(ctx, []string{"witness", "--once", "--url", base, "--data-dir", dataDir, "--log-key", logKey.VerifierKey(),
			"--key-file", keyFile, "--state", state}, env, &o, &errb)
		return o.String(), err
	}
	for i, fw := range []string{crashFramework, strings.Replace(crashFramework, "2565", "2566", 1)} {
		if code, body, err := post(http.DefaultClient, base+"/v1/frameworks", opdc, jsonMap(t, fw)); err != nil || code != 201 {
			t.Fatalf("framework: %d %s %v", code, body, err)
		}
		if code, body, err := post(http.DefaultClient, base+"/v1/checkpoints", opdc, nil); err != nil || code != 201 {
			t.Fatalf("checkpoint: %d %s %v", code, body, err)
		}
		said, err := witness()
		if err != nil || !strings.Contains(said, "cosigned checkpoint") {
			t.Fatalf("witness round %d: %v %q %s", i, err, said, errb.String())
		}
	}
	// The second checkpoint covers the framework, the first checkpoint
	// event and the second framework.
	bundle := filepath.Join(t.TempDir(), "all.jsonl")
	if err := run(ctx, []string{"export", "--url", base, "--data-dir", dataDir, "--out", bundle}, env, &out, &errb); err != nil {
		t.Fatalf("export: %v\n%s", err, errb.String())
	}
	out.Reset()
	if err := run(ctx, []string{"verify", "--file", bundle, "--trust", logKey.VerifierKey(), "--witness", wkey, "--quorum", "1"}, env, &out, &errb); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "the whole tree recomputed to checkpoint 3") || !strings.Contains(out.String(), "cosigned by oag.go.th/witness") {
		t.Fatalf("verify said %q", out.String())
	}
	// A witness the bundle's checkpoint lacks: no quorum.
	otherKey, other, _ := events.GenerateCosignerKey("nesdc.go.th/witness", strings.NewReader(strings.Repeat("x", 64)))
	// The ledger was told to collect only the first witness's cosignatures.
	otherSigner, _ := events.NewCosigner(otherKey, nil)
	latest, _ := http.NewRequest("GET", base+"/v1/checkpoints/latest", nil)
	latest.Header.Set("Authorization", "Bearer "+opdc)
	res, err := http.DefaultClient.Do(latest)
	if err != nil {
		t.Fatal(err)
	}
	note, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cosigned, err := otherSigner.Cosign(string(note))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/v1/checkpoints/3/cosignatures?"+url.Values{"key": {other}}.Encode(), strings.NewReader(cosigned))
	req.Header.Set("Authorization", "Bearer "+opdc)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cosignature of a witness outside --witness-keys: %v %v", res, err)
	}
	out.Reset()
	err = run(ctx, []string{"verify", "--file", bundle, "--trust", logKey.VerifierKey(), "--witness", wkey, "--witness", other, "--quorum", "2"}, env, &out, &errb)
	var ec exitCode
	if !errors.As(err, &ec) || !strings.Contains(out.String(), "NOT INTACT: witness") {
		t.Fatalf("quorum of 2 with one cosignature: %v %q", err, out.String())
	}

	refuse := func(name string, cp events.Checkpoint, want string) {
		t.Run(name, func(t *testing.T) {
			note, err := logKey.Sign(cp.Text())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(witnessState{Checkpoint: note})
			if err := os.WriteFile(state, b, 0o600); err != nil {
				t.Fatal(err)
			}
			said, err := witness()
			var ec exitCode
			if !errors.As(err, &ec) || ec != 1 || !strings.HasPrefix(said, "REFUSED: "+want) {
				t.Fatalf("witness: %v, said %q; want a refusal naming %q", err, said, want)
			}
			after, _ := os.ReadFile(state)
			if string(after) != string(b) {
				t.Fatal("a refusing witness changed its state")
			}
		})
	}
	origin := events.Origin(events.DefaultStream)
	refuse("rollback", events.Checkpoint{Origin: origin, Size: 10}, "rollback")
	refuse("fork of the same size", events.Checkpoint{Origin: origin, Size: 3}, "fork: two different checkpoints of the same size 3")
	refuse("fork: a smaller tree it does not extend", events.Checkpoint{Origin: origin, Size: 2}, "fork: the checkpoint of 3 events does not extend the one of 2")
}

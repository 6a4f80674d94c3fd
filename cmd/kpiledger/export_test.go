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
)

// TestExportThenVerifyOffline: `kpiledger export` downloads a bundle from a
// running ledger and `kpiledger verify --file` checks it with no server,
// pinned to the key `kpiledger verify --key` prints; a changed byte makes
// verify exit 1 naming the event.
func TestExportThenVerifyOffline(t *testing.T) {
	dataDir := t.TempDir()
	base, _ := startRun(t, dataDir)
	waitReady(t, base)
	env := func(string) string { return "" }
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"token", "--role", "opdc", "--data-dir", dataDir}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	opdc := strings.TrimSpace(out.String())
	if code, body, err := post(http.DefaultClient, base+"/v1/frameworks", opdc, jsonMap(t, crashFramework)); err != nil || code != 201 {
		t.Fatalf("framework: %d %s %v", code, body, err)
	}
	if code, body, err := post(http.DefaultClient, base+"/v1/checkpoints", opdc, nil); err != nil || code != 201 {
		t.Fatalf("checkpoint: %d %s %v", code, body, err)
	}
	bundle := filepath.Join(t.TempDir(), "all.jsonl")
	out.Reset()
	if err := run(context.Background(), []string{"export", "--url", base, "--data-dir", dataDir, "--out", bundle}, env, &out, &errb); err != nil {
		t.Fatalf("export: %v\n%s", err, errb.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify", "--key", "--data-dir", dataDir}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, "kpiledger+") {
		t.Fatalf("verify --key printed %q", key)
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify", "--file", bundle, "--trust", key}, env, &out, &errb); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	// The bundle is cut at the checkpoint: the framework event, proven by
	// recomputing the checkpoint's tree.
	if !strings.HasPrefix(out.String(), "intact: 1 events of 1 aggregates (the whole ledger) up to sequence 1, the whole tree recomputed to checkpoint 1") {
		t.Fatalf("verify said %q", out.String())
	}
	// A unit-year with no events yet: its bundle proves the absence from
	// the checkpoint's group tree, and verifies.
	empty := filepath.Join(t.TempDir(), "th50-2563.jsonl")
	out.Reset()
	if err := run(context.Background(), []string{"export", "--url", base, "--data-dir", dataDir, "--unit", "TH-50", "--fiscal-year", "2563", "--out", empty}, env, &out, &errb); err != nil {
		t.Fatalf("export of an empty unit-year: %v\n%s", err, errb.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify", "--file", empty, "--trust", key}, env, &out, &errb); err != nil {
		t.Fatalf("verify of an empty unit-year: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "intact: 0 events") || !strings.Contains(out.String(), "no events of kpi.u.TH-50.2563 (proven absent from the group tree)") {
		t.Fatalf("verify of an empty unit-year said %q", out.String())
	}
	b, _ := os.ReadFile(bundle)
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	_ = os.WriteFile(tampered, []byte(strings.Replace(string(b), "การประเมินประสิทธิผล", "การประเมินผล", 1)), 0o644)
	out.Reset()
	err := run(context.Background(), []string{"verify", "--file", tampered, "--trust", key}, env, &out, &errb)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 || !strings.HasPrefix(out.String(), "NOT INTACT: changed (line 2, sequence 1, event ") {
		t.Fatalf("tampered bundle: err %v, output %q", err, out.String())
	}
}

func jsonMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestTokenMintingBounds: `kpiledger token` refuses a unit the ledger does
// not know (asking the running ledger about anything that is not a
// province), a time to live beyond the bound, and an oversized subject.
func TestTokenMintingBounds(t *testing.T) {
	dir := t.TempDir()
	base, _ := startRun(t, dir)
	waitReady(t, base)
	env := func(string) string { return "" }
	mint := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"token", "--data-dir", dir, "--url", base}, args...), env, &out, &errb)
		return strings.TrimSpace(out.String()), err
	}
	for _, args := range [][]string{
		{"--role", "unit", "--unit", "TH-99"},
		{"--role", "unit", "--unit", "nosuchdept"},
		{"--role", "opdc", "--ttl", "1000000h"},
		{"--role", "opdc", "--sub", strings.Repeat("x", 20000)},
	} {
		if tok, err := mint(args...); err == nil || tok != "" {
			t.Errorf("%v: minted %q", args[:4], tok)
		}
	}
	if _, err := mint("--role", "unit", "--unit", "nosuchdept"); err == nil || !strings.Contains(err.Error(), "unknown unit") {
		t.Errorf("unknown department: %v", err)
	}
	// A province needs no ledger; a department must be registered first.
	if _, err := mint("--role", "unit", "--unit", "TH-50", "--url", "http://127.0.0.1:1"); err != nil {
		t.Errorf("province: %v", err)
	}
	opdc, err := mint("--role", "opdc")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/v1/units", strings.NewReader(`{"code":"dopa","kind":"department","name_th":"กรมการปกครอง","name_en":"DOPA"}`))
	req.Header.Set("Authorization", "Bearer "+opdc)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if _, err := mint("--role", "unit", "--unit", "dopa"); err != nil {
		t.Errorf("registered department: %v", err)
	}
	if _, err := mint("--role", "opdc", "--ttl", "2160h", "--token-max-ttl", "2400h"); err != nil {
		t.Errorf("a longer bound, configured: %v", err)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api/demo"
)

// demoEvents is how many events the default demo plan appends.
func demoEvents(t *testing.T) int {
	t.Helper()
	p, err := demo.Generate(demo.DefaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Steps)
}

// getAuthed reads a JSON document with a bearer token, numbers as text.
func getAuthed(t *testing.T, url, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %v", url, res.StatusCode, err, m)
	}
	return m
}

// streamEnd is the ledger's last stream sequence, from /metrics.
func streamEnd(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "kpiledger_stream_last_sequence "); ok {
			return v
		}
	}
	t.Fatalf("/metrics has no kpiledger_stream_last_sequence:\n%s", b)
	return ""
}

func TestDemoHelp(t *testing.T) {
	var out, errb strings.Builder
	err := run(context.Background(), []string{"demo", "--help"}, func(string) string { return "" }, &out, &errb)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("demo --help: %v", err)
	}
	for _, want := range []string{"--url", "--seed", "--data-dir", "Idempotency-Key", "appends nothing", "KPILEDGER_TOKEN_KEY",
		"X-Occurred-At", "recorded_at", "serve --demo"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("demo --help does not mention %s:\n%s", want, errb.String())
		}
	}
}

func TestDemoRefusesWithoutURLOrKey(t *testing.T) {
	env := func(string) string { return "" }
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"demo"}, env, &out, &errb); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("demo without --url: %v", err)
	}
	// An empty data directory has no key: making one would sign tokens the
	// server refuses, so the command says what is missing instead.
	err := run(context.Background(), []string{"demo", "--url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, env, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "KPILEDGER_TOKEN_KEY") {
		t.Errorf("demo with no token key: %v", err)
	}
}

// TestDemoURLTwice loads the demo into a running ledger over HTTP, then
// again: the second run appends nothing.
func TestDemoURLTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data over HTTP twice")
	}
	dir := t.TempDir()
	// The loader writes thousands of events per principal: far beyond the
	// per-caller write limit, which a ledger being loaded turns off.
	base, _ := startRun(t, dir, "--write-rate", "-1")
	waitReady(t, base)
	env := func(string) string { return "" }
	args := []string{"demo", "--url", base, "--data-dir", dir}
	var out, errb strings.Builder
	if err := run(context.Background(), args, env, &out, &errb); err != nil {
		t.Fatalf("first demo --url: %v\n%s", err, errb.String())
	}
	n := demoEvents(t)
	if want := fmt.Sprintf("%d events appended, 0 already in the ledger", n); !strings.Contains(out.String(), want) {
		t.Errorf("first run said:\n%s\nwant %q", out.String(), want)
	}
	if got := streamEnd(t, base); got != fmt.Sprint(n) {
		t.Fatalf("stream ends at %s after the first run, want %d", got, n)
	}
	out.Reset()
	if err := run(context.Background(), args, env, &out, &errb); err != nil {
		t.Fatalf("second demo --url: %v\n%s", err, errb.String())
	}
	if want := fmt.Sprintf("0 events appended, %d already in the ledger", n); !strings.Contains(out.String(), want) {
		t.Errorf("second run said:\n%s\nwant %q", out.String(), want)
	}
	if got := streamEnd(t, base); got != fmt.Sprint(n) {
		t.Fatalf("stream ends at %s after the second run, want %d", got, n)
	}
	// The server's clock applied: the totals are the demo's, but every
	// event was recorded today, so as of the fiscal year not even its
	// framework existed yet.
	opdc := tokenFor(t, dir, "opdc")
	sc := getAuthed(t, base+"/v1/units/TH-50/years/2563/scorecard", opdc)
	if fmt.Sprint(sc["total"]) != "65.5" {
		t.Errorf("TH-50 FY2563 total %v, want 65.5", sc["total"])
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/units/TH-50/years/2563/scorecard?as_of=2020-06-30T00:00:00Z", nil)
	req.Header.Set("Authorization", "Bearer "+opdc)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("as of 2020, a demo loaded over HTTP today: status %d, want 404 (no framework recorded yet)", res.StatusCode)
	}
}

// tokenFor prints a token with `kpiledger token`, as a user would.
func tokenFor(t *testing.T, dir, role string) string {
	t.Helper()
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"token", "--role", role, "--data-dir", dir}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatalf("token: %v %s", err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// startServeDemo runs `serve --demo` through run() and returns its base URL,
// its standard output so far, and a stop function; it allows for the load.
func startServeDemo(t *testing.T, dir string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve", "--demo", "--data-dir", dir, "--http-addr", "127.0.0.1:0"}, func(string) string { return "" }, pw, stderr)
		pw.Close()
		done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				urlc <- strings.Fields(rest)[0]
			}
		}
	}()
	var base string
	select {
	case base = <-urlc:
	case err := <-done:
		t.Fatalf("serve --demo exited: %v\n%s\n%s", err, out.String(), stderr.String())
	case <-time.After(3 * time.Minute):
		t.Fatalf("serve --demo did not start\n%s\n%s", out.String(), stderr.String())
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve --demo did not stop")
		}
	}
	t.Cleanup(func() { _ = stop() })
	// The tokens and examples follow the listening line.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "kind=province&pretty") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return base, out, stop
}

// TestServeDemo: `serve --demo` loads the demo into an empty ledger before
// listening, with recorded_at in the fiscal years and real time after;
// prints a token per role and three curl examples that work; and on a
// second start leaves the ledger alone.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data")
	}
	dir := t.TempDir()
	base, out, stop := startServeDemo(t, dir)
	n := demoEvents(t)
	text := out.String()
	for _, want := range []string{fmt.Sprintf("demo data loaded: %d events", n), "export KPI=" + base,
		"export OPDC=", "export AUDITOR=", "export CM=", demo.ShowcaseUnit.Subject} {
		if !strings.Contains(text, want) {
			t.Errorf("serve --demo output lacks %q:\n%s", want, text)
		}
	}
	tokens := map[string]string{}
	var curls []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			tokens[k] = v
		}
		if strings.HasPrefix(line, "curl ") {
			curls = append(curls, line)
		}
	}
	if len(curls) != 3 {
		t.Fatalf("%d curl examples, want 3:\n%s", len(curls), text)
	}
	// Each example, done as the shell would: $VAR replaced, the quoted URL.
	for _, c := range curls {
		tok := tokens[c[strings.Index(c, "Bearer $")+8:strings.Index(c, `" "`)]]
		url := strings.TrimSuffix(c[strings.Index(c, `" "`)+3:], `"`)
		url = strings.ReplaceAll(url, "$KPI", tokens["KPI"])
		doc := getAuthed(t, url, tok)
		if len(doc) == 0 {
			t.Errorf("%s answered an empty document", c)
		}
	}
	cm := tokens["CM"]
	if sc := getAuthed(t, base+"/v1/units/TH-50/years/2563/scorecard", cm); fmt.Sprint(sc["total"]) != "65.5" {
		t.Errorf("TH-50 FY2563 total %v, want 65.5", sc["total"])
	}
	// recorded_at followed the plan: on 30 June 2020 only the six-month
	// results were in (see api/demo's tests for the arithmetic).
	if sc := getAuthed(t, base+"/v1/units/TH-50/years/2563/scorecard?as_of=2020-06-30T00:00:00Z", cm); fmt.Sprint(sc["total"]) != "19.875" {
		t.Errorf("TH-50 FY2563 as of 2020-06-30: total %v, want 19.875", sc["total"])
	}
	// After loading, the clock is real time again.
	opdc := tokens["OPDC"]
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/units", strings.NewReader(`{"code":"opdc-test","kind":"department","name_th":"ทดสอบ","name_en":"Test"}`))
	req.Header.Set("Authorization", "Bearer "+opdc)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("write after loading: %v %v", err, res)
	}
	res.Body.Close()
	feed := getAuthed(t, fmt.Sprintf("%s/v1/events?after=%d", base, n), opdc)["events"].([]any)
	recorded, _ := time.Parse(time.RFC3339Nano, feed[0].(map[string]any)["recorded_at"].(string))
	if d := time.Since(recorded); d < 0 || d > time.Minute {
		t.Errorf("a write after loading was recorded at %s, not now", recorded)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	_, out, stop = startServeDemo(t, dir)
	if want := fmt.Sprintf("already holds %d events", n+1); !strings.Contains(out.String(), want) {
		t.Errorf("second serve --demo said:\n%s\nwant %q", out.String(), want)
	}
	if strings.Contains(out.String(), "demo data loaded") {
		t.Error("second serve --demo loaded the demo again")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

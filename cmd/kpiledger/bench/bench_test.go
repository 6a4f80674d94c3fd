package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchRunsEveryFigure runs `kpiledger bench` as main does, small, and
// checks that it prints and writes every figure, each measured and none
// with failed operations. Nothing about the figures' values is asserted:
// they are measurements, not test outcomes.
func TestBenchRunsEveryFigure(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr strings.Builder
	args := []string{"--quick", "--events", "8000", "--rounds", "1", "--duration", "150ms", "--out", out}
	if err := Run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	rep := readReport(t, out)
	want := []string{"rebuild", "memory", "as_of", "append_1", "append_8", "http_write_1", "http_write_8", "http_write_32", "views_32", "import_results"}
	got := map[string]*benchFigure{}
	for _, f := range rep.Figures {
		got[f.Key] = f
	}
	for _, k := range want {
		f := got[k]
		switch {
		case f == nil:
			t.Errorf("no %s figure", k)
		case k != "memory" && f.Result.Rate <= 0 && f.Result.P50Ms <= 0:
			t.Errorf("%s measured nothing: %+v", k, f.Result)
		case f.Result.Errors > 0:
			t.Errorf("%s: %d operations failed", k, f.Result.Errors)
		case f.Raw != nil && f.Ratio <= 0:
			t.Errorf("%s: no ratio to its counterpart", k)
		}
		if f != nil && !strings.Contains(stdout.String(), f.Title) {
			t.Errorf("the table does not show %q", f.Title)
		}
	}
	if rep.History.Events != 8000 || rep.History.Provinces != 76 {
		t.Errorf("history: %+v", rep.History)
	}
}

func TestBenchHelpExplainsEveryFigure(t *testing.T) {
	var stdout, stderr strings.Builder
	err := Run(context.Background(), []string{"--help"}, func(string) string { return "" }, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("bench --help: %v", err)
	}
	for _, s := range []string{"append", "http write", "rebuild", "as_of", "view GET", "import", "memory", "--quick", "--events"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("bench --help does not explain %q", s)
		}
	}
}

// TestBenchOnlyRunsWhatAPhaseNeeds: --only http-write runs the rebuild and
// the server it needs (it crashed on a nil read model before), reports
// only its own figures, and an unknown phase is a clear error.
func TestBenchOnlyRunsWhatAPhaseNeeds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr strings.Builder
	args := []string{"--quick", "--events", "5000", "--rounds", "1", "--duration", "100ms", "--only", "http-write", "--out", out}
	if err := Run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("bench --only http-write: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--only serve: also running rebuild, which it needs") ||
		!strings.Contains(stderr.String(), "--only http-write: also running serve, which it needs") {
		t.Errorf("bench did not say which phases it added:\n%s", stderr.String())
	}
	rep := readReport(t, out)
	keys := map[string]bool{}
	for _, f := range rep.Figures {
		keys[f.Key] = true
	}
	if !keys["http_write_8"] || keys["views_32"] || keys["import_results"] {
		t.Errorf("figures of --only http-write: %v", keys)
	}
	err := Run(context.Background(), []string{"--quick", "--only", "http-writes"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `no phase "http-writes"`) {
		t.Errorf("an unknown phase: %v", err)
	}
}

// readReport reads the JSON file a bench run wrote.
func readReport(t *testing.T, path string) benchReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

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

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// TestBenchGeneratorFoldsCleanly checks the benchmark's history generator:
// the domain refuses none of its decisions, its predicted sequences and
// expected versions are the ones a fold accepts, it is deterministic, and
// it produces every kind of event.
func TestBenchGeneratorFoldsCleanly(t *testing.T) {
	const n = 30000
	st := projections.NewState()
	var hashes []string
	g := newBenchGen(1, n, 0, func(subject string, data []byte, expectedLast uint64) error {
		seq := uint64(len(hashes) + 1)
		e, err := events.DecodeMessage(data, seq)
		if err != nil {
			return err
		}
		if s, _ := e.Subject(); s != subject {
			t.Fatalf("event %d: subject %s, envelope says %s", seq, subject, s)
		}
		want := st.Heads[projections.AggregateKey(e.AggregateKind, e.AggregateID)].Seq
		if expectedLast != want {
			t.Fatalf("event %d: expected last %d, the aggregate's last event is at %d", seq, expectedLast, want)
		}
		if err := e.CheckHash(); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, e.Hash)
		return st.Apply(e)
	})
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	if g.Refused > 0 {
		t.Errorf("the domain refused %d generated decisions; first: %v", g.Refused, g.FirstRefusal)
	}
	if len(hashes) != n || st.Count != n {
		t.Fatalf("generated %d events, folded %d; want %d", len(hashes), st.Count, n)
	}
	for _, typ := range []string{events.TypeFrameworkPublished, events.TypeFrameworkRevised, events.TypeDepartmentRegistered,
		events.TypeIndicatorProposed, events.TypeIndicatorRevised, events.TypeIndicatorReviewed, events.TypeIndicatorWithdrawn,
		events.TypeResultReported, events.TypeResultVerified, events.TypeSeriesDefined,
		events.TypeInnovationProposed, events.TypeInnovationSelected, events.TypeInnovationReviewed} {
		if g.Types[typ] == 0 {
			t.Errorf("no %s event in the generated history", typ)
		}
	}
	t.Logf("%d units, years %v (complete %v), %d bytes (%d per event), types %v",
		len(g.units), g.Years, g.Complete, g.Bytes, g.Bytes/int64(n), g.Types)

	again := newBenchGen(1, n, 0, func(string, []byte, uint64) error { return nil })
	i := 0
	again.sink = func(_ string, data []byte, _ uint64) error {
		e, err := events.DecodeMessage(data, uint64(i+1))
		if err != nil {
			return err
		}
		if e.Hash != hashes[i] {
			t.Fatalf("event %d differs between two runs with one seed", i+1)
		}
		i++
		return nil
	}
	if err := again.Run(); err != nil {
		t.Fatal(err)
	}
}

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
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	want := []string{"rebuild", "memory", "as_of", "append_1", "append_8", "http_write_1", "http_write_8", "http_write_32", "views_32"}
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
	for _, s := range []string{"append", "http write", "rebuild", "as_of", "view GET", "memory", "--quick", "--events"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("bench --help does not explain %q", s)
		}
	}
}

package history

import (
	"testing"
	"time"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// TestGeneratorFoldsCleanly checks the generator: the domain refuses none
// of its decisions, its predicted sequences and expected versions are the
// ones a fold accepts, recorded_at never goes back and sometimes repeats,
// it is deterministic, and it produces every kind of event.
func TestGeneratorFoldsCleanly(t *testing.T) {
	const n = 30000
	st := projections.NewState()
	var hashes []string
	var last time.Time
	ties := 0
	g := New(Config{Seed: 1, Events: n}, func(subject string, data []byte, expectedLast uint64) error {
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
		switch c := e.RecordedAt.Compare(last); {
		case c < 0:
			t.Fatalf("event %d: recorded_at goes back", seq)
		case c == 0:
			ties++
		}
		last = e.RecordedAt
		return st.Apply(e)
	})
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	if ties == 0 {
		t.Error("no two events share a recorded_at: the as-of views' cut between equal times goes untested")
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
	p, d, l := g.UnitCounts()
	t.Logf("%d provinces, %d departments, %d LAOs, years %v (complete %v), %d bytes (%d per event), types %v",
		p, d, l, g.Years, g.Complete, g.Bytes, g.Bytes/int64(n), g.Types)

	again := New(Config{Seed: 1, Events: n}, func(string, []byte, uint64) error { return nil })
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

// TestGeneratorUnits: Config.Units plays that many real units, half
// provinces, and no local administrative organisation.
func TestGeneratorUnits(t *testing.T) {
	g := New(Config{Seed: 3, Events: 10, Units: 5}, func(string, []byte, uint64) error { return nil })
	if p, d, l := g.UnitCounts(); p != 3 || d != 2 || l != 0 {
		t.Errorf("Units 5: %d provinces, %d departments, %d LAOs", p, d, l)
	}
	g = New(Config{Seed: 3, Events: 200_000}, func(string, []byte, uint64) error { return nil })
	if p, d, l := g.UnitCounts(); p != 76 || d != 69 || l == 0 {
		t.Errorf("200,000 events: %d provinces, %d departments, %d LAOs", p, d, l)
	}
}

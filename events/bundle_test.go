package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// TestTreeMatchesTlog checks the frontier tree against tlog's own tree hash
// for every size up to 70.
func TestTreeMatchesTlog(t *testing.T) {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	var tr events.Tree
	for n := int64(0); n < 70; n++ {
		leaf := fmt.Sprintf("%064x", n*7919)
		b, _ := hexBytes(leaf)
		hs, err := tlog.StoredHashes(n, b, reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		if err := tr.Add(leaf); err != nil {
			t.Fatal(err)
		}
		want, err := tlog.TreeHash(n+1, reader)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Root() != want {
			t.Fatalf("root of %d leaves differs from tlog.TreeHash", n+1)
		}
	}
}

func hexBytes(s string) ([]byte, error) {
	var b []byte
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

func TestCheckpointSignAndOpen(t *testing.T) {
	dir := t.TempDir()
	key, err := events.LoadSigningKey(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	again, err := events.LoadSigningKey(dir, func(string) string { return "" })
	if err != nil || again.VerifierKey() != key.VerifierKey() {
		t.Fatal("the key is not kept in the data directory")
	}
	var tr events.Tree
	_ = tr.Add(strings.Repeat("ab", 32))
	g := tr.Root()
	c := events.Checkpoint{Origin: events.Origin("KPILEDGER"), Size: 9, Root: tr.Root(), GroupCount: 3, Groups: &g}
	signed, err := key.Sign(c.Text())
	if err != nil {
		t.Fatal(err)
	}
	text, err := events.OpenNote(signed, key.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ParseCheckpoint(text)
	if err != nil || got.Text() != c.Text() {
		t.Fatalf("parsed %+v, %v", got, err)
	}
	other, _ := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if _, err := events.OpenNote(signed, other.VerifierKey()); err == nil {
		t.Fatal("a checkpoint verified against another key")
	}
	if !strings.HasPrefix(signed, "kpiledger/KPILEDGER\n9\n") {
		t.Fatalf("not a c2sp.org/tlog-checkpoint: %q", signed)
	}
	forged := strings.Replace(signed, "\n9\n", "\n8\n", 1)
	if _, err := events.OpenNote(forged, key.VerifierKey()); err == nil {
		t.Fatal("an edited checkpoint verified")
	}
}

// ledgerFixture appends a small history with a checkpoint in the middle
// and returns the store, the signing key and the ledger aggregate.
func ledgerFixture(t *testing.T) (*events.Store, *events.SigningKey) {
	t.Helper()
	st := eventstest.NewStore(t)
	key, err := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a := indicator("TH-50", 2563, "ind-a")
	b := indicator("TH-50", 2563, "ind-b")
	c := indicator("TH-57", 2563, "ind-c")
	steps := []struct {
		agg *events.Aggregate
		ev  domain.Event
	}{
		{a, proposal("ind-a")}, {b, proposal("ind-b")}, {c, proposal("ind-c")},
		{a, domain.IndicatorReviewed{Decision: domain.DecisionApprove, OnVersion: 1}},
	}
	for _, s := range steps {
		if _, err := appendNext(t, st, s.agg, s.ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	// A checkpoint over the first four events, landing at sequence 5.
	checkpointNow(t, st, key)
	for _, s := range []struct {
		agg *events.Aggregate
		ev  domain.Event
	}{
		{a, domain.ResultReported{Round: 12, Actual: "98.9"}},
		{b, domain.IndicatorWithdrawn{Reason: "ซ้ำ"}},
	} {
		if _, err := appendNext(t, st, s.agg, s.ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	return st, key
}

// checkpointNow signs a checkpoint over every event in the store, as the
// API does: the tree and the groups folded from the log, the group tree
// saved with the tiles, and the checkpoint event appended right after.
// It returns the cut a bundle is made at.
func checkpointNow(t *testing.T, st *events.Store, key *events.SigningKey) events.BundleCut {
	t.Helper()
	ctx := context.Background()
	var (
		tree   events.Tree
		groups = map[string]events.GroupHead{}
		ledger = events.Aggregate{Kind: events.KindLedger, ID: events.LedgerID}
	)
	err := st.Read(ctx, events.ReadOptions{}, func(e *events.Envelope) error {
		g, err := events.GroupOf(e)
		if err != nil {
			return err
		}
		h := groups[g]
		if err := h.Add(e.Sequence, e.Hash); err != nil {
			return err
		}
		groups[g] = h
		if e.AggregateKind == events.KindLedger {
			ledger.Version, ledger.LastSeq, ledger.LastHash = e.AggregateVersion, e.Sequence, e.Hash
		}
		return tree.Add(e.Hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	gt, err := events.NewGroupTree(groups)
	if err != nil {
		t.Fatal(err)
	}
	tiles, err := events.OpenTilesFor(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := tiles.SaveGroups(ctx, tree.N, gt); err != nil {
		t.Fatal(err)
	}
	env, err := events.NewCheckpointEvent(key, st.Name(), &tree, gt, ledger)
	if err != nil {
		t.Fatal(err)
	}
	env.Actor = domain.Actor{Subject: "kpiledger", Role: domain.RoleSystem}
	if _, err := st.AppendAfter(ctx, env, ledger.LastSeq, tree.N); err != nil {
		t.Fatal(err)
	}
	if err := tiles.SyncTo(ctx, tree.N); err != nil {
		t.Fatal(err)
	}
	ev, _ := env.Event()
	note := ev.(domain.CheckpointRecorded).Note
	text, err := events.OpenNote(note, key.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	c, err := events.ParseCheckpoint(text)
	if err != nil {
		t.Fatal(err)
	}
	return events.BundleCut{Note: note, Checkpoint: c, Tiles: tiles, Groups: gt}
}

// exportBundle cuts a new checkpoint and writes the bundle of the filters
// at it, as GET /v1/export does.
func exportBundle(t *testing.T, st *events.Store, key *events.SigningKey, scope events.Scope, filters []string) []byte {
	t.Helper()
	return exportAt(t, st, key, scope, filters, checkpointNow(t, st, key))
}

func exportAt(t *testing.T, st *events.Store, key *events.SigningKey, scope events.Scope, filters []string, cut events.BundleCut) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := events.NewBundleWriter(&buf, key, st.Name(), scope, filters, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Read(context.Background(), events.ReadOptions{Filters: filters, UpTo: cut.Checkpoint.Size}, w.Event); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(cut.Checkpoint.Size); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func lines(b []byte) []string { return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") }

func join(ls []string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

func verifyExpecting(t *testing.T, bundle []byte, key string, problem string) *events.BundleError {
	t.Helper()
	_, err := events.VerifyBundle(bytes.NewReader(bundle), []string{key})
	var be *events.BundleError
	if !errors.As(err, &be) {
		t.Fatalf("verify = %v, want a %s problem", err, problem)
	}
	if be.Problem != problem {
		t.Fatalf("verify found %q (%v), want %q", be.Problem, be, problem)
	}
	return be
}

func TestBundleIntactAndTampered(t *testing.T) {
	st, key := ledgerFixture(t)
	whole := exportBundle(t, st, key, events.Scope{}, nil)
	rep, err := events.VerifyBundle(bytes.NewReader(whole), []string{key.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 7 || rep.Checkpoints != 1 || rep.Aggregates != 4 || rep.KeyFromBundle {
		t.Fatalf("report %+v", rep)
	}
	if !strings.HasPrefix(rep.Summary(), "intact: 7 events of 4 aggregates (the whole ledger)") {
		t.Fatalf("summary %q", rep.Summary())
	}
	// Without a pinned key the bundle's own key is used, and said so.
	rep, err = events.VerifyBundle(bytes.NewReader(whole), nil)
	if err != nil || !rep.KeyFromBundle {
		t.Fatalf("unpinned: %+v %v", rep, err)
	}
	ls := lines(whole) // header, 7 events, trailer
	if len(ls) != 9 {
		t.Fatalf("%d lines", len(ls))
	}

	t.Run("changed", func(t *testing.T) {
		mod := append([]string(nil), ls...)
		mod[2] = strings.Replace(mod[2], "ร้อยละของครัวเรือน", "ร้อยละของบ้าน", 1)
		be := verifyExpecting(t, join(mod), key.VerifierKey(), "changed")
		if be.Sequence != 2 || be.Line != 3 {
			t.Fatalf("named %v", be)
		}
	})
	t.Run("removed from the middle of an aggregate", func(t *testing.T) {
		mod := append(append([]string(nil), ls[:4]...), ls[5:]...) // drop seq 4 (ind-a v2)
		be := verifyExpecting(t, join(mod), key.VerifierKey(), "removed")
		if be.Sequence != 5 && be.Sequence != 6 {
			t.Fatalf("named %v", be)
		}
	})
	t.Run("removed: the last event of an aggregate", func(t *testing.T) {
		mod := append(append([]string(nil), ls[:7]...), ls[8:]...) // drop seq 7 (ind-b v2)
		be := verifyExpecting(t, join(mod), key.VerifierKey(), "removed")
		if !strings.Contains(be.Reason, "indicator/ind-b") {
			t.Fatalf("named %v", be)
		}
	})
	t.Run("removed before a checkpoint, trailer re-signed by a forger", func(t *testing.T) {
		// Without the key a forger cannot re-sign the trailer; the embedded
		// checkpoint alone must catch a dropped aggregate (ind-c).
		mod := append(append([]string(nil), ls[:3]...), ls[4:]...)
		be := verifyExpecting(t, join(mod), key.VerifierKey(), "removed")
		if be.Sequence != 5 {
			t.Fatalf("named %v", be)
		}
	})
	t.Run("reordered", func(t *testing.T) {
		mod := append([]string(nil), ls...)
		mod[2], mod[3] = mod[3], mod[2]
		verifyExpecting(t, join(mod), key.VerifierKey(), "reordered")
	})
	t.Run("inserted", func(t *testing.T) {
		// A well-formed, self-consistent event of a new aggregate.
		forged := indicator("TH-50", 2563, "ind-forged")
		env, _ := events.NewEnvelope(proposal("ind-forged"), *forged)
		env.ID, env.CommandID, env.Actor = "forged", "forged", officer
		env.RecordedAt = time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)
		env.OccurredAt = env.RecordedAt
		env.Sequence = 8
		env.Seal()
		line, _ := json.Marshal(map[string]any{"kind": "event", "event": env})
		mod := append(append([]string(nil), ls[:8]...), string(line), ls[8])
		be := verifyExpecting(t, join(mod), key.VerifierKey(), "inserted")
		if be.EventID != "forged" {
			t.Fatalf("named %v", be)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		verifyExpecting(t, join(ls[:8]), key.VerifierKey(), "removed")
	})
	t.Run("wrong key", func(t *testing.T) {
		other, _ := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
		verifyExpecting(t, whole, other.VerifierKey(), "signature")
	})

	// A unit-year bundle holds only that unit-year and verifies on its own.
	scoped := exportBundle(t, st, key, events.Scope{Unit: "TH-50", FiscalYear: 2563}, []string{events.UnitYearFilter("TH-50", 2563)})
	rep, err = events.VerifyBundle(bytes.NewReader(scoped), []string{key.VerifierKey()})
	if err != nil || rep.Events != 5 || rep.Whole {
		t.Fatalf("scoped: %+v %v", rep, err)
	}
	if rep.Groups != 1 {
		t.Fatalf("scoped: %d groups shown complete, want the unit-year's", rep.Groups)
	}
	sl := lines(scoped)                                                        // header, 5 events, the unit-year's group record, trailer
	mod := append(append([]string(nil), sl[:len(sl)-3]...), sl[len(sl)-2:]...) // drop its last event
	verifyExpecting(t, join(mod), key.VerifierKey(), "removed")
}

// TestMatchesAny: a bundle's filters select what JetStream would for the
// same filter subjects (nats-server's matching: * one token, > the rest).
func TestMatchesAny(t *testing.T) {
	for _, c := range []struct {
		subject string
		filters []string
		want    bool
	}{
		{"kpi.ind.TH-50.2564.abc", []string{"kpi.ind.TH-50.2564.*"}, true},
		{"kpi.ind.TH-50.2564.abc", []string{"kpi.*.TH-50.2564.>"}, true},
		{"kpi.ind.TH-50.2564.abc", []string{"kpi.ind.TH-50.>"}, true},
		{"kpi.ind.TH-50.2564.abc", []string{"kpi.ind.TH-50.2564.abc.>"}, false},
		{"kpi.ind.TH-50.2564.abc", []string{"kpi.ind.TH-57.>", "kpi.fw.2564.province"}, false},
		{"kpi.fw.2564.province", []string{"kpi.ind.TH-57.>", "kpi.fw.2564.province"}, true},
		{"kpi.fw.2564", []string{"kpi.fw.2564.*"}, false},
		{"kpi.fw.2564.province", nil, false},
	} {
		if got := events.MatchesAny(c.subject, c.filters); got != c.want {
			t.Errorf("MatchesAny(%q, %q) = %v, want %v", c.subject, c.filters, got, c.want)
		}
	}
}

// TestEmptyUnitYearProvenAbsent: a unit-year with no events yet has no
// record in the checkpoint's group tree. Its bundle proves that from the
// records on either side of where its name sorts (the tree is sorted by
// name), so an auditor can check "nothing was recorded" as firmly as
// "everything recorded is here"; a ledger that hides a unit-year's events
// behind such a claim is caught, since no two adjacent records bracket a
// name that is in the tree.
func TestEmptyUnitYearProvenAbsent(t *testing.T) {
	st, key := ledgerFixture(t) // groups: kpi.fw…, kpi.ledger, kpi.u.TH-50.2563, kpi.u.TH-57.2563
	cut := checkpointNow(t, st, key)
	for _, c := range []struct {
		unit string
		fy   int
		want int // neighbours
	}{
		{"TH-51", 2563, 2}, // between TH-50 and TH-57
		{"TH-99", 2563, 1}, // after the last group
		{"TH-50", 2562, 2}, // between the ledger's group and TH-50 FY2563
	} {
		g := events.UnitYearGroup(c.unit, c.fy)
		t.Run(g, func(t *testing.T) {
			scope := events.Scope{Unit: c.unit, FiscalYear: c.fy}
			b := exportAt(t, st, key, scope, []string{events.UnitYearFilter(c.unit, c.fy)}, cut)
			rep, err := events.VerifyBundle(bytes.NewReader(b), []string{key.VerifierKey()})
			if err != nil {
				t.Fatalf("an empty unit-year's bundle: %v", err)
			}
			if rep.Events != 0 || len(rep.Absent) != 1 || rep.Absent[0] != g || !strings.Contains(rep.Summary(), "proven absent") {
				t.Fatalf("report %+v, summary %q", rep, rep.Summary())
			}
			n, err := cut.Groups.ProveAbsent(g)
			if err != nil || len(n) != c.want {
				t.Fatalf("%d neighbours (%v), want %d", len(n), err, c.want)
			}
		})
	}

	// The operator hides TH-50 FY2563 behind a claim of absence, with any
	// choice of real, proven records around it.
	present := events.UnitYearGroup("TH-50", 2563)
	if _, err := cut.Groups.ProveAbsent(present); err == nil {
		t.Fatal("ProveAbsent of a group in the tree succeeded")
	}
	_, at, _, err := cut.Groups.Prove(present)
	if err != nil {
		t.Fatal(err)
	}
	neighbour := func(i int64) events.GroupNeighbour {
		r := cut.Groups.Records()[i]
		_, idx, p, err := cut.Groups.Prove(r.Name)
		if err != nil {
			t.Fatal(err)
		}
		return events.GroupNeighbour{Record: r.Text(), Index: idx, Proof: p}
	}
	for name, claim := range map[string][]events.GroupNeighbour{
		"the records either side, not adjacent":  {neighbour(at - 1), neighbour(at + 1)},
		"the record before and the group itself": {neighbour(at - 1), neighbour(at)},
		"the record after alone":                 {neighbour(at + 1)},
		"no record at all":                       nil,
	} {
		if err := events.CheckGroupAbsent(cut.Checkpoint, present, claim); err == nil {
			t.Errorf("%s: a false absence was accepted", name)
		}
	}
	// The same lie inside a bundle: the unit-year's events and record
	// dropped, an absence line put in. The claim is checked against the
	// checkpoint, so re-signing the trailer would not help.
	b := exportAt(t, st, key, events.Scope{Unit: "TH-50", FiscalYear: 2563}, []string{events.UnitYearFilter("TH-50", 2563)}, cut)
	ls := lines(b)
	forged, _ := json.Marshal(map[string]any{"kind": "absent", "group": present,
		"neighbours": []events.GroupNeighbour{neighbour(at - 1), neighbour(at + 1)}})
	mod := []string{ls[0], string(forged), ls[len(ls)-1]}
	verifyExpecting(t, join(mod), key.VerifierKey(), "not-included")
}

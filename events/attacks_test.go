package events_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/events"
)

// verifyWith runs the verifier and returns the problem it names ("" when
// the bundle is intact) and its message.
func verifyWith(t *testing.T, bundle []byte, o events.VerifyOptions) (string, string) {
	t.Helper()
	_, err := events.VerifyBundleWith(bytes.NewReader(bundle), o)
	if err == nil {
		return "", ""
	}
	be, ok := err.(*events.BundleError)
	if !ok {
		t.Fatalf("verify: %v", err)
	}
	return be.Problem, be.Error()
}

func expectProblem(t *testing.T, bundle []byte, o events.VerifyOptions, problem string, words ...string) {
	t.Helper()
	got, msg := verifyWith(t, bundle, o)
	if got != problem {
		t.Fatalf("verify found %q (%s), want %q", got, msg, problem)
	}
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Fatalf("verify said %q, which does not name %q", msg, w)
		}
	}
}

// TestAttacksCaught: each way whoever runs the ledger (and holds its key)
// could rewrite what an auditor sees is caught by verify, with a message
// naming what is wrong.
func TestAttacksCaught(t *testing.T) {
	st, key := ledgerFixture(t)
	wkey, wvkey, err := events.GenerateCosignerKey("oag.go.th/witness", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	witness, err := events.NewCosigner(wkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := checkpointNow(t, st, key) // 7 events
	first.Note, err = witness.Cosign(first.Note)
	if err != nil {
		t.Fatal(err)
	}
	trusted := events.VerifyOptions{Trusted: []string{key.VerifierKey()}, Witnesses: []string{wvkey}, Quorum: 1}

	whole := exportAt(t, st, key, events.Scope{}, nil, first)
	if p, msg := verifyWith(t, whole, trusted); p != "" {
		t.Fatalf("the cosigned bundle does not verify: %s", msg)
	}
	uy := events.Scope{Unit: "TH-50", FiscalYear: 2563}
	uyFilters := []string{events.UnitYearFilter("TH-50", 2563)}
	scoped := exportAt(t, st, key, uy, uyFilters, first)
	if p, msg := verifyWith(t, scoped, trusted); p != "" {
		t.Fatalf("the cosigned unit-year bundle does not verify: %s", msg)
	}

	t.Run("event changed and history re-signed after a witness cosigned", func(t *testing.T) {
		// The operator rewrites event 2, re-seals it, and signs a fresh
		// checkpoint and trailer over the new history with the ledger's key.
		var evs []*events.Envelope
		_ = st.Read(t.Context(), events.ReadOptions{UpTo: 7}, func(e *events.Envelope) error {
			evs = append(evs, e)
			return nil
		})
		// The last event of ind-b (sequence 7): no later event links to it.
		e := evs[6]
		e.Data = json.RawMessage(strings.Replace(string(e.Data), "ซ้ำ", "ยกเลิกตามคำขอ", 1))
		e.Seal()
		var tree events.Tree
		groups := map[string]events.GroupHead{}
		for _, e := range evs {
			_ = tree.Add(e.Hash)
			g, _ := events.GroupOf(e)
			h := groups[g]
			_ = h.Add(e.Sequence, e.Hash)
			groups[g] = h
		}
		gt, _ := events.NewGroupTree(groups)
		groot := gt.Root()
		cp := events.Checkpoint{Origin: events.Origin(st.Name()), Size: 7, Root: tree.Root(), GroupCount: uint64(gt.Len()), Groups: &groot}
		note, _ := key.Sign(cp.Text())
		var buf bytes.Buffer
		w, _ := events.NewBundleWriter(&buf, key, st.Name(), events.Scope{}, nil, time.Now(), events.BundleCut{Note: note, Checkpoint: cp})
		for _, e := range evs {
			if err := w.Event(e); err != nil {
				t.Fatal(err)
			}
		}
		_ = w.Close(7)
		// Without witnesses the forgery is self-consistent...
		if p, msg := verifyWith(t, buf.Bytes(), events.VerifyOptions{Trusted: []string{key.VerifierKey()}}); p != "" {
			t.Fatalf("the re-signed history should verify on the ledger's key alone: %s", msg)
		}
		// ...but no witness cosigned its checkpoint.
		expectProblem(t, buf.Bytes(), trusted, "witness", "0 valid cosignatures", "required")
		// Copying the witness's line onto the new checkpoint does not help.
		_, sigs, _ := strings.Cut(first.Note, "\n\n")
		wline := sigs[strings.Index(sigs, "— oag.go.th/witness"):]
		forged := strings.Replace(buf.String(), jsonString(t, note), jsonString(t, strings.TrimSuffix(note, "\n")+"\n"+wline), 1)
		expectProblem(t, []byte(forged), trusted, "witness")
	})

	t.Run("unit-year bundle with one event removed and re-signed", func(t *testing.T) {
		ls := lines(scoped) // header, 5 events, group record, trailer
		// Sequence 7, ind-b's last event: no chain in the bundle breaks.
		mod := append(append([]string(nil), ls[:5]...), ls[6:]...)
		resigned, err := events.ResignTrailer(join(mod), key)
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, resigned, trusted, "removed", "group kpi.u.TH-50.2563", "commits 5 events but the bundle holds 4")
		// Dropping the group record as well leaves the unit-year unproven.
		noRecord := append(append([]string(nil), mod[:len(mod)-2]...), mod[len(mod)-1])
		resigned, _ = events.ResignTrailer(join(noRecord), key)
		expectProblem(t, resigned, trusted, "incomplete", "unit-year kpi.u.TH-50.2563")
	})

	second := checkpointNow(t, st, key) // 8 events: the first checkpoint event is a leaf
	since := first.Note

	t.Run("inclusion proof for another size", func(t *testing.T) {
		ls := lines(scoped)
		p, err := second.Tiles.ProveInclusion(0, 8)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p)
		i := strings.Index(ls[1], `"proof":[`)
		j := i + strings.Index(ls[1][i:], "]")
		ls[1] = ls[1][:i] + `"proof":` + string(b) + ls[1][j+1:]
		expectProblem(t, join(ls), trusted, "not-included", "sequence 1", "another tree size")
	})

	t.Run("stale checkpoint presented as new", func(t *testing.T) {
		o := trusted
		o.Since = second.Note
		expectProblem(t, whole, o, "stale", "holds 7 events", "already held 8")
	})

	t.Run("a fork", func(t *testing.T) {
		// Another tree of 7 events, signed by the ledger's key.
		forked := first.Checkpoint
		forked.Root[0] ^= 1
		note, _ := key.Sign(forked.Text())
		o := trusted
		o.Since = note
		expectProblem(t, whole, o, "fork", "both hold 7 events", "root hashes differ")
		// A later bundle without the proof that it extends the trusted tree.
		later := exportAt(t, st, key, events.Scope{}, nil, second)
		o = events.VerifyOptions{Trusted: []string{key.VerifierKey()}, Since: note}
		expectProblem(t, later, o, "fork", "no consistency proof from size 7 to 8")
		// With the consistency proof: it does not extend the forked tree,
		// and does extend the genuine one.
		p, err := second.Tiles.ProveConsistency(7, 8)
		if err != nil {
			t.Fatal(err)
		}
		cut := second
		cut.Consistency = &events.ConsistencyProof{From: 7, To: 8, Hashes: p}
		later = exportAt(t, st, key, events.Scope{}, nil, cut)
		expectProblem(t, later, o, "fork", "does not extend the trusted checkpoint of 7 events")
		o.Since = since
		if p, msg := verifyWith(t, later, o); p != "" {
			t.Fatalf("a bundle extending the trusted checkpoint: %s", msg)
		}
	})
}

func jsonString(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(string(b), `"`)
}

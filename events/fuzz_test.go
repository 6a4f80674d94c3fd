package events_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/events"
)

// FuzzDecodeEvent: no payload, of any type and schema version, may panic
// the decoder or an upcaster.
func FuzzDecodeEvent(f *testing.F) {
	for typ, c := range catalogue() {
		env, err := events.NewEnvelope(c.ev, c.agg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, env.SchemaVersion, []byte(env.Data))
	}
	f.Add(events.TypeResultReported, 1, []byte(`{"round":12,"actual":1,"evidence":"a\nb"}`))
	f.Add(events.TypeResultReported, 1, []byte(`{"evidence":7}`))
	f.Fuzz(func(t *testing.T, typ string, schema int, data []byte) {
		_, _ = events.Decode(typ, schema, data)
	})
}

// FuzzDecodeMessage: a stored message of any shape decodes or errs, and
// what decodes can be hashed, placed on a subject and chain-checked.
func FuzzDecodeMessage(f *testing.F) {
	for _, c := range catalogue() {
		env, _ := events.NewEnvelope(c.ev, c.agg)
		env.Seal()
		b, _ := json.Marshal(env)
		f.Add(b)
	}
	f.Add([]byte(`{"aggregate_kind":"framework","aggregate_id":"x","fiscal_year":1}`))
	f.Add([]byte(`{"aggregate_kind":"indicator","aggregate_id":"a.b","unit":"TH-50","fiscal_year":2563}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := events.DecodeMessage(data, 1)
		if err != nil {
			return
		}
		_ = e.ComputeHash()
		_, _ = e.Subject()
		_, _ = e.Event()
		_ = events.NewChainVerifier().Check(e)
	})
}

// FuzzVerifyBundle: the offline verifier never panics, whatever the bundle.
func FuzzVerifyBundle(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte(`{"kind":"header","format":"kpiledger-bundle/2","filters":[]}` + "\n" + `{"kind":"trailer","note":"x"}`))
	f.Add([]byte(`{"kind":"header","format":"kpiledger-bundle/2","filters":["kpi.>"],"verifier_key":"kpiledger+00000000+AQ=="}` + "\n" +
		`{"kind":"event","event":{"aggregate_kind":"ledger","aggregate_id":"ledger","aggregate_version":1,"sequence":1,"type":"ledger.checkpoint_recorded","schema_version":1,"data":{"note":"x"}}}`))
	f.Fuzz(func(t *testing.T, bundle []byte) {
		_, _ = events.VerifyBundle(bytes.NewReader(bundle), nil)
		_, _ = events.VerifyBundle(bytes.NewReader(bundle), []string{"kpiledger+00000000+AQ=="})
	})
}

// FuzzParseCheckpoint: any text parses or errs, and what parses formats
// back to the same text.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("kpiledger/KPILEDGER\n7\nhnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\n")
	f.Add("kpiledger/KPILEDGER\n7\nhnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\nkpiledger-groups 3 hnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\n")
	f.Add("x\n007\n=\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := events.ParseCheckpoint(text)
		if err != nil {
			return
		}
		if c.Text() != text {
			t.Fatalf("%q parsed and formatted as %q", text, c.Text())
		}
	})
}

// FuzzParseProofs: tlog-proof texts, group records and cosigned notes never
// panic their parsers or checkers.
func FuzzParseProofs(f *testing.F) {
	f.Add("c2sp.org/tlog-proof@v1\nindex 3\nhnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\n\nkpiledger/KPILEDGER\n7\nhnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\n\n— kpiledger AAAA\n")
	f.Add("group kpi.u.TH-50.2563 5 hnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\n")
	f.Fuzz(func(t *testing.T, text string) {
		if idx, hashes, cp, err := events.ParseTlogProof(text); err == nil {
			if c, err := events.ParseCheckpoint(strings.SplitN(cp, "\n\n", 2)[0] + "\n"); err == nil && idx < c.Size {
				_ = events.InclusionProof{Sequence: idx + 1, Index: idx, Size: c.Size, EventHash: strings.Repeat("ab", 32), Root: c.Root, Hashes: hashes}.Check()
			}
		}
		if r, err := events.ParseGroupRecord(text); err == nil && r.Text() != text {
			t.Fatalf("group record %q formatted as %q", text, r.Text())
		}
		// An absence claim built from the text never panics its checker.
		if c, err := events.ParseCheckpoint("kpiledger/KPILEDGER\n7\nhnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\nkpiledger-groups 3 hnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\n"); err == nil {
			n := events.GroupNeighbour{Record: text, Index: int64(len(text) % 4), Proof: nil}
			_ = events.CheckGroupAbsent(c, text, []events.GroupNeighbour{n})
			_ = events.CheckGroupAbsent(c, text, []events.GroupNeighbour{n, n})
		}
		_, _ = events.Cosigners(text, []string{"oag.go.th/witness+a2e9a0bd+BLJd0sQT2ctI5kA6G3qv9dwkdKZMBfVnyAG7QFpcpEuh"})
		_ = events.ConsistencyProof{From: 1, To: 2}.Check()
	})
}

package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// checkDerivations requires the audit's derivations to agree with the
// scorecard number for number, and every derivation to spell out steps.
func checkDerivations(t *testing.T, a AuditTrail, sc Scorecard) {
	t.Helper()
	if len(a.Derivations) != len(sc.Indicators) {
		t.Fatalf("%d derivations for %d scorecard indicators", len(a.Derivations), len(sc.Indicators))
	}
	for i, d := range a.Derivations {
		s := sc.Indicators[i]
		if d.IndicatorID != s.ID || d.Score != s.Score || d.WeightedScore != s.WeightedScore || d.ValueUsed != s.VerifiedActual || d.Weight != s.Weight {
			t.Errorf("derivation %s (score %s, weighted %s, value %s) against scorecard (%s, %s, %s)",
				d.IndicatorID, d.Score, d.WeightedScore, d.ValueUsed, s.Score, s.WeightedScore, s.VerifiedActual)
		}
		if d.Framework.Revision != sc.FrameworkRevision || len(d.Levels) != len(s.Targets) {
			t.Errorf("derivation %s framework %+v levels %d", d.IndicatorID, d.Framework, len(d.Levels))
		}
		if len(d.Steps) < 5 {
			t.Errorf("derivation %s has %d steps", d.IndicatorID, len(d.Steps))
		}
		for _, st := range d.Steps {
			if strings.TrimSpace(st) == "" {
				t.Errorf("derivation %s has an empty step", d.IndicatorID)
			}
		}
		if (d.Score == "") != (d.Formula == "") {
			t.Errorf("derivation %s: score %q with formula %q", d.IndicatorID, d.Score, d.Formula)
		}
	}
	if a.Total.Total != sc.Total || a.Total.Band != sc.Band || a.Total.Formula != sc.Formula || a.Total.Rollup != sc.Rollup {
		t.Errorf("audit total %+v, scorecard %s %s %q", a.Total, sc.Total, sc.Band, sc.Formula)
	}
}

func TestAuditSpecExample(t *testing.T) {
	l := fy2564Department(t, func(l *ledger, id string) {
		l.must(l.report(id, 12, "98.94"))
		l.must(l.verify(id, 12, domain.VerifyAdjust, "98.80", "หลักฐานรองรับเพียง 98.80"))
	})
	store := storeFor(t, l.envs)
	a, err := BuildAudit(context.Background(), store, mustUnit(t, l.st, "cdd"), 2564)
	if err != nil {
		t.Fatal(err)
	}
	// Every event but the department's registration, which is not part of
	// the unit-year, in stream order and exactly as stored.
	want := l.envs[1:]
	if len(a.Events) != len(want) || !a.ChainIntact {
		t.Fatalf("%d events (want %d), chain intact %v", len(a.Events), len(want), a.ChainIntact)
	}
	for i, e := range a.Events {
		w := want[i]
		if e.Sequence != w.Sequence || e.Hash != w.Hash || e.PrevHash != w.PrevHash || !bytes.Equal(e.Data, w.Data) ||
			!e.ChainOK || e.ChainError != "" || e.Actor != w.Actor || !e.RecordedAt.Equal(w.RecordedAt) || e.Type != w.Type {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	// An auditor can recompute each hash from the listed fields alone.
	for _, e := range a.Events {
		env := events.Envelope{ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, AggregateKind: e.AggregateKind,
			AggregateID: e.AggregateID, AggregateVersion: e.AggregateVersion, Unit: e.Unit, FiscalYear: e.FiscalYear,
			OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Actor: e.Actor, CommandID: e.CommandID,
			CorrelationID: e.CorrelationID, RequestHash: e.RequestHash, Data: e.Data, PrevHash: e.PrevHash}
		if env.ComputeHash() != e.Hash {
			t.Errorf("event %d does not rehash from its audit fields", e.Sequence)
		}
	}
	sc, err := BuildScorecard(l.st, "cdd", 2564)
	if err != nil {
		t.Fatal(err)
	}
	checkDerivations(t, a, sc)
	if a.Total.Total != "80.625" {
		t.Errorf("total %s", a.Total.Total)
	}
	// By hand: the weighted scores add up to the total.
	sum := new(big.Rat)
	for _, d := range a.Derivations {
		sum.Add(sum, d.WeightedScore.Rat())
	}
	if domain.FormatRat(sum, 4) != "80.625" {
		t.Errorf("Σ weighted scores = %s", domain.FormatRat(sum, 4))
	}

	d4, d5 := a.Derivations[3], a.Derivations[4]
	if d5.Report == nil || d5.Report.Actual != "98.94" || d5.Verification == nil || d5.Verification.Decision != domain.VerifyAdjust ||
		d5.Verification.VerifiedActual != "98.80" || d5.ValueUsed != "98.80" || d5.Verification.Comment == "" {
		t.Errorf("adjusted derivation: report %+v verification %+v", d5.Report, d5.Verification)
	}
	steps := strings.Join(d5.Steps, "\n")
	for _, frag := range []string{"OPDC adjusted the reported value to 98.80", "round 12", "Level: 98.80 reaches ขั้นต้น (98.72) but not มาตรฐาน (98.84)",
		"50 + (75−50)·(98.80−98.72)/(98.84−98.72) = 66.6667", "w·s / Σw = 15 × 66.6667 / 100 = 10"} {
		if !strings.Contains(steps, frag) {
			t.Errorf("steps lack %q:\n%s", frag, steps)
		}
	}
	if d4.Framework.EventSequence != l.envs[1].Sequence || d4.Framework.Revision != 1 || d4.Levels[2] != (DerivationLevel{"ขั้นสูง", "100", "98.90"}) {
		t.Errorf("framework source %+v levels %+v", d4.Framework, d4.Levels)
	}
	b := mustJSON(t, a)
	if !bytes.Contains(b, []byte(`"data":{"id":"d1","unit":"cdd","fiscal_year":2564,`)) {
		t.Errorf("payload not embedded as JSON: %.400s", b)
	}
}

func TestAuditExplainsUnscored(t *testing.T) {
	l := fy2564Department(t, func(l *ledger, id string) {
		l.must(l.report(id, 12, "98.94"))
		l.must(l.verify(id, 12, domain.VerifyReject, "", "หลักฐานไม่เพียงพอ"))
	})
	l.must(l.report("d1", 12, "97"))
	u, _ := l.st.Unit("cdd")
	a := buildAudit(unitYearEvents(l.envs, u, 2564), u, 2564)
	sc, _ := BuildScorecard(l.st, "cdd", 2564)
	checkDerivations(t, a, sc)

	d1, d5 := a.Derivations[0], a.Derivations[4]
	if d5.ValueUsed != "" || d5.Score != "" || d5.Verification == nil || d5.Verification.Decision != domain.VerifyReject {
		t.Errorf("rejected: %+v", d5)
	}
	if s := strings.Join(d5.Steps, "\n"); !strings.Contains(s, "rejected by OPDC") || !strings.Contains(s, "counts the indicator as 0") {
		t.Errorf("rejected steps:\n%s", s)
	}
	// d1's second report supersedes the first and awaits verification:
	// nothing is verified now, and the audit says so.
	if d1.ValueUsed != "" || d1.Report == nil || d1.Report.Report != 2 || d1.Verification != nil {
		t.Errorf("superseded: %+v", d1)
	}
	if s := strings.Join(d1.Steps, "\n"); !strings.Contains(s, "awaiting OPDC's verification") {
		t.Errorf("pending steps:\n%s", s)
	}
}

func TestAuditDetectsTamperingAndGaps(t *testing.T) {
	l := fy2564Department(t, acceptAt("98.94"))
	u, _ := l.st.Unit("cdd")
	envs := unitYearEvents(l.envs, u, 2564)

	// Change d2's reported actual after the fact, leaving its hash.
	tampered := append([]*events.Envelope(nil), envs...)
	at := -1
	for i, e := range tampered {
		if e.AggregateID == "d2" && e.Type == events.TypeResultReported {
			c := *e
			c.Data = json.RawMessage(strings.Replace(string(c.Data), "98.87", "98.99", 1))
			tampered[i], at = &c, i
		}
	}
	a := buildAudit(tampered, u, 2564)
	if a.ChainIntact || a.Events[at].ChainOK || !strings.Contains(a.Events[at].ChainError, "does not match its hash") {
		t.Fatalf("tampered event: intact %v, %+v", a.ChainIntact, a.Events[at])
	}
	for i, e := range a.Events {
		after := i > at && e.AggregateID == "d2"
		switch {
		case after && (e.ChainOK || !strings.Contains(e.ChainError, "follows the break")):
			t.Errorf("event %d after the break: %+v", e.Sequence, e)
		case i != at && !after && !e.ChainOK:
			t.Errorf("event %d of an intact chain marked broken: %s", e.Sequence, e.ChainError)
		}
	}

	// Remove d3's approval: its report no longer follows its proposal.
	var gap []*events.Envelope
	for _, e := range envs {
		if !(e.AggregateID == "d3" && e.Type == events.TypeIndicatorReviewed) {
			gap = append(gap, e)
		}
	}
	a = buildAudit(gap, u, 2564)
	broken := 0
	for _, e := range a.Events {
		if !e.ChainOK {
			broken++
			if e.AggregateID != "d3" {
				t.Errorf("event %d of %s marked broken", e.Sequence, e.AggregateID)
			}
		}
	}
	if a.ChainIntact || broken != 2 {
		t.Errorf("gap: intact %v, %d broken (want d3's report and verification)", a.ChainIntact, broken)
	}
}

// TestAuditOnGeneratedHistory: over a generated history in a real store,
// every unit-year's audit has an intact chain, lists exactly the unit-year's
// and its framework's events, and derives the scorecard's numbers.
func TestAuditOnGeneratedHistory(t *testing.T) {
	l := generate(t, 99, 900, 3)
	store := storeFor(t, l.envs)
	ctx := context.Background()
	audited := 0
	for _, u := range l.st.Units() {
		if !hasUnit(l.st, u.Code) {
			continue
		}
		for _, fy := range genYears {
			a, err := BuildAudit(ctx, store, u, fy)
			if err != nil {
				t.Fatal(err)
			}
			if want := unitYearEvents(l.envs, u, fy); len(a.Events) != len(want) || !a.ChainIntact {
				t.Fatalf("%s FY%d: %d events (want %d), intact %v", u.Code, fy, len(a.Events), len(want), a.ChainIntact)
			}
			sc, err := BuildScorecard(l.st, u.Code, fy)
			if err != nil {
				if len(a.Derivations) != 0 || a.Total.Total != "" {
					t.Errorf("%s FY%d: derivations without a framework", u.Code, fy)
				}
				continue
			}
			checkDerivations(t, a, sc)
			audited++
		}
	}
	if audited < 10 {
		t.Errorf("only %d unit-years audited", audited)
	}
}

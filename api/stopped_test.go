package api_test

import (
	"context"
	"testing"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// TestReadModelStopsOnBadEvent: an event the fold cannot apply (here a
// revision of an indicator that was never proposed, written past the API)
// stops the read model at that sequence. It is never skipped: /readyz
// reports the sequence, /v1 answers 503, and later events are not applied.
func TestReadModelStopsOnBadEvent(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	good := h.lastSeq()

	orphan := events.Aggregate{Kind: events.KindIndicator, ID: "never-proposed", Unit: "TH-50", FiscalYear: 2563}
	env, err := events.NewEnvelope(domain.IndicatorRevised{Reason: "x"}, orphan)
	if err != nil {
		t.Fatal(err)
	}
	env.Actor = domain.Actor{Subject: "intruder", Role: domain.RoleUnit, Unit: "TH-50"}
	env.AggregateVersion = 2 // claims to follow a version 1 that does not exist
	bad, err := h.store.Append(context.Background(), env, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.model.WaitFor(ctx, bad.Sequence); err == nil {
		t.Fatal("the read model applied an event that breaks its aggregate's chain")
	}
	if f := h.model.Failure(); f == nil || f.Sequence != bad.Sequence {
		t.Fatalf("failure = %v, want one at sequence %d", f, bad.Sequence)
	}
	if h.model.Applied() != good {
		t.Fatalf("applied %d, want it to stay at %d", h.model.Applied(), good)
	}
	r := h.do("GET", "/readyz", "", nil)
	m := r.json(t)
	if r.Status != 503 || str(m["failed_sequence"]) != str(bad.Sequence) || m["status"] != "stopped" {
		t.Fatalf("/readyz = %d %s", r.Status, r.Body)
	}
	p := problemOf(t, h.do("GET", "/v1/units", h.opdc(), nil), 503, "")
	if str(p["sequence"]) != str(bad.Sequence) {
		t.Fatalf("problem does not name the sequence: %v", p)
	}
	if h.do("GET", "/healthz", "", nil).Status != 200 {
		t.Fatal("/healthz should stay up to report the problem")
	}
}

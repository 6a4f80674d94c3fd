package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

var officer = domain.Actor{Subject: "somchai", Role: domain.RoleUnit, Unit: "TH-50"}

// appendNext appends ev as the next event of agg and advances agg.
func appendNext(t testing.TB, st *events.Store, agg *events.Aggregate, ev domain.Event, commandID string) (events.Appended, error) {
	t.Helper()
	env, err := events.NewEnvelope(ev, *agg)
	if err != nil {
		t.Fatal(err)
	}
	env.Actor, env.CommandID = officer, commandID
	res, err := st.Append(context.Background(), env, agg.LastSeq)
	if err == nil {
		agg.Version, agg.LastHash, agg.LastSeq = env.AggregateVersion, env.Hash, res.Sequence
	}
	return res, err
}

func indicator(unit string, fy int, id string) *events.Aggregate {
	return &events.Aggregate{Kind: events.KindIndicator, ID: id, Unit: unit, FiscalYear: fy}
}

func proposal(id string) domain.IndicatorProposed {
	return domain.IndicatorProposed{ID: id, Unit: "TH-50", FiscalYear: 2563, Spec: domain.IndicatorSpec{
		Component: "performance", TitleTH: "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้น", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "20", Targets: []domain.Number{"98.72", "98.84", "98.90"}}}
}

func TestAppendReadFilterSubscribe(t *testing.T) {
	ctx := context.Background()
	st := eventstest.NewStore(t)

	sub, err := st.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()

	a := indicator("TH-50", 2563, "ind-a")
	b := indicator("TH-57", 2563, "ind-b")
	c := indicator("TH-50", 2564, "ind-c")
	for _, step := range []struct {
		agg *events.Aggregate
		ev  domain.Event
	}{
		{a, proposal("ind-a")},
		{b, proposal("ind-b")},
		{a, domain.IndicatorReviewed{Decision: domain.DecisionApprove, OnVersion: 1}},
		{c, proposal("ind-c")},
		{a, domain.ResultReported{Round: 12, Actual: "98.87", Obstacles: "น้ำท่วมใหญ่ในเดือนตุลาคม"}},
	} {
		if _, err := appendNext(t, st, step.agg, step.ev, ""); err != nil {
			t.Fatal(err)
		}
	}

	// The whole stream, in order, with chains that verify.
	var all []*events.Envelope
	if err := st.Read(ctx, events.ReadOptions{}, func(e *events.Envelope) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("read %d events, want 5", len(all))
	}
	v := events.NewChainVerifier()
	for i, e := range all {
		if e.Sequence != uint64(i+1) {
			t.Errorf("event %d has sequence %d", i, e.Sequence)
		}
		if brk := v.Check(e); brk != nil {
			t.Fatalf("chain: %v", brk)
		}
	}
	// Thai text round-trips byte for byte through the log.
	ev, err := all[4].Event()
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.(domain.ResultReported).Obstacles; got != "น้ำท่วมใหญ่ในเดือนตุลาคม" {
		t.Errorf("obstacles = %q", got)
	}

	// A unit-year filter sees only that unit-year.
	var ids []string
	err = st.Read(ctx, events.ReadOptions{Filters: []string{events.UnitYearFilter("TH-50", 2563)}}, func(e *events.Envelope) error {
		ids = append(ids, fmt.Sprintf("%s/%d", e.AggregateID, e.AggregateVersion))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[ind-a/1 ind-a/2 ind-a/3]" {
		t.Errorf("unit-year read = %v", ids)
	}
	// A unit filter sees all its years.
	n := 0
	_ = st.Read(ctx, events.ReadOptions{Filters: []string{events.UnitFilter("TH-50")}}, func(*events.Envelope) error { n++; return nil })
	if n != 4 {
		t.Errorf("unit read = %d events, want 4", n)
	}
	// Up to a sequence, and up to an instant.
	n = 0
	_ = st.Read(ctx, events.ReadOptions{UpTo: 2}, func(*events.Envelope) error { n++; return nil })
	if n != 2 {
		t.Errorf("read up to seq 2 = %d events", n)
	}
	n = 0
	_ = st.Read(ctx, events.ReadOptions{Until: all[2].RecordedAt}, func(*events.Envelope) error { n++; return nil })
	if n != 3 {
		t.Errorf("read until the third event's instant = %d events, want 3", n)
	}
	// An empty filter result returns at once.
	n = 0
	if err := st.Read(ctx, events.ReadOptions{Filters: []string{events.UnitFilter("TH-99")}}, func(*events.Envelope) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("empty read: n=%d err=%v", n, err)
	}
	loaded, err := st.Load(ctx, "kpi.u.TH-50.2563.indicator.ind-a")
	if err != nil || len(loaded) != 3 {
		t.Fatalf("load aggregate: %d events, %v", len(loaded), err)
	}

	// The subscription saw the five events, then sees a new one.
	for i := 1; i <= 5; i++ {
		e, _, err := sub.Next()
		if err != nil || e.Sequence != uint64(i) {
			t.Fatalf("subscription event %d: %v %v", i, e, err)
		}
	}
	if _, err := appendNext(t, st, b, domain.IndicatorWithdrawn{Reason: "ซ้ำกับตัวชี้วัดอื่น"}, ""); err != nil {
		t.Fatal(err)
	}
	e, pending, err := sub.Next()
	if err != nil || e.Sequence != 6 || e.Type != events.TypeIndicatorWithdrawn || pending != 0 {
		t.Fatalf("live event: %+v pending=%d %v", e, pending, err)
	}
}

func TestChangedPayloadBreaksChain(t *testing.T) {
	ctx := context.Background()
	st := eventstest.NewStore(t)
	a := indicator("TH-50", 2563, "ind-a")
	for _, ev := range []domain.Event{proposal("ind-a"), domain.IndicatorReviewed{Decision: domain.DecisionApprove, OnVersion: 1}} {
		if _, err := appendNext(t, st, a, ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := st.Load(ctx, "kpi.u.TH-50.2563.indicator.ind-a")
	if err != nil {
		t.Fatal(err)
	}
	if evs[1].PrevHash != evs[0].Hash {
		t.Fatal("second event does not chain to the first")
	}
	// Change one byte of the first event's payload: its hash no longer
	// matches, and re-sealing it breaks the link from the second event.
	evs[0].Data = []byte(string(evs[0].Data[:len(evs[0].Data)-1]) + ` ,"x":1}`)
	if err := evs[0].CheckHash(); err == nil {
		t.Fatal("a changed payload still matches its hash")
	}
	v := events.NewChainVerifier()
	if brk := v.Check(evs[0]); brk == nil {
		t.Fatal("verifier accepted a changed event")
	}
	evs[0].Seal()
	v = events.NewChainVerifier()
	if brk := v.Check(evs[0]); brk != nil {
		t.Fatal(brk)
	}
	brk := v.Check(evs[1])
	if brk == nil || brk.Sequence != 2 || brk.Expected != evs[0].Hash {
		t.Fatalf("re-sealed change not caught by the next link: %+v", brk)
	}
}

// concurrentSameVersion has `writers` goroutines append to one aggregate at
// the same expected version and checks that exactly one wins.
func concurrentSameVersion(t *testing.T, st *events.Store, writers int) {
	t.Helper()
	ctx := context.Background()
	agg := indicator("TH-30", 2564, fmt.Sprintf("race-%d", time.Now().UnixNano()))
	if _, err := appendNext(t, st, agg, proposal(agg.ID), ""); err != nil {
		t.Fatal(err)
	}
	base := *agg
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	var other []error
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mine := base
			<-start
			_, err := appendNext(t, st, &mine, domain.IndicatorRevised{Spec: proposal(agg.ID).Spec, Reason: fmt.Sprintf("writer %d", i)}, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, events.ErrVersionConflict):
				conflicts++
			default:
				other = append(other, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if wins != 1 || conflicts != writers-1 || len(other) > 0 {
		t.Fatalf("wins=%d conflicts=%d other=%v; want exactly one winner and %d conflicts", wins, conflicts, other, writers-1)
	}
	subject, _ := events.AggregateSubject(agg.Kind, agg.ID, agg.Unit, agg.FiscalYear)
	evs, err := st.Load(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].AggregateVersion != 2 {
		t.Fatalf("aggregate holds %d events; want the proposal and exactly one revision", len(evs))
	}
}

func TestConcurrentAppendsExactlyOneWins(t *testing.T) {
	concurrentSameVersion(t, eventstest.NewStore(t), 20)
}

func TestRetriedCommandAppendedOnce(t *testing.T) {
	ctx := context.Background()
	st := eventstest.NewStore(t)
	agg := indicator("TH-50", 2563, "ind-r")
	first, err := appendNext(t, st, agg, proposal("ind-r"), "cmd-123")
	if err != nil {
		t.Fatal(err)
	}
	// The retry carries the same command id and the version it was decided
	// on; JetStream recognises it before checking the version.
	retry := indicator("TH-50", 2563, "ind-r")
	second, err := appendNext(t, st, retry, proposal("ind-r"), "cmd-123")
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || second.Sequence != first.Sequence {
		t.Fatalf("retry = %+v, want a duplicate of sequence %d", second, first.Sequence)
	}
	last, err := st.LastSequence(ctx)
	if err != nil || last != 1 {
		t.Fatalf("stream holds %d events (%v), want 1", last, err)
	}
	if got := st.Metrics().Duplicates.Load(); got != 1 {
		t.Errorf("duplicates metric = %d", got)
	}
}

func TestStreamRefusesDeleteAndPurge(t *testing.T) {
	ctx := context.Background()
	_, js := eventstest.Connect(t, eventstest.StartServer(t))
	st, err := events.Open(ctx, js, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	agg := indicator("TH-50", 2563, "ind-d")
	if _, err := appendNext(t, st, agg, proposal("ind-d"), ""); err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, st.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, 1); err == nil {
		t.Error("deleting an event succeeded")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Error("purging the stream succeeded")
	}
	info, _ := stream.Info(ctx)
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d events after delete/purge attempts", info.State.Msgs)
	}
	// Opening again checks the existing stream and accepts it.
	if _, err := events.Open(ctx, js, events.Config{}); err != nil {
		t.Fatal(err)
	}
}

// TestReadLimit: a read stops at its limit even inside a fetched batch.
func TestReadLimit(t *testing.T) {
	st := eventstest.NewStore(t)
	for i := range 20 {
		if _, err := appendNext(t, st, indicator("TH-50", 2563, fmt.Sprintf("ind-%d", i)), proposal(fmt.Sprintf("ind-%d", i)), ""); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	if err := st.Read(context.Background(), events.ReadOptions{Limit: 5, After: 3}, func(e *events.Envelope) error {
		n++
		if e.Sequence != uint64(3+n) {
			t.Errorf("event %d has sequence %d", n, e.Sequence)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("read %d events with limit 5", n)
	}
}

// TestReadsDoNotPileUpConsumers: each read's ephemeral consumer is deleted
// when the read ends, so thousands of reads (as-of scorecards, audits,
// exports) never approach the server's consumer limit.
func TestReadsDoNotPileUpConsumers(t *testing.T) {
	ctx := context.Background()
	_, js := eventstest.Connect(t, eventstest.StartServer(t))
	st, err := events.Open(ctx, js, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appendNext(t, st, indicator("TH-50", 2563, "ind-a"), proposal("ind-a"), ""); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if _, err := st.Load(ctx, "kpi.u.TH-50.2563.indicator.ind-a"); err != nil {
			t.Fatal(err)
		}
	}
	stream, _ := js.Stream(ctx, st.Name())
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d consumers left after 200 reads", info.State.Consumers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

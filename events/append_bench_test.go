package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// BenchmarkAppend appends proposals, each a new aggregate, through the
// store: envelope, hash, expected-version publish. Compare it with
// BenchmarkRawCheckedPublish, JetStream's own figure for the same bytes.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	st := eventstest.NewStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		agg := events.Aggregate{Kind: events.KindIndicator, ID: fmt.Sprintf("b-%d", i), Unit: "TH-50", FiscalYear: 2563}
		env, err := events.NewEnvelope(proposal(agg.ID), agg)
		if err != nil {
			b.Fatal(err)
		}
		env.Actor = officer
		if _, err := st.Append(ctx, env, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawCheckedPublish publishes the same envelopes with JetStream's
// expected last subject sequence and message id, and nothing else: the
// ceiling BenchmarkAppend can approach.
func BenchmarkRawCheckedPublish(b *testing.B) {
	ctx := context.Background()
	_, js := eventstest.Connect(b, eventstest.StartServer(b))
	if _, err := js.CreateStream(ctx, events.StreamConfig(events.Config{})); err != nil {
		b.Fatal(err)
	}
	msgs := make([]*nats.Msg, b.N)
	for i := range msgs {
		agg := events.Aggregate{Kind: events.KindIndicator, ID: fmt.Sprintf("b-%d", i), Unit: "TH-50", FiscalYear: 2563}
		env, _ := events.NewEnvelope(proposal(agg.ID), agg)
		env.Actor, env.ID, env.CommandID = officer, fmt.Sprintf("e-%d", i), fmt.Sprintf("c-%d", i)
		env.Seal()
		subject, _ := env.Subject()
		m := nats.NewMsg(subject)
		m.Data, _ = json.Marshal(env)
		m.Header.Set(jetstream.MsgIDHeader, env.CommandID)
		msgs[i] = m
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, m := range msgs {
		if _, err := js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendGuarded appends proposals as the API does since
// cross-aggregate rules are guarded: each append carries the last sequence
// of its unit-year's indicator subjects (kpi.u.<unit>.<fy>.indicator.>),
// which JetStream looks up under that wildcard for every append. The
// proposals go round 100 unit-years, so that each holds 50 indicators
// after 5,000 appends, as a full one does. Compare with BenchmarkAppend.
func BenchmarkAppendGuarded(b *testing.B) {
	ctx := context.Background()
	st := eventstest.NewStore(b)
	last := map[int]uint64{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		fy := 2500 + i%100
		agg := events.Aggregate{Kind: events.KindIndicator, ID: fmt.Sprintf("b-%d", i), Unit: "TH-50", FiscalYear: fy}
		env, err := events.NewEnvelope(proposal(agg.ID), agg)
		if err != nil {
			b.Fatal(err)
		}
		env.Actor = officer
		res, err := st.AppendGuarded(ctx, env, 0, events.Guard{Filter: fmt.Sprintf("kpi.u.TH-50.%d.indicator.>", fy), Last: last[fy]})
		if err != nil {
			b.Fatal(err)
		}
		last[fy] = res.Sequence
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

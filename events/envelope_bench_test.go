package events

import (
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
)

// Benchmarks of the envelope's encoding and hashing, for benchstat: what
// every append and every read of the log pays per event.

func benchEnvelope(b *testing.B) *Envelope {
	b.Helper()
	ev := domain.ResultReported{Round: 12, Actual: "81.25",
		Evidence:  []string{"รายงานผลการดำเนินงานประจำรอบการประเมิน ลงนามโดยผู้ว่าราชการจังหวัด", "https://kpi.opdc.go.th/evidence/TH-50/2563/12.pdf"},
		Obstacles: "งบประมาณได้รับการจัดสรรล่าช้ากว่าแผน ทำให้เริ่มดำเนินโครงการได้ในไตรมาสที่ 3 และมีระยะเวลาดำเนินการไม่เพียงพอ"}
	e, err := NewEnvelope(ev, Aggregate{Kind: KindIndicator, ID: "0190a3c0-0000-7000-8000-000000000001", Unit: "TH-50", FiscalYear: 2563, Version: 4,
		LastHash: "eb513682bad9544076c54fec9da96c360f0a9b257904ce8b85520268af1cebb5"})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2020, 9, 30, 17, 0, 0, 123456000, time.UTC)
	e.ID, e.CommandID, e.CorrelationID = "0190a3c0-0000-7000-8000-0000000000ff", "0190a3c0-0000-7000-8000-0000000000fe", "0190a3c0-0000-7000-8000-0000000000fe"
	e.OccurredAt, e.RecordedAt = at, at
	e.Actor = domain.Actor{Subject: "somchai.k@chiangmai.go.th", Role: domain.RoleUnit, Unit: "TH-50"}
	e.Seal()
	return e
}

func BenchmarkNewEnvelope(b *testing.B) {
	ev := domain.ResultVerified{Round: 12, Decision: domain.VerifyAccept, OnReport: 1}
	agg := Aggregate{Kind: KindIndicator, ID: "0190a3c0-0000-7000-8000-000000000001", Unit: "TH-50", FiscalYear: 2563, Version: 5}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewEnvelope(ev, agg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	e := benchEnvelope(b)
	b.ReportAllocs()
	for b.Loop() {
		e.Seal()
	}
}

// BenchmarkMarshalEnvelope is the encoding the store publishes.
func BenchmarkMarshalEnvelope(b *testing.B) {
	e := benchEnvelope(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := marshalEnvelope(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	data, err := marshalEnvelope(benchEnvelope(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeMessage(data, 7); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEvent is the payload decode a fold does per event.
func BenchmarkDecodeEvent(b *testing.B) {
	e := benchEnvelope(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Event(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTreeAdd(b *testing.B) {
	h := benchEnvelope(b).Hash
	var t Tree
	b.ReportAllocs()
	for b.Loop() {
		if err := t.Add(h); err != nil {
			b.Fatal(err)
		}
	}
}

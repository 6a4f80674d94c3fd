package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// catalogue is one sample of every event type, with the aggregate it
// belongs to.
func catalogue() map[string]struct {
	ev  domain.Event
	agg events.Aggregate
} {
	ind := events.Aggregate{Kind: events.KindIndicator, ID: "0190a3c0-0000-7000-8000-000000000001", Unit: "TH-50", FiscalYear: 2563, Version: 1, LastHash: "aa"}
	inn := events.Aggregate{Kind: events.KindInnovation, ID: "0190a3c0-0000-7000-8000-000000000002", Unit: "TH-50", FiscalYear: 2561}
	fw := events.Aggregate{Kind: events.KindFramework, ID: "2563-province", FiscalYear: 2563}
	framework := domain.Framework{FiscalYear: 2563, UnitKind: domain.KindProvince,
		Components: []domain.Component{{Code: "function", NameTH: "การประเมินตามภารกิจหลัก", NameEN: "Function Base", MinIndicators: 1, MaxIndicators: 5}},
		Scheme:     domain.Scheme{Levels: []domain.Level{{Label: "ขั้นต้น", Score: "50"}, {Label: "มาตรฐาน", Score: "75"}, {Label: "ขั้นสูง", Score: "100"}}, BelowFirst: "0"},
		Rollup:     domain.RollupComponentMean, Bands: []domain.Band{{Label: "ระดับคุณภาพ", Min: "90"}, {Label: "ระดับต้องปรับปรุง", Min: "0"}}, Rounds: []int{6, 9, 12}}
	spec := domain.IndicatorSpec{Component: "function", TitleTH: "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว <ปี 2563>", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "1", Baseline: "30", Targets: []domain.Number{"35", "40", "45"}, SeriesID: "s-1"}
	return map[string]struct {
		ev  domain.Event
		agg events.Aggregate
	}{
		events.TypeFrameworkPublished:   {domain.FrameworkPublished{Framework: framework}, fw},
		events.TypeFrameworkRevised:     {domain.FrameworkRevised{Framework: framework, Reason: "แก้ไขตามมติ ก.พ.ร."}, fw},
		events.TypeDepartmentRegistered: {domain.DepartmentRegistered{Code: "cdd", NameTH: "กรมการพัฒนาชุมชน", NameEN: "Community Development Department"}, events.Aggregate{Kind: events.KindUnit, ID: "cdd"}},
		events.TypeIndicatorProposed:    {domain.IndicatorProposed{ID: ind.ID, Unit: "TH-50", FiscalYear: 2563, Spec: spec, FrameworkVersion: 1}, ind},
		events.TypeIndicatorRevised:     {domain.IndicatorRevised{Spec: spec, Reason: "ปรับค่าเป้าหมาย", FrameworkVersion: 2}, ind},
		events.TypeIndicatorReviewed:    {domain.IndicatorReviewed{Decision: domain.DecisionRequestRevision, Comment: "ขอให้ระบุเกณฑ์", OnVersion: 1}, ind},
		events.TypeIndicatorWithdrawn:   {domain.IndicatorWithdrawn{Reason: "ซ้ำ"}, ind},
		events.TypeResultReported:       {domain.ResultReported{Round: 12, Actual: "42.5", Evidence: []string{"https://chiangmai.go.th/r/1"}, Obstacles: "โควิด-19", FrameworkVersion: 2}, ind},
		events.TypeResultVerified:       {domain.ResultVerified{Round: 12, Decision: domain.VerifyAdjust, VerifiedActual: "41", Comment: "หลักฐานรองรับ 41", OnReport: 1}, ind},
		events.TypeSeriesDefined: {domain.SeriesDefined{ID: "s-1", Unit: "TH-50", TitleTH: "รายได้จากการท่องเที่ยว", Measure: "ร้อยละ", Direction: domain.DirectionUp,
			Baseline: "30", StartYear: 2563, EndYear: 2565, Targets: map[string]domain.Number{"2563": "40", "2564": "45", "2565": "50"}},
			events.Aggregate{Kind: events.KindSeries, ID: "s-1", Unit: "TH-50", FiscalYear: 2563}},
		events.TypeInnovationProposed: {domain.InnovationProposed{ID: inn.ID, Unit: "TH-50", FiscalYear: 2561, TitleTH: "ระบบแจ้งเตือนไฟป่า", Agency: "สำนักงานทรัพยากรธรรมชาติฯ", Kind: domain.InnovationService}, inn},
		events.TypeInnovationSelected: {domain.InnovationSelected{Selected: true}, inn},
		events.TypeInnovationReviewed: {domain.InnovationReviewed{Decision: domain.InnovationAccept, Comment: "ขยายผล"}, inn},
		events.TypeCheckpointRecorded: {domain.CheckpointRecorded{Sequence: 41, Count: 40, Root: "AAAA", Key: "kpiledger+00000000+AQ==", Note: "kpiledger checkpoint v1\n"}, events.Aggregate{Kind: events.KindLedger, ID: events.LedgerID}},
	}
}

// TestEventGoldenFiles pins the JSON of every event type: a change to a
// payload's shape shows up here and needs a new schema version.
func TestEventGoldenFiles(t *testing.T) {
	at := time.Date(2020, 9, 30, 17, 0, 0, 123456789, time.UTC)
	for typ, c := range catalogue() {
		t.Run(typ, func(t *testing.T) {
			env, err := events.NewEnvelope(c.ev, c.agg)
			if err != nil {
				t.Fatal(err)
			}
			if env.Type != typ {
				t.Fatalf("Describe names %T %q, want %q", c.ev, env.Type, typ)
			}
			env.ID, env.CommandID, env.CorrelationID = "0190a3c0-0000-7000-8000-0000000000ff", "cmd-1", "corr-1"
			env.OccurredAt, env.RecordedAt = at, at
			env.Actor = domain.Actor{Subject: "somchai", Role: domain.RoleUnit, Unit: "TH-50"}
			env.Seal()
			got, err := json.MarshalIndent(env, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", typ+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./events -run Golden -update to create it)", err)
			}
			if string(want) != string(got)+"\n" {
				t.Fatalf("JSON of %s changed:\n%s\nwant:\n%s", typ, got, want)
			}
			// The golden JSON decodes back into the same event, with its hash
			// intact once its payload is compact again, as it is stored.
			var back events.Envelope
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, back.Data); err != nil {
				t.Fatal(err)
			}
			back.Data = compact.Bytes()
			if err := back.CheckHash(); err != nil {
				t.Fatal(err)
			}
			ev, err := back.Event()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, c.ev) {
				t.Fatalf("decoded %#v\nwant %#v", ev, c.ev)
			}
		})
	}
}

// TestUpcastResultReportedV1: schema 1 carried evidence as one
// newline-separated string; reading it gives today's list, and the stored
// bytes (and so the hash) are untouched.
func TestUpcastResultReportedV1(t *testing.T) {
	v1 := []byte(`{"round":12,"actual":98.87,"evidence":"https://a.go.th/1\n\n https://a.go.th/2 ","obstacles":"ฝนทิ้งช่วง"}`)
	ev, err := events.Decode(events.TypeResultReported, 1, v1)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.ResultReported{Round: 12, Actual: "98.87", Evidence: []string{"https://a.go.th/1", "https://a.go.th/2"}, Obstacles: "ฝนทิ้งช่วง"}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("upcast %#v, want %#v", ev, want)
	}
	env := &events.Envelope{Type: events.TypeResultReported, SchemaVersion: 1, Data: v1}
	env.Seal()
	if _, err := env.Event(); err != nil || env.CheckHash() != nil || string(env.Data) != string(v1) {
		t.Fatal("upcasting touched the stored bytes")
	}
	if _, err := events.Decode(events.TypeResultReported, 3, v1); err == nil {
		t.Error("a schema newer than this build was accepted")
	}
	if _, err := events.Decode("indicator.teleported", 1, v1); err == nil {
		t.Error("an unknown type was accepted")
	}
}

// TestActorFromProviderGolden pins an event recorded for a person signed in
// by single sign-on: the actor's issuer and display name sit beside the
// subject in the JSON and are covered by the hash. The golden files above,
// whose actors have neither, keep their bytes and their hashes.
func TestActorFromProviderGolden(t *testing.T) {
	at := time.Date(2020, 9, 30, 17, 0, 0, 123456789, time.UTC)
	c := catalogue()[events.TypeResultReported]
	env, err := events.NewEnvelope(c.ev, c.agg)
	if err != nil {
		t.Fatal(err)
	}
	env.ID, env.CommandID, env.CorrelationID = "0190a3c0-0000-7000-8000-0000000000ff", "cmd-1", "corr-1"
	env.OccurredAt, env.RecordedAt = at, at
	env.Actor = domain.Actor{Subject: "8f1c2a7e-5b0d-4e55-9c1a-2d3e4f5a6b7c", Issuer: "https://sso.example.go.th/realms/opdc",
		Role: domain.RoleUnit, Unit: "TH-50", Name: "สมชาย ใจดี <somchai@chiangmai.go.th>"}
	env.Seal()
	got, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", "actor.oidc.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./events -run Golden -update to create it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("JSON changed:\n%s\nwant:\n%s", got, want)
	}
	var back events.Envelope
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, back.Data); err != nil {
		t.Fatal(err)
	}
	back.Data = compact.Bytes()
	if err := back.CheckHash(); err != nil {
		t.Fatal(err)
	}
	if back.Actor != env.Actor {
		t.Fatalf("actor decoded as %+v, want %+v", back.Actor, env.Actor)
	}
	// Issuer and name are under the hash: a trail cannot be re-attributed
	// to another provider or person without breaking it.
	for _, change := range []func(*events.Envelope){
		func(e *events.Envelope) { e.Actor.Issuer = "https://evil.example" },
		func(e *events.Envelope) { e.Actor.Issuer = "" },
		func(e *events.Envelope) { e.Actor.Name = "someone else" },
		func(e *events.Envelope) { e.Actor.Name = "" },
	} {
		e := back
		change(&e)
		if e.CheckHash() == nil {
			t.Errorf("actor changed to %+v and the hash still holds", e.Actor)
		}
	}
	// An event without them hashes as before single sign-on.
	old := back
	old.Actor = domain.Actor{Subject: "somchai", Role: domain.RoleUnit, Unit: "TH-50"}
	old.Seal()
	withEmpty := old
	withEmpty.Actor.Issuer, withEmpty.Actor.Name = "", ""
	if withEmpty.ComputeHash() != old.Hash {
		t.Error("empty issuer and name changed the hash")
	}
}

package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/client"
	"github.com/opdc/kpiledger/api/openapitest"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
	"github.com/opdc/kpiledger/projections"
)

// TestClientIsCurrent fails when the served document is not the one the
// client was generated from (written as internal/gendoc writes it).
func TestClientIsCurrent(t *testing.T) {
	served, err := json.MarshalIndent(api.New(api.Config{Model: projections.NewModel(), TokenKey: []byte("k")}).OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	served = append(served, '\n')
	stored, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, served) {
		t.Fatal("the served /openapi.json differs from api/client/openapi.json, which the client was generated from: run go generate ./api/client")
	}
}

// ledger is a real kpiledger for the client to call: an embedded
// nats-server with JetStream in a temp dir, the read model kept current,
// and the API on a random loopback port, every exchange validated against
// /openapi.json.
func ledger(t *testing.T) (url string, key []byte) {
	t.Helper()
	store := eventstest.NewStore(t)
	model := projections.NewModel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = (&projections.Runner{Store: store, Model: model}).Run(ctx) }()
	key = []byte("client-test-key-0123456789-0123456789")
	signer, err := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(openapitest.Handler(t, api.New(api.Config{Store: store, Model: model, TokenKey: key, Signer: signer}).Handler()))
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !model.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("read model never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv.URL, key
}

// as returns a client that sends a bearer token for the principal.
func as(t *testing.T, url string, key []byte, p api.Principal) *client.ClientWithResponses {
	t.Helper()
	tok, err := api.IssueToken(key, p, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewClientWithResponses(url, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// TestClientCallsTheAPI drives a unit-year through the generated client:
// typed request bodies, path and header parameters, typed answers and
// typed problems.
func TestClientCallsTheAPI(t *testing.T) {
	url, key := ledger(t)
	ctx := context.Background()
	opdc := as(t, url, key, api.Principal{Subject: "opdc-reviewer", Role: domain.RoleOPDC})
	cm := as(t, url, key, api.Principal{Subject: "officer@TH-50", Role: domain.RoleUnit, Unit: "TH-50"})

	fw := client.Framework{FiscalYear: 2563, UnitKind: client.UnitKindProvince, Rollup: client.RollupComponentMean, Rounds: []int{12},
		Components: []client.Component{
			{Code: "function", NameTh: "การประเมินตามภารกิจหลัก", MinIndicators: 1, MaxIndicators: 5},
			{Code: "agenda", NameTh: "การประเมินตามนโยบายสำคัญเร่งด่วน", MinIndicators: 0, MaxIndicators: 5}},
		Scheme: client.Scheme{Levels: []client.Level{{Label: "ขั้นต้น", Score: ptr(50.0)}, {Label: "มาตรฐาน", Score: ptr(75.0)}, {Label: "ขั้นสูง", Score: ptr(100.0)}},
			BelowFirst: ptr(0.0)},
		Bands: []client.Band{{Label: "ระดับคุณภาพ", Min: ptr(90.0)}, {Label: "ระดับต้องปรับปรุง", Min: ptr(0.0)}}}
	pub, err := opdc.PostV1FrameworksWithResponse(ctx, nil, fw)
	if err != nil || pub.JSON201 == nil {
		t.Fatalf("publish: %v %d %s", err, pub.StatusCode(), pub.Body)
	}
	if pub.JSON201.Revision != 1 || pub.HTTPResponse.Header.Get("Location") != "/v1/frameworks/2563/province" {
		t.Errorf("publish: revision %d, Location %q", pub.JSON201.Revision, pub.HTTPResponse.Header.Get("Location"))
	}
	again, err := opdc.PostV1FrameworksWithResponse(ctx, nil, fw)
	if err != nil || again.ApplicationproblemJSON409 == nil || again.ApplicationproblemJSON409.Status != 409 {
		t.Fatalf("second publish: %v %d %s", err, again.StatusCode(), again.Body)
	}

	prop, err := cm.PostV1UnitsUnitYearsFyIndicatorsWithResponse(ctx, "TH-50", 2563, &client.PostV1UnitsUnitYearsFyIndicatorsParams{IdempotencyKey: ptr("client-1")},
		client.IndicatorSpec{Component: "function", TitleTh: "ร้อยละของเกษตรกรที่ได้รับการรับรอง GAP", Measure: "ร้อยละ",
			Direction: client.DirectionUp, Weight: ptr(1.0), Targets: []*float64{ptr(60.0), ptr(70.0), ptr(80.5)}})
	if err != nil || prop.JSON201 == nil {
		t.Fatalf("propose: %v %d %s", err, prop.StatusCode(), prop.Body)
	}
	id := prop.JSON201.Id
	if prop.JSON201.Status != client.IndicatorStatusProposed || prop.JSON201.TitleTh != "ร้อยละของเกษตรกรที่ได้รับการรับรอง GAP" || *prop.JSON201.Targets[2] != 80.5 {
		t.Errorf("proposed: %+v", prop.JSON201)
	}

	// If-Match is a typed header parameter; without it the answer is a typed 428.
	noMatch, err := opdc.PostV1IndicatorsIdReviewWithResponse(ctx, id, &client.PostV1IndicatorsIdReviewParams{},
		client.ReviewBody{Decision: client.ReviewBodyDecisionApprove})
	if err != nil || noMatch.ApplicationproblemJSON428 == nil {
		t.Fatalf("review without If-Match: %v %d %s", err, noMatch.StatusCode(), noMatch.Body)
	}
	rev, err := opdc.PostV1IndicatorsIdReviewWithResponse(ctx, id, &client.PostV1IndicatorsIdReviewParams{IfMatch: `"1"`},
		client.ReviewBody{Decision: client.ReviewBodyDecisionApprove})
	if err != nil || rev.JSON200 == nil || rev.JSON200.Status != client.IndicatorStatusApproved {
		t.Fatalf("review: %v %d %s", err, rev.StatusCode(), rev.Body)
	}
	if rev.HTTPResponse.Header.Get("ETag") != `"2"` {
		t.Errorf("review ETag %q", rev.HTTPResponse.Header.Get("ETag"))
	}

	// Reads, with query parameters, and a unit that does not exist.
	unit, err := cm.GetV1UnitsUnitWithResponse(ctx, "TH-50", nil)
	if err != nil || unit.JSON200 == nil || unit.JSON200.Kind != client.UnitKindProvince || unit.JSON200.NameTh == "" {
		t.Fatalf("unit: %v %d %s", err, unit.StatusCode(), unit.Body)
	}
	missing, err := cm.GetV1UnitsUnitWithResponse(ctx, "TH-99", nil)
	if err != nil || missing.ApplicationproblemJSON404 == nil {
		t.Fatalf("unknown unit: %v %d %s", err, missing.StatusCode(), missing.Body)
	}
	sc, err := cm.GetV1UnitsUnitYearsFyScorecardWithResponse(ctx, "TH-50", 2563, &client.GetV1UnitsUnitYearsFyScorecardParams{AsOf: ptr(time.Now().UTC())})
	if err != nil || sc.JSON200 == nil || len(sc.JSON200.Indicators) != 1 {
		t.Fatalf("scorecard: %v %d %s", err, sc.StatusCode(), sc.Body)
	}
	feed, err := opdc.GetV1EventsWithResponse(ctx, &client.GetV1EventsParams{Limit: ptr(2), Unit: ptr("TH-50")})
	if err != nil || feed.JSON200 == nil || len(feed.JSON200.Events) != 2 || feed.JSON200.More {
		t.Fatalf("events: %v %d %s", err, feed.StatusCode(), feed.Body)
	}
	cp, err := opdc.PostV1CheckpointsWithResponse(ctx, nil)
	if err != nil || cp.JSON201 == nil || !cp.JSON201.Created {
		t.Fatalf("checkpoint: %v %d %s", err, cp.StatusCode(), cp.Body)
	}
	cp2, err := opdc.PostV1CheckpointsWithResponse(ctx, nil)
	if err != nil || cp2.JSON200 == nil || cp2.JSON200.Created || cp2.JSON200.EventSequence != cp.JSON201.EventSequence {
		t.Fatalf("checkpoint again: %v %d %s", err, cp2.StatusCode(), cp2.Body)
	}
}

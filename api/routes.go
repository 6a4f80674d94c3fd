package api

import (
	"net/http"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// Who may call what, in the words the OpenAPI document uses.
const (
	accessOPDC     = "opdc"
	accessOwner    = "unit (its own unit only)"
	accessReaders  = "opdc, auditor, or unit (its own unit only)"
	accessAnyone   = "any authenticated role"
	accessAuditors = "opdc, auditor"
	accessPublic   = "no token"
)

// table is every endpoint of API.md. Routes are registered from it and
// /openapi.json is generated from it; a test checks that Echo's registered
// routes and the document agree.
func (s *Server) table() []route {
	return []route{
		{Method: http.MethodGet, Path: "/healthz", Summary: "The process is up", Access: accessPublic, Status: 200, Public: true, Handler: s.healthz},
		{Method: http.MethodGet, Path: "/readyz", Summary: "The read models have caught up with the log", Access: accessPublic, Status: 200, Public: true, Handler: s.readyz},
		{Method: http.MethodGet, Path: "/metrics", Summary: "Prometheus metrics: appends, conflicts, append latency, stream sequence", Access: accessPublic, Status: 200, Public: true, Handler: s.metrics},
		{Method: http.MethodGet, Path: "/openapi.json", Summary: "This document", Access: accessPublic, Status: 200, Public: true, Handler: s.openapi},

		{Method: http.MethodPost, Path: "/v1/frameworks", Summary: "Publish a framework for a fiscal year and unit kind (409 if one exists)", Access: accessOPDC, Body: domain.Framework{}, Out: projections.FrameworkView{}, Status: 201, Handler: s.publishFramework},
		{Method: http.MethodGet, Path: "/v1/frameworks", Summary: "Every framework's current revision", Access: accessAnyone, Out: frameworkList{}, Status: 200, Handler: s.listFrameworks},
		{Method: http.MethodGet, Path: "/v1/frameworks/compare", Summary: "Compare two years' frameworks (?from=&to=&kind=): component, scheme, rollup and band changes, and each unit's total under both", Access: accessAnyone + " (a unit sees only its own total)", Out: projections.FrameworkComparison{}, Status: 200, Handler: s.compareFrameworks},
		{Method: http.MethodGet, Path: "/v1/frameworks/:fy/:kind", Summary: "One framework (?revision=n for an earlier revision), ETag = version", Access: accessAnyone, Out: projections.FrameworkView{}, Status: 200, Handler: s.getFramework},
		{Method: http.MethodPost, Path: "/v1/frameworks/:fy/:kind/revisions", Summary: "A corrected framework with a reason (If-Match required) → revision n+1", Access: accessOPDC, Body: frameworkRevisionBody{}, Out: projections.FrameworkView{}, Status: 201, Handler: s.reviseFramework},

		{Method: http.MethodGet, Path: "/v1/units", Summary: "The 76 provinces and the registered departments", Access: accessAnyone, Out: unitList{}, Status: 200, Handler: s.listUnits},
		{Method: http.MethodPost, Path: "/v1/units", Summary: "Register a department", Access: accessOPDC, Body: unitBody{}, Out: unitView{}, Status: 201, Handler: s.registerUnit},

		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/indicators", Summary: "Propose an indicator", Access: accessOwner, Body: domain.IndicatorSpec{}, Out: projections.IndicatorView{}, Status: 201, Handler: s.proposeIndicator},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/indicators", Summary: "A unit-year's indicators", Access: accessReaders, Out: indicatorList{}, Status: 200, Handler: s.listIndicators},
		{Method: http.MethodGet, Path: "/v1/indicators/:id", Summary: "One indicator, ETag = version", Access: accessReaders, Out: projections.IndicatorView{}, Status: 200, Handler: s.getIndicator},
		{Method: http.MethodPut, Path: "/v1/indicators/:id", Summary: "Revise an indicator with a reason (If-Match required)", Access: accessOwner, Body: indicatorRevisionBody{}, Out: projections.IndicatorView{}, Status: 200, Handler: s.reviseIndicator},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/review", Summary: "Approve, request revision or reject a named version (If-Match required)", Access: accessOPDC, Body: reviewBody{}, Out: projections.IndicatorView{}, Status: 200, Handler: s.reviewIndicator},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/withdraw", Summary: "Withdraw an indicator before approval (body optional)", Access: accessOwner, Body: withdrawBody{}, Out: projections.IndicatorView{}, Status: 200, Handler: s.withdrawIndicator},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/results", Summary: "Report a result for a round of an approved indicator", Access: accessOwner, Body: resultBody{}, Out: projections.IndicatorView{}, Status: 201, Handler: s.reportResult},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/results/:round/verification", Summary: "Accept, adjust or reject a round's current report (If-Match required)", Access: accessOPDC, Body: verificationBody{}, Out: projections.IndicatorView{}, Status: 200, Handler: s.verifyResult},

		{Method: http.MethodPost, Path: "/v1/units/:unit/series", Summary: "Define a long-term (3-5 year) series", Access: accessOwner, Body: seriesBody{}, Out: projections.SeriesView{}, Status: 201, Handler: s.defineSeries},
		{Method: http.MethodGet, Path: "/v1/units/:unit/series", Summary: "A unit's long-term series", Access: accessReaders, Out: seriesList{}, Status: 200, Handler: s.listSeries},
		{Method: http.MethodGet, Path: "/v1/units/:unit/trends", Summary: "Trend of every long-term series of a unit", Access: accessReaders, Out: trendList{}, Status: 200, Handler: s.trends},
		{Method: http.MethodGet, Path: "/v1/units/:unit/series/:id/trend", Summary: "Trend of one series: target, verified actual, achievement % and on_track per year", Access: accessReaders, Out: projections.SeriesTrend{}, Status: 200, Handler: s.trend},

		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/innovations", Summary: "Propose an innovation outline", Access: accessOwner, Body: innovationBody{}, Out: projections.InnovationView{}, Status: 201, Handler: s.proposeInnovation},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/innovations", Summary: "A unit-year's innovation proposals", Access: accessReaders, Out: innovationList{}, Status: 200, Handler: s.listInnovations},
		{Method: http.MethodGet, Path: "/v1/innovations/:id", Summary: "One innovation proposal", Access: accessReaders, Out: projections.InnovationView{}, Status: 200, Handler: s.getInnovation},
		{Method: http.MethodPost, Path: "/v1/innovations/:id/selection", Summary: "Send an outline to OPDC (selected: true) or take it back", Access: accessOwner, Body: selectionBody{}, Out: projections.InnovationView{}, Status: 200, Handler: s.selectInnovation},
		{Method: http.MethodPost, Path: "/v1/innovations/:id/review", Summary: "Accept or decline a selected outline", Access: accessOPDC, Body: reviewBody{}, Out: projections.InnovationView{}, Status: 200, Handler: s.reviewInnovation},

		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/scorecard", Summary: "A unit-year's scorecard (?as_of=RFC3339 for the scorecard as it stood then)", Access: accessReaders, Out: projections.Scorecard{}, Status: 200, Handler: s.scorecard},
		{Method: http.MethodGet, Path: "/v1/units/:unit/comparison", Summary: "Year-over-year comparison (?from=&to=)", Access: accessReaders, Out: projections.Comparison{}, Status: 200, Handler: s.comparison},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/audit", Summary: "Every event of a unit-year with its chain status, and the derivation of each score", Access: accessAuditors, Out: projections.AuditTrail{}, Status: 200, Handler: s.audit},
		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/statement", Summary: "Close a round: sign the unit-year's published figures (indicator, component and total scores, band) computed at the latest checkpoint; text note, carried by unit-year exports for kpiledger verify --recompute", Access: accessOPDC, Status: 201, Handler: s.signStatement},
		{Method: http.MethodGet, Path: "/v1/export", Summary: "A JSON Lines bundle cut at the latest checkpoint: events with hashes and inclusion proofs, each unit-year's group record, the unit-year's results statement, and a signed trailer (?unit=&fiscal_year=&since=; none: the whole ledger), verifiable offline by kpiledger verify --file", Access: accessAuditors, Status: 200, Handler: s.export},
		{Method: http.MethodGet, Path: "/v1/verify", Summary: "Check every hash chain and checkpoint in the stream; reports the first break", Access: accessAuditors, Out: events.LogReport{}, Status: 200, Handler: s.verifyLog},
		{Method: http.MethodGet, Path: "/v1/verify/key", Summary: "The Ed25519 verifier key of checkpoints and bundles", Access: accessAnyone, Out: keyView{}, Status: 200, Handler: s.verifyKey},
		{Method: http.MethodPost, Path: "/v1/checkpoints", Summary: "Sign a checkpoint of the ledger now (201; 200 with the last one when nothing is new)", Access: accessOPDC, Out: checkpointView{}, Status: 201, Handler: s.createCheckpoint},
		{Method: http.MethodGet, Path: "/v1/checkpoints", Summary: "The signed checkpoints in the log", Access: accessAuditors, Out: checkpointList{}, Status: 200, Handler: s.listCheckpoints},
		{Method: http.MethodGet, Path: "/v1/checkpoints/latest", Summary: "The latest signed checkpoint as a text note (c2sp.org/tlog-checkpoint) with the witness cosignatures collected for it", Access: accessAuditors, Status: 200, Handler: s.latestCheckpoint},
		{Method: http.MethodGet, Path: "/v1/checkpoints/:size", Summary: "The signed checkpoint of a tree size, as a text note with its witness cosignatures", Access: accessAuditors, Status: 200, Handler: s.checkpointAt},
		{Method: http.MethodPost, Path: "/v1/checkpoints/:size/cosignatures", Summary: "A witness hands back the checkpoint with its cosignature (c2sp.org/tlog-cosignature; text body; ?key= its verifier key); kept if it verifies (and the key is one of serve --witness-keys, when set)", Access: accessAuditors, Status: 200, Handler: s.addCosignature},
		{Method: http.MethodGet, Path: "/v1/proofs/inclusion", Summary: "Inclusion proof of the event at ?sequence= in the tree of ?size= events (default: the latest checkpoint's), with that size's signed checkpoint if any", Access: accessAuditors, Out: events.InclusionProof{}, Status: 200, Handler: s.inclusionProof},
		{Method: http.MethodGet, Path: "/v1/proofs/consistency", Summary: "Consistency proof that the tree of ?from= events is a prefix of the tree of ?to= events", Access: accessAuditors, Out: events.ConsistencyProof{}, Status: 200, Handler: s.consistencyProof},
		{Method: http.MethodGet, Path: "/v1/events", Summary: "The raw event feed, paged by sequence (?after=&limit=&unit=&fiscal_year=)", Access: accessAuditors, Out: eventPage{}, Status: 200, Handler: s.eventFeed},
	}
}

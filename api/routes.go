package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api/sheets"
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

// route is one endpoint: registered from the table below, and documented
// in /openapi.json from the same entry. A new route fills in, besides its
// method, path, handler and types:
//   - Query: every query parameter its handler reads (c.QueryParam);
//   - Headers: request headers its handler reads beyond the common ones;
//   - Errors: the error statuses it can answer beyond the common ones;
//   - ETag, Location, Produces, Also, OptionalBody where they apply.
//
// What every authenticated call takes (the bearer token, min_sequence,
// X-Min-Sequence; 400, 401, 503) and what every command takes
// (Idempotency-Key, X-Occurred-At, X-Correlation-ID, an optional If-Match
// unless Headers requires it; 400, 409, 413, 422, 429, 503; ETag and
// Idempotent-Replayed) is added by openapi.go, and so is what Downloads
// and Cached imply. The API tests
// validate every exchange against the document, so a parameter a handler
// reads but the entry does not declare fails them. After a change here,
// go generate ./api/client regenerates the Go client (a test says so).
type route struct {
	Method  string
	Path    string // Echo syntax, :param
	Summary string
	Access  string // who may call it, in words
	Body    any    // request body type, nil for none
	Out     any    // response body type, nil for none described
	Status  int    // success status
	Public  bool   // no token needed
	Handler echo.HandlerFunc

	// Command: a write through Server.Execute (the handler parses its
	// Command from the request), which reads Idempotency-Key,
	// X-Occurred-At and X-Correlation-ID and answers with ETag.
	Command bool
	// OptionalBody: the body may be left out.
	OptionalBody bool
	// Query and Headers are the parameters the handler reads.
	Query   []param
	Headers []param
	// Errors are the error statuses the route answers beyond the common
	// ones (problem+json).
	Errors []int
	// Also are further statuses answered with the Out body (POST
	// /v1/checkpoints: 200 when nothing is new; /readyz: 503).
	Also []int
	// ETag: the answer carries the resource's version; Location: a 201
	// names the created resource.
	ETag     bool
	Location bool
	// Produces is the success media type when it is not application/json;
	// the body is then described in words, not by Out.
	Produces string
	// Downloads: a view that also answers as a spreadsheet, by ?format=
	// (xlsx or csv, with &sheet= for CSV) or Accept (spreadsheet.go).
	Downloads bool
	// AlsoProduces are further success media types (a template's CSV, an
	// import's NDJSON stream).
	AlsoProduces []string
	// Cached: a view answered from the view cache (viewcache.go), with an
	// ETag of its encoded answer and 304 to a matching If-None-Match.
	Cached bool
	// Uploads are the media types of a file uploaded as the body (an
	// import), beside multipart/form-data with a "file" field.
	Uploads []string
}

// param is a query parameter or request header an operation reads.
type param struct {
	Name     string
	Doc      string
	Schema   map[string]any
	Required bool
	// AllowEmpty: the parameter may be given without a value (?pretty).
	AllowEmpty bool
}

// required returns the parameter marked required.
func (p param) required() param { p.Required = true; return p }

// Parameters read by more than one route.
var (
	fiscalYearSchema = map[string]any{"type": "integer", "minimum": domain.MinFiscalYear, "maximum": domain.MaxFiscalYear,
		"description": "a Buddhist Era fiscal year, e.g. 2563"}
	unitKindSchema = map[string]any{"type": "string", "enum": []any{string(domain.KindProvince), string(domain.KindDepartment)}}

	qAsOf     = param{Name: "as_of", Doc: "the answer as it stood at this instant (RFC 3339), from the log's recorded_at times", Schema: map[string]any{"type": "string", "format": "date-time"}}
	qRevision = param{Name: "revision", Doc: "an earlier revision (from 1); default the current one", Schema: map[string]any{"type": "integer", "minimum": 1}}
	qFrom     = param{Name: "from", Doc: "the earlier fiscal year", Schema: fiscalYearSchema, Required: true}
	qTo       = param{Name: "to", Doc: "the later fiscal year", Schema: fiscalYearSchema, Required: true}
	qKind     = param{Name: "kind", Doc: "which frameworks to compare (default province)", Schema: unitKindSchema}
	qAfter    = param{Name: "after", Doc: "return events after this stream sequence (default 0: from the start)", Schema: map[string]any{"type": "integer", "minimum": 0}}
	qLimit    = param{Name: "limit", Doc: "events per page", Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxEventPage, "default": 100}}
	qUnit     = param{Name: "unit", Doc: "only this unit's events (a province's ISO code such as TH-50, or a department code)", Schema: map[string]any{"type": "string"}}
	qFY       = param{Name: "fiscal_year", Doc: "only this fiscal year's events", Schema: fiscalYearSchema}

	qScoreUnder = param{Name: "score_under", Doc: "re-score the results under this fiscal year's framework (FY, or FY/kind to name the kind); writes nothing",
		Schema: map[string]any{"type": "string", "pattern": `^[0-9]{4}(/(province|department))?$`}}
	qUnderRevision = param{Name: "revision", Doc: "with score_under: that framework's revision (default its current one)", Schema: map[string]any{"type": "integer", "minimum": 1}}
	qRound         = param{Name: "round", Doc: "only this reporting round (e.g. 12); default every round of the framework", Schema: map[string]any{"type": "integer", "minimum": 1}}
	qDryRun        = param{Name: "dry_run", Doc: "decide every row and append nothing", Schema: map[string]any{"type": "boolean"}}
	qTemplateFmt   = param{Name: "format", Doc: "csv for the template's first sheet as CSV; default xlsx", Schema: map[string]any{"type": "string", "enum": []any{"xlsx", "csv"}}}
	qUnitsFY       = param{Name: "fiscal_year", Doc: "with format=xlsx or csv: each unit's total for this year (default its latest scored year)", Schema: fiscalYearSchema}

	qSince    = param{Name: "since", Doc: "a tree size the auditor trusted earlier: the bundle carries a consistency proof from it to the bundle's checkpoint", Schema: map[string]any{"type": "integer", "minimum": 1}}
	qSequence = param{Name: "sequence", Doc: "the event's stream sequence", Schema: map[string]any{"type": "integer", "minimum": 1}, Required: true}
	qSize     = param{Name: "size", Doc: "the tree size (number of events) to prove against; default the latest checkpoint's", Schema: map[string]any{"type": "integer", "minimum": 1}}
	qTreeFrom = param{Name: "from", Doc: "the smaller tree size", Schema: map[string]any{"type": "integer", "minimum": 1}, Required: true}
	qTreeTo   = param{Name: "to", Doc: "the larger tree size", Schema: map[string]any{"type": "integer", "minimum": 1}, Required: true}
	qWitness  = param{Name: "key", Doc: "the witness's verifier key (name+hash+base64)", Schema: map[string]any{"type": "string"}, Required: true}

	hIfMatch = param{Name: "If-Match", Doc: `the version the change is decided on, as in the resource's ETag ("3"); a stale one is 409`,
		Schema: map[string]any{"type": "string", "example": `"3"`}}
)

// table is every endpoint of API.md. Routes are registered from it and
// /openapi.json is generated from it; a test checks that Echo's registered
// routes and the document agree.
func (s *Server) table() []route {
	return []route{
		{Method: http.MethodGet, Path: "/healthz", Summary: "The process is up", Access: accessPublic, Out: health{}, Status: 200, Public: true, Handler: s.healthz},
		{Method: http.MethodGet, Path: "/readyz", Summary: "The read models have caught up with the log (503 with the same body while not)", Access: accessPublic, Out: readiness{}, Status: 200, Also: []int{503}, Public: true, Handler: s.readyz},
		{Method: http.MethodGet, Path: "/metrics", Summary: "Prometheus metrics: appends, conflicts, append latency, stream sequence", Access: accessPublic, Status: 200, Produces: "text/plain", Public: true, Handler: s.metrics},
		{Method: http.MethodGet, Path: "/openapi.json", Summary: "This document", Access: accessPublic, Out: map[string]any{}, Status: 200, Public: true, Handler: s.openapi},

		{Method: http.MethodPost, Path: "/v1/frameworks", Summary: "Publish a framework for a fiscal year and unit kind (409 if one exists)", Access: accessOPDC, Body: domain.Framework{}, Out: projections.FrameworkView{}, Status: 201,
			Command: true, Location: true, Errors: []int{403}, Handler: s.publishFramework},
		{Method: http.MethodGet, Path: "/v1/frameworks", Summary: "Every framework's current revision", Access: accessAnyone, Out: frameworkList{}, Status: 200, Handler: s.listFrameworks},
		{Method: http.MethodGet, Path: "/v1/frameworks/compare", Summary: "Compare two years' frameworks (?from=&to=&kind=): component, scheme, rollup and band changes; each unit's total under both with its scale position, rank, percentile and band move; units per band. &score_under=FY (or FY/kind) &revision=n re-scores the later year's results under that framework, with the mapping and derivations", Access: accessAnyone + " (a unit sees only its own total)", Out: projections.FrameworkComparison{}, Status: 200,
			Query: []param{qFrom, qTo, qKind, qScoreUnder, qUnderRevision}, Downloads: true, Errors: []int{404}, Handler: s.compareFrameworks},
		{Method: http.MethodGet, Path: "/v1/frameworks/:fy/:kind", Summary: "One framework (?revision=n for an earlier revision), ETag = version", Access: accessAnyone, Out: projections.FrameworkView{}, Status: 200,
			Query: []param{qRevision}, ETag: true, Errors: []int{404}, Handler: s.getFramework},
		{Method: http.MethodPost, Path: "/v1/frameworks/:fy/:kind/revisions", Summary: "A corrected framework with a reason (If-Match required) → revision n+1", Access: accessOPDC, Body: FrameworkRevisionBody{}, Out: projections.FrameworkView{}, Status: 201,
			Command: true, Headers: []param{hIfMatch.required()}, Errors: []int{403, 404, 428}, Handler: s.reviseFramework},

		{Method: http.MethodGet, Path: "/v1/units", Summary: "The 76 provinces and the registered departments (as a spreadsheet: with each readable unit's total)", Access: accessAnyone, Out: unitList{}, Status: 200,
			Query: []param{qUnitsFY}, Downloads: true, Handler: s.listUnits},
		{Method: http.MethodPost, Path: "/v1/units", Summary: "Register a department", Access: accessOPDC, Body: UnitBody{}, Out: unitView{}, Status: 201,
			Command: true, Location: true, Errors: []int{403}, Handler: s.registerUnit},
		{Method: http.MethodGet, Path: "/v1/units/:unit", Summary: "One unit: a province or a registered department (version 0 for a built-in province)", Access: accessAnyone, Out: unitView{}, Status: 200,
			Errors: []int{404}, Handler: s.getUnit},

		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/indicators", Summary: "Propose an indicator", Access: accessOwner, Body: domain.IndicatorSpec{}, Out: projections.IndicatorView{}, Status: 201,
			Command: true, Location: true, Errors: []int{403, 404}, Handler: s.proposeIndicator},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/indicators", Summary: "A unit-year's indicators", Access: accessReaders, Out: indicatorList{}, Status: 200,
			Errors: []int{403, 404}, Handler: s.listIndicators},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/indicators/template", Summary: "An XLSX template of a unit-year's indicators, pre-filled with the live ones (a target column per framework level, the components listed); ?format=csv for its first sheet", Access: accessReaders, Status: 200,
			Produces: sheetsMediaXLSX, AlsoProduces: []string{sheetsMediaCSV}, Query: []param{qTemplateFmt}, Errors: []int{403, 404}, Handler: s.indicatorsTemplate},
		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/indicators/import", Summary: "Import the indicators template (XLSX or CSV): each row runs the command a JSON request would; ?dry_run=true decides every row and appends nothing; a per-row report (NDJSON, one row a line, with Accept: application/x-ndjson)", Access: accessOwner, Out: importReport{}, Status: 200,
			Uploads: []string{sheetsMediaXLSX, "text/csv"}, AlsoProduces: []string{mediaNDJSON}, Query: []param{qDryRun}, Errors: []int{403, 404, 413, 415, 422}, Handler: s.importIndicators},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/results/template", Summary: "An XLSX template of a unit-year's result reports, a row per approved indicator and round (?round= for one), pre-filled with the current reports; ?format=csv for its first sheet", Access: accessReaders, Status: 200,
			Produces: sheetsMediaXLSX, AlsoProduces: []string{sheetsMediaCSV}, Query: []param{qRound, qTemplateFmt}, Errors: []int{403, 404}, Handler: s.resultsTemplate},
		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/results/import", Summary: "Import the results template (XLSX or CSV): each row with an actual reports it, unless the round's current report says the same; ?dry_run=true decides every row and appends nothing; a per-row report", Access: accessOwner, Out: importReport{}, Status: 200,
			Uploads: []string{sheetsMediaXLSX, "text/csv"}, AlsoProduces: []string{mediaNDJSON}, Query: []param{qDryRun}, Errors: []int{403, 404, 413, 415, 422}, Handler: s.importResults},
		{Method: http.MethodGet, Path: "/v1/indicators/:id", Summary: "One indicator, ETag = version", Access: accessReaders, Out: projections.IndicatorView{}, Status: 200,
			ETag: true, Errors: []int{403, 404}, Handler: s.getIndicator},
		{Method: http.MethodPut, Path: "/v1/indicators/:id", Summary: "Revise an indicator with a reason (If-Match required)", Access: accessOwner, Body: IndicatorRevisionBody{}, Out: projections.IndicatorView{}, Status: 200,
			Command: true, Headers: []param{hIfMatch.required()}, Errors: []int{403, 404, 428}, Handler: s.reviseIndicator},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/review", Summary: "Approve, request revision or reject a named version (If-Match required)", Access: accessOPDC, Body: ReviewBody{}, Out: projections.IndicatorView{}, Status: 200,
			Command: true, Headers: []param{hIfMatch.required()}, Errors: []int{403, 404, 428}, Handler: s.reviewIndicator},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/withdraw", Summary: "Withdraw an indicator before approval (body optional)", Access: accessOwner, Body: WithdrawBody{}, OptionalBody: true, Out: projections.IndicatorView{}, Status: 200,
			Command: true, Headers: []param{hIfMatch}, Errors: []int{403, 404}, Handler: s.withdrawIndicator},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/results", Summary: "Report a result for a round of an approved indicator", Access: accessOwner, Body: ResultBody{}, Out: projections.IndicatorView{}, Status: 201,
			Command: true, Headers: []param{hIfMatch}, Errors: []int{403, 404}, Handler: s.reportResult},
		{Method: http.MethodPost, Path: "/v1/indicators/:id/results/:round/verification", Summary: "Accept, adjust or reject a round's current report (If-Match required)", Access: accessOPDC, Body: VerificationBody{}, Out: projections.IndicatorView{}, Status: 200,
			Command: true, Headers: []param{hIfMatch.required()}, Errors: []int{403, 404, 428}, Handler: s.verifyResult},

		{Method: http.MethodPost, Path: "/v1/units/:unit/series", Summary: "Define a long-term (3-5 year) series", Access: accessOwner, Body: SeriesBody{}, Out: projections.SeriesView{}, Status: 201,
			Command: true, Location: true, Errors: []int{403, 404}, Handler: s.defineSeries},
		{Method: http.MethodGet, Path: "/v1/units/:unit/series", Summary: "A unit's long-term series", Access: accessReaders, Out: seriesList{}, Status: 200,
			Downloads: true, Errors: []int{403, 404}, Handler: s.listSeries},
		{Method: http.MethodGet, Path: "/v1/units/:unit/series/:id", Summary: "One long-term series, ETag = version", Access: accessReaders, Out: projections.SeriesView{}, Status: 200,
			ETag: true, Errors: []int{403, 404}, Handler: s.getSeries},
		{Method: http.MethodGet, Path: "/v1/units/:unit/trends", Summary: "Trend of every long-term series of a unit", Access: accessReaders, Out: trendList{}, Status: 200,
			Downloads: true, Cached: true, Errors: []int{403, 404}, Handler: s.trends},
		{Method: http.MethodGet, Path: "/v1/units/:unit/series/:id/trend", Summary: "Trend of one series: target, verified actual, achievement % and on_track per year", Access: accessReaders, Out: projections.SeriesTrend{}, Status: 200,
			Downloads: true, Errors: []int{403, 404}, Handler: s.trend},

		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/innovations", Summary: "Propose an innovation outline", Access: accessOwner, Body: InnovationBody{}, Out: projections.InnovationView{}, Status: 201,
			Command: true, Errors: []int{403, 404}, Handler: s.proposeInnovation},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/innovations", Summary: "A unit-year's innovation proposals", Access: accessReaders, Out: innovationList{}, Status: 200,
			Errors: []int{403, 404}, Handler: s.listInnovations},
		{Method: http.MethodGet, Path: "/v1/innovations/:id", Summary: "One innovation proposal, ETag = version", Access: accessReaders, Out: projections.InnovationView{}, Status: 200,
			ETag: true, Errors: []int{403, 404}, Handler: s.getInnovation},
		{Method: http.MethodPost, Path: "/v1/innovations/:id/selection", Summary: "Send an outline to OPDC (selected: true) or take it back", Access: accessOwner, Body: SelectionBody{}, Out: projections.InnovationView{}, Status: 200,
			Command: true, Headers: []param{hIfMatch}, Errors: []int{403, 404}, Handler: s.selectInnovation},
		{Method: http.MethodPost, Path: "/v1/innovations/:id/review", Summary: "Accept or decline a selected outline", Access: accessOPDC, Body: InnovationReviewBody{}, Out: projections.InnovationView{}, Status: 200,
			Command: true, Headers: []param{hIfMatch}, Errors: []int{403, 404}, Handler: s.reviewInnovation},

		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/scorecard", Summary: "A unit-year's scorecard (?as_of=RFC3339 for the scorecard as it stood then; &score_under=FY (or FY/kind) &revision=n adds the results re-scored under that framework, with the mapping and derivations)", Access: accessReaders, Out: projections.Scorecard{}, Status: 200,
			Query: []param{qAsOf, qScoreUnder, qUnderRevision}, Downloads: true, Cached: true, Errors: []int{403, 404}, Handler: s.scorecard},
		{Method: http.MethodGet, Path: "/v1/units/:unit/comparison", Summary: "Year-over-year comparison (?from=&to=): both scorecards, matched indicators, and each total's scale position, rank, percentile and band move; &score_under=FY (or FY/kind) &revision=n re-scores the later year's results under that framework", Access: accessReaders, Out: projections.Comparison{}, Status: 200,
			Query: []param{qFrom, qTo, qScoreUnder, qUnderRevision}, Downloads: true, Cached: true, Errors: []int{403, 404}, Handler: s.comparison},
		{Method: http.MethodGet, Path: "/v1/units/:unit/years/:fy/audit", Summary: "Every event of a unit-year with its chain status, and the derivation of each score", Access: accessAuditors, Out: projections.AuditTrail{}, Status: 200,
			Downloads: true, Errors: []int{403, 404}, Handler: s.audit},
		{Method: http.MethodPost, Path: "/v1/units/:unit/years/:fy/statement", Summary: "Close a round: sign the unit-year's published figures (indicator, component and total scores, band) computed at the latest checkpoint; text note, carried by unit-year exports for kpiledger verify --recompute", Access: accessOPDC, Status: 201,
			Produces: mediaNote, Errors: []int{403, 404, 409}, Handler: s.signStatement},
		{Method: http.MethodGet, Path: "/v1/export", Summary: "A JSON Lines bundle cut at the latest checkpoint: events with hashes and inclusion proofs, each unit-year's group record, the unit-year's results statement, and a signed trailer (?unit=&fiscal_year=&since=; none: the whole ledger), verifiable offline by kpiledger verify --file", Access: accessAuditors, Status: 200,
			Produces: "application/x-ndjson", Query: []param{qUnit, qFY, qSince}, Errors: []int{403, 404, 409}, Handler: s.export},
		{Method: http.MethodGet, Path: "/v1/verify", Summary: "Check every hash chain and checkpoint in the stream; reports the first break", Access: accessAuditors, Out: events.LogReport{}, Status: 200,
			Errors: []int{403}, Handler: s.verifyLog},
		{Method: http.MethodGet, Path: "/v1/verify/key", Summary: "The Ed25519 verifier key of checkpoints and bundles", Access: accessAnyone, Out: keyView{}, Status: 200, Handler: s.verifyKey},
		{Method: http.MethodPost, Path: "/v1/checkpoints", Summary: "Sign a checkpoint of the ledger now (201; 200 with the last one when nothing is new)", Access: accessOPDC, Out: checkpointView{}, Status: 201,
			Also: []int{200}, Errors: []int{403, 409}, Handler: s.createCheckpoint},
		{Method: http.MethodGet, Path: "/v1/checkpoints", Summary: "The signed checkpoints in the log", Access: accessAuditors, Out: checkpointList{}, Status: 200,
			Errors: []int{403}, Handler: s.listCheckpoints},
		{Method: http.MethodGet, Path: "/v1/checkpoints/latest", Summary: "The latest signed checkpoint as a text note (c2sp.org/tlog-checkpoint) with the witness cosignatures collected for it", Access: accessAuditors, Status: 200,
			Produces: mediaNote, Errors: []int{403, 404}, Handler: s.latestCheckpoint},
		{Method: http.MethodGet, Path: "/v1/checkpoints/:size", Summary: "The signed checkpoint of a tree size, as a text note with its witness cosignatures", Access: accessAuditors, Status: 200,
			Produces: mediaNote, Errors: []int{403, 404}, Handler: s.checkpointAt},
		{Method: http.MethodPost, Path: "/v1/checkpoints/:size/cosignatures", Summary: "A witness hands back the checkpoint with its cosignature (c2sp.org/tlog-cosignature; text body; ?key= its verifier key); kept if it verifies (and the key is one of serve --witness-keys, when set)", Access: accessAuditors, Status: 200,
			Produces: mediaNote, Uploads: []string{mediaNote}, Query: []param{qWitness}, Errors: []int{403, 404, 409}, Handler: s.addCosignature},
		{Method: http.MethodGet, Path: "/v1/proofs/inclusion", Summary: "Inclusion proof of the event at ?sequence= in the tree of ?size= events (default: the latest checkpoint's), with that size's signed checkpoint if any", Access: accessAuditors, Out: events.InclusionProof{}, Status: 200,
			Query: []param{qSequence, qSize}, Errors: []int{403, 404}, Handler: s.inclusionProof},
		{Method: http.MethodGet, Path: "/v1/proofs/consistency", Summary: "Consistency proof that the tree of ?from= events is a prefix of the tree of ?to= events", Access: accessAuditors, Out: events.ConsistencyProof{}, Status: 200,
			Query: []param{qTreeFrom, qTreeTo}, Errors: []int{403, 404}, Handler: s.consistencyProof},
		{Method: http.MethodGet, Path: "/v1/events", Summary: "The raw event feed, paged by sequence (?after=&limit=&unit=&fiscal_year=)", Access: accessAuditors, Out: eventPage{}, Status: 200,
			Query: []param{qAfter, qLimit, qUnit, qFY}, Errors: []int{403}, Handler: s.eventFeed},
	}
}

// Spreadsheet media types, as the document names them.
const (
	sheetsMediaXLSX = sheets.MediaXLSX
	sheetsMediaCSV  = "text/csv"
	// mediaNote is a signed note (c2sp.org/signed-note): a checkpoint, a
	// cosigned checkpoint, a results statement.
	mediaNote = "text/plain; charset=utf-8"
)

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// cluster is the API on each node of an in-process three-node JetStream
// cluster: every node its own store connection, read model and HTTP server,
// the stream replicated three times, so that appends take the replicated
// path (where a compare-and-set refusal is 10164).
type cluster struct {
	c     *eventstest.Cluster
	nodes []*harness
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	key := []byte("test-key-0123456789-0123456789-0123456789")
	signer, err := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{c: c}
	for _, s := range c.Servers {
		_, js := eventstest.Connect(t, s)
		cl.nodes = append(cl.nodes, newHarnessOn(t, eventstest.OpenStore(t, js), key, signer))
	}
	return cl
}

// setups runs a test on one node and on the three-node cluster; nodes
// returns the harness each concurrent request goes to.
func onOneNodeAndCluster(t *testing.T, run func(t *testing.T, nodes []*harness)) {
	t.Run("one node", func(t *testing.T) { run(t, []*harness{newHarness(t)}) })
	t.Run("three nodes", func(t *testing.T) { run(t, newCluster(t).nodes) })
}

// answer is one concurrent request's outcome, collected without touching
// testing.T off the test goroutine.
type answer struct {
	status int
	body   string
	header http.Header
	err    error
}

// race sends n requests at once, request i to nodes[i%len(nodes)], and
// returns their answers in order.
func race(nodes []*harness, n int, req func(i int) (method, path, token string, body any, headers []string)) []answer {
	out := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			method, path, token, body, headers := req(i)
			b, _ := json.Marshal(body)
			r, err := http.NewRequest(method, nodes[i%len(nodes)].url+path, bytes.NewReader(b))
			if err != nil {
				out[i].err = err
				return
			}
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Content-Type", "application/json")
			for k := 0; k+1 < len(headers); k += 2 {
				r.Header.Set(headers[k], headers[k+1])
			}
			<-start
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				out[i].err = err
				return
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			out[i] = answer{status: res.StatusCode, body: string(data), header: res.Header}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// exactlyOneWins checks that one answer is `win` and every other is
// `lose` with a body naming the limit.
func exactlyOneWins(t *testing.T, answers []answer, win, lose int, limit string) {
	t.Helper()
	wins := 0
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("request %d: %v", i, a.err)
		case a.status == win:
			wins++
		case a.status == lose && strings.Contains(a.body, limit):
		default:
			t.Errorf("request %d: %d %s, want %d or %d naming %q", i, a.status, a.body, win, lose, limit)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d requests succeeded, want exactly 1", wins, len(answers))
	}
}

const racers = 8

// oneSlotFramework allows one approved indicator in its "function"
// component.
const oneSlotFramework = `{"fiscal_year": 2563, "unit_kind": "province",
 "components": [
  {"code": "function", "name_th": "การประเมินตามภารกิจหลัก", "name_en": "Function Base", "min_indicators": 1, "max_indicators": 1},
  {"code": "agenda", "name_th": "การประเมินตามนโยบายสำคัญเร่งด่วน", "name_en": "Agenda Base", "min_indicators": 1, "max_indicators": 5}],
 "scheme": {"levels": [{"label": "ขั้นต้น", "score": 50}, {"label": "มาตรฐาน", "score": 75},
                       {"label": "ขั้นสูง", "score": 100}], "below_first": 0},
 "rollup": "component_mean",
 "bands": [{"label": "ระดับคุณภาพ", "min": 90}, {"label": "ระดับต้องปรับปรุง", "min": 0}],
 "rounds": [12]}`

// TestConcurrentApprovalsRespectComponentMaximum: racers proposed
// indicators of a component that allows one approved, approved at once
// with correct If-Match values: one is approved, the rest are refused 409
// naming the maximum. Before the guard, two or three were approved.
func TestConcurrentApprovalsRespectComponentMaximum(t *testing.T) {
	onOneNodeAndCluster(t, func(t *testing.T, nodes []*harness) {
		h := nodes[0]
		h.must(201, "POST", "/v1/frameworks", h.opdc(), oneSlotFramework)
		var ids []string
		for i := range racers {
			r := h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", h.officer("TH-50"),
				indicatorBody("function", fmt.Sprintf("ตัวชี้วัดที่ %d", i), 1, 1, 2, 3))
			ids = append(ids, str(r["id"]))
		}
		waitAll(t, nodes, h.lastSeq())
		answers := race(nodes, racers, func(i int) (string, string, string, any, []string) {
			return "POST", "/v1/indicators/" + ids[i] + "/review", h.opdc(), map[string]any{"decision": "approve"}, ifMatch(1)
		})
		exactlyOneWins(t, answers, 200, 409, "maximum of 1 approved")
	})
}

// TestConcurrentProposalsRespectUnitYearLimit: a unit-year holding 49 live
// indicators gets racers proposals at once: one is taken, the rest are
// refused naming the limit of 50. Before the guard, 16 concurrent
// proposals into 49 ended with 53.
func TestConcurrentProposalsRespectUnitYearLimit(t *testing.T) {
	onOneNodeAndCluster(t, func(t *testing.T, nodes []*harness) {
		h := nodes[0]
		h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
		cm := h.officer("TH-50")
		for i := range 49 {
			h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", fmt.Sprintf("ตัวชี้วัดที่ %d", i), 1, 1, 2, 3))
		}
		waitAll(t, nodes, h.lastSeq())
		answers := race(nodes, racers, func(i int) (string, string, string, any, []string) {
			return "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", fmt.Sprintf("ตัวชี้วัดแข่ง %d", i), 1, 1, 2, 3), nil
		})
		exactlyOneWins(t, answers, 201, 409, "at most 50 live indicators")
		var page struct{ Indicators []any }
		r := h.do("GET", "/v1/units/TH-50/years/2563/indicators?min_sequence="+fmt.Sprint(h.lastSeq()), h.auditor(), nil)
		if err := json.Unmarshal(r.Body, &page); err != nil || len(page.Indicators) != 50 {
			t.Errorf("the unit-year holds %d indicators (%v), want 50", len(page.Indicators), err)
		}
	})
}

// TestConcurrentProposalsTakeASeriesOnce: racers proposals of one
// unit-year name the same long-term series at once: one belongs to it, the
// rest are refused naming the series.
func TestConcurrentProposalsTakeASeriesOnce(t *testing.T) {
	onOneNodeAndCluster(t, func(t *testing.T, nodes []*harness) {
		h := nodes[0]
		h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
		cm := h.officer("TH-50")
		series := h.must(201, "POST", "/v1/units/TH-50/series", cm, map[string]any{"title_th": "รายได้จากการท่องเที่ยว", "measure": "ร้อยละ",
			"direction": "up", "baseline": 30, "start_year": 2563, "end_year": 2565, "targets": map[string]any{"2563": 40, "2564": 45, "2565": 50}})
		waitAll(t, nodes, h.lastSeq())
		answers := race(nodes, racers, func(i int) (string, string, string, any, []string) {
			b := indicatorBody("agenda", fmt.Sprintf("รายได้ %d", i), 1, 35, 40, 45)
			b["series_id"] = series["id"]
			return "POST", "/v1/units/TH-50/years/2563/indicators", cm, b, nil
		})
		exactlyOneWins(t, answers, 201, 409, "already belongs to this series")
	})
}

// TestConcurrentSameIdempotencyKey: identical requests with one
// Idempotency-Key sent at once (to one node, or one to each node) store
// one event and are all answered as its retries are: its 201, or 409
// request-in-progress with Retry-After. Never a 500 (on a replicated
// stream JetStream answers the second 10158, "duplicate message id is in
// process", which was passed on as an internal error).
func TestConcurrentSameIdempotencyKey(t *testing.T) {
	onOneNodeAndCluster(t, func(t *testing.T, nodes []*harness) {
		h := nodes[0]
		h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
		waitAll(t, nodes, h.lastSeq())
		cm := h.officer("TH-50")
		for round := range 10 {
			key := fmt.Sprintf("same-%d", round)
			before := h.lastSeq()
			answers := race(nodes, 3, func(i int) (string, string, string, any, []string) {
				return "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", "ตัวชี้วัดซ้ำ "+key, 1, 1, 2, 3),
					[]string{"Idempotency-Key", key}
			})
			ids := map[string]bool{}
			for i, a := range answers {
				switch {
				case a.err != nil:
					t.Fatalf("round %d request %d: %v", round, i, a.err)
				case a.status == 201:
					var v struct{ ID string }
					_ = json.Unmarshal([]byte(a.body), &v)
					ids[v.ID] = true
				case a.status == 409 && strings.Contains(a.body, "/request-in-progress") && a.header.Get("Retry-After") != "":
				default:
					t.Fatalf("round %d request %d: %d %s", round, i, a.status, a.body)
				}
			}
			if len(ids) != 1 {
				t.Fatalf("round %d: answers name %d indicators, want 1: %v", round, len(ids), ids)
			}
			if got := h.lastSeq() - before; got != 1 {
				t.Fatalf("round %d: %d events stored, want 1", round, got)
			}
		}
	})
}

// waitAll waits until every node's read model has applied seq.
func waitAll(t *testing.T, nodes []*harness, seq uint64) {
	t.Helper()
	for _, n := range nodes {
		n.must(200, "GET", fmt.Sprintf("/v1/units?min_sequence=%d", seq), n.auditor(), nil)
	}
}

// TestHistoryBreakingALimitIsFlagged: a log written before the guards,
// where two approvals took a one-slot component, 51 indicators filled a
// unit-year and two took one series, still folds (every view answers) and
// the audit trail flags each event that broke a rule. So does a proposal
// recorded as decided on a framework version already superseded.
func TestHistoryBreakingALimitIsFlagged(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), oneSlotFramework)
	ctx := t.Context()
	officer := domain.Actor{Subject: "officer@TH-50", Role: domain.RoleUnit, Unit: "TH-50"}
	appendRaw := func(agg *events.Aggregate, ev domain.Event) {
		t.Helper()
		env, err := events.NewEnvelope(ev, *agg)
		if err != nil {
			t.Fatal(err)
		}
		env.Actor = officer
		res, err := h.store.Append(ctx, env, agg.LastSeq)
		if err != nil {
			t.Fatal(err)
		}
		agg.Version, agg.LastHash, agg.LastSeq = env.AggregateVersion, env.Hash, res.Sequence
	}
	spec := func(component, title, series string) domain.IndicatorSpec {
		return domain.IndicatorSpec{Component: component, TitleTH: title, Measure: "ร้อยละ", Direction: domain.DirectionUp,
			Weight: "1", Targets: []domain.Number{"1", "2", "3"}, SeriesID: series}
	}
	var aggs []*events.Aggregate
	for i := range 51 {
		id := fmt.Sprintf("old-%02d", i)
		agg := &events.Aggregate{Kind: events.KindIndicator, ID: id, Unit: "TH-50", FiscalYear: 2563}
		component, series := "agenda", ""
		if i < 2 {
			component, series = "function", "s-old"
		}
		appendRaw(agg, domain.IndicatorProposed{ID: id, Unit: "TH-50", FiscalYear: 2563, Spec: spec(component, fmt.Sprintf("ตัวชี้วัดเดิม %d", i), series)})
		aggs = append(aggs, agg)
	}
	for _, agg := range aggs[:2] {
		appendRaw(agg, domain.IndicatorReviewed{Decision: domain.DecisionApprove, OnVersion: 1})
	}
	// A framework revision, then a proposal recorded as decided on the
	// version before it.
	fw := h.must(200, "GET", "/v1/frameworks/2563/province?min_sequence="+fmt.Sprint(h.lastSeq()), h.opdc(), nil)
	var revision map[string]any
	if err := json.Unmarshal([]byte(oneSlotFramework), &revision); err != nil {
		t.Fatal(err)
	}
	revision["reason"] = "แก้ไขเกณฑ์"
	h.must(201, "POST", "/v1/frameworks/2563/province/revisions", h.opdc(), revision, ifMatch(fw["version"])...)
	late := &events.Aggregate{Kind: events.KindIndicator, ID: "late", Unit: "TH-57", FiscalYear: 2563}
	lateEv := domain.IndicatorProposed{ID: "late", Unit: "TH-57", FiscalYear: 2563, Spec: spec("agenda", "ตัวชี้วัดช้า", ""), FrameworkVersion: 1}
	env, err := events.NewEnvelope(lateEv, *late)
	if err != nil {
		t.Fatal(err)
	}
	env.Actor = domain.Actor{Subject: "officer@TH-57", Role: domain.RoleUnit, Unit: "TH-57"}
	if _, err := h.store.Append(ctx, env, 0); err != nil {
		t.Fatal(err)
	}

	// A proposal through the API records the version it was decided on.
	h.must(201, "POST", "/v1/units/TH-57/years/2563/indicators?min_sequence="+fmt.Sprint(h.lastSeq()), h.officer("TH-57"),
		indicatorBody("agenda", "ตัวชี้วัดใหม่", 1, 1, 2, 3))
	var page struct {
		Events []struct {
			Data struct {
				FrameworkVersion uint64 `json:"framework_version"`
			}
		}
	}
	if err := json.Unmarshal(h.do("GET", fmt.Sprintf("/v1/events?after=%d", h.lastSeq()-1), h.auditor(), nil).Body, &page); err != nil ||
		len(page.Events) != 1 || page.Events[0].Data.FrameworkVersion != 2 {
		t.Errorf("the new proposal does not record framework version 2: %+v %v", page, err)
	}

	seq := fmt.Sprint(h.lastSeq())
	h.must(200, "GET", "/v1/units/TH-50/years/2563/scorecard?min_sequence="+seq, h.auditor(), nil)
	rules := func(unit string) map[string]int {
		var trail struct {
			Flags []struct{ Rule string }
		}
		r := h.do("GET", "/v1/units/"+unit+"/years/2563/audit?min_sequence="+seq, h.auditor(), nil)
		if r.Status != 200 || json.Unmarshal(r.Body, &trail) != nil {
			t.Fatalf("audit of %s: %d %s", unit, r.Status, r.Body)
		}
		out := map[string]int{}
		for _, f := range trail.Flags {
			out[f.Rule]++
		}
		return out
	}
	want := map[string]int{"indicators_per_unit_year": 1, "component_max_indicators": 1, "series_per_year": 1}
	if got := rules("TH-50"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("TH-50 flags %v, want %v", got, want)
	}
	if got := rules("TH-57"); fmt.Sprint(got) != fmt.Sprint(map[string]int{"superseded_framework": 1}) {
		t.Errorf("TH-57 flags %v, want one superseded_framework", got)
	}
}

// TestProblemTypesDocumented: the OpenAPI document and the README name
// each problem type a client acts on when the log or the read model fails.
func TestProblemTypesDocumented(t *testing.T) {
	h := newHarness(t)
	doc := string(h.do("GET", "/openapi.json", "", nil).Body)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"no-quorum", "not-confirmed", "read-model-behind", "not-ready", "log-unreachable", "request-in-progress", "conflict", "concurrent-write"} {
		if !strings.Contains(doc, "503 "+slug) && !strings.Contains(doc, "409 "+slug) {
			t.Errorf("the OpenAPI Problem description does not name %s", slug)
		}
		if !strings.Contains(string(readme), "`"+slug+"`") {
			t.Errorf("the README does not name %s", slug)
		}
	}
}

// TestFrameworkRevisionRacingProposals: a revision removing a component
// races racers proposals into it. The revision is guarded by the whole
// log, so it never lands after a proposal it did not count: if it
// succeeds, every proposal into the removed component that landed after
// it was decided on the previous framework version, says so in its event,
// and is flagged superseded_framework in the audit trail.
func TestFrameworkRevisionRacingProposals(t *testing.T) {
	onOneNodeAndCluster(t, func(t *testing.T, nodes []*harness) {
		h := nodes[0]
		h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
		waitAll(t, nodes, h.lastSeq())
		var revision map[string]any
		if err := json.Unmarshal([]byte(fy2563Province), &revision); err != nil {
			t.Fatal(err)
		}
		revision["components"] = revision["components"].([]any)[:1] // function only: agenda removed
		revision["reason"] = "ยุบองค์ประกอบ"
		cm := h.officer("TH-50")
		answers := race(nodes, racers+1, func(i int) (string, string, string, any, []string) {
			if i == racers {
				return "POST", "/v1/frameworks/2563/province/revisions", h.opdc(), revision, ifMatch(1)
			}
			return "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", fmt.Sprintf("ตัวชี้วัด %d", i), 1, 1, 2, 3), nil
		})
		revised := answers[racers].status == 201
		if !revised && !(answers[racers].status == 409 && strings.Contains(answers[racers].body, "cannot be removed")) {
			t.Fatalf("revision: %d %s", answers[racers].status, answers[racers].body)
		}
		seq := h.lastSeq()
		var page struct {
			Events []struct {
				Sequence uint64
				Type     string
				Data     struct {
					FrameworkVersion uint64 `json:"framework_version"`
				}
			}
		}
		if err := json.Unmarshal(h.do("GET", "/v1/events?limit=100", h.auditor(), nil).Body, &page); err != nil {
			t.Fatal(err)
		}
		var revisedAt uint64
		for _, e := range page.Events {
			if e.Type == events.TypeFrameworkRevised {
				revisedAt = e.Sequence
			}
		}
		late := 0
		for i, a := range answers[:racers] {
			if a.status != 201 && !(revised && a.status == 400 && strings.Contains(a.body, "component")) {
				t.Errorf("proposal %d: %d %s", i, a.status, a.body)
			}
		}
		for _, e := range page.Events {
			if e.Type != events.TypeIndicatorProposed {
				continue
			}
			if revised && e.Sequence > revisedAt {
				late++
				if e.Data.FrameworkVersion != 1 {
					t.Errorf("a proposal into the removed component landed after the revision, decided on version %d", e.Data.FrameworkVersion)
				}
			}
		}
		var trail struct{ Flags []struct{ Rule string } }
		if err := json.Unmarshal(h.do("GET", fmt.Sprintf("/v1/units/TH-50/years/2563/audit?min_sequence=%d", seq), h.auditor(), nil).Body, &trail); err != nil {
			t.Fatal(err)
		}
		if len(trail.Flags) != late {
			t.Errorf("%d flags for %d proposals landed after the revision: %+v", len(trail.Flags), late, trail.Flags)
		}
		t.Logf("revision %v, %d proposals landed after it (flagged)", revised, late)
	})
}

package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/demo"
	"github.com/opdc/kpiledger/api/openapitest"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
	"github.com/opdc/kpiledger/projections"
)

// ledger is a real kpiledger in this process: an embedded nats-server with
// JetStream, the store with a demo clock, the read model and its runner,
// and the API reached through demo.HandlerClient — what `serve --demo`
// assembles, minus the listener.
type ledger struct {
	store  *events.Store
	client *http.Client
	key    []byte
	clock  *demo.Clock
}

func newLedger(t *testing.T) *ledger {
	t.Helper()
	clock := demo.NewClock(time.Now)
	store := eventstest.NewStore(t, events.WithClock(clock.Now))
	model := projections.NewModel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = (&projections.Runner{Store: store, Model: model}).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	key := []byte("demo-test-key-0123456789-0123456789")
	// The loader writes thousands of events per principal: no write limit,
	// as serve --demo lifts it while loading.
	srv := api.New(api.Config{Store: store, Model: model, TokenKey: key, WriteRate: -1})
	deadline := time.Now().Add(10 * time.Second)
	for !model.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("read model never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Every exchange of the demo load is checked against /openapi.json.
	return &ledger{store: store, client: demo.HandlerClient(openapitest.Handler(t, srv.Handler())), key: key, clock: clock}
}

func (l *ledger) load(ctx context.Context, p *demo.Plan, resend bool) (demo.Result, error) {
	ld := &demo.Loader{Client: l.client, BaseURL: "http://kpiledger.test", TokenKey: l.key, Hold: l.clock.Hold, Resend: resend}
	res, err := ld.Load(ctx, p)
	l.clock.Release()
	return res, err
}

// get reads a JSON document, keeping numbers as their exact text.
func (l *ledger) get(t *testing.T, path string, who api.Principal) map[string]any {
	t.Helper()
	tok, err := api.IssueToken(l.key, who, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://kpiledger.test"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := l.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %v", path, res.StatusCode, err, m)
	}
	return m
}

func (l *ledger) lastSeq(t *testing.T) uint64 {
	t.Helper()
	s, err := l.store.LastSequence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func plan(t *testing.T) *demo.Plan {
	t.Helper()
	p, err := demo.Generate(demo.DefaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := plan(t), plan(t)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two different plans")
	}
	c, err := demo.Generate(demo.DefaultSeed + 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Steps) == len(a.Steps) && reflect.DeepEqual(c.Expected, a.Expected) {
		t.Error("another seed gave the same numbers")
	}
	// The scripted unit-years read the same under any seed.
	for _, uy := range []struct {
		unit string
		fy   int
	}{{"TH-50", 2563}, {"TH-57", 2564}, {"cdd", 2564}} {
		x, _ := a.Expectation(uy.unit, uy.fy)
		y, _ := c.Expectation(uy.unit, uy.fy)
		if x != y {
			t.Errorf("%s FY%d: %v under one seed, %v under another", uy.unit, uy.fy, x, y)
		}
	}
}

// TestPlanShape checks what the issue asks of the data without a ledger:
// every province FY2563–FY2567 with 3–5 indicators of its own, instants
// inside each fiscal year (reports and verifications after the round they
// concern), and each messy part present.
func TestPlanShape(t *testing.T) {
	p := plan(t)
	proposals := regexp.MustCompile(`^/v1/units/([^/]+)/years/(\d+)/indicators$`)
	type uy struct {
		unit string
		fy   int
	}
	own := map[uy]int{}
	var prev time.Time
	for _, s := range p.Steps {
		if s.At.Before(prev) {
			t.Fatalf("%s at %s comes after a step at %s", s.Name, s.At, prev)
		}
		prev = s.At
		if m := proposals.FindStringSubmatch(s.Path); m != nil && s.Method == http.MethodPost {
			var spec domain.IndicatorSpec
			if err := json.Unmarshal(s.Body, &spec); err != nil {
				t.Fatal(err)
			}
			var fy int
			fmt.Sscan(m[2], &fy)
			// Proposals fall in October–November of the fiscal year.
			start := time.Date(fy-544, time.October, 1, 0, 0, 0, 0, time.UTC)
			if s.At.Before(start) || s.At.After(start.AddDate(0, 2, 2)) {
				t.Errorf("%s proposed at %s, outside October–November of FY%d", s.Name, s.At, fy)
			}
			if spec.Component != "potential" {
				own[uy{m[1], fy}]++
			}
		}
		if strings.HasSuffix(s.Path, "/results") && strings.Contains(string(s.Body), `"round":12`) {
			fy := 0
			fmt.Sscanf(s.Name[strings.Index(s.Name, ".")+1:], "%d", &fy)
			// A year-end report comes after the year ends, and is late at
			// the latest in mid-December.
			end := time.Date(fy-543, time.October, 1, 0, 0, 0, 0, time.UTC)
			if s.At.Before(end) || s.At.After(end.AddDate(0, 3, 0)) {
				t.Errorf("%s reported at %s, not within three months after FY%d ended", s.Name, s.At, fy)
			}
		}
	}
	for _, prov := range domain.Provinces() {
		for fy := 2563; fy <= demo.LastYear; fy++ {
			n := own[uy{prov.Code, fy}]
			lo, hi := 3, 5
			if fy == 2563 {
				lo, hi = 2, 4 // plus the Potential Base indicator: 3–5 in all
			}
			if n < lo || n > hi {
				t.Errorf("%s FY%d has %d Performance Base indicators, want %d–%d", prov.Code, fy, n, lo, hi)
			}
		}
	}
	for typ, want := range map[string]int{events.TypeIndicatorWithdrawn: 1, events.TypeFrameworkRevised: 1, events.TypeFrameworkPublished: 14,
		events.TypeDepartmentRegistered: 5, events.TypeSeriesDefined: 4, events.TypeInnovationProposed: 6} {
		if got := p.Count(typ); got != want {
			t.Errorf("%d %s steps, want %d", got, typ, want)
		}
	}
	if p.Count(events.TypeIndicatorRevised) < 10 {
		t.Errorf("only %d indicators revised after being sent back", p.Count(events.TypeIndicatorRevised))
	}
	rejected, adjusted, resultRejected := 0, 0, 0
	for _, s := range p.Steps {
		body := string(s.Body)
		switch {
		case s.Type == events.TypeIndicatorReviewed && strings.Contains(body, `"decision":"reject"`):
			rejected++
		case s.Type == events.TypeResultVerified && strings.Contains(body, `"decision":"adjust"`):
			adjusted++
		case s.Type == events.TypeResultVerified && strings.Contains(body, `"decision":"reject"`):
			resultRejected++
		}
	}
	if rejected != 1 || resultRejected != 1 || adjusted < 10 {
		t.Errorf("%d indicators rejected (want 1), %d results rejected (want 1), %d adjusted (want many)", rejected, resultRejected, adjusted)
	}
	if p.Count(events.TypeResultReported) <= p.Count(events.TypeResultVerified) {
		t.Error("no report was superseded before verification")
	}
}

// TestDemoLedger loads the demo into two ledgers at once and checks the
// first by hand-computed totals, the second against the first.
func TestDemoLedger(t *testing.T) {
	p := plan(t)
	a, b := newLedger(t), newLedger(t)
	var wg sync.WaitGroup
	results := make([]demo.Result, 2)
	errs := make([]error, 2)
	for i, l := range []*ledger{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = l.load(context.Background(), p, false)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("load into ledger %d: %v", i, err)
		}
		if results[i].Appended != len(p.Steps) || results[i].Replayed != 0 || results[i].Present != 0 {
			t.Fatalf("load %d: %+v, want %d appended", i, results[i], len(p.Steps))
		}
	}
	t.Logf("%d events per ledger, loaded in %s and %s", len(p.Steps), results[0].Elapsed, results[1].Elapsed)
	if got := a.lastSeq(t); got != uint64(len(p.Steps)) {
		t.Fatalf("stream ends at %d, want %d", got, len(p.Steps))
	}

	t.Run("hand-computed totals", func(t *testing.T) { checkHandComputed(t, a) })
	t.Run("every unit-year as predicted, same in both", func(t *testing.T) { checkAllTotals(t, p, a, b) })
	t.Run("same events in both", func(t *testing.T) { checkSameEvents(t, a, b) })
	t.Run("recorded inside the fiscal years", func(t *testing.T) { checkRecordedAt(t, a) })
	t.Run("trends", func(t *testing.T) { checkTrends(t, p, a) })
	t.Run("innovations and framework revision", func(t *testing.T) { checkInnovations(t, a) })
	t.Run("FY2562 against FY2563, re-scored", func(t *testing.T) { checkRescored(t, a) })
	t.Run("second load appends nothing", func(t *testing.T) {
		before := a.lastSeq(t)
		res, err := a.load(context.Background(), p, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Appended != 0 || res.Present != len(p.Steps) || a.lastSeq(t) != before {
			t.Fatalf("second load: %+v; stream %d → %d", res, before, a.lastSeq(t))
		}
	})
	t.Run("steps sent again are kept once", func(t *testing.T) {
		// Without the feed scan every step is sent; the Idempotency-Keys
		// alone must keep the ledger as it was. A prefix of the plan is
		// enough: each answer about an aggregate that has moved on is
		// rebuilt from the log, which costs a read.
		before := a.lastSeq(t)
		prefix := *p
		prefix.Steps = p.Steps[:400]
		res, err := a.load(context.Background(), &prefix, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Appended != 0 || res.Replayed != 400 || a.lastSeq(t) != before {
			t.Fatalf("resend: %+v; stream %d → %d", res, before, a.lastSeq(t))
		}
	})
}

func checkHandComputed(t *testing.T, l *ledger) {
	for _, c := range []struct {
		path, total, band string
	}{
		// cdd FY2564 (SPEC.md): weighted, targets 98.72/98.84/98.90.
		// Verified 98.94 ≥ 98.90 → 100; 98.87 (adjusted from 98.91):
		// 75 + 25·(98.87−98.84)/(98.90−98.84) = 87.5; 98.84 (superseding
		// 98.82) → 75; 98.80: 50 + 25·(98.80−98.72)/(98.84−98.72) =
		// 66.6667; 98.95 → 100. (20·100 + 25·87.5 + 25·75 + 15·200/3 +
		// 15·100) / 100 = (2000 + 2187.5 + 1875 + 1000 + 1500) / 100 = 85.625.
		{"/v1/units/cdd/years/2564/scorecard", "85.625", "ระดับมาตรฐานขั้นสูง"},
		// TH-50 FY2563: mean of two components, three levels.
		// Performance: hotspots (down) 2330 on 2400/2200/2000:
		// 50 + 25·(2330−2400)/(2200−2400) = 58.75, weight 40; elderly care
		// 75 (superseding 74.6) on 72/74/76: 75 + 25·(1/2) = 87.5, weight
		// 30; tourism −52.38 (adjusted from −48.2) below 3 → 0, weight 30;
		// (40·58.75 + 30·87.5 + 0) / 100 = 49.75. Potential: PMQA 362.5 on
		// 300/350/400: 75 + 25·(12.5/50) = 81.25. Total (49.75 + 81.25) / 2 = 65.5.
		{"/v1/units/TH-50/years/2563/scorecard", "65.5", "ระดับมาตรฐานขั้นต้น"},
		// The same on 30 June 2020, when only the six-month reports were
		// verified: hotspots 2380 → 50 + 25·(20/200) = 52.5; elderly 73 →
		// 50 + 25·(1/2) = 62.5; tourism −12.5 → 0; performance
		// (40·52.5 + 30·62.5) / 100 = 39.75. PMQA not reported yet counts
		// 0. Total (39.75 + 0) / 2 = 19.875.
		{"/v1/units/TH-50/years/2563/scorecard?as_of=2020-06-30T00:00:00Z", "19.875", "ระดับต้องปรับปรุง"},
		// TH-57 FY2564, weighted: border trade 4.5 on 2/4/6 → 75 + 25·(0.5/2)
		// = 81.25 (w25); tea and coffee GAP 45 on 42/44/46 → 87.5 (w25);
		// dengue (down) 72.5 (reported after 68 was rejected) on 80/70/60 →
		// 50 + 25·(72.5−80)/(70−80) = 68.75 (w20); the rejected proposal
		// does not count; digital organisation 85 on 70/80/90 → 87.5 (w15);
		// PMQA 410 on 300/350/400 → 100 (w15). (2031.25 + 2187.5 + 1375 +
		// 1312.5 + 1500) / 100 = 84.0625.
		{"/v1/units/TH-57/years/2564/scorecard", "84.0625", "ระดับมาตรฐานขั้นสูง"},
	} {
		sc := l.get(t, c.path, demo.ShowcaseOPDC)
		if fmt.Sprint(sc["total"]) != c.total || sc["band"] != c.band {
			t.Errorf("%s: total %v band %v, want %s %s", c.path, sc["total"], sc["band"], c.total, c.band)
		}
	}
	sc := l.get(t, "/v1/units/TH-50/years/2563/scorecard", demo.ShowcaseUnit)
	want := map[string]string{
		"จำนวนจุดความร้อน (Hotspot) สะสมในช่วงฤดูหมอกควัน":                                  "58.75",
		"ร้อยละของผู้สูงอายุที่มีภาวะพึ่งพิงได้รับการดูแลตามแผนการดูแลรายบุคคล (Care Plan)": "87.5",
		"ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว":                                       "0",
		"ระดับความสำเร็จของการพัฒนาคุณภาพการบริหารจัดการภาครัฐ (PMQA 4.0)":                  "81.25",
	}
	for _, row := range sc["indicators"].([]any) {
		r := row.(map[string]any)
		if got := fmt.Sprint(r["score"]); got != want[r["title_th"].(string)] {
			t.Errorf("%s scored %s, want %s", r["title_th"], got, want[r["title_th"].(string)])
		}
	}
}

func checkAllTotals(t *testing.T, p *demo.Plan, a, b *ledger) {
	for _, e := range p.Expected {
		path := fmt.Sprintf("/v1/units/%s/years/%d/scorecard", e.Unit, e.FiscalYear)
		x, y := a.get(t, path, demo.ShowcaseAuditor), b.get(t, path, demo.ShowcaseAuditor)
		got := fmt.Sprint(x["total"], " ", x["band"], " ", len(x["indicators"].([]any)))
		if want := fmt.Sprint(e.Total, " ", e.Band, " ", e.Approved); got != want {
			t.Errorf("%s FY%d: %s, predicted %s", e.Unit, e.FiscalYear, got, want)
		}
		if other := fmt.Sprint(y["total"], " ", y["band"], " ", len(y["indicators"].([]any))); other != got {
			t.Errorf("%s FY%d: %s in one ledger, %s in the other", e.Unit, e.FiscalYear, got, other)
		}
	}
	if len(p.Expected) < 76*6 {
		t.Errorf("only %d unit-years scored", len(p.Expected))
	}
}

// uuidPattern matches the ids the ledger assigns.
var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// canonicalEvents renders a ledger's events without what differs between
// two loads by design — event and aggregate ids (replaced by their order of
// first appearance), hashes and recorded_at — and with everything else:
// type, aggregate, version, unit, year, actor, occurred_at, command and
// correlation ids, and the payload byte for byte.
func canonicalEvents(t *testing.T, l *ledger) []string {
	t.Helper()
	ids := map[string]string{}
	canon := func(s string) string {
		return uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
			if _, ok := ids[id]; !ok {
				ids[id] = fmt.Sprintf("#%d", len(ids)+1)
			}
			return ids[id]
		})
	}
	var out []string
	err := l.store.Read(context.Background(), events.ReadOptions{}, func(e *events.Envelope) error {
		out = append(out, canon(fmt.Sprintf("%s %s/%s v%d %s %d %s/%s/%s %s %s %s %s", e.Type, e.AggregateKind, e.AggregateID,
			e.AggregateVersion, e.Unit, e.FiscalYear, e.Actor.Role, e.Actor.Subject, e.Actor.Unit,
			e.OccurredAt.Format(time.RFC3339Nano), e.CommandID, e.CorrelationID, e.Data)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkSameEvents(t *testing.T, a, b *ledger) {
	x, y := canonicalEvents(t, a), canonicalEvents(t, b)
	if len(x) != len(y) {
		t.Fatalf("%d events against %d", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("event %d differs:\n%s\n%s", i+1, x[i], y[i])
		}
	}
}

// checkRecordedAt: the ledger's clock followed the plan, so recorded_at is
// the plan's instant (a microsecond later where two steps share one) and
// never goes back in stream order.
func checkRecordedAt(t *testing.T, l *ledger) {
	var prev time.Time
	n := 0
	err := l.store.Read(context.Background(), events.ReadOptions{}, func(e *events.Envelope) error {
		if d := e.RecordedAt.Sub(e.OccurredAt); d < 0 || d > time.Second {
			t.Errorf("event %d recorded at %s, occurred at %s", e.Sequence, e.RecordedAt, e.OccurredAt)
		}
		if !e.RecordedAt.After(prev) {
			t.Errorf("event %d recorded at %s, not after %s", e.Sequence, e.RecordedAt, prev)
		}
		prev = e.RecordedAt
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatal(err, n)
	}
	if first := l.get(t, "/v1/frameworks/2561/province", demo.ShowcaseOPDC); fmt.Sprint(first["published_at"]) != "2017-10-02T02:00:00Z" {
		t.Errorf("FY2561 framework published at %v, want 2017-10-02T02:00:00Z (09:00 in Bangkok)", first["published_at"])
	}
}

func checkTrends(t *testing.T, p *demo.Plan, l *ledger) {
	for _, want := range p.Trends {
		tr := l.get(t, "/v1/units/"+want.Unit+"/trends", demo.ShowcaseAuditor)
		found := false
		for _, x := range tr["trends"].([]any) {
			m := x.(map[string]any)
			if m["title_th"] == want.TitleTH {
				found = true
				if m["on_track"] != want.OnTrack {
					t.Errorf("%s %s: on_track %v, want %v", want.Unit, want.TitleTH, m["on_track"], want.OnTrack)
				}
			}
		}
		if !found {
			t.Errorf("%s has no trend %s", want.Unit, want.TitleTH)
		}
	}
	// Hand-checked: Chiang Mai's haze series ends at 1150 hotspots
	// against a target of 1000 (lower is better) — not on track; Chiang
	// Rai's tea and coffee series projects 40 + (57.1 − 40)·5/4 = 61.375
	// against 60 — on track; Nakhon Ratchasima's rice projects
	// 350 + (378 − 350)·4/4 = 378 against 390 — not on track.
	onTrack := 0
	for _, x := range p.Trends {
		if x.OnTrack {
			onTrack++
		}
	}
	if onTrack < 2 || len(p.Trends)-onTrack < 2 {
		t.Errorf("%d series on track, %d not; want some of each", onTrack, len(p.Trends)-onTrack)
	}
	cr := l.get(t, "/v1/units/TH-57/trends", demo.ShowcaseAuditor)["trends"].([]any)[0].(map[string]any)
	if fmt.Sprint(cr["projected_end_value"]) != "61.375" || cr["on_track"] != true {
		t.Errorf("Chiang Rai's series: projected %v, on_track %v; want 61.375, true", cr["projected_end_value"], cr["on_track"])
	}
}

func checkInnovations(t *testing.T, l *ledger) {
	list := l.get(t, "/v1/units/TH-50/years/2561/innovations", demo.ShowcaseUnit)["innovations"].([]any)
	status := map[string]int{}
	agencies := map[string]bool{}
	for _, x := range list {
		m := x.(map[string]any)
		status[m["status"].(string)]++
		agencies[m["agency"].(string)] = true
	}
	if len(list) != 6 || len(agencies) != 6 || status["accepted"] != 2 || status["declined"] != 1 || status["proposed"] != 3 {
		t.Errorf("Chiang Mai FY2561 innovations: %d from %d agencies, %v", len(list), len(agencies), status)
	}
	fw := l.get(t, "/v1/frameworks/2563/province", demo.ShowcaseUnit)
	if fmt.Sprint(fw["revision"]) != "2" || !strings.Contains(fmt.Sprint(fw["reason"]), "COVID-19") {
		t.Errorf("FY2563 province framework: revision %v reason %v", fw["revision"], fw["reason"])
	}
	var b bytes.Buffer
	fmt.Fprint(&b, l.get(t, "/v1/frameworks/2563/province?revision=1", demo.ShowcaseUnit)["rounds"])
	if b.String() != "[6 9 12]" {
		t.Errorf("FY2563 revision 1 rounds %s, want [6 9 12]", b.String())
	}
}

// checkRescored checks the FY2562→FY2563 province comparison of the demo:
// Chiang Mai by hand, other provinces by recomputing in the test, from the
// FY2563 scorecards' targets and verified values, what FY2562's five-level
// framework makes of them.
func checkRescored(t *testing.T, l *ledger) {
	fc := l.get(t, "/v1/frameworks/compare?from=2562&to=2563&kind=province&score_under=2562", demo.ShowcaseOPDC)
	units := map[string]map[string]any{}
	for _, u := range fc["units"].([]any) {
		m := u.(map[string]any)
		units[m["unit"].(string)] = m
	}
	field := func(m map[string]any, path ...string) string {
		var v any = m
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return fmt.Sprint(v)
	}
	cm := units["TH-50"]
	// Chiang Mai. Its own FY2562 total 3.3685 sits at (3.3685 − 1)/4 =
	// 0.5921 of the 1–5 scale; its FY2563 65.5 at 0.655 of 0–100: a move of
	// +0.0629, where the raw "change" says +62.1315.
	//
	// FY2563's results under FY2562's framework (five levels, mean of
	// components, below_first 1), the three-level targets mapped by
	// position (T1, (T1+T2)/2, T2, (T2+T3)/2, T3):
	// hotspots (down) 2400/2200/2000 → 2400/2300/2200/2100/2000; 2330:
	//   1 + (2330 − 2400)/(2300 − 2400) = 1.7, weight 40;
	// elderly care 72/74/76 → 72/73/74/75/76; 75 reaches level 4: 4, weight 30;
	// tourism 3/5/7 → 3/4/5/6/7; −52.38 is below level 1: below_first 1, weight 30;
	// performance (40·1.7 + 30·4 + 30·1)/100 = 2.18;
	// PMQA 300/350/400 → 300/325/350/375/400; 362.5: 3 + 12.5/25 = 3.5;
	// total (2.18 + 3.5)/2 = 2.84, band ดี, position (2.84 − 1)/4 = 0.46:
	// the same results stand lower under FY2562's rules (0.46) than under
	// FY2563's (0.655), and lower than Chiang Mai's own FY2562 (0.5921).
	for path, want := range map[string]string{
		"from_total": "3.3685", "to_total": "65.5", "delta": "62.1315",
		"from_standing.position": "0.5921", "to_standing.position": "0.655", "change.position_change": "0.0629",
		"score_under.total": "2.84", "score_under.band": "ดี", "score_under.position": "0.46",
		"under_change.position_change": "-0.1321", "under_change.band_move": "same", "under_change.same_bands": "true",
		"score_under.formula": "component_mean: (2.18 + 3.5) / 2 = 2.84",
	} {
		if got := field(cm, strings.Split(path, ".")...); got != want {
			t.Errorf("TH-50 %s = %s, want %s", path, got, want)
		}
	}
	su := fc["score_under"].(map[string]any)
	if fmt.Sprint(su["score_under"]) != "2562" || fmt.Sprint(su["results_year"]) != "2563" || !strings.Contains(field(su, "mapping", "rule"), "from 3 levels onto 5") {
		t.Errorf("score_under %v", su)
	}

	// Other provinces, recomputed here from their FY2563 scorecards.
	totals := map[string]float64{}
	for code, u := range units {
		totals[code], _ = strconv.ParseFloat(field(u, "score_under", "total"), 64)
	}
	for _, code := range []string{"TH-50", "TH-40", "TH-57", "TH-83", "TH-96", "TH-20"} {
		u := units[code]
		if u == nil {
			t.Errorf("%s is not in the comparison", code)
			continue
		}
		sc := l.get(t, "/v1/units/"+code+"/years/2563/scorecard", demo.ShowcaseOPDC)
		want := underFiveLevels(t, sc)
		got := totals[code]
		if math.Abs(got-want) > 0.00005 {
			t.Errorf("%s FY2563 under FY2562: %v, recomputed %.6f", code, got, want)
		}
		if pos, _ := strconv.ParseFloat(field(u, "score_under", "position"), 64); math.Abs(pos-(want-1)/4) > 0.00005 {
			t.Errorf("%s position %v, want %.6f", code, pos, (want-1)/4)
		}
		higher := 0
		for _, x := range totals {
			if x > got {
				higher++
			}
		}
		if r := field(u, "score_under", "rank"); r != strconv.Itoa(higher+1) {
			t.Errorf("%s re-scored rank %s, want %d", code, r, higher+1)
		}
	}
	// Units per band add up, both years and re-scored.
	for _, side := range []string{"from", "to", "to_under"} {
		n := 0
		for _, b := range fc["distribution"].(map[string]any)[side].([]any) {
			c, _ := strconv.Atoi(fmt.Sprint(b.(map[string]any)["units"]))
			n += c
		}
		if n != len(units) {
			t.Errorf("distribution.%s counts %d units, want %d", side, n, len(units))
		}
	}
	moves := fc["band_moves"].(map[string]any)
	up, _ := strconv.Atoi(fmt.Sprint(moves["up"]))
	down, _ := strconv.Atoi(fmt.Sprint(moves["down"]))
	same, _ := strconv.Atoi(fmt.Sprint(moves["same"]))
	if up+down+same != len(units) {
		t.Errorf("band moves %v for %d units", moves, len(units))
	}

	// as_of with score_under: the scorecard of 30 June 2020 re-scored.
	// hotspots 2380: 1 + (2380 − 2400)/(2300 − 2400) = 1.2; elderly 73
	// reaches level 2: 2; tourism −12.5: 1; performance (40·1.2 + 30·2 +
	// 30·1)/100 = 1.38; PMQA not reported: potential 0; total (1.38 + 0)/2
	// = 0.69, below the scale's floor: position (0.69 − 1)/4 = −0.0775.
	asOf := l.get(t, "/v1/units/TH-50/years/2563/scorecard?as_of=2020-06-30T00:00:00Z&score_under=2562", demo.ShowcaseUnit)
	if fmt.Sprint(asOf["total"]) != "19.875" || field(asOf, "score_under", "total") != "0.69" ||
		field(asOf, "score_under", "position") != "-0.0775" || field(asOf, "score_under", "band") != "ต้องปรับปรุง" {
		t.Errorf("as of 30 June 2020 under FY2562: %v / %v", asOf["total"], asOf["score_under"])
	}
	// The unit comparison says the same as the framework comparison.
	c := l.get(t, "/v1/units/TH-50/comparison?from=2562&to=2563&score_under=2562", demo.ShowcaseUnit)
	st := c["standings"].(map[string]any)
	if field(st, "to_under", "total") != "2.84" || field(st, "to_under", "rank") != field(cm, "score_under", "rank") ||
		field(st, "from", "rank") != field(cm, "from_standing", "rank") || field(st, "change", "position_change") != "0.0629" {
		t.Errorf("unit comparison standings %v", st)
	}
}

// underFiveLevels recomputes a FY2563 scorecard's total under FY2562's
// framework: targets mapped 3 → 5 by position, scored on levels 1–5 with
// below_first 1, components averaged.
func underFiveLevels(t *testing.T, sc map[string]any) float64 {
	num := func(v any) float64 {
		f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
		if err != nil {
			t.Fatalf("not a number: %v", v)
		}
		return f
	}
	type acc struct{ ws, w float64 }
	comps := map[string]*acc{"performance": {}, "potential": {}}
	for _, row := range sc["indicators"].([]any) {
		ind := row.(map[string]any)
		ts := ind["targets"].([]any)
		t1, t2, t3 := num(ts[0].(map[string]any)["target"]), num(ts[1].(map[string]any)["target"]), num(ts[2].(map[string]any)["target"])
		five := []float64{t1, (t1 + t2) / 2, t2, (t2 + t3) / 2, t3}
		score := 0.0 // unverified: counts 0
		if ind["verified_actual"] != nil {
			x := num(ind["verified_actual"])
			dir := ind["direction"]
			better := func(a, b float64) bool {
				if dir == "down" {
					return a <= b
				}
				return a >= b
			}
			switch {
			case !better(x, five[0]):
				score = 1
			case better(x, five[4]):
				score = 5
			default:
				k := 0
				for better(x, five[k+1]) {
					k++
				}
				score = float64(k + 1)
				if dir != "milestone" {
					score += (x - five[k]) / (five[k+1] - five[k])
				}
			}
		}
		w := num(ind["weight"])
		a := comps[ind["component"].(string)]
		a.ws += w * score
		a.w += w
	}
	total := 0.0
	for _, a := range comps {
		if a.w > 0 {
			total += a.ws / a.w
		}
	}
	return total / 2
}

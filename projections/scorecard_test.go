package projections

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

var spec6498 = []domain.Number{"98.72", "98.84", "98.90"}

// fy2564Department builds SPEC.md's FY2564 department example: weights
// 20/25/25/15/15, targets 98.72/98.84/98.90, and actuals scoring
// 100/87.5/75/66.6667/100. last reports the fifth indicator's result and
// decides on it, so that variants can differ only there.
func fy2564Department(t *testing.T, last func(l *ledger, id string)) *ledger {
	l := newLedger(t)
	l.must(l.register("cdd", "กรมการพัฒนาชุมชน", "Community Development Department"))
	l.must(l.publish(fy2564(2564, domain.KindDepartment)))
	ind := []struct {
		id, comp, title, weight string
		actual                  domain.Number
	}{
		{"d1", "performance", "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้น", "20", "98.94"},
		{"d2", "performance", "อัตราการเบิกจ่ายงบประมาณ", "25", "98.87"},
		{"d3", "performance", "ร้อยละความพึงพอใจของผู้รับบริการ", "25", "98.84"},
		{"d4", "potential", "ระดับความสำเร็จของการพัฒนาระบบบริการดิจิทัล", "15", "98.80"},
		{"d5", "potential", "ร้อยละของเด็กปฐมวัยที่มีพัฒนาการสมวัย", "15", "98.94"},
	}
	for _, i := range ind {
		l.must(l.propose("cdd", 2564, i.id, domain.IndicatorSpec{Component: i.comp, TitleTH: i.title, Measure: "ร้อยละ",
			Direction: domain.DirectionUp, Weight: domain.Number(i.weight), Targets: spec6498}))
	}
	// A proposal still under review and a rejected one do not count.
	l.must(l.propose("cdd", 2564, "d6", domain.IndicatorSpec{Component: "potential", TitleTH: "ตัวชี้วัดที่ยังไม่อนุมัติ", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "10", Targets: spec6498}))
	l.must(l.propose("cdd", 2564, "d7", domain.IndicatorSpec{Component: "performance", TitleTH: "ตัวชี้วัดที่ถูกปฏิเสธ", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "10", Targets: spec6498}))
	l.must(l.review("d7", domain.DecisionReject, "ไม่สอดคล้องกับภารกิจ"))
	for _, i := range ind {
		l.must(l.review(i.id, domain.DecisionApprove, ""))
	}
	for _, i := range ind[:4] {
		l.must(l.report(i.id, 12, i.actual))
		l.must(l.verify(i.id, 12, domain.VerifyAccept, "", ""))
	}
	last(l, "d5")
	return l
}

func acceptAt(actual domain.Number) func(*ledger, string) {
	return func(l *ledger, id string) {
		l.must(l.report(id, 12, actual))
		l.must(l.verify(id, 12, domain.VerifyAccept, "", ""))
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScorecardSpecExample(t *testing.T) {
	l := fy2564Department(t, acceptAt("98.94"))
	sc, err := BuildScorecard(l.st, "cdd", 2564)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Total != "85.625" || sc.Band != "ระดับมาตรฐานขั้นสูง" {
		t.Fatalf("total %s band %q, want 85.625 ระดับมาตรฐานขั้นสูง", sc.Total, sc.Band)
	}
	want := []struct {
		id, score, weighted, level string
		actual                     domain.Number
	}{
		{"d1", "100", "20", "ขั้นสูง", "98.94"},
		{"d2", "87.5", "21.875", "มาตรฐาน", "98.87"},
		{"d3", "75", "18.75", "มาตรฐาน", "98.84"},
		{"d4", "66.6667", "10", "ขั้นต้น", "98.80"},
		{"d5", "100", "15", "ขั้นสูง", "98.94"},
	}
	if len(sc.Indicators) != len(want) {
		t.Fatalf("%d indicators on the scorecard, want the %d approved ones", len(sc.Indicators), len(want))
	}
	for i, w := range want {
		got := sc.Indicators[i]
		if got.ID != w.id || string(got.Score) != w.score || string(got.WeightedScore) != w.weighted ||
			got.Level == nil || *got.Level != w.level || got.VerifiedActual != w.actual || got.Round == nil || *got.Round != 12 {
			t.Errorf("indicator %d = %+v, want %+v", i, got, w)
		}
		if got.Status != domain.StatusApproved || len(got.Targets) != 3 || got.Targets[1] != (TargetLevel{2, "มาตรฐาน", "98.84"}) {
			t.Errorf("indicator %d status %s targets %+v", i, got.Status, got.Targets)
		}
	}
	comps := map[string]string{"performance": "86.6071", "potential": "83.3333"}
	for _, c := range sc.Components {
		if string(c.Score) != comps[c.Code] || !c.Complete || c.Pending != 0 {
			t.Errorf("component %+v, want score %s, complete", c, comps[c.Code])
		}
	}
	if sc.FrameworkRevision != 1 || sc.Rollup != domain.RollupWeighted || sc.UnitKind != domain.KindDepartment ||
		sc.UnitNameTH != "กรมการพัฒนาชุมชน" || sc.LastSequence != l.st.Sequence {
		t.Errorf("header %+v (state at %d)", sc, l.st.Sequence)
	}
	if !strings.Contains(sc.Formula, "8562.5 / 100 = 85.625") {
		t.Errorf("formula %q", sc.Formula)
	}
	// Scores are JSON number tokens, not strings nor float artefacts, and
	// the as-of instant is absent from a current scorecard.
	b := mustJSON(t, sc)
	for _, frag := range []string{`"total":85.625`, `"score":66.6667`, `"weighted_score":21.875`, `"verified_actual":98.80`, `"framework_revision":1`} {
		if !bytes.Contains(b, []byte(frag)) {
			t.Errorf("JSON lacks %s: %s", frag, b)
		}
	}
	if bytes.Contains(b, []byte(`"as_of"`)) {
		t.Error("as_of on a current scorecard")
	}
}

func TestScorecardAdjustedValueIsUsed(t *testing.T) {
	l := fy2564Department(t, func(l *ledger, id string) {
		l.must(l.report(id, 12, "98.94"))
		l.must(l.verify(id, 12, domain.VerifyAdjust, "98.80", "หลักฐานรองรับเพียง 98.80"))
	})
	sc, err := BuildScorecard(l.st, "cdd", 2564)
	if err != nil {
		t.Fatal(err)
	}
	d5 := sc.Indicators[4]
	if d5.VerifiedActual != "98.80" || d5.Score != "66.6667" || d5.WeightedScore != "10" {
		t.Errorf("adjusted indicator %+v, want 98.80 → 66.6667", d5)
	}
	// (2000 + 2187.5 + 1875 + 1000 + 1000) / 100
	if sc.Total != "80.625" || sc.Band != "ระดับมาตรฐานขั้นสูง" {
		t.Errorf("total %s %s, want 80.625", sc.Total, sc.Band)
	}
}

func TestScorecardRejectedResultLeavesIndicatorUnscored(t *testing.T) {
	l := fy2564Department(t, func(l *ledger, id string) {
		l.must(l.report(id, 12, "98.94"))
		l.must(l.verify(id, 12, domain.VerifyReject, "", "หลักฐานไม่เพียงพอ"))
	})
	sc, err := BuildScorecard(l.st, "cdd", 2564)
	if err != nil {
		t.Fatal(err)
	}
	d5 := sc.Indicators[4]
	if d5.Score != "" || d5.VerifiedActual != "" || d5.Round != nil || d5.Level != nil || d5.WeightedScore != "0" {
		t.Errorf("rejected result: %+v, want unscored, counting 0", d5)
	}
	b := mustJSON(t, d5)
	if !bytes.Contains(b, []byte(`"verified_actual":null,"round":null,"level":null,"score":null,"weighted_score":0`)) {
		t.Errorf("JSON %s", b)
	}
	// The unscored indicator counts as 0: 7062.5 / 100.
	if sc.Total != "70.625" || sc.Band != "ระดับมาตรฐานขั้นต้น" {
		t.Errorf("total %s %s, want 70.625 ระดับมาตรฐานขั้นต้น", sc.Total, sc.Band)
	}
	pot := sc.Components[1]
	if pot.Pending != 1 || pot.Complete {
		t.Errorf("potential component %+v: one pending, not complete", pot)
	}
}

// TestScorecardComponentMean is a FY2563 province year: two components
// averaged without weights, five levels (grid 60/70/80/90/100).
func TestScorecardComponentMean(t *testing.T) {
	l := newLedger(t)
	l.must(l.publish(fy2563(2563, domain.KindProvince, fiveLevels, bands5)))
	grid := []domain.Number{"60", "70", "80", "90", "100"}
	add := func(id, comp, weight string, rounds ...[2]domain.Number) {
		l.must(l.propose("TH-50", 2563, id, domain.IndicatorSpec{Component: comp, TitleTH: "ตัวชี้วัด " + id, Measure: "ร้อยละ",
			Direction: domain.DirectionUp, Weight: domain.Number(weight), Targets: grid}))
		l.must(l.review(id, domain.DecisionApprove, ""))
		for _, r := range rounds {
			round := int(r[0].Rat().Num().Int64())
			l.must(l.report(id, round, r[1]))
			l.must(l.verify(id, round, domain.VerifyAccept, "", ""))
		}
	}
	// SPEC.md: weights 20/30/50 with scores 3.5/5/2.25 → 3.325.
	add("p1", "agenda", "20", [2]domain.Number{"12", "85"})
	add("p2", "agenda", "30", [2]domain.Number{"12", "100"})
	add("p3", "agenda", "50", [2]domain.Number{"6", "95"}, [2]domain.Number{"12", "72.5"}) // the 12-month value wins
	// Round 9 is verified; round 12 awaits verification, so round 9's 90 → 4 is used.
	add("p4", "area", "100", [2]domain.Number{"9", "90"})
	l.must(l.report("p4", 12, "61"))

	sc, err := BuildScorecard(l.st, "TH-50", 2563)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Components[0].Score != "3.325" || sc.Components[1].Score != "4" || sc.Components[0].Weight != "" {
		t.Errorf("components %+v", sc.Components)
	}
	// (3.325 + 4) / 2 = 3.6625 → ดีมาก (≥ 3.5).
	if sc.Total != "3.6625" || sc.Band != "ดีมาก" || sc.Rollup != domain.RollupComponentMean {
		t.Errorf("total %s band %s rollup %s, want 3.6625 ดีมาก", sc.Total, sc.Band, sc.Rollup)
	}
	if !strings.Contains(sc.Formula, "(3.325 + 4) / 2 = 3.6625") {
		t.Errorf("formula %q", sc.Formula)
	}
	// Under component_mean an indicator's weighted score is its share of
	// its component: 20·3.5/100 = 0.7, 30·5/100 = 1.5, 50·2.25/100 = 1.125.
	for i, w := range []string{"0.7", "1.5", "1.125", "4"} {
		if got := sc.Indicators[i].WeightedScore; string(got) != w {
			t.Errorf("indicator %d weighted %s, want %s", i, got, w)
		}
	}
	if p3 := sc.Indicators[2]; *p3.Round != 12 || p3.Score != "2.25" || *p3.Level != "2" {
		t.Errorf("p3 %+v", p3)
	}
	if p4 := sc.Indicators[3]; *p4.Round != 9 || p4.VerifiedActual != "90" || p4.Score != "4" {
		t.Errorf("p4 uses round %d value %s, want round 9's 90", *p4.Round, p4.VerifiedActual)
	}
}

func TestScorecardNotFound(t *testing.T) {
	l := fy2564Department(t, acceptAt("98.94"))
	for _, c := range []struct {
		unit string
		fy   int
	}{{"nope", 2564}, {"TH-10", 2564}, {"cdd", 2563}, {"TH-50", 2564}} {
		if _, err := BuildScorecard(l.st, c.unit, c.fy); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("%s FY%d: %v, want not found", c.unit, c.fy, err)
		}
	}
	// A unit with a framework but no indicator has an empty scorecard.
	l.must(l.publish(fy2564(2564, domain.KindProvince)))
	sc, err := BuildScorecard(l.st, "TH-57", 2564)
	if err != nil {
		t.Fatal(err)
	}
	if b := mustJSON(t, sc); !bytes.Contains(b, []byte(`"indicators":[]`)) || !bytes.Contains(b, []byte(`"total":null,"band":""`)) {
		t.Errorf("empty scorecard %s", b)
	}
}

// TestScorecardFollowsFrameworkRevision: a revision of the year's framework
// rescores under the new revision and raises last_sequence.
func TestScorecardFollowsFrameworkRevision(t *testing.T) {
	l := fy2564Department(t, func(l *ledger, id string) {
		l.must(l.report(id, 12, "98.00"))
		l.must(l.verify(id, 12, domain.VerifyAccept, "", ""))
	})
	before, _ := BuildScorecard(l.st, "cdd", 2564)
	f := fy2564(2564, domain.KindDepartment)
	f.Scheme.BelowFirst = "25"
	l.must(l.reviseFramework(f, "คะแนนขั้นต่ำ 25"))
	after, _ := BuildScorecard(l.st, "cdd", 2564)
	if before.Indicators[4].Score != "0" || after.Indicators[4].Score != "25" || after.FrameworkRevision != 2 {
		t.Errorf("below the first level: %s then %s (revision %d)", before.Indicators[4].Score, after.Indicators[4].Score, after.FrameworkRevision)
	}
	if after.LastSequence != l.st.Sequence || after.LastSequence <= before.LastSequence {
		t.Errorf("last_sequence %d → %d, state at %d", before.LastSequence, after.LastSequence, l.st.Sequence)
	}
}

// views renders every view of a state to JSON, keyed by a name, for
// byte-for-byte comparison. Errors are rendered too: they must agree.
func views(t testing.TB, st *State, envs []*events.Envelope) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	put := func(name string, v any, err error) {
		if err != nil {
			out[name] = []byte("error: " + err.Error())
			return
		}
		out[name] = mustJSON(t, v)
	}
	for _, u := range st.Units() {
		if len(st.UnitYears) > 0 && !hasUnit(st, u.Code) {
			continue
		}
		for _, fy := range genYears {
			sc, err := BuildScorecard(st, u.Code, fy)
			put(fmt.Sprintf("scorecard %s %d", u.Code, fy), sc, err)
			if envs != nil {
				put(fmt.Sprintf("audit %s %d", u.Code, fy), buildAudit(unitYearEvents(envs, u, fy), u, fy), nil)
			}
			for _, to := range genYears {
				if to > fy {
					c, err := BuildComparison(st, u.Code, fy, to)
					put(fmt.Sprintf("comparison %s %d %d", u.Code, fy, to), c, err)
				}
			}
		}
		put("trends "+u.Code, BuildTrends(st, u.Code), nil)
	}
	for _, id := range SortedKeys(st.Series) {
		tr, err := BuildTrend(st, id)
		put("trend "+id, tr, err)
	}
	for _, k := range []domain.UnitKind{domain.KindProvince, domain.KindDepartment} {
		for _, from := range genYears {
			for _, to := range genYears {
				if from == to {
					continue
				}
				fc, err := CompareFrameworks(st, k, from, to, nil)
				put(fmt.Sprintf("frameworks %s %d %d", k, from, to), fc, err)
				fc, err = CompareFrameworks(st, k, from, to, func(code string) bool { return code == "cdd" || strings.HasSuffix(code, "0") })
				put(fmt.Sprintf("frameworks %s %d %d filtered", k, from, to), fc, err)
			}
		}
	}
	return out
}

func hasUnit(st *State, unit string) bool {
	for _, fy := range genYears {
		if st.UnitYears[UnitYearKey(unit, fy)] != nil {
			return true
		}
	}
	return len(st.UnitSeries[unit]) > 0
}

// unitYearEvents selects what BuildAudit reads from the store: the
// unit-year's aggregates and its year's framework, in stream order.
func unitYearEvents(envs []*events.Envelope, u domain.Unit, fy int) []*events.Envelope {
	var out []*events.Envelope
	fw := events.FrameworkID(fy, string(u.Kind))
	for _, e := range envs {
		if (e.Unit == u.Code && e.FiscalYear == fy) || (e.AggregateKind == events.KindFramework && e.AggregateID == fw) {
			out = append(out, e)
		}
	}
	return out
}

func fold(t testing.TB, st *State, envs []*events.Envelope) *State {
	t.Helper()
	for _, e := range envs {
		if err := st.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func roundTrip(t testing.TB, st *State) *State {
	t.Helper()
	out := NewState()
	if err := json.Unmarshal(mustJSON(t, st), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestViewsDeterministicAcrossSnapshot rebuilds the read models from zero
// and from a snapshot taken half way (a JSON round trip of the State, as
// the checkpoint does) and requires byte-identical JSON from every view of
// every unit-year.
func TestViewsDeterministicAcrossSnapshot(t *testing.T) {
	l := generate(t, 2564, 3000, 5)
	envs := l.envs
	fresh := fold(t, NewState(), envs)
	half := len(envs) / 2
	resumed := fold(t, roundTrip(t, fold(t, NewState(), envs[:half])), envs[half:])
	whole := roundTrip(t, fresh)

	want := views(t, fresh, envs)
	for name, st := range map[string]*State{"from a half-way snapshot": resumed, "from a final snapshot": whole} {
		got := views(t, st, envs)
		if len(got) != len(want) {
			t.Fatalf("%s: %d views, want %d", name, len(got), len(want))
		}
		for _, k := range SortedKeys(want) {
			if !bytes.Equal(got[k], want[k]) {
				t.Errorf("%s: %s differs:\n got %s\nwant %s", name, k, got[k], want[k])
			}
		}
	}
	// The history must exercise the views, or the comparison proves little.
	var scored, matched, unitsCompared, points int
	for k, v := range want {
		switch {
		case strings.HasPrefix(k, "scorecard") && bytes.Contains(v, []byte(`"total":`)) && !bytes.Contains(v, []byte(`"total":null`)):
			scored++
		case strings.HasPrefix(k, "comparison"):
			var c Comparison
			if json.Unmarshal(v, &c) == nil {
				matched += len(c.Matched)
			}
		case strings.HasPrefix(k, "frameworks") && !strings.HasSuffix(k, "filtered"):
			var fc FrameworkComparison
			if json.Unmarshal(v, &fc) == nil {
				unitsCompared += len(fc.Units)
			}
		case strings.HasPrefix(k, "trend "):
			points += bytes.Count(v, []byte(`"achievement_pct":`)) - bytes.Count(v, []byte(`"achievement_pct":null`))
		}
	}
	t.Logf("%d events, %d views: %d scored scorecards, %d matched indicators, %d unit totals compared, %d trend points with achievement",
		len(envs), len(want), scored, matched, unitsCompared, points)
	if scored < 10 || matched < 10 || unitsCompared < 10 || points < 3 {
		t.Error("the generated history does not exercise the views enough")
	}
}

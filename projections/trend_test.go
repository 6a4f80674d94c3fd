package projections

import (
	"bytes"
	"errors"
	"testing"

	"github.com/opdc/kpiledger/domain"
)

func TestTrendOfSeries(t *testing.T) {
	l := twoYears(t)
	// A withdrawn FY2565 proposal of the series is not the year's indicator.
	l.must(l.publish(fy2564(2565, domain.KindProvince)))
	l.must(l.propose("TH-50", 2565, "w65", domain.IndicatorSpec{Component: "performance", TitleTH: "ถอน", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "10", Targets: spec6498, SeriesID: "s1"}))
	l.must(l.withdraw("w65", "ซ้ำซ้อน"))

	trends := BuildTrends(l.st, "TH-50")
	if len(trends) != 1 {
		t.Fatalf("%d trends", len(trends))
	}
	tr := trends[0]
	if tr.SeriesID != "s1" || tr.Baseline != "40" || tr.EndTarget != "55" || tr.OnTrackRule != domain.OnTrackRule || len(tr.Points) != 3 {
		t.Fatalf("trend %+v", tr)
	}
	// FY2563: actual 85 against target 45 from baseline 40 → 900 %, met.
	// FY2564: actual 98.94 against 50 → 589.4 %, met. Projection from the
	// baseline through FY2564 (2 of 3 years): 40 + 58.94·3/2 = 128.41 ≥ 55.
	p := tr.Points
	if *p[0].IndicatorID != "a63" || p[0].VerifiedActual != "85" || p[0].AchievementPct != "900" || !*p[0].Met {
		t.Errorf("FY2563 %+v", p[0])
	}
	if *p[1].IndicatorID != "a64" || p[1].AchievementPct != "589.4" || p[1].Target != "50" {
		t.Errorf("FY2564 %+v", p[1])
	}
	if p[2].IndicatorID != nil || p[2].VerifiedActual != "" || p[2].Met != nil || p[2].Target != "55" {
		t.Errorf("FY2565 %+v", p[2])
	}
	if tr.OnTrack == nil || !*tr.OnTrack || tr.ProjectedEndValue != "128.41" {
		t.Errorf("on track %v projected %s", tr.OnTrack, tr.ProjectedEndValue)
	}
	b := mustJSON(t, tr)
	if !bytes.Contains(b, []byte(`{"fiscal_year":2565,"target":55,"indicator_id":null,"verified_actual":null,"achievement_pct":null,"met":null}`)) {
		t.Errorf("JSON %s", b)
	}

	one, err := BuildTrend(l.st, "s1")
	if err != nil || !bytes.Equal(mustJSON(t, one), b) {
		t.Errorf("BuildTrend: %v", err)
	}
	if _, err := BuildTrend(l.st, "nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown series: %v", err)
	}
	if b := mustJSON(t, BuildTrends(l.st, "TH-57")); string(b) != "[]" {
		t.Errorf("no series: %s", b)
	}
}

func TestTrendBeforeAnyActual(t *testing.T) {
	l := newLedger(t)
	l.must(l.defineSeries(domain.SeriesDefined{ID: "s2", Unit: "TH-57", TitleTH: "อัตราการเสียชีวิต", Measure: "ต่อแสนคน",
		Direction: domain.DirectionDown, Baseline: "30", StartYear: 2564, EndYear: 2566,
		Targets: map[string]domain.Number{"2564": "28", "2565": "26", "2566": "24"}}))
	tr, err := BuildTrend(l.st, "s2")
	if err != nil {
		t.Fatal(err)
	}
	if b := mustJSON(t, tr); !bytes.Contains(b, []byte(`"on_track":null,"projected_end_value":null,"end_target":24`)) {
		t.Errorf("JSON %s", b)
	}
}

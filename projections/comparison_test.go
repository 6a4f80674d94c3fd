package projections

import (
	"bytes"
	"errors"
	"testing"

	"github.com/opdc/kpiledger/domain"
)

// twoYears builds TH-50's FY2563 (component_mean, five levels) and FY2564
// (weighted, three levels) with a long-term series running through both.
func twoYears(t *testing.T) *ledger {
	l := newLedger(t)
	l.must(l.publish(fy2563(2563, domain.KindProvince, fiveLevels, bands5)))
	l.must(l.publish(fy2564(2564, domain.KindProvince)))
	l.must(l.defineSeries(domain.SeriesDefined{ID: "s1", Unit: "TH-50", TitleTH: "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้น", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Baseline: "40", StartYear: 2563, EndYear: 2565,
		Targets: map[string]domain.Number{"2563": "45", "2564": "50", "2565": "55"}}))
	grid5 := []domain.Number{"60", "70", "80", "90", "100"}
	scored := func(fy int, id, comp, title, series, weight string, targets []domain.Number, actual domain.Number) {
		l.must(l.propose("TH-50", fy, id, domain.IndicatorSpec{Component: comp, TitleTH: title, Measure: "ร้อยละ",
			Direction: domain.DirectionUp, Weight: domain.Number(weight), Targets: targets, SeriesID: series}))
		l.must(l.review(id, domain.DecisionApprove, ""))
		if actual != "" {
			l.must(l.report(id, 12, actual))
			l.must(l.verify(id, 12, domain.VerifyAccept, "", ""))
		}
	}
	scored(2563, "a63", "agenda", "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้น", "s1", "50", grid5, "85")         // 3.5
	scored(2563, "b63", "agenda", "อัตราการเบิกจ่ายงบประมาณ", "", "50", grid5, "100")                        // 5
	scored(2563, "c63", "area", "มูลค่าการค้าชายแดนที่เพิ่มขึ้น", "", "100", grid5, "")                      // not scored
	scored(2564, "d64", "performance", "ร้อยละความพึงพอใจของผู้รับบริการ", "", "20", spec6498, "98.80")      // unmatched
	scored(2564, "b64", "performance", "อัตราการเบิกจ่ายงบประมาณ", "", "25", spec6498, "98.87")              // 87.5, by title
	scored(2564, "a64", "performance", "รายได้ครัวเรือนเพิ่มขึ้น (ปรับชื่อ)", "s1", "25", spec6498, "98.94") // 100, by series
	return l
}

func TestComparisonMatchesBySeriesThenTitle(t *testing.T) {
	l := twoYears(t)
	c, err := BuildComparison(l.st, "TH-50", 2563, 2564)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scorecards.From == nil || c.Scorecards.To == nil || c.Scorecards.From.FiscalYear != 2563 || c.Scorecards.To.Rollup != domain.RollupWeighted {
		t.Fatalf("scorecards %+v", c.Scorecards)
	}
	// Each year under its own framework: FY2563 (3.5·50 + 5·50)/100 = 4.25
	// for agenda, 0 for area → 2.125; FY2564 (20·200/3 + 25·87.5 + 25·100)/70 = 86.0119.
	if c.Scorecards.From.Total != "2.125" || c.Scorecards.To.Total != "86.0119" {
		t.Errorf("totals %s and %s", c.Scorecards.From.Total, c.Scorecards.To.Total)
	}
	if c.TotalDelta != "83.8869" {
		t.Errorf("total delta %s", c.TotalDelta)
	}
	want := []MatchedIndicator{
		{FromID: "b63", ToID: "b64", TitleTH: "อัตราการเบิกจ่ายงบประมาณ", FromTitleTH: "อัตราการเบิกจ่ายงบประมาณ", MatchedBy: MatchedByTitle,
			FromActual: "100", ToActual: "98.87", ActualDelta: "-1.13", FromScore: "5", ToScore: "87.5", ScoreDelta: "82.5",
			// 5 is the top of 1–5 (position 1); 87.5 of 0–100 is 0.875.
			FromPosition: "1", ToPosition: "0.875", PositionDelta: "-0.125"},
		{FromID: "a63", ToID: "a64", TitleTH: "รายได้ครัวเรือนเพิ่มขึ้น (ปรับชื่อ)", FromTitleTH: "ร้อยละของครัวเรือนที่มีรายได้เพิ่มขึ้น",
			MatchedBy: MatchedBySeries, SeriesID: "s1",
			FromActual: "85", ToActual: "98.94", ActualDelta: "13.94", FromScore: "3.5", ToScore: "100", ScoreDelta: "96.5",
			// (3.5 − 1)/4 = 0.625 → 1.
			FromPosition: "0.625", ToPosition: "1", PositionDelta: "0.375"},
	}
	if len(c.Matched) != len(want) {
		t.Fatalf("matched %+v", c.Matched)
	}
	for i := range want {
		if c.Matched[i] != want[i] {
			t.Errorf("match %d\n got %+v\nwant %+v", i, c.Matched[i], want[i])
		}
	}
	if len(c.UnmatchedFrom) != 1 || c.UnmatchedFrom[0].ID != "c63" || len(c.UnmatchedTo) != 1 || c.UnmatchedTo[0].ID != "d64" {
		t.Errorf("unmatched %+v / %+v", c.UnmatchedFrom, c.UnmatchedTo)
	}
}

func TestComparisonNullSides(t *testing.T) {
	l := twoYears(t)
	// Make c63 a match with a null side: a FY2564 indicator of the same
	// title that has no verified value.
	l.must(l.propose("TH-50", 2564, "c64", domain.IndicatorSpec{Component: "potential", TitleTH: "มูลค่าการค้าชายแดนที่เพิ่มขึ้น", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "10", Targets: spec6498}))
	l.must(l.review("c64", domain.DecisionApprove, ""))
	c, err := BuildComparison(l.st, "TH-50", 2563, 2564)
	if err != nil {
		t.Fatal(err)
	}
	var m *MatchedIndicator
	for i := range c.Matched {
		if c.Matched[i].ToID == "c64" {
			m = &c.Matched[i]
		}
	}
	if m == nil || m.FromID != "c63" || m.ActualDelta != "" || m.ScoreDelta != "" || m.FromScore != "" {
		t.Fatalf("match with null sides %+v", m)
	}
	if b := mustJSON(t, m); !bytes.Contains(b, []byte(`"from_actual":null,"to_actual":null,"actual_delta":null`)) {
		t.Errorf("JSON %s", b)
	}

	// A year without a framework is a null scorecard, not an error.
	c, err = BuildComparison(l.st, "TH-50", 2564, 2565)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scorecards.To != nil || c.TotalDelta != "" || len(c.UnmatchedFrom) != 4 || len(c.Matched) != 0 {
		t.Errorf("one-sided comparison %+v", c)
	}
	b := mustJSON(t, c)
	for _, frag := range []string{`"to":null`, `"matched":[]`, `"unmatched_to":[]`, `"total_delta":null`} {
		if !bytes.Contains(b, []byte(frag)) {
			t.Errorf("JSON lacks %s", frag)
		}
	}
	for _, c := range []struct {
		unit     string
		from, to int
	}{{"TH-50", 2560, 2565}, {"nope", 2563, 2564}} {
		if _, err := BuildComparison(l.st, c.unit, c.from, c.to); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("%+v: %v, want not found", c, err)
		}
	}
}

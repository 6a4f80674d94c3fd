package domain

import (
	"math/big"
	"strings"
	"testing"
)

func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad rat %q", s)
	}
	return r
}

func show(r *big.Rat) string {
	if r == nil {
		return "nil"
	}
	return FormatRat(r, 6)
}

func TestScalePosition(t *testing.T) {
	for _, c := range []struct {
		scheme Scheme
		score  string
		want   string
	}{
		{fiveLevel(), "3.5", "0.625"},       // (3.5−1)/(5−1)
		{fiveLevel(), "1", "0"},             // below_first is the bottom
		{fiveLevel(), "5", "1"},             // the top level's score
		{fiveLevel(), "3.3685", "0.592125"}, // Chiang Mai FY2562 in the README
		{fiveLevel(), "0.8", "-0.05"},       // unscored indicators counted as 0 fall below the floor
		{threeLevel(), "65.5", "0.655"},     // (65.5−0)/(100−0)
		{threeLevel(), "0", "0"},
		{threeLevel(), "100", "1"},
	} {
		if got := show(ScalePosition(c.scheme, ratOf(t, c.score))); got != c.want {
			t.Errorf("position of %s on %d levels = %s, want %s", c.score, len(c.scheme.Levels), got, c.want)
		}
	}
	if ScalePosition(threeLevel(), nil) != nil {
		t.Error("a nil score has no position")
	}
	flat := Scheme{Levels: []Level{{"a", "0"}}, BelowFirst: "0"}
	if ScalePosition(flat, big.NewRat(1, 1)) != nil {
		t.Error("a scheme without a range places nothing")
	}
}

func mapped(t *testing.T, from, to Scheme, targets ...string) string {
	t.Helper()
	out := MapLevels(from, to).Targets(nums(targets...))
	parts := make([]string, len(out))
	for i, r := range out {
		parts[i] = show(r)
	}
	return strings.Join(parts, "/")
}

func TestMapLevels(t *testing.T) {
	// Three onto five: T1, halfway T1→T2, T2, halfway T2→T3, T3.
	if got := mapped(t, threeLevel(), fiveLevel(), "2400", "2200", "2000"); got != "2400/2300/2200/2100/2000" {
		t.Errorf("3→5 (down) = %s", got)
	}
	if got := mapped(t, threeLevel(), fiveLevel(), "98.72", "98.84", "98.90"); got != "98.72/98.78/98.84/98.87/98.9" {
		t.Errorf("3→5 (up) = %s", got)
	}
	// Five onto three: T1, T3, T5.
	if got := mapped(t, fiveLevel(), threeLevel(), "60", "70", "80", "90", "100"); got != "60/80/100" {
		t.Errorf("5→3 = %s", got)
	}
	// Three onto five and back is the identity; five onto three and back
	// keeps only what three levels can hold.
	m35, m53 := MapLevels(threeLevel(), fiveLevel()), MapLevels(fiveLevel(), threeLevel())
	back := m53.Targets(numbersOf(m35.Targets(nums("10", "20", "40"))))
	if got := show(back[0]) + "/" + show(back[1]) + "/" + show(back[2]); got != "10/20/40" {
		t.Errorf("3→5→3 = %s", got)
	}
	back5 := m35.Targets(numbersOf(m53.Targets(nums("60", "65", "80", "95", "100"))))
	if got := show(back5[1]) + "/" + show(back5[3]); got != "70/90" {
		t.Errorf("5→3→5 levels 2 and 4 = %s, want the midpoints 70/90", got)
	}
	// Four onto three: positions 0, 1/2, 1 fall on levels 1, 2.5, 4.
	four := Scheme{Levels: []Level{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}, BelowFirst: "0"}
	if got := mapped(t, four, threeLevel(), "10", "20", "30", "40"); got != "10/25/40" {
		t.Errorf("4→3 = %s", got)
	}
	// Three onto four: positions 0, 1/3, 2/3, 1 on 0..2: 2/3 and 4/3.
	lm := MapLevels(threeLevel(), four)
	if l := lm.Levels[1]; l.From != 1 || l.To != 2 || l.Fraction != "2/3" || l.Position != "0.3333" {
		t.Errorf("3→4 level 2: %+v", l)
	}
	got := lm.Targets(nums("0", "1", "2"))
	if got[1].Cmp(big.NewRat(2, 3)) != 0 || ShowTarget(got[1]) != "≈0.666667" {
		t.Errorf("3→4 level 2 target %s shown %s, want exactly 2/3", got[1].RatString(), ShowTarget(got[1]))
	}
	if !MapLevels(threeLevel(), threeLevel()).Identity || !strings.Contains(MapLevels(threeLevel(), thaiFiveLevel()).Rule(), "ระดับ 2 ← ขั้นต้น + (มาตรฐาน − ขั้นต้น)·1/2") {
		t.Errorf("rule: %s", MapLevels(threeLevel(), thaiFiveLevel()).Rule())
	}
}

func numbersOf(rs []*big.Rat) []Number {
	out := make([]Number, len(rs))
	for i, r := range rs {
		out[i] = NumberFromRat(r, 12)
	}
	return out
}

func thaiFiveLevel() Scheme {
	return Scheme{Levels: []Level{{"ระดับ 1", "1"}, {"ระดับ 2", "2"}, {"ระดับ 3", "3"}, {"ระดับ 4", "4"}, {"ระดับ 5", "5"}}, BelowFirst: "1"}
}

func meanFramework(fy int, scheme Scheme, codes ...string) *Framework {
	f := &Framework{FiscalYear: fy, UnitKind: KindProvince, Scheme: scheme, Rollup: RollupComponentMean,
		Bands: []Band{{"low", "0"}, {"high", "3"}}, Rounds: []int{12}}
	for _, c := range codes {
		f.Components = append(f.Components, Component{Code: c, NameTH: c, MinIndicators: 1, MaxIndicators: 5})
	}
	return f
}

// results2563 are three-level results, worked by hand below under a
// five-level framework.
func results2563() []RescoreItem {
	return []RescoreItem{
		// 50/60/70 → 50/55/60/65/70; 62 lies between ระดับ 3 (60) and ระดับ 4 (65): 3 + (62−60)/5 = 3.4.
		{ID: "a", Component: "performance", Weight: "60", Direction: DirectionUp, Targets: nums("50", "60", "70"), Actual: "62"},
		// 30/20/10 (down) → 30/25/20/15/10; 22 lies between ระดับ 2 (25) and ระดับ 3 (20): 2 + (22−25)/(20−25) = 2.6.
		{ID: "b", Component: "performance", Weight: "40", Direction: DirectionDown, Targets: nums("30", "20", "10"), Actual: "22"},
		// A component the five-level framework does not have.
		{ID: "c", Component: "innovation", Weight: "100", Direction: DirectionUp, Targets: nums("1", "2", "3"), Actual: "3"},
		// 300/350/400 → 300/325/350/375/400; 362.5: 3 + 12.5/25 = 3.5.
		{ID: "d", Component: "potential", Weight: "100", Direction: DirectionUp, Targets: nums("300", "350", "400"), Actual: "362.5"},
		// Not verified yet: counts as 0.
		{ID: "e", Component: "potential", Weight: "100", Direction: DirectionUp, Targets: nums("1", "2", "3")},
	}
}

func TestRescoreThreeLevelsUnderFive(t *testing.T) {
	own := meanFramework(2563, threeLevel(), "performance", "potential", "innovation")
	under := meanFramework(2562, thaiFiveLevel(), "performance", "potential")
	rs := Rescore(own, under, results2563())
	want := []string{"3.4", "2.6", "nil", "3.5", "nil"}
	for i, w := range want {
		var got string
		if s := rs.Items[i].Score; s != nil {
			got = show(s.Score)
		} else {
			got = "nil"
		}
		if got != w {
			t.Errorf("item %d scored %s, want %s (%v)", i, got, w, rs.Items[i].Steps)
		}
	}
	// performance: (60·3.4 + 40·2.6)/100 = 3.08; potential: (100·3.5 + 100·0)/200 = 1.75;
	// total (3.08 + 1.75)/2 = 2.415; position (2.415 − 1)/4 = 0.35375.
	if got := show(rs.Totals.Components[0].Score) + " " + show(rs.Totals.Components[1].Score); got != "3.08 1.75" {
		t.Errorf("components %s", got)
	}
	if show(rs.Totals.Total) != "2.415" || rs.Totals.Band != "low" || show(rs.Position) != "0.35375" {
		t.Errorf("total %s band %s position %s", show(rs.Totals.Total), rs.Totals.Band, show(rs.Position))
	}
	if show(rs.ComponentPositions[0]) != "0.52" { // (3.08 − 1)/4
		t.Errorf("performance position %s", show(rs.ComponentPositions[0]))
	}
	// Nothing silently dropped: the innovation result is listed, with what was done.
	if len(rs.Unmapped) != 1 || rs.Unmapped[0].Code != "innovation" || len(rs.Unmapped[0].Indicators) != 1 || rs.Unmapped[0].Indicators[0] != "c" ||
		!strings.Contains(rs.Unmapped[0].Treatment, "left out") || rs.Items[2].Mapped {
		t.Errorf("unmapped %+v", rs.Unmapped)
	}
	if len(rs.Uncovered) != 0 {
		t.Errorf("uncovered %+v", rs.Uncovered)
	}
	// The derivation names the mapping and the interpolation.
	steps := strings.Join(rs.Items[1].Steps, "\n")
	for _, s := range []string{"mapped from 3 levels onto 5 by position", "ระดับ 2 30 + (20 − 30)·1/2 = 25",
		"x=22 between T2(ระดับ 2)=25 and T3(ระดับ 3)=20: 2 + (3−2)·(22−25)/(20−25) = 2.6"} {
		if !strings.Contains(steps, s) {
			t.Errorf("steps lack %q:\n%s", s, steps)
		}
	}
}

func TestRescoreWeightedAndUncovered(t *testing.T) {
	own := meanFramework(2563, threeLevel(), "performance", "potential", "innovation")
	// A weighted five-level framework, 70/30, with a component no result maps to.
	under := meanFramework(2561, thaiFiveLevel(), "performance", "potential", "agenda")
	under.Rollup = RollupWeighted
	under.Components[0].Weight, under.Components[1].Weight, under.Components[2].Weight = "60", "20", "20"
	rs := Rescore(own, under, results2563())
	// performance shares 60 as 36/24, potential shares 20 as 10/10:
	// (36·3.4 + 24·2.6 + 10·3.5 + 10·0)/80 = (122.4 + 62.4 + 35)/80 = 2.7475.
	if w := show(rs.Items[0].Weight) + "/" + show(rs.Items[1].Weight) + "/" + show(rs.Items[3].Weight); w != "36/24/10" {
		t.Errorf("weights %s", w)
	}
	if show(rs.Totals.Total) != "2.7475" {
		t.Errorf("total %s (%s)", show(rs.Totals.Total), rs.Totals.Formula)
	}
	if len(rs.Uncovered) != 1 || rs.Uncovered[0].Code != "agenda" || !strings.Contains(rs.Uncovered[0].Treatment, "missing from Σw") {
		t.Errorf("uncovered %+v", rs.Uncovered)
	}
	// Under a mean of components the empty component counts as 0.
	mean := meanFramework(2562, thaiFiveLevel(), "performance", "potential", "agenda")
	rs = Rescore(own, mean, results2563())
	if show(rs.Totals.Total) != "1.61" { // (3.08 + 1.75 + 0)/3
		t.Errorf("mean total %s", show(rs.Totals.Total))
	}
}

func TestRescoreFiveLevelsUnderThree(t *testing.T) {
	own := meanFramework(2562, fiveLevel(), "performance")
	under := meanFramework(2563, threeLevel(), "performance")
	rs := Rescore(own, under, []RescoreItem{
		// 60/70/80/90/100 → 60/80/100; 85: 75 + 25·(85−80)/20 = 81.25 (its own score was 3.5).
		{ID: "a", Component: "performance", Weight: "1", Direction: DirectionUp, Targets: nums("60", "70", "80", "90", "100"), Actual: "85"},
		// Milestone steps 1..5 → 1/3/5; step 4 reaches มาตรฐาน (3) only: 75.
		{ID: "b", Component: "performance", Weight: "1", Direction: DirectionMilestone, Targets: nums("1", "2", "3", "4", "5"), Actual: "4"},
		// Targets that do not fit the own scheme cannot be mapped: counted as 0, and said so.
		{ID: "c", Component: "performance", Weight: "2", Direction: DirectionUp, Targets: nums("1", "2"), Actual: "4"},
	})
	if show(rs.Items[0].Score.Score) != "81.25" || show(rs.Items[1].Score.Score) != "75" || rs.Items[2].Err == nil {
		t.Fatalf("items %+v", rs.Items)
	}
	if show(rs.Totals.Total) != "39.0625" || show(rs.Position) != "0.390625" { // (81.25 + 75 + 0)/4
		t.Errorf("total %s position %s", show(rs.Totals.Total), show(rs.Position))
	}
	if !strings.Contains(strings.Join(rs.Items[2].Steps, " "), "cannot be mapped") {
		t.Errorf("steps %v", rs.Items[2].Steps)
	}
}

package domain

import (
	"math/big"
	"testing"
)

func threeLevel() Scheme {
	return Scheme{Levels: []Level{{"ขั้นต้น", "50"}, {"มาตรฐาน", "75"}, {"ขั้นสูง", "100"}}, BelowFirst: "0"}
}

func fiveLevel() Scheme {
	return Scheme{Levels: []Level{{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}}, BelowFirst: "1"}
}

func nums(s ...string) []Number {
	out := make([]Number, len(s))
	for i, v := range s {
		out[i] = Number(v)
	}
	return out
}

func TestScoreActual(t *testing.T) {
	cases := []struct {
		name    string
		scheme  Scheme
		dir     Direction
		targets []Number
		actual  Number
		want    string // shown to 4 decimals
		level   int
	}{
		// SPEC.md: targets 98.72/98.84/98.90.
		{"spec 98.80", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.80", "66.6667", 0},
		{"spec 98.87", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.87", "87.5", 1},
		{"spec 98.94", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.94", "100", 2},
		{"exactly first level", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.72", "50", 0},
		{"exactly middle level", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.84", "75", 1},
		{"exactly top level", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.9", "100", 2},
		{"below first", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.71", "0", -1},
		{"far above top is capped", threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "1000", "100", 2},
		// Lower is better mirrors it: targets 30 > 20 > 10.
		{"down below first", threeLevel(), DirectionDown, nums("30", "20", "10"), "31", "0", -1},
		{"down at first", threeLevel(), DirectionDown, nums("30", "20", "10"), "30", "50", 0},
		{"down between", threeLevel(), DirectionDown, nums("30", "20", "10"), "25", "62.5", 0},
		{"down between upper", threeLevel(), DirectionDown, nums("30", "20", "10"), "12", "95", 1},
		{"down at top", threeLevel(), DirectionDown, nums("30", "20", "10"), "10", "100", 2},
		{"down beyond top", threeLevel(), DirectionDown, nums("30", "20", "10"), "0", "100", 2},
		// Milestones count steps reached, without interpolation.
		{"milestone between steps", threeLevel(), DirectionMilestone, nums("1", "2", "3"), "2.5", "75", 1},
		{"milestone none", threeLevel(), DirectionMilestone, nums("1", "2", "3"), "0", "0", -1},
		{"milestone all", threeLevel(), DirectionMilestone, nums("1", "2", "3"), "3", "100", 2},
		// Five-level: grid 60/70/80/90/100, x = 85 → 3.5.
		{"five-level 85", fiveLevel(), DirectionUp, nums("60", "70", "80", "90", "100"), "85", "3.5", 2},
		{"five-level at L1", fiveLevel(), DirectionUp, nums("60", "70", "80", "90", "100"), "60", "1", 0},
		{"five-level below L1", fiveLevel(), DirectionUp, nums("60", "70", "80", "90", "100"), "10", "1", -1},
		{"five-level above L5", fiveLevel(), DirectionUp, nums("60", "70", "80", "90", "100"), "120", "5", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ScoreActual(c.scheme, c.dir, c.targets, c.actual)
			if err != nil {
				t.Fatal(err)
			}
			if s := FormatRat(got.Score, ScoreDecimals); s != c.want {
				t.Errorf("score = %s, want %s (%s)", s, c.want, got.Formula)
			}
			if got.Level != c.level {
				t.Errorf("level = %d, want %d", got.Level, c.level)
			}
			if got.Formula == "" {
				t.Error("no formula")
			}
		})
	}
}

func TestScoreKeptExact(t *testing.T) {
	got, err := ScoreActual(threeLevel(), DirectionUp, nums("98.72", "98.84", "98.90"), "98.80")
	if err != nil {
		t.Fatal(err)
	}
	if got.Score.Cmp(big.NewRat(200, 3)) != 0 {
		t.Fatalf("score = %s, want exactly 200/3", got.Score.RatString())
	}
}

func TestRollUpFiveLevelWeighted(t *testing.T) {
	f := &Framework{Components: []Component{{Code: "a", Weight: "100", MaxIndicators: 5}}, Rollup: RollupWeighted,
		Bands: []Band{{"any", "0"}}}
	items := []ScoredIndicator{
		{Component: "a", Weight: "20", Score: big.NewRat(7, 2)},
		{Component: "a", Weight: "30", Score: big.NewRat(5, 1)},
		{Component: "a", Weight: "50", Score: big.NewRat(9, 4)},
	}
	tot := RollUp(f, items)
	if s := FormatRat(tot.Total, ScoreDecimals); s != "3.325" {
		t.Fatalf("total = %s, want 3.325", s)
	}
}

func fy2564Department() *Framework {
	return &Framework{FiscalYear: 2564, UnitKind: KindDepartment,
		Components: []Component{
			{Code: "performance", NameTH: "การประเมินประสิทธิผลการดำเนินงาน", Weight: "70", MinIndicators: 3, MaxIndicators: 5},
			{Code: "potential", NameTH: "การประเมินศักยภาพในการดำเนินงาน", Weight: "30", MinIndicators: 1, MaxIndicators: 2},
		},
		Scheme: threeLevel(), Rollup: RollupWeighted,
		Bands:  []Band{{"ระดับคุณภาพ", "90"}, {"ระดับมาตรฐานขั้นสูง", "75"}, {"ระดับมาตรฐานขั้นต้น", "50"}, {"ระดับต้องปรับปรุง", "0"}},
		Rounds: []int{12}}
}

func TestRollUpSpecDepartment(t *testing.T) {
	f := fy2564Department()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	items := []ScoredIndicator{
		{Component: "performance", Weight: "20", Score: big.NewRat(100, 1)},
		{Component: "performance", Weight: "25", Score: big.NewRat(175, 2)},
		{Component: "performance", Weight: "25", Score: big.NewRat(75, 1)},
		{Component: "potential", Weight: "15", Score: big.NewRat(200, 3)},
		{Component: "potential", Weight: "15", Score: big.NewRat(100, 1)},
	}
	tot := RollUp(f, items)
	if tot.Total.Cmp(big.NewRat(685, 8)) != 0 {
		t.Fatalf("total = %s, want exactly 85.625", tot.Total.FloatString(6))
	}
	if tot.Band != "ระดับมาตรฐานขั้นสูง" {
		t.Fatalf("band = %q", tot.Band)
	}
	wantWeighted := []string{"20", "21.875", "18.75", "10", "15"}
	for i, w := range wantWeighted {
		if got := FormatRat(tot.Weighted[i], ScoreDecimals); got != w {
			t.Errorf("weighted[%d] = %s, want %s", i, got, w)
		}
	}
	// Component subtotals are each component's own weighted mean.
	if got := FormatRat(tot.Components[0].Score, 4); got != "86.6071" { // (2000+2187.5+1875)/70
		t.Errorf("performance = %s, want 86.6071", got)
	}
	if got := FormatRat(tot.Components[1].Score, 4); got != "83.3333" {
		t.Errorf("potential = %s, want 83.3333", got)
	}
}

func TestRollUpComponentMeanAndPending(t *testing.T) {
	f := &Framework{Components: []Component{
		{Code: "a", MinIndicators: 2, MaxIndicators: 3}, {Code: "b", MinIndicators: 1, MaxIndicators: 3}},
		Rollup: RollupComponentMean, Bands: []Band{{"high", "75"}, {"low", "0"}}}
	items := []ScoredIndicator{
		{Component: "a", Weight: "1", Score: big.NewRat(100, 1)},
		{Component: "a", Weight: "3", Score: big.NewRat(50, 1)},
		{Component: "b", Weight: "5", Score: nil}, // not yet verified: counts as 0
	}
	tot := RollUp(f, items)
	// a = (100 + 150)/4 = 62.5; b = 0; mean = 31.25.
	if got := FormatRat(tot.Total, 4); got != "31.25" {
		t.Fatalf("total = %s, want 31.25 (%s)", got, tot.Formula)
	}
	if tot.Band != "low" {
		t.Errorf("band = %s", tot.Band)
	}
	if !tot.Components[0].Complete || tot.Components[1].Complete || tot.Components[1].Pending != 1 {
		t.Errorf("completeness wrong: %+v", tot.Components)
	}
	if got := FormatRat(tot.Weighted[1], 4); got != "37.5" {
		t.Errorf("weighted[1] = %s, want 37.5 (3·50/4)", got)
	}
}

func TestBandBoundaries(t *testing.T) {
	bands := fy2564Department().Bands
	for _, c := range []struct {
		total *big.Rat
		want  string
	}{
		{big.NewRat(90, 1), "ระดับคุณภาพ"},
		{new(big.Rat).Sub(big.NewRat(90, 1), big.NewRat(1, 1_000_000_000)), "ระดับมาตรฐานขั้นสูง"},
		{big.NewRat(75, 1), "ระดับมาตรฐานขั้นสูง"},
		{big.NewRat(0, 1), "ระดับต้องปรับปรุง"},
	} {
		if got := BandOf(bands, c.total); got != c.want {
			t.Errorf("BandOf(%s) = %s, want %s", c.total.FloatString(9), got, c.want)
		}
	}
}

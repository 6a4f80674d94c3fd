package domain

import (
	"errors"
	"strings"
	"testing"
)

func specFor(component string) IndicatorSpec {
	return IndicatorSpec{Component: component, TitleTH: "ร้อยละของครัวเรือนที่มีน้ำสะอาด", Measure: "ร้อยละ",
		Direction: DirectionUp, Weight: "20", Targets: nums("80", "90", "95")}
}

// fold applies events to a fresh indicator, numbering versions.
func fold(evs ...Event) *Indicator {
	ind := &Indicator{}
	for i, e := range evs {
		ind.Apply(e, Meta{Version: uint64(i + 1)})
	}
	return ind
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

func fieldOf(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Field
	}
	return ""
}

func TestIndicatorLifecycle(t *testing.T) {
	fw := fy2564Department()
	ctx := IndicatorContext{Framework: fw}
	p, err := ProposeIndicator("i1", "cdd", 2564, specFor("performance"), ctx)
	if err != nil {
		t.Fatal(err)
	}
	ind := fold(p)
	if ind.Status != StatusProposed || ind.Version != 1 {
		t.Fatalf("after proposal: %s v%d", ind.Status, ind.Version)
	}
	// A report on a proposed indicator is a domain error.
	if _, err := ind.Report(ResultReported{Round: 12, Actual: "91"}, fw); !isConflict(err) {
		t.Fatalf("report on a proposed indicator: %v", err)
	}
	// Send back; deciding again before the revision is refused.
	rr, err := ind.Review(DecisionRequestRevision, "ระบุเกณฑ์", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rr.OnVersion != 1 {
		t.Fatalf("the review names version %d", rr.OnVersion)
	}
	ind = fold(p, rr)
	if _, err := ind.Review(DecisionApprove, "", ctx); !isConflict(err) {
		t.Fatalf("deciding twice: %v", err)
	}
	if _, err := ind.Revise(specFor("performance"), "", ctx); fieldOf(err) != "reason" {
		t.Fatalf("a revision without a reason: %v", err)
	}
	rv, err := ind.Revise(specFor("performance"), "ตามข้อเสนอแนะ", ctx)
	if err != nil {
		t.Fatal(err)
	}
	ind = fold(p, rr, rv)
	ap, err := ind.Review(DecisionApprove, "", ctx)
	if err != nil {
		t.Fatal(err)
	}
	ind = fold(p, rr, rv, ap)
	if ind.Status != StatusApproved {
		t.Fatal(ind.Status)
	}
	if _, err := ind.Withdraw("x"); !isConflict(err) {
		t.Fatalf("withdrawing an approved indicator: %v", err)
	}
	if _, err := ind.Review(DecisionReject, "ช้าไป", ctx); !isConflict(err) {
		t.Fatalf("deciding on an approved indicator: %v", err)
	}
	// Results: the round must be one the framework allows; obstacles are
	// required below the standard level.
	if _, err := ind.Report(ResultReported{Round: 6, Actual: "91"}, fw); fieldOf(err) != "round" {
		t.Fatalf("round 6 in a 12-only framework: %v", err)
	}
	if _, err := ind.Report(ResultReported{Round: 12, Actual: "85"}, fw); fieldOf(err) != "obstacles" {
		t.Fatalf("below standard without obstacles: %v", err)
	}
	r1, err := ind.Report(ResultReported{Round: 12, Actual: "85", Obstacles: "งบประมาณล่าช้า"}, fw)
	if err != nil {
		t.Fatal(err)
	}
	ind = fold(p, rr, rv, ap, r1)
	if _, err := ind.Verify(12, VerifyAdjust, "", "x"); fieldOf(err) != "verified_actual" {
		t.Fatalf("adjust without a value: %v", err)
	}
	v1, err := ind.Verify(12, VerifyReject, "", "ไม่มีหลักฐาน")
	if err != nil {
		t.Fatal(err)
	}
	ind = fold(p, rr, rv, ap, r1, v1)
	if ind.Final() != nil {
		t.Fatal("a rejected result counts")
	}
	if _, err := ind.Verify(12, VerifyAccept, "", ""); !isConflict(err) {
		t.Fatalf("verifying a decided report: %v", err)
	}
	// A later report supersedes and needs its own verification.
	r2, _ := ind.Report(ResultReported{Round: 12, Actual: "92", Evidence: []string{"หนังสือรับรอง"}}, fw)
	ind = fold(p, rr, rv, ap, r1, v1, r2)
	v2, err := ind.Verify(12, VerifyAdjust, "91.5", "หลักฐานรองรับ 91.5")
	if err != nil {
		t.Fatal(err)
	}
	ind = fold(p, rr, rv, ap, r1, v1, r2, v2)
	if got := ind.Final().Verified(); got != "91.5" || ind.Round(12).Reports != 2 {
		t.Fatalf("verified %q after %d reports", got, ind.Round(12).Reports)
	}
}

func TestApprovingAWithdrawnOrFullComponent(t *testing.T) {
	fw := fy2564Department()
	p, _ := ProposeIndicator("i1", "cdd", 2564, specFor("potential"), IndicatorContext{Framework: fw})
	w, err := fold(p).Withdraw("ซ้ำ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fold(p, w).Review(DecisionApprove, "", IndicatorContext{Framework: fw}); !isConflict(err) {
		t.Fatalf("approving a withdrawn indicator: %v", err)
	}
	// Potential Base allows 2: a third approval is refused, a proposal is not.
	full := IndicatorContext{Framework: fw, ApprovedInComponent: 2}
	if _, err := fold(p).Review(DecisionApprove, "", full); !isConflict(err) || !strings.Contains(err.Error(), "maximum of 2") {
		t.Fatalf("third approval: %v", err)
	}
	if _, err := ProposeIndicator("i2", "cdd", 2564, specFor("potential"), full); err != nil {
		t.Fatalf("a proposal beyond the maximum is allowed until approval: %v", err)
	}
}

func TestIndicatorValidation(t *testing.T) {
	fw := fy2564Department()
	down := specFor("performance")
	down.Direction, down.Targets = DirectionDown, nums("30", "20", "10")
	if _, err := ProposeIndicator("i", "cdd", 2564, down, IndicatorContext{Framework: fw}); err != nil {
		t.Fatalf("decreasing targets for 'down': %v", err)
	}
	down.Targets = nums("10", "20", "30")
	if _, err := ProposeIndicator("i", "cdd", 2564, down, IndicatorContext{Framework: fw}); fieldOf(err) != "targets" {
		t.Fatalf("increasing targets for 'down': %v", err)
	}
	s := &Series{ID: "s", Unit: "TH-50", StartYear: 2563, EndYear: 2565, Direction: DirectionUp}
	joined := specFor("performance")
	joined.SeriesID = "s"
	for name, c := range map[string]struct {
		ctx   IndicatorContext
		unit  string
		fy    int
		field string
	}{
		"another unit's series": {IndicatorContext{Framework: fw, Series: s}, "TH-57", 2564, "series_id"},
		"outside the series":    {IndicatorContext{Framework: fw, Series: s}, "TH-50", 2566, "series_id"},
		"no framework":          {IndicatorContext{}, "TH-50", 2564, "component"},
	} {
		if _, err := ProposeIndicator("i", c.unit, c.fy, joined, c.ctx); fieldOf(err) != c.field {
			t.Errorf("%s: %v, want field %s", name, err, c.field)
		}
	}
	// The ledger's state, not the request, refuses these: conflicts (409).
	taken := IndicatorContext{Framework: fw, Series: s, SeriesTaken: true}
	if _, err := ProposeIndicator("i", "TH-50", 2564, joined, taken); !isConflict(err) || !strings.Contains(err.Error(), "already belongs to this series") {
		t.Errorf("a series taken that year: %v, want a conflict", err)
	}
	full := IndicatorContext{Framework: fw, LiveInUnitYear: MaxIndicatorsPerUnitYear}
	if _, err := ProposeIndicator("i", "TH-50", 2564, specFor("performance"), full); !isConflict(err) || !strings.Contains(err.Error(), "at most 50 live indicators") {
		t.Errorf("a full unit-year: %v, want a conflict", err)
	}
	// A malformed request into a full unit-year is still told what is wrong with it.
	bad := specFor("performance")
	bad.Targets = nums("30", "20", "10")
	if _, err := ProposeIndicator("i", "TH-50", 2564, bad, full); fieldOf(err) != "targets" {
		t.Errorf("a malformed proposal into a full unit-year: %v, want field targets", err)
	}
}

func TestFrameworkRevisionRules(t *testing.T) {
	fw := *fy2564Department()
	h := &FrameworkHistory{}
	pub, err := PublishFramework(h, fw)
	if err != nil {
		t.Fatal(err)
	}
	h.Apply(pub, Meta{Version: 1})
	if _, err := PublishFramework(h, fw); !isConflict(err) {
		t.Fatalf("publishing twice: %v", err)
	}
	dropped := fw
	dropped.Components = []Component{fw.Components[0]}
	dropped.Components[0].Weight = "100"
	if _, err := ReviseFramework(h, dropped, "รวมองค์ประกอบ", map[string]int{"potential": 3}); !isConflict(err) || !strings.Contains(err.Error(), `"potential" has 3 indicators`) {
		t.Fatalf("dropping a component in use: %v", err)
	}
	rev, err := ReviseFramework(h, dropped, "รวมองค์ประกอบ", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Apply(rev, Meta{Version: 2})
	if h.Latest().Revision != 2 || h.Revisions[0].Framework.Components[1].Code != "potential" {
		t.Fatal("the first revision was not kept")
	}
	five := fw
	five.Scheme = fiveLevel()
	if _, err := ReviseFramework(h, five, "ห้าระดับ", map[string]int{"performance": 1}); !isConflict(err) || !strings.Contains(err.Error(), "scheme.levels") {
		t.Fatalf("changing the number of levels under indicators: %v", err)
	}
}

func TestSeriesValidation(t *testing.T) {
	ok := SeriesDefined{TitleTH: "รายได้", Measure: "บาท", Direction: DirectionUp, Baseline: "1", StartYear: 2563, EndYear: 2565,
		Targets: map[string]Number{"2563": "2", "2564": "3", "2565": "4"}}
	if _, err := DefineSeries(ok); err != nil {
		t.Fatal(err)
	}
	short := ok
	short.EndYear = 2564
	if _, err := DefineSeries(short); fieldOf(err) != "end_year" {
		t.Fatalf("a two-year series: %v", err)
	}
	missing := ok
	missing.Targets = map[string]Number{"2563": "2", "2565": "4"}
	if _, err := DefineSeries(missing); fieldOf(err) != "targets.2564" {
		t.Fatalf("a year without a target: %v", err)
	}
}

func TestTrendOnTrack(t *testing.T) {
	s := &Series{Baseline: "30", StartYear: 2563, EndYear: 2565, Direction: DirectionUp,
		Targets: map[string]Number{"2563": "40", "2564": "45", "2565": "50"}}
	// Pace: +10 in one year from the baseline year 2562 → 30 + 10·3 = 60 ≥ 50.
	tr := ComputeTrend(s, map[int]Number{2563: "40"})
	if tr.OnTrack == nil || !*tr.OnTrack || FormatRat(tr.Projected, 2) != "60" {
		t.Fatalf("on track: %v projected %v", tr.OnTrack, tr.Projected)
	}
	// +4 over two years → 30 + 2·3 = 36 < 50: not on track.
	tr = ComputeTrend(s, map[int]Number{2563: "33", 2564: "34"})
	if tr.OnTrack == nil || *tr.OnTrack || FormatRat(tr.Projected, 2) != "36" {
		t.Fatalf("off track: %v projected %v", tr.OnTrack, tr.Projected)
	}
	if got := FormatRat(tr.Points[1].Achievement, 2); got != "26.67" {
		t.Errorf("achievement 2564 = %s, want (34−30)/(45−30) = 26.67", got)
	}
	if ComputeTrend(s, nil).OnTrack != nil {
		t.Error("on track without any actual")
	}
}

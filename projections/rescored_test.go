package projections

import (
	"errors"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/domain"
)

// fy2565 is a weighted three-level framework that shares one component
// with FY2563 of twoYears (agenda) and one with FY2564 (performance).
func fy2565() domain.Framework {
	f := fy2564(2565, domain.KindProvince)
	f.Components[1] = domain.Component{Code: "agenda", NameTH: "ตัวชี้วัดตามภารกิจยุทธศาสตร์", Weight: "30", MinIndicators: 1, MaxIndicators: 4}
	return f
}

// rescoreLedger is twoYears with FY2565 published, then revised to level
// scores 60/80/100.
func rescoreLedger(t *testing.T) *ledger {
	l := twoYears(t)
	l.must(l.publish(fy2565()))
	rev := fy2565()
	rev.Scheme.Levels[0].Score, rev.Scheme.Levels[1].Score = "60", "80"
	l.must(l.reviseFramework(rev, "คะแนนขั้นต้นและมาตรฐานปรับขึ้น"))
	return l
}

func under(t *testing.T, l *ledger, su ScoreUnder) *domain.FrameworkRevision {
	t.Helper()
	fw, err := ResolveScoreUnder(l.st, domain.KindProvince, su)
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

// TestRescoreComponentMissing re-scores a year whose components the other
// framework has only in part, and one whose components it lacks entirely.
func TestRescoreComponentMissing(t *testing.T) {
	l := rescoreLedger(t)
	sc, err := BuildScorecardUnder(l.st, "TH-50", 2563, under(t, l, ScoreUnder{FiscalYear: 2565, Revision: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Total != "2.125" || sc.Position != "0.2813" {
		t.Errorf("own total %s position %s", sc.Total, sc.Position)
	}
	r := sc.ScoreUnder
	if r == nil || r.FiscalYear != 2563 || r.ScoreUnder != 2565 || r.Revision != 1 || r.Mapping.FromLevels != 5 || r.Mapping.ToLevels != 3 {
		t.Fatalf("score_under %+v", r)
	}
	// Five levels onto three: 60/70/80/90/100 → 60/80/100. a63 85:
	// 75 + 25·(85−80)/(100−80) = 81.25; b63 100 → 100. Both in agenda,
	// whose weight 30 they share 15/15; c63 (area) has no counterpart.
	// (15·81.25 + 15·100)/30 = 90.625.
	if a := r.Indicators[0]; a.Score != "81.25" || a.OwnScore != "3.5" || a.WeightUsed != "15" || len(a.Targets) != 3 || a.Targets[1].Target != "80" || !a.Mapped {
		t.Errorf("a63 %+v", a)
	}
	if c := r.Indicators[2]; c.Mapped || c.Score != "" || c.WeightUsed != "" || !strings.Contains(c.Steps[0], `no component "area"`) {
		t.Errorf("c63 %+v", c)
	}
	if r.Total != "90.625" || r.Band != "ระดับคุณภาพ" || r.Position != "0.9063" {
		t.Errorf("re-scored total %s band %s position %s (%s)", r.Total, r.Band, r.Position, r.Formula)
	}
	if f := r.Components[1].Formula; f != "Σ w′·s / Σ w′ = (15×81.25 + 15×100) / 30 = 90.625" || r.Components[0].Formula != "" {
		t.Errorf("component formulas %q, %q", r.Components[0].Formula, f)
	}
	if len(r.Unmapped) != 1 || r.Unmapped[0].Code != "area" || len(r.Unmapped[0].Indicators) != 1 || r.Unmapped[0].Indicators[0] != "c63" {
		t.Errorf("unmapped %+v", r.Unmapped)
	}
	if len(r.Uncovered) != 1 || r.Uncovered[0].Code != "performance" {
		t.Errorf("uncovered %+v", r.Uncovered)
	}
	steps := strings.Join(r.Indicators[0].Steps, "\n")
	for _, want := range []string{"mapped from 5 levels onto 3 by position", "x=85 between T2(มาตรฐาน)=80 and T3(ขั้นสูง)=100", "50·30/100 = 15"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}

	// FY2564's results under FY2563's framework: no component matches.
	c, err := BuildComparisonUnder(l.st, "TH-50", 2563, 2564, under(t, l, ScoreUnder{FiscalYear: 2563}))
	if err != nil {
		t.Fatal(err)
	}
	r = c.ScoreUnder
	if r == nil || r.Total != "" || len(r.Unmapped) != 1 || strings.Join(r.Unmapped[0].Indicators, ",") != "d64,b64,a64" || len(r.Uncovered) != 2 {
		t.Fatalf("score_under %+v", r)
	}
	if s := c.Standings.ToUnder; s == nil || s.Total != "" || s.Rank != nil || c.Standings.UnderChange.BandMove != "" {
		t.Errorf("to_under %+v change %+v", s, c.Standings.UnderChange)
	}
	// The year's own standings stay: FY2563 1–5 0.2813, FY2564 0–100 0.8601.
	if ch := c.Standings.Change; ch == nil || ch.PositionChange != "0.5788" || ch.BandMove != BandUp || ch.SameBands {
		t.Errorf("change %+v", ch)
	}
}

// TestRescoreRevisionInBetween re-scores under each revision of a
// framework revised between the years.
func TestRescoreRevisionInBetween(t *testing.T) {
	l := rescoreLedger(t)
	for _, c := range []struct {
		rev       int
		want, a63 domain.Number
	}{
		{1, "90.625", "81.25"},
		// Revision 2 scores the levels 60/80/100: a63 85 → 80 + 20·5/20 = 85;
		// (15·85 + 15·100)/30 = 92.5.
		{2, "92.5", "85"},
		{0, "92.5", "85"}, // the current revision
	} {
		fw := under(t, l, ScoreUnder{FiscalYear: 2565, Revision: c.rev})
		sc, err := BuildScorecardUnder(l.st, "TH-50", 2563, fw)
		if err != nil {
			t.Fatal(err)
		}
		if r := sc.ScoreUnder; r.Total != c.want || r.Indicators[0].Score != c.a63 || (c.rev != 0 && r.Revision != c.rev) {
			t.Errorf("revision %d: total %s a63 %s (revision %d)", c.rev, r.Total, r.Indicators[0].Score, r.Revision)
		}
	}
	_, err := ResolveScoreUnder(l.st, domain.KindProvince, ScoreUnder{FiscalYear: 2565, Revision: 3})
	if !errors.Is(err, domain.ErrNotFound) || !strings.Contains(err.Error(), "no revision 3 (it has 1 to 2)") {
		t.Errorf("revision 3: %v", err)
	}
}

func TestResolveScoreUnderBadInput(t *testing.T) {
	l := rescoreLedger(t)
	l.must(l.publish(fy2564(2566, domain.KindDepartment)))
	var ve *domain.ValidationError
	if _, err := ResolveScoreUnder(l.st, domain.KindProvince, ScoreUnder{FiscalYear: 2565, Kind: domain.KindDepartment}); !errors.As(err, &ve) || ve.Fields[0].Field != "score_under" {
		t.Errorf("another kind: %v", err)
	}
	if _, err := ResolveScoreUnder(l.st, domain.KindProvince, ScoreUnder{FiscalYear: 2566}); !errors.Is(err, domain.ErrNotFound) || !strings.Contains(err.Error(), "only a department one") {
		t.Errorf("a year with only the other kind's framework: %v", err)
	}
	if _, err := ResolveScoreUnder(l.st, domain.KindProvince, ScoreUnder{FiscalYear: 2570}); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a year without a framework: %v", err)
	}
	// A year with results but no framework of its own has nothing to re-score.
	if _, err := BuildComparisonUnder(l.st, "TH-50", 2563, 2567, under(t, l, ScoreUnder{FiscalYear: 2563})); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("to without a framework: %v", err)
	}
}

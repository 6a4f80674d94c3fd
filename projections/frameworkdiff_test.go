package projections

import (
	"bytes"
	"errors"
	"testing"

	"github.com/opdc/kpiledger/domain"
)

func TestCompareFrameworksAcrossEras(t *testing.T) {
	l := twoYears(t)
	// TH-57 has results only in FY2564: it is not listed.
	l.must(l.propose("TH-57", 2564, "x64", domain.IndicatorSpec{Component: "performance", TitleTH: "ตัวชี้วัด", Measure: "ร้อยละ",
		Direction: domain.DirectionUp, Weight: "10", Targets: spec6498}))
	l.must(l.review("x64", domain.DecisionApprove, ""))
	l.must(l.report("x64", 12, "99"))
	l.must(l.verify("x64", 12, domain.VerifyAccept, "", ""))

	fc, err := CompareFrameworks(l.st, domain.KindProvince, 2563, 2564, nil)
	if err != nil {
		t.Fatal(err)
	}
	codes := func(cs []domain.Component) (out []string) {
		for _, c := range cs {
			out = append(out, c.Code)
		}
		return out
	}
	if a, r := codes(fc.Components.Added), codes(fc.Components.Removed); len(a) != 2 || a[0] != "performance" || len(r) != 2 || r[1] != "area" {
		t.Errorf("added %v removed %v", a, r)
	}
	if !fc.Scheme.Changed || !fc.Rollup.Changed || fc.Rollup.From != domain.RollupComponentMean || !fc.Bands.Changed || !fc.Rounds.Changed {
		t.Errorf("changes %+v %+v %+v %+v", fc.Scheme, fc.Rollup, fc.Bands, fc.Rounds)
	}
	want := UnitTotals{Unit: "TH-50", NameTH: "เชียงใหม่", FromTotal: "2.125", ToTotal: "86.0119", Delta: "83.8869", FromBand: "ต้องปรับปรุง", ToBand: "ระดับมาตรฐานขั้นสูง"}
	if len(fc.Units) != 1 {
		t.Fatalf("units %+v, want [%+v]", fc.Units, want)
	}
	got := fc.Units[0]
	got.FromStanding, got.ToStanding, got.Change = Standing{}, Standing{}, StandingChange{}
	if got != want {
		t.Errorf("units %+v, want [%+v]", fc.Units, want)
	}
	// Comparable terms: FY2563 (1–5) (2.125 − 1)/4 = 0.28125, alone that
	// year; FY2564 (0–100) 0.860119, second of two (TH-57 scored 100).
	u := fc.Units[0]
	if s := u.FromStanding; s.Position != "0.2813" || *s.Rank != 1 || s.Percentile != "100" || s.OutOf != 1 || s.BandPosition != "0" {
		t.Errorf("from standing %+v", s)
	}
	if s := u.ToStanding; s.Position != "0.8601" || *s.Rank != 2 || s.Percentile != "0" || s.OutOf != 2 || s.BandPosition != "0.6667" {
		t.Errorf("to standing %+v", s)
	}
	if c := u.Change; c.PositionChange != "0.5788" || *c.RankChange != -1 || c.PercentileChange != "-100" || c.BandMove != BandUp || c.SameBands {
		t.Errorf("change %+v", c)
	}
	if fc.BandMoves.Up != 1 || fc.BandMoves.Down != 0 || len(fc.Distribution.To) != 4 || fc.Distribution.To[1].Units != 1 || fc.Distribution.To[0].Units != 1 {
		t.Errorf("moves %+v distribution %+v", fc.BandMoves, fc.Distribution)
	}
	none, _ := CompareFrameworks(l.st, domain.KindProvince, 2563, 2564, func(string) bool { return false })
	if b := mustJSON(t, none); !bytes.Contains(b, []byte(`"units":[]`)) {
		t.Errorf("filtered comparison %s", b)
	}
	for _, c := range [][2]int{{2562, 2564}, {2564, 2565}} {
		if _, err := CompareFrameworks(l.st, domain.KindProvince, c[0], c[1], nil); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("FY%d–FY%d: %v, want not found", c[0], c[1], err)
		}
	}
}

func TestCompareFrameworksComponentChanges(t *testing.T) {
	l := newLedger(t)
	l.must(l.publish(fy2564(2564, domain.KindDepartment)))
	f := fy2564(2565, domain.KindDepartment)
	f.Components[0].NameTH, f.Components[0].Weight, f.Components[0].MaxIndicators = "ประสิทธิผล", "60", 6
	f.Components[1].Weight = "40.0"
	f.Scheme.Levels[1].Score = "75.0" // the same score, spelt differently
	f.Bands[0].Min = "85"
	l.must(l.publish(f))
	fc, err := CompareFrameworks(l.st, domain.KindDepartment, 2564, 2565, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := fc.Components
	if len(ch.Added) != 0 || len(ch.Removed) != 0 {
		t.Errorf("added %v removed %v", ch.Added, ch.Removed)
	}
	if len(ch.Renamed) != 1 || ch.Renamed[0] != (ComponentRenamed{Code: "performance", FromNameTH: "การประเมินประสิทธิผลการดำเนินงาน", ToNameTH: "ประสิทธิผล", FromNameEN: "Performance Base", ToNameEN: "Performance Base"}) {
		t.Errorf("renamed %+v", ch.Renamed)
	}
	if len(ch.Reweighted) != 2 || ch.Reweighted[1] != (ComponentReweighted{Code: "potential", FromWeight: "30", ToWeight: "40.0"}) {
		t.Errorf("reweighted %+v", ch.Reweighted)
	}
	if len(ch.IndicatorLimitsChanged) != 1 || ch.IndicatorLimitsChanged[0].ToMaxIndicators != 6 {
		t.Errorf("limits %+v", ch.IndicatorLimitsChanged)
	}
	if fc.Scheme.Changed || fc.Rollup.Changed || !fc.Bands.Changed || fc.Rounds.Changed {
		t.Errorf("scheme %v rollup %v bands %v rounds %v", fc.Scheme.Changed, fc.Rollup.Changed, fc.Bands.Changed, fc.Rounds.Changed)
	}
	// A revision of the later year is what is compared.
	g := fy2564(2565, domain.KindDepartment)
	g.Bands = bands100
	l.must(l.reviseFramework(g, "ยกเลิกการปรับเกณฑ์"))
	fc, _ = CompareFrameworks(l.st, domain.KindDepartment, 2564, 2565, nil)
	if fc.ToRevision != 2 || fc.Bands.Changed || len(fc.Components.Reweighted) != 0 || len(fc.Components.Renamed) != 0 {
		t.Errorf("after revision: %+v", fc)
	}
}

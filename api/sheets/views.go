package sheets

import (
	"strconv"
	"strings"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// summary is a two-column table of a view's scalar fields.
func summary(name string, rows ...[]any) Table {
	return Table{Name: name, Key: "summary", Columns: []Column{
		{Key: "field", Title: "รายการ", Kind: Text, Width: 28},
		{Key: "value", Title: "ค่า", Kind: Text, Width: 40},
	}, Rows: rows}
}

// Scorecard is a unit-year's scorecard: a summary, the approved
// indicators with their targets per level, and the components.
func Scorecard(sc projections.Scorecard) []Table {
	sum := summary("สรุป",
		[]any{"unit", sc.Unit}, []any{"unit_name_th", sc.UnitNameTH},
		[]any{"fiscal_year", sc.FiscalYear}, []any{"unit_kind", string(sc.UnitKind)},
		[]any{"framework_revision", sc.FrameworkRevision}, []any{"rollup", string(sc.Rollup)},
		[]any{"total", sc.Total}, []any{"band", sc.Band}, []any{"formula", sc.Formula},
		[]any{"last_sequence", sc.LastSequence},
	)
	sum.Columns[1].Kind = Decimal
	if sc.AsOf != "" {
		sum.Rows = append(sum.Rows, []any{"as_of", sc.AsOf})
	}
	levels := 0
	for _, in := range sc.Indicators {
		levels = max(levels, len(in.Targets))
	}
	cols := []Column{
		{Key: "id", Title: "รหัสตัวชี้วัด", Kind: Text, Width: 38},
		{Key: "component", Title: "องค์ประกอบ", Kind: Text, Width: 12},
		{Key: "title_th", Title: "ชื่อตัวชี้วัด", Kind: Text, Width: 50},
		{Key: "status", Title: "สถานะ", Kind: Text, Width: 12},
		{Key: "direction", Title: "ทิศทาง", Kind: Text, Width: 10},
		{Key: "weight", Title: "น้ำหนัก", Kind: Decimal},
	}
	for l := 1; l <= levels; l++ {
		cols = append(cols, Column{Key: "target_" + strconv.Itoa(l), Title: "ค่าเป้าหมายระดับ " + strconv.Itoa(l), Kind: Decimal})
	}
	cols = append(cols,
		Column{Key: "verified_actual", Title: "ผลที่ตรวจสอบแล้ว", Kind: Decimal},
		Column{Key: "round", Title: "รอบ", Kind: Integer, Width: 8},
		Column{Key: "level", Title: "ระดับที่ได้", Kind: Text, Width: 12},
		Column{Key: "score", Title: "คะแนน", Kind: Score},
		Column{Key: "weighted_score", Title: "คะแนนถ่วงน้ำหนัก", Kind: Score},
		Column{Key: "score_error", Title: "หมายเหตุการคำนวณ", Kind: Text},
	)
	ind := Table{Name: "ตัวชี้วัด", Key: "indicators", Columns: cols}
	for _, in := range sc.Indicators {
		row := []any{in.ID, in.Component, in.TitleTH, string(in.Status), string(in.Direction), in.Weight}
		for l := 0; l < levels; l++ {
			var t any
			if l < len(in.Targets) {
				t = in.Targets[l].Target
			}
			row = append(row, t)
		}
		row = append(row, in.VerifiedActual, in.Round, in.Level, in.Score, in.WeightedScore, in.ScoreError)
		ind.Rows = append(ind.Rows, row)
	}
	comp := Table{Name: "องค์ประกอบ", Key: "components", Columns: []Column{
		{Key: "code", Title: "รหัส", Kind: Text, Width: 10},
		{Key: "name_th", Title: "ชื่อองค์ประกอบ", Kind: Text, Width: 40},
		{Key: "weight", Title: "น้ำหนัก", Kind: Decimal},
		{Key: "score", Title: "คะแนน", Kind: Score},
		{Key: "indicators", Title: "จำนวนตัวชี้วัด", Kind: Integer},
		{Key: "pending", Title: "รอผล", Kind: Integer},
		{Key: "min_indicators", Title: "ขั้นต่ำ", Kind: Integer},
		{Key: "max_indicators", Title: "สูงสุด", Kind: Integer},
		{Key: "complete", Title: "ครบถ้วน", Kind: Bool},
	}}
	for _, c := range sc.Components {
		comp.Rows = append(comp.Rows, []any{c.Code, c.NameTH, c.Weight, c.Score, c.Indicators, c.Pending, c.MinIndicators, c.MaxIndicators, c.Complete})
	}
	return []Table{ind, comp, sum}
}

// Comparison is a unit's year-over-year comparison.
func Comparison(c projections.Comparison) []Table {
	total := func(sc *projections.Scorecard) (domain.Number, string) {
		if sc == nil {
			return "", ""
		}
		return sc.Total, sc.Band
	}
	ft, fb := total(c.Scorecards.From)
	tt, tb := total(c.Scorecards.To)
	sum := summary("สรุป",
		[]any{"unit", c.Unit}, []any{"unit_name_th", c.UnitNameTH},
		[]any{"from", c.From}, []any{"to", c.To},
		[]any{"from_total", ft}, []any{"from_band", fb},
		[]any{"to_total", tt}, []any{"to_band", tb},
		[]any{"total_delta", c.TotalDelta},
	)
	sum.Columns[1].Kind = Decimal
	matched := Table{Name: "ตัวชี้วัดที่จับคู่", Key: "matched", Columns: []Column{
		{Key: "from_id", Title: "รหัสปีก่อน", Kind: Text, Width: 38},
		{Key: "to_id", Title: "รหัสปีหลัง", Kind: Text, Width: 38},
		{Key: "title_th", Title: "ชื่อตัวชี้วัด", Kind: Text, Width: 50},
		{Key: "from_title_th", Title: "ชื่อปีก่อน", Kind: Text, Width: 50},
		{Key: "matched_by", Title: "จับคู่โดย", Kind: Text, Width: 12},
		{Key: "series_id", Title: "ชุดข้อมูลระยะยาว", Kind: Text},
		{Key: "from_actual", Title: "ผลปีก่อน", Kind: Decimal},
		{Key: "to_actual", Title: "ผลปีหลัง", Kind: Decimal},
		{Key: "actual_delta", Title: "ผลต่าง", Kind: Decimal},
		{Key: "from_score", Title: "คะแนนปีก่อน", Kind: Score},
		{Key: "to_score", Title: "คะแนนปีหลัง", Kind: Score},
		{Key: "score_delta", Title: "คะแนนต่าง", Kind: Score},
	}}
	for _, m := range c.Matched {
		matched.Rows = append(matched.Rows, []any{m.FromID, m.ToID, m.TitleTH, m.FromTitleTH, m.MatchedBy, m.SeriesID,
			m.FromActual, m.ToActual, m.ActualDelta, m.FromScore, m.ToScore, m.ScoreDelta})
	}
	unmatched := Table{Name: "ไม่ได้จับคู่", Key: "unmatched", Columns: []Column{
		{Key: "fiscal_year", Title: "ปีงบประมาณ", Kind: Year},
		{Key: "id", Title: "รหัสตัวชี้วัด", Kind: Text, Width: 38},
		{Key: "title_th", Title: "ชื่อตัวชี้วัด", Kind: Text, Width: 50},
		{Key: "series_id", Title: "ชุดข้อมูลระยะยาว", Kind: Text},
	}}
	for _, side := range []struct {
		fy   int
		refs []projections.IndicatorRef
	}{{c.From, c.UnmatchedFrom}, {c.To, c.UnmatchedTo}} {
		for _, r := range side.refs {
			unmatched.Rows = append(unmatched.Rows, []any{side.fy, r.ID, r.TitleTH, r.SeriesID})
		}
	}
	return []Table{matched, unmatched, sum}
}

// FrameworkComparison is two years' frameworks set against each other:
// the units' totals first (what OPDC reads), then what changed.
func FrameworkComparison(fc projections.FrameworkComparison) []Table {
	units := Table{Name: "หน่วยงาน", Key: "units", Columns: []Column{
		{Key: "unit", Title: "รหัสหน่วยงาน", Kind: Text, Width: 12},
		{Key: "name_th", Title: "ชื่อหน่วยงาน", Kind: Text, Width: 30},
		{Key: "from_total", Title: "คะแนนรวม ปี " + strconv.Itoa(fc.From), Kind: Score},
		{Key: "from_band", Title: "ระดับ ปี " + strconv.Itoa(fc.From), Kind: Text},
		{Key: "to_total", Title: "คะแนนรวม ปี " + strconv.Itoa(fc.To), Kind: Score},
		{Key: "to_band", Title: "ระดับ ปี " + strconv.Itoa(fc.To), Kind: Text},
		{Key: "delta", Title: "ผลต่าง (เชิงตัวเลข)", Kind: Score},
	}}
	for _, u := range fc.Units {
		units.Rows = append(units.Rows, []any{u.Unit, u.NameTH, u.FromTotal, u.FromBand, u.ToTotal, u.ToBand, u.Delta})
	}
	changes := Table{Name: "การเปลี่ยนแปลง", Key: "changes", Columns: []Column{
		{Key: "aspect", Title: "ประเด็น", Kind: Text, Width: 20},
		{Key: "code", Title: "รหัส", Kind: Text, Width: 10},
		{Key: "from", Title: "ปี " + strconv.Itoa(fc.From) + " (ฉบับที่ " + strconv.Itoa(fc.FromRevision) + ")", Kind: Text, Width: 40},
		{Key: "to", Title: "ปี " + strconv.Itoa(fc.To) + " (ฉบับที่ " + strconv.Itoa(fc.ToRevision) + ")", Kind: Text, Width: 40},
	}}
	add := func(aspect, code, from, to string) {
		changes.Rows = append(changes.Rows, []any{aspect, code, from, to})
	}
	for _, c := range fc.Components.Added {
		add("component_added", c.Code, "", c.NameTH+" ("+string(c.Weight)+")")
	}
	for _, c := range fc.Components.Removed {
		add("component_removed", c.Code, c.NameTH+" ("+string(c.Weight)+")", "")
	}
	for _, c := range fc.Components.Renamed {
		add("component_renamed", c.Code, c.FromNameTH, c.ToNameTH)
	}
	for _, c := range fc.Components.Reweighted {
		add("component_reweighted", c.Code, string(c.FromWeight), string(c.ToWeight))
	}
	for _, c := range fc.Components.IndicatorLimitsChanged {
		add("indicator_limits", c.Code, strconv.Itoa(c.FromMinIndicators)+"–"+strconv.Itoa(c.FromMaxIndicators),
			strconv.Itoa(c.ToMinIndicators)+"–"+strconv.Itoa(c.ToMaxIndicators))
	}
	if fc.Scheme.Changed {
		add("scheme", "", schemeText(fc.Scheme.From), schemeText(fc.Scheme.To))
	}
	if fc.Rollup.Changed {
		add("rollup", "", string(fc.Rollup.From), string(fc.Rollup.To))
	}
	if fc.Bands.Changed {
		add("bands", "", bandsText(fc.Bands.From), bandsText(fc.Bands.To))
	}
	if fc.Rounds.Changed {
		add("rounds", "", JoinInts(fc.Rounds.From), JoinInts(fc.Rounds.To))
	}
	return []Table{units, changes}
}

func schemeText(s domain.Scheme) string {
	parts := make([]string, len(s.Levels))
	for i, l := range s.Levels {
		parts[i] = l.Label + "=" + string(l.Score)
	}
	return strings.Join(parts, ", ") + "; below_first=" + string(s.BelowFirst)
}

func bandsText(bs []domain.Band) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = b.Label + " ≥ " + string(b.Min)
	}
	return strings.Join(parts, ", ")
}

// JoinInts writes numbers as a list: "6, 9, 12".
func JoinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ", ")
}

// Trends is a unit's long-term series: one row per series, then one row
// per series and year.
func Trends(trends []projections.SeriesTrend) []Table {
	series := Table{Name: "ชุดข้อมูลระยะยาว", Key: "series", Columns: []Column{
		{Key: "series_id", Title: "รหัสชุดข้อมูล", Kind: Text, Width: 38},
		{Key: "title_th", Title: "ชื่อ", Kind: Text, Width: 40},
		{Key: "measure", Title: "หน่วยวัด", Kind: Text, Width: 12},
		{Key: "direction", Title: "ทิศทาง", Kind: Text, Width: 10},
		{Key: "baseline", Title: "ค่าฐาน", Kind: Decimal},
		{Key: "start_year", Title: "ปีเริ่ม", Kind: Year},
		{Key: "end_year", Title: "ปีสิ้นสุด", Kind: Year},
		{Key: "on_track", Title: "เป็นไปตามแผน", Kind: Bool},
		{Key: "projected_end_value", Title: "ค่าที่คาดการณ์ปีสุดท้าย", Kind: Decimal},
		{Key: "end_target", Title: "เป้าหมายปีสุดท้าย", Kind: Decimal},
		{Key: "on_track_rule", Title: "เกณฑ์", Kind: Text, Width: 50},
	}}
	points := Table{Name: "รายปี", Key: "points", Columns: []Column{
		{Key: "series_id", Title: "รหัสชุดข้อมูล", Kind: Text, Width: 38},
		{Key: "title_th", Title: "ชื่อ", Kind: Text, Width: 40},
		{Key: "fiscal_year", Title: "ปีงบประมาณ", Kind: Year},
		{Key: "target", Title: "ค่าเป้าหมาย", Kind: Decimal},
		{Key: "indicator_id", Title: "รหัสตัวชี้วัด", Kind: Text, Width: 38},
		{Key: "verified_actual", Title: "ผลที่ตรวจสอบแล้ว", Kind: Decimal},
		{Key: "achievement_pct", Title: "ร้อยละความสำเร็จ", Kind: Score},
		{Key: "met", Title: "บรรลุเป้าหมาย", Kind: Bool},
	}}
	for _, t := range trends {
		series.Rows = append(series.Rows, []any{t.SeriesID, t.TitleTH, t.Measure, string(t.Direction), t.Baseline,
			t.StartYear, t.EndYear, t.OnTrack, t.ProjectedEndValue, t.EndTarget, t.OnTrackRule})
		for _, p := range t.Points {
			points.Rows = append(points.Rows, []any{t.SeriesID, t.TitleTH, p.FiscalYear, p.Target, p.IndicatorID, p.VerifiedActual, p.AchievementPct, p.Met})
		}
	}
	return []Table{series, points}
}

// Series lists a unit's series with a target column per fiscal year.
func Series(list []projections.SeriesView) []Table {
	first, last := 0, 0
	for _, s := range list {
		if first == 0 || s.StartYear < first {
			first = s.StartYear
		}
		last = max(last, s.EndYear)
	}
	cols := []Column{
		{Key: "id", Title: "รหัสชุดข้อมูล", Kind: Text, Width: 38},
		{Key: "title_th", Title: "ชื่อ", Kind: Text, Width: 40},
		{Key: "title_en", Title: "ชื่อภาษาอังกฤษ", Kind: Text, Width: 30},
		{Key: "measure", Title: "หน่วยวัด", Kind: Text, Width: 12},
		{Key: "direction", Title: "ทิศทาง", Kind: Text, Width: 10},
		{Key: "baseline", Title: "ค่าฐาน", Kind: Decimal},
		{Key: "start_year", Title: "ปีเริ่ม", Kind: Year},
		{Key: "end_year", Title: "ปีสิ้นสุด", Kind: Year},
	}
	for fy := first; first > 0 && fy <= last; fy++ {
		cols = append(cols, Column{Key: "target_" + strconv.Itoa(fy), Title: "เป้าหมาย ปี " + strconv.Itoa(fy), Kind: Decimal})
	}
	cols = append(cols, Column{Key: "defined_at", Title: "กำหนดเมื่อ", Kind: Time})
	t := Table{Name: "ชุดข้อมูลระยะยาว", Key: "series", Columns: cols}
	for _, s := range list {
		row := []any{s.ID, s.TitleTH, s.TitleEN, s.Measure, string(s.Direction), s.Baseline, s.StartYear, s.EndYear}
		for fy := first; first > 0 && fy <= last; fy++ {
			row = append(row, s.Targets[strconv.Itoa(fy)])
		}
		t.Rows = append(t.Rows, append(row, s.DefinedAt))
	}
	return []Table{t}
}

// UnitTotal is a unit with its total for one fiscal year, as the units
// list exports it; Total and Band are empty when the reader may not see
// them or the unit has no scored indicator that year.
type UnitTotal struct {
	domain.Unit
	FiscalYear int
	Total      domain.Number
	Band       string
}

// Units lists units with their totals.
func Units(rows []UnitTotal) []Table {
	t := Table{Name: "หน่วยรับการประเมิน", Key: "units", Columns: []Column{
		{Key: "code", Title: "รหัส", Kind: Text, Width: 12},
		{Key: "name_th", Title: "ชื่อหน่วยงาน", Kind: Text, Width: 30},
		{Key: "name_en", Title: "ชื่อภาษาอังกฤษ", Kind: Text, Width: 30},
		{Key: "kind", Title: "ประเภท", Kind: Text, Width: 12},
		{Key: "region", Title: "ภาค", Kind: Text, Width: 12},
		{Key: "fiscal_year", Title: "ปีงบประมาณ", Kind: Year},
		{Key: "total", Title: "คะแนนรวม", Kind: Score},
		{Key: "band", Title: "ระดับ", Kind: Text},
	}}
	for _, u := range rows {
		var fy any
		if u.FiscalYear > 0 {
			fy = u.FiscalYear
		}
		t.Rows = append(t.Rows, []any{u.Code, u.NameTH, u.NameEN, string(u.Kind), u.Region, fy, u.Total, u.Band})
	}
	return []Table{t}
}

// Audit is a unit-year's audit trail: one row per event, the derivation
// of each score on a sheet of its own, and the rollup.
func Audit(a projections.AuditTrail) []Table {
	evs := Table{Name: "เหตุการณ์", Key: "events", Columns: []Column{
		{Key: "sequence", Title: "ลำดับในบันทึก", Kind: Integer},
		{Key: "recorded_at", Title: "บันทึกเมื่อ", Kind: Time},
		{Key: "occurred_at", Title: "เกิดขึ้นเมื่อ", Kind: Time},
		{Key: "type", Title: "ประเภทเหตุการณ์", Kind: Text, Width: 24},
		{Key: "aggregate_kind", Title: "ประเภทข้อมูล", Kind: Text, Width: 12},
		{Key: "aggregate_id", Title: "รหัสข้อมูล", Kind: Text, Width: 38},
		{Key: "aggregate_version", Title: "ฉบับที่", Kind: Integer, Width: 8},
		{Key: "actor", Title: "ผู้บันทึก", Kind: Text, Width: 24},
		{Key: "actor_role", Title: "บทบาท", Kind: Text, Width: 10},
		{Key: "command_id", Title: "รหัสคำสั่ง", Kind: Text, Width: 38},
		{Key: "correlation_id", Title: "รหัสอ้างอิง", Kind: Text, Width: 38},
		{Key: "hash", Title: "แฮช", Kind: Text, Width: 30},
		{Key: "prev_hash", Title: "แฮชก่อนหน้า", Kind: Text, Width: 30},
		{Key: "chain_ok", Title: "ห่วงโซ่ถูกต้อง", Kind: Bool},
		{Key: "chain_error", Title: "ข้อผิดพลาดของห่วงโซ่", Kind: Text},
		{Key: "data", Title: "ข้อมูลเหตุการณ์ (JSON)", Kind: Text, Width: 60},
	}}
	for _, e := range a.Events {
		var occurred any
		if !e.OccurredAt.IsZero() {
			occurred = e.OccurredAt
		}
		evs.Rows = append(evs.Rows, []any{e.Sequence, e.RecordedAt, occurred, e.Type, e.AggregateKind, e.AggregateID, e.AggregateVersion,
			e.Actor.Subject, string(e.Actor.Role), e.CommandID, e.CorrelationID, e.Hash, e.PrevHash, e.ChainOK, e.ChainError, string(e.Data)})
	}
	der := Table{Name: "ที่มาของคะแนน", Key: "derivations", Columns: []Column{
		{Key: "indicator_id", Title: "รหัสตัวชี้วัด", Kind: Text, Width: 38},
		{Key: "title_th", Title: "ชื่อตัวชี้วัด", Kind: Text, Width: 40},
		{Key: "component", Title: "องค์ประกอบ", Kind: Text, Width: 10},
		{Key: "framework_revision", Title: "กรอบฉบับที่", Kind: Integer},
		{Key: "framework_sequence", Title: "ลำดับเหตุการณ์กรอบ", Kind: Integer},
		{Key: "direction", Title: "ทิศทาง", Kind: Text, Width: 10},
		{Key: "levels", Title: "เป้าหมายรายระดับ", Kind: Text, Width: 40},
		{Key: "round", Title: "รอบ", Kind: Integer, Width: 8},
		{Key: "reported_actual", Title: "ผลที่รายงาน", Kind: Decimal},
		{Key: "report_sequence", Title: "ลำดับเหตุการณ์รายงาน", Kind: Integer},
		{Key: "verification", Title: "ผลการตรวจสอบ", Kind: Text, Width: 12},
		{Key: "verification_sequence", Title: "ลำดับเหตุการณ์ตรวจสอบ", Kind: Integer},
		{Key: "value_used", Title: "ค่าที่ใช้คำนวณ", Kind: Decimal},
		{Key: "formula", Title: "สูตร", Kind: Text, Width: 40},
		{Key: "score", Title: "คะแนน", Kind: Score},
		{Key: "weight", Title: "น้ำหนัก", Kind: Decimal},
		{Key: "weighted_score", Title: "คะแนนถ่วงน้ำหนัก", Kind: Score},
		{Key: "steps", Title: "ขั้นตอนการคำนวณ", Kind: Text, Width: 80},
	}}
	for _, d := range a.Derivations {
		levels := make([]string, len(d.Levels))
		for i, l := range d.Levels {
			levels[i] = l.Label + " (" + string(l.Score) + "): " + string(l.Target)
		}
		row := []any{d.IndicatorID, d.TitleTH, d.Component, d.Framework.Revision, d.Framework.EventSequence, string(d.Direction), strings.Join(levels, "\n")}
		if r := d.Report; r != nil {
			row = append(row, r.Round, r.Actual, r.Sequence)
		} else {
			row = append(row, nil, nil, nil)
		}
		if v := d.Verification; v != nil {
			row = append(row, v.Decision, v.Sequence)
		} else {
			row = append(row, nil, nil)
		}
		row = append(row, d.ValueUsed, d.Formula, d.Score, d.Weight, d.WeightedScore, strings.Join(d.Steps, "\n"))
		der.Rows = append(der.Rows, row)
	}
	sum := summary("สรุป",
		[]any{"unit", a.Unit}, []any{"unit_name_th", a.UnitNameTH}, []any{"fiscal_year", a.FiscalYear},
		[]any{"unit_kind", string(a.UnitKind)}, []any{"chain_intact", a.ChainIntact},
		[]any{"rollup", string(a.Total.Rollup)}, []any{"formula", a.Total.Formula},
		[]any{"total", a.Total.Total}, []any{"band", a.Total.Band},
	)
	sum.Columns[1].Kind = Decimal
	return []Table{evs, der, sum}
}

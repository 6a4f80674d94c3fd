package demo

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"

	"github.com/opdc/kpiledger/domain"
)

// randomDraft is one indicator drawn from a template: targets around the
// unit's own baseline for the year, a result drawn from how the unit tends
// to do, and now and then the untidy parts of a real cycle.
func (g *gen) randomDraft(u *unitCtx, fy int, comp, weight string, t template, r *rand.Rand) draft {
	levels := len(g.framework(fy, u.unit.Kind).Scheme.Levels)
	base, step, targets := g.yearTargets(u, t, fy, levels, r)
	spec := domain.IndicatorSpec{Component: comp, TitleTH: t.titleTH, TitleEN: t.titleEN, Measure: t.measure, Direction: t.dir,
		Weight: domain.Number(weight), Baseline: num(base, t.dec), Targets: nums(targets, t.dec)}
	x := drawActual(u, t, fy, targets, step, r)
	d := draft{t: t, spec: spec, rounds: randomRounds(u, t, fy, comp, base, step, x, r)}
	if r.Float64() < 0.08 {
		sendBack(&d, step, r)
	}
	return d
}

// fixedDraft is an indicator whose targets OPDC sets for every unit (PMQA
// 4.0, digital organisation, FY2561's innovation stage).
func (g *gen) fixedDraft(u *unitCtx, fy int, comp, weight string, t template, targets []int64, step int64, r *rand.Rand) draft {
	spec := domain.IndicatorSpec{Component: comp, TitleTH: t.titleTH, TitleEN: t.titleEN, Measure: t.measure, Direction: t.dir,
		Weight: domain.Number(weight), Targets: nums(targets, t.dec)}
	x := drawActual(u, t, fy, targets, step, r)
	return draft{t: t, spec: spec, rounds: randomRounds(u, t, fy, comp, targets[0]-sign(t.dir)*step, step, x, r)}
}

// yearTargets places a unit's targets for a year: the unit's baseline for
// the template (stable across years, drifting as the unit improves), then
// one level per step beyond it. Five levels sit closer together than three
// so that both schemes span about the same range of results.
func (g *gen) yearTargets(u *unitCtx, t template, fy, levels int, r *rand.Rand) (base, step int64, targets []int64) {
	pr := g.rng("params", u.unit.Code, t.key)
	base = drawUnits(pr, t.base[0], t.base[1], t.dec)
	step = max(1, drawUnits(pr, t.step[0], t.step[1], t.dec))
	base += int64(math.Round(t.drift * float64(step) * float64(fy-2562)))
	if sb, ok := t.shockBase[fy]; ok {
		base = drawUnits(r, sb[0], sb[1], t.dec)
	}
	if levels > 3 {
		step = max(1, step*3/5)
	}
	s := sign(t.dir)
	n := int64(levels)
	if c := toUnits(t.cap, t.dec); t.cap > 0 && s > 0 && base+n*step > c {
		base = c - n*step - step/2
	}
	if s < 0 && base-n*step <= 0 {
		step = max(1, base/(n+1))
	}
	for k := int64(1); k <= n; k++ {
		targets = append(targets, base+s*k*step)
	}
	return base, step, targets
}

// drawActual draws a year's result: the crisis value in a shock year,
// otherwise below, between or beyond the levels with odds shifted by how
// well the unit tends to do.
func drawActual(u *unitCtx, t template, fy int, targets []int64, step int64, r *rand.Rand) int64 {
	if sh, ok := t.shock[fy]; ok {
		return drawUnits(r, sh[0], sh[1], t.dec)
	}
	if t.dir == domain.DirectionMilestone {
		return int64(2 + r.IntN(4)) // steps 2 to 5 of 5
	}
	n, s := len(targets), sign(t.dir)
	std := n / 2
	between := func(a, b int64) int64 {
		d := b - a
		if d < 0 {
			d = -d
		}
		return a + s*int64(r.Float64()*float64(d))
	}
	var x int64
	switch q := r.Float64() + u.bias; {
	case q < 0.08:
		x = targets[0] - s*(max(1, step/5)+r.Int64N(step+1))
	case q < 0.28:
		x = between(targets[0], targets[std])
	case q < 0.35:
		x = targets[std]
	case q < 0.62:
		x = between(targets[std], targets[n-1])
	default:
		x = targets[n-1] + s*r.Int64N(step+1)
	}
	return clampValue(t, x)
}

// clampValue keeps counts, rates and shares from going below zero and
// shares from exceeding their cap.
func clampValue(t template, x int64) int64 {
	if (t.cap > 0 || t.dir == domain.DirectionDown) && x < 0 {
		x = 0
	}
	if c := toUnits(t.cap, t.dec); t.cap > 0 && x > c {
		x = c
	}
	return x
}

// randomRounds are a drawn indicator's reports: a six-month one for the
// provinces' FY2563 Performance Base (part of the way from the baseline),
// then the year's, which is now and then late, corrected before
// verification, or adjusted by OPDC.
func randomRounds(u *unitCtx, t template, fy int, comp string, base, step, x int64, r *rand.Rand) []roundPlan {
	var out []roundPlan
	if u.unit.Kind == domain.KindProvince && fy == 2563 && comp == compPerformance {
		x6 := base + int64(math.Round(float64(x-base)*(0.45+0.35*r.Float64())))
		if _, shocked := t.shock[fy]; shocked {
			x6 = int64(math.Round(float64(x) * (0.15 + 0.25*r.Float64())))
		}
		out = append(out, roundPlan{round: 6, reports: []domain.Number{num(clampValue(t, x6), t.dec)}})
	}
	rp := roundPlan{round: 12, reports: []domain.Number{num(x, t.dec)}}
	switch p := r.Float64(); {
	case p < 0.04:
		rp.late = true
	case p < 0.07:
		// A slip in the first report, corrected before OPDC looked at it.
		slip := max(1, step/3)
		if r.IntN(2) == 0 {
			slip = -slip
		}
		if first := clampValue(t, x+slip); first != x {
			rp.reports = []domain.Number{num(first, t.dec), num(x, t.dec)}
		}
	case p < 0.11:
		// The evidence supports a little less than was reported.
		if v := clampValue(t, x-sign(t.dir)*max(1, step/3)); v != x {
			rp.adjustTo, rp.adjustWhy = string(num(v, t.dec)), adjustments[r.IntN(len(adjustments))]
		}
	}
	return append(out, rp)
}

// sendBack makes OPDC return the first proposal: its targets were too easy
// (one step short of the ones finally approved), or it lacked the formula
// and data source the revision adds.
func sendBack(d *draft, step int64, r *rand.Rand) {
	sb := sendBacks[r.IntN(len(sendBacks))]
	first := d.spec
	first.Targets = slices.Clone(d.spec.Targets)
	if sb.harder {
		shift := new(big.Rat).Mul(num(step, d.t.dec).Rat(), big.NewRat(sign(d.t.dir), 1))
		for i, t := range first.Targets {
			first.Targets[i] = domain.NumberFromRat(new(big.Rat).Sub(t.Rat(), shift), d.t.dec)
		}
	} else {
		d.spec.Rationale = fmt.Sprintf("สูตรการคำนวณ: %s คำนวณจากข้อมูล ณ วันที่ 30 กันยายน ของปีงบประมาณ; แหล่งข้อมูล: %s", d.t.titleTH, d.t.source)
	}
	d.first, d.sendBack, d.reason = &first, sb.comment, sb.reason
}

// chiangMai2563 is Chiang Mai's FY2563, the README's scorecard, worked out
// by hand in the tests. Component mean of Performance Base and Potential
// Base, three levels; rounds 6 and 12 (the nine-month round was dropped).
func chiangMai2563() []draft {
	hot, eld := seriesByKey("TH-50", "hotspot"), seriesByKey("TH-50", "elderly")
	tourism := provinceTemplate("tourism")
	tourismSpec := func(targets ...string) *domain.IndicatorSpec {
		return &domain.IndicatorSpec{Component: compPerformance, TitleTH: tourism.titleTH, TitleEN: tourism.titleEN, Measure: tourism.measure,
			Direction: domain.DirectionUp, Weight: "30", Baseline: "4.5", Targets: numbers(targets...)}
	}
	return []draft{
		{t: hot.t, spec: seriesSpec(hot, 2563, "40"), rounds: []roundPlan{ // targets 2400/2200/2000
			{round: 6, reports: numbers("2380"), obstacles: []string{
				"ช่วงเดือนกุมภาพันธ์–มีนาคม 2563 สภาพอากาศแห้งแล้งกว่าค่าเฉลี่ย ไฟป่าลุกลามในพื้นที่สูงชันที่เจ้าหน้าที่เข้าถึงได้ยาก"}},
			{round: 12, reports: numbers("2330"), obstacles: []string{
				"ปี 2563 แล้งจัดและมีหมอกควันข้ามแดน จุดความร้อนจึงยังสูงกว่าค่าเป้าหมายระดับมาตรฐาน แม้จะลดลงจากปีฐาน 2,500 จุด"}},
		}},
		{t: eld.t, spec: seriesSpec(eld, 2563, "30"), rounds: []roundPlan{ // targets 72/74/76
			{round: 6, reports: numbers("73")},
			{round: 12, reports: numbers("74.6", "75")}, // corrected from the LTC system before verification
		}},
		{t: tourism, spec: *tourismSpec("3", "5", "7"), first: tourismSpec("2", "4", "6"),
			sendBack: "ค่าเป้าหมายต่ำกว่าแนวโน้มรายได้จากการท่องเที่ยวย้อนหลัง 3 ปี ขอให้ปรับให้ท้าทายขึ้น",
			reason:   "ปรับค่าเป้าหมายตามข้อเสนอแนะของสำนักงาน ก.พ.ร.",
			rounds: []roundPlan{
				{round: 6, reports: numbers("-12.5"), obstacles: []string{
					"นักท่องเที่ยวจีนลดลงตั้งแต่เดือนกุมภาพันธ์ 2563 จากสถานการณ์การแพร่ระบาดของโรคโควิด-19"}},
				{round: 12, reports: numbers("-48.2"), late: true, adjustTo: "-52.38",
					adjustWhy: "ปรับตามสถิติรายได้จากการท่องเที่ยวของกระทรวงการท่องเที่ยวและกีฬา ไตรมาสที่ 4/2563",
					obstacles: []string{"มาตรการควบคุมการแพร่ระบาดของโรคโควิด-19 ปิดการเดินทางเข้าประเทศตั้งแต่เดือนเมษายน 2563 นักท่องเที่ยวต่างชาติหายไปเกือบทั้งหมด"}},
			}},
		{t: pmqa, spec: domain.IndicatorSpec{Component: compPotential, TitleTH: pmqa.titleTH, TitleEN: pmqa.titleEN, Measure: pmqa.measure,
			Direction: domain.DirectionUp, Weight: "100", Targets: numbers("300", "350", "400")},
			rounds: []roundPlan{{round: 12, reports: numbers("362.5")}}},
	}
}

// chiangRai2564 is Chiang Rai's FY2564, worked out by hand in the tests:
// weighted, Performance Base 70 and Potential Base 30; one proposal
// rejected, one result rejected and reported again.
func chiangRai2564() []draft {
	tea := seriesByKey("TH-57", "tea-coffee")
	border := template{key: "border-trade", titleTH: "ร้อยละที่เพิ่มขึ้นของมูลค่าการค้าชายแดนและการค้าผ่านแดน", titleEN: "Growth in border and transit trade",
		measure: "ร้อยละ", dir: domain.DirectionUp, dec: 2, source: "สถิติการค้าชายแดน กรมการค้าต่างประเทศ"}
	projects := template{key: "projects", titleTH: "จำนวนโครงการพัฒนาจังหวัดที่ดำเนินการแล้วเสร็จตามแผน", titleEN: "Provincial development projects completed on plan",
		measure: "โครงการ", dir: domain.DirectionUp, source: "ระบบติดตามโครงการ สำนักงานจังหวัดเชียงราย"}
	dengue := provinceTemplate("dengue")
	spec := func(t template, comp, weight, baseline string, targets ...string) domain.IndicatorSpec {
		return domain.IndicatorSpec{Component: comp, TitleTH: t.titleTH, TitleEN: t.titleEN, Measure: t.measure, Direction: t.dir,
			Weight: domain.Number(weight), Baseline: domain.Number(baseline), Targets: numbers(targets...)}
	}
	return []draft{
		{t: border, spec: spec(border, compPerformance, "25", "1.5", "2", "4", "6"), rounds: []roundPlan{{round: 12, reports: numbers("4.5")}}},
		{t: tea.t, spec: seriesSpec(tea, 2564, "25"), rounds: []roundPlan{{round: 12, reports: numbers("45")}}}, // targets 42/44/46
		{t: dengue, spec: spec(dengue, compPerformance, "20", "85", "80", "70", "60"), rounds: []roundPlan{{round: 12, reports: numbers("68", "72.5"),
			rejectWhy: "ตัวเลขไม่ตรงกับรายงานการเฝ้าระวังโรค (รง. 506) ของสำนักงานสาธารณสุขจังหวัด ขอให้ตรวจสอบและรายงานใหม่"}}},
		{t: projects, spec: spec(projects, compPerformance, "10", "", "20", "25", "30"), fate: domain.DecisionReject,
			note: "เป็นตัวชี้วัดระดับกิจกรรม ไม่สะท้อนผลลัพธ์ที่เกิดกับประชาชน ขอให้ใช้ตัวชี้วัดเชิงผลลัพธ์แทน"},
		{t: digitalOrg, spec: spec(digitalOrg, compPotential, "15", "", "70", "80", "90"), rounds: []roundPlan{{round: 12, reports: numbers("85")}}},
		{t: pmqa, spec: spec(pmqa, compPotential, "15", "", "300", "350", "400"), rounds: []roundPlan{{round: 12, reports: numbers("410")}}},
	}
}

// cdd2564 is SPEC.md's department example: the Community Development
// Department's FY2564, five indicators weighted 20/25/25/15/15 on targets
// 98.72/98.84/98.90, verified at 98.94/98.87/98.84/98.80/98.95 — reached
// through an adjustment, a superseded report, a late report and a
// proposal sent back for revision.
func cdd2564() []draft {
	tpl := map[string]template{}
	for _, t := range departments[0].templates {
		tpl[t.key] = t
	}
	spec := func(t template, comp, weight string) domain.IndicatorSpec {
		return domain.IndicatorSpec{Component: comp, TitleTH: t.titleTH, TitleEN: t.titleEN, Measure: "ร้อยละ", Direction: domain.DirectionUp,
			Weight: domain.Number(weight), Targets: numbers("98.72", "98.84", "98.90")}
	}
	pmqaFirst := spec(pmqa, compPotential, "15")
	pmqaRevised := pmqaFirst
	pmqaRevised.Rationale = "ให้คะแนนตามผลการตรวจประเมิน PMQA 4.0 ทั้ง 7 หมวด แปลงเป็นร้อยละของคะแนนเต็ม"
	return []draft{
		{t: tpl["jpt"], spec: spec(tpl["jpt"], compPerformance, "20"), rounds: []roundPlan{{round: 12, reports: numbers("98.94")}}},
		{t: tpl["sufficiency"], spec: spec(tpl["sufficiency"], compPerformance, "25"), rounds: []roundPlan{{round: 12, reports: numbers("98.91"),
			adjustTo: "98.87", adjustWhy: "หลักฐานรองรับได้ร้อยละ 98.87 ตามฐานข้อมูลหมู่บ้านเศรษฐกิจพอเพียง ณ วันที่ 30 กันยายน 2564"}}},
		{t: tpl["funds"], spec: spec(tpl["funds"], compPerformance, "25"), rounds: []roundPlan{{round: 12, reports: numbers("98.82", "98.84"),
			obstacles: []string{"ข้อมูลกองทุนชุมชนบางแห่งยังไม่ได้บันทึกเข้าระบบ ณ วันที่รายงาน"}}}},
		{t: digitalOrg, spec: spec(digitalOrg, compPotential, "15"), rounds: []roundPlan{{round: 12, reports: numbers("98.80"), late: true,
			obstacles: []string{"งบประมาณถูกปรับลดกลางปี ทำให้จัดซื้อระบบล่าช้า"}}}},
		{t: pmqa, spec: pmqaRevised, first: &pmqaFirst, sendBack: "ขอให้ระบุเกณฑ์การให้คะแนนรายหมวดให้ชัดเจน",
			reason: "ระบุเกณฑ์การให้คะแนนตามข้อเสนอแนะของสำนักงาน ก.พ.ร.", rounds: []roundPlan{{round: 12, reports: numbers("98.95")}}},
	}
}

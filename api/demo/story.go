package demo

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// opdcAdmin publishes frameworks and registers departments.
var opdcAdmin = api.Principal{Subject: "evaluation.admin@opdc.go.th", Role: domain.RoleOPDC}

// reviewers are the OPDC officers who review each region's provinces;
// departments have their own.
var (
	reviewers = map[string]api.Principal{
		domain.RegionNorth:     ShowcaseOPDC,
		domain.RegionNortheast: {Subject: "reviewer.thanakorn@opdc.go.th", Role: domain.RoleOPDC},
		domain.RegionCentral:   {Subject: "reviewer.pimchanok@opdc.go.th", Role: domain.RoleOPDC},
		domain.RegionEast:      {Subject: "reviewer.arthit@opdc.go.th", Role: domain.RoleOPDC},
		domain.RegionWest:      {Subject: "reviewer.arthit@opdc.go.th", Role: domain.RoleOPDC},
		domain.RegionSouth:     {Subject: "reviewer.suchada@opdc.go.th", Role: domain.RoleOPDC},
	}
	departmentReviewer = api.Principal{Subject: "reviewer.kittipong@opdc.go.th", Role: domain.RoleOPDC}
)

// featuredOfficers are the officers of the provinces the README follows.
var featuredOfficers = map[string]string{
	"TH-50": ShowcaseUnit.Subject,
	"TH-57": "wanida.p@chiangrai.go.th",
	"TH-30": "prasert.t@nakhonratchasima.go.th",
}

// story is the whole demo, in the order it is written down (the plan is
// sorted by instant afterwards).
func (g *gen) story() {
	g.setupUnits()
	g.publishFrameworks()
	g.registerDepartments()
	g.chiangMaiInnovations()
	g.defineSeries()
	for fy := FirstYear; fy <= LastYear; fy++ {
		for _, p := range domain.Provinces() {
			g.provinceYear(p.Code, fy)
		}
		for _, d := range departments {
			g.departmentYear(d.code, fy)
		}
	}
}

func webSlug(nameEN string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(nameEN) {
		if unicode.IsLetter(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func (g *gen) setupUnits() {
	for _, p := range domain.Provinces() {
		r := g.rng("unit", p.Code)
		u := &unitCtx{unit: domain.Unit{Code: p.Code, Kind: domain.KindProvince, NameTH: p.NameTH, NameEN: p.NameEN, Region: p.Region},
			web: webSlug(p.NameEN) + ".go.th", reviewer: reviewers[p.Region], bias: (r.Float64()*2 - 1) * 0.12}
		sub := fmt.Sprintf("%s.%c@%s", givenNames[r.IntN(len(givenNames))], initials[r.IntN(len(initials))], u.web)
		if f, ok := featuredOfficers[p.Code]; ok {
			sub = f
		}
		u.officer = api.Principal{Subject: sub, Role: domain.RoleUnit, Unit: p.Code}
		for _, t := range provinceTemplates {
			if t.regions == nil || containsString(t.regions, p.Region) {
				u.templates = append(u.templates, t)
			}
		}
		r.Shuffle(len(u.templates), func(i, j int) { u.templates[i], u.templates[j] = u.templates[j], u.templates[i] })
		g.units[p.Code] = u
	}
	for _, d := range departments {
		r := g.rng("unit", d.code)
		g.units[d.code] = &unitCtx{unit: domain.Unit{Code: d.code, Kind: domain.KindDepartment, NameTH: d.nameTH, NameEN: d.nameEN},
			officer:  api.Principal{Subject: d.officer, Role: domain.RoleUnit, Unit: d.code},
			reviewer: departmentReviewer, web: d.web, templates: d.templates, bias: (r.Float64()*2 - 1) * 0.12}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// publishFrameworks publishes every year's two frameworks on the first
// working day of the fiscal year, and the one revision.
func (g *gen) publishFrameworks() {
	for fy := FirstYear; fy <= LastYear; fy++ {
		for i, kind := range []domain.UnitKind{domain.KindProvince, domain.KindDepartment} {
			f := framework(fy, kind)
			g.fw[fmt.Sprintf("%d/%s", fy, kind)] = f
			day := workday(fyDay(fy, time.October, 1))
			agg := fmt.Sprintf("fw.%d.%s", fy, kind)
			g.add(agg, Step{Name: agg + ".publish", At: time.Date(day.Year(), day.Month(), day.Day(), 9+i, 0, 0, 0, ict),
				Actor: opdcAdmin, Method: http.MethodPost, Path: "/v1/frameworks", Body: mustJSON(f),
				Status: http.StatusCreated, Version: 1, Type: events.TypeFrameworkPublished})
		}
	}
	f, reason := revisedFY2563Province()
	g.fw["2563/province"] = f
	g.add("fw.2563.province", Step{Name: "fw.2563.province.revise", At: time.Date(2020, time.April, 8, 10, 15, 0, 0, ict),
		Actor: opdcAdmin, Method: http.MethodPost, Path: "/v1/frameworks/2563/province/revisions",
		Body: mustJSON(api.FrameworkRevisionBody{Framework: f, Reason: reason}), IfMatch: 1,
		Status: http.StatusCreated, Version: 2, Type: events.TypeFrameworkRevised})
}

// registerDepartments registers the departments at the start of FY2562,
// the first year they are evaluated in the demo.
func (g *gen) registerDepartments() {
	for i, d := range departments {
		agg := "unit." + d.code
		g.add(agg, Step{Name: agg + ".register", At: time.Date(2018, time.October, 2, 13, 30+7*i, 0, 0, ict),
			Actor: opdcAdmin, Method: http.MethodPost, Path: "/v1/units",
			Body:   mustJSON(api.UnitBody{Code: d.code, Kind: domain.KindDepartment, NameTH: d.nameTH, NameEN: d.nameEN}),
			Status: http.StatusCreated, Version: 1, Type: events.TypeDepartmentRegistered})
	}
}

// chiangMaiInnovations is Chiang Mai's FY2561 Innovation Base: outlines
// from six agencies, four sent to OPDC (one taken back), two accepted and
// one declined.
func (g *gen) chiangMaiInnovations() {
	u := g.units["TH-50"]
	r := g.rng("innovations", u.unit.Code)
	outlines := []struct {
		title, agency, kind, summary string
		selected, takenBack          bool
		decision, comment            string
	}{
		{"ระบบแจ้งเตือนไฟป่าและหมอกควันผ่านแอปพลิเคชันไลน์", "สำนักงานทรัพยากรธรรมชาติและสิ่งแวดล้อมจังหวัดเชียงใหม่", domain.InnovationService,
			"ส่งพิกัดจุดความร้อนจากดาวเทียมถึงผู้นำชุมชนและอาสาสมัครดับไฟป่าภายใน 15 นาที", true, false, domain.InnovationAccept, "นวัตกรรมตอบโจทย์ปัญหาหมอกควันของพื้นที่ เห็นควรขยายผลไปยังจังหวัดภาคเหนือตอนบน"},
		{"ศูนย์บริการร่วมภาครัฐแบบเบ็ดเสร็จ ณ ที่ว่าการอำเภอ", "ที่ทำการปกครองจังหวัดเชียงใหม่", domain.InnovationService,
			"รวมงานบริการทะเบียน บัตร และใบอนุญาตของหลายหน่วยงานไว้ที่จุดเดียวในระดับอำเภอ", true, false, domain.InnovationAccept, "ลดระยะเวลาและค่าเดินทางของประชาชนได้จริง"},
		{"ธนาคารขยะชุมชนเพื่อสวัสดิการผู้สูงอายุ", "สำนักงานพัฒนาชุมชนจังหวัดเชียงใหม่", domain.InnovationManagement,
			"นำรายได้จากการคัดแยกขยะเข้ากองทุนสวัสดิการผู้สูงอายุของหมู่บ้าน", true, false, domain.InnovationDecline, "ยังไม่มีผลการดำเนินงานเชิงประจักษ์ ขอให้ทดลองดำเนินการให้ครบหนึ่งปีแล้วเสนอใหม่"},
		{"การบริหารงานบุคคลแบบดิจิทัลของส่วนราชการประจำจังหวัด", "สำนักงานจังหวัดเชียงใหม่", domain.InnovationManagement,
			"ย้ายงานลา การประเมินผล และทะเบียนประวัติของข้าราชการในจังหวัดไปไว้บนระบบเดียว", true, true, "", ""},
		{"ตลาดออนไลน์สินค้าเกษตรปลอดภัยเชียงใหม่", "สำนักงานเกษตรจังหวัดเชียงใหม่", domain.InnovationService,
			"เชื่อมเกษตรกรที่ได้รับรองมาตรฐาน GAP กับผู้ซื้อในเมืองผ่านร้านค้าออนไลน์", false, false, "", ""},
		{"แผนที่ความเสี่ยงน้ำท่วมฉับพลันและดินโคลนถล่มระดับตำบล", "สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัดเชียงใหม่", domain.InnovationPolicy,
			"ใช้ข้อมูลปริมาณฝนและความลาดชันจัดทำแผนที่เสี่ยงภัยเพื่อการอพยพล่วงหน้า", false, false, "", ""},
	}
	for k, o := range outlines {
		ref := fmt.Sprintf("TH-50.2561.n%d", k+1)
		at := within(r, fyDay(2561, time.November, 1), fyDay(2561, time.November, 30))
		g.add(ref, Step{Name: ref + ".propose", At: at, Actor: u.officer, Method: http.MethodPost, Path: "/v1/units/TH-50/years/2561/innovations",
			Body:   mustJSON(api.InnovationBody{TitleTH: o.title, Agency: o.agency, Kind: o.kind, Summary: o.summary}),
			Status: http.StatusCreated, Version: 1, Saves: ref, Type: events.TypeInnovationProposed})
		if !o.selected {
			continue
		}
		at = later(after(r, at, 3, 10), within(r, fyDay(2561, time.December, 4), fyDay(2561, time.December, 15)))
		g.add(ref, Step{Name: ref + ".select", At: at, Actor: u.officer, Method: http.MethodPost, Path: "/v1/innovations/${" + ref + "}/selection",
			Body: mustJSON(selection(true)), IfMatch: 1, Status: http.StatusOK, Version: 2, Type: events.TypeInnovationSelected})
		if o.takenBack {
			g.add(ref, Step{Name: ref + ".unselect", At: after(r, at, 5, 12), Actor: u.officer, Method: http.MethodPost, Path: "/v1/innovations/${" + ref + "}/selection",
				Body: mustJSON(selection(false)), IfMatch: 2, Status: http.StatusOK, Version: 3, Type: events.TypeInnovationSelected})
			continue
		}
		at = later(after(r, at, 20, 40), within(r, fyDay(2561, time.January, 15), fyDay(2561, time.February, 28)))
		g.add(ref, Step{Name: ref + ".review", At: at, Actor: u.reviewer, Method: http.MethodPost, Path: "/v1/innovations/${" + ref + "}/review",
			Body: mustJSON(api.ReviewBody{Decision: o.decision, Comment: o.comment}), IfMatch: 2, Status: http.StatusOK, Version: 3, Type: events.TypeInnovationReviewed})
	}
}

// seriesPlan is a scripted long-term series and the verified actual of
// each year's indicator in it.
type seriesPlan struct {
	unit, key   string
	t           template
	baseline    string
	start, end  int
	targets     map[int]string
	step        string // distance between the yearly indicator's levels
	actuals     map[int]string
	late        map[int]bool
	defined     time.Time
	performance string // the yearly indicator's weight
}

// seriesPlans are the long-term series of the provinces the README follows:
// Chiang Mai's haze (not on track: the 2023 haze season undid two good
// years) and elderly care (on track), Chiang Rai's certified tea and
// coffee (on track, two years still to go) and Nakhon Ratchasima's jasmine
// rice yield (not on track after the FY2564 drought).
var seriesPlans = []seriesPlan{
	{unit: "TH-50", key: "hotspot", t: provinceTemplate("hotspot"), baseline: "2500", start: 2563, end: 2567,
		targets: map[int]string{2563: "2200", 2564: "1900", 2565: "1600", 2566: "1300", 2567: "1000"}, step: "200",
		actuals: map[int]string{2564: "1850", 2565: "1480", 2566: "1720", 2567: "1150"}, late: map[int]bool{2566: true},
		defined: time.Date(2019, time.October, 7, 10, 20, 0, 0, ict), performance: "20"},
	{unit: "TH-50", key: "elderly", t: provinceTemplate("elderly"), baseline: "70", start: 2563, end: 2567,
		targets: map[int]string{2563: "74", 2564: "78", 2565: "82", 2566: "86", 2567: "90"}, step: "2",
		actuals: map[int]string{2564: "79.1", 2565: "82.6", 2566: "86.4", 2567: "90.3"},
		defined: time.Date(2019, time.October, 8, 14, 5, 0, 0, ict), performance: "20"},
	{unit: "TH-57", key: "tea-coffee", t: template{key: "tea-coffee", titleTH: "ร้อยละของพื้นที่ปลูกชาและกาแฟที่ได้รับรองมาตรฐานการปฏิบัติทางการเกษตรที่ดี (GAP)",
		titleEN: "Tea and coffee plantations certified to Good Agricultural Practice", measure: "ร้อยละ", dir: domain.DirectionUp, dec: 2, cap: 100,
		source:    "ระบบรับรองมาตรฐานสินค้าเกษตร สำนักงานเกษตรจังหวัดเชียงราย",
		obstacles: []string{"เกษตรกรบนพื้นที่สูงบางส่วนยังไม่มีเอกสารสิทธิ์ในที่ดิน จึงยื่นขอรับรองมาตรฐานไม่ได้"}},
		baseline: "40", start: 2564, end: 2568,
		targets: map[int]string{2564: "44", 2565: "48", 2566: "52", 2567: "56", 2568: "60"}, step: "2",
		actuals: map[int]string{2564: "45", 2565: "49.2", 2566: "53", 2567: "57.1"},
		defined: time.Date(2020, time.October, 6, 11, 0, 0, 0, ict), performance: "25"},
	{unit: "TH-30", key: "jasmine-rice", t: template{key: "jasmine-rice", titleTH: "ผลผลิตข้าวหอมมะลิเฉลี่ยต่อไร่", titleEN: "Average jasmine rice yield",
		measure: "กิโลกรัมต่อไร่", dir: domain.DirectionUp, dec: 0, source: "ข้อมูลผลผลิตข้าวหอมมะลิ สำนักงานเกษตรจังหวัดนครราชสีมา",
		obstacles: []string{"ภาวะฝนทิ้งช่วงนานกว่า 40 วันในระยะข้าวตั้งท้อง นาข้าวนอกเขตชลประทานเสียหาย"}},
		baseline: "350", start: 2564, end: 2567,
		targets: map[int]string{2564: "360", 2565: "370", 2566: "380", 2567: "390"}, step: "10",
		actuals: map[int]string{2564: "352", 2565: "366", 2566: "371", 2567: "378"},
		defined: time.Date(2020, time.October, 7, 9, 45, 0, 0, ict), performance: "25"},
}

func provinceTemplate(key string) template {
	for _, t := range provinceTemplates {
		if t.key == key {
			return t
		}
	}
	panic("demo: no province template " + key)
}

func (sp seriesPlan) ref() string { return "series." + sp.unit + "." + sp.key }

func (g *gen) defineSeries() {
	for _, sp := range seriesPlans {
		u := g.units[sp.unit]
		body := api.SeriesBody{TitleTH: sp.t.titleTH, TitleEN: sp.t.titleEN, Measure: sp.t.measure, Direction: sp.t.dir,
			Baseline: domain.Number(sp.baseline), StartYear: sp.start, EndYear: sp.end, Targets: map[string]domain.Number{}}
		for y, t := range sp.targets {
			body.Targets[strconv.Itoa(y)] = domain.Number(t)
		}
		s := &series{ref: sp.ref(), u: u, body: body}
		g.series = append(g.series, s)
		g.add(s.ref, Step{Name: s.ref + ".define", At: sp.defined, Actor: u.officer, Method: http.MethodPost,
			Path: "/v1/units/" + sp.unit + "/series", Body: mustJSON(body), Status: http.StatusCreated, Version: 1, Saves: s.ref,
			Type: events.TypeSeriesDefined})
	}
}

// seriesSpec is a year's indicator of a series: its standard level is the
// series' target for that year, the other levels one step either side.
func seriesSpec(sp seriesPlan, fy int, weight string, targets ...string) domain.IndicatorSpec {
	if targets == nil {
		t := domain.Number(sp.targets[fy]).Rat()
		step := domain.Number(sp.step).Rat()
		lo, hi := new(big.Rat).Sub(t, step), new(big.Rat).Add(t, step)
		if sp.t.dir == domain.DirectionDown {
			lo, hi = hi, lo
		}
		targets = []string{domain.FormatRat(lo, sp.t.dec), sp.targets[fy], domain.FormatRat(hi, sp.t.dec)}
	}
	return domain.IndicatorSpec{Component: compPerformance, TitleTH: sp.t.titleTH, TitleEN: sp.t.titleEN, Measure: sp.t.measure,
		Direction: sp.t.dir, Weight: domain.Number(weight), Baseline: domain.Number(sp.baseline), Targets: numbers(targets...),
		SeriesID: "${" + sp.ref() + "}"}
}

func numbers(vs ...string) []domain.Number {
	out := make([]domain.Number, len(vs))
	for i, v := range vs {
		out[i] = domain.Number(v)
	}
	return out
}

// seriesDrafts are a unit-year's indicators that belong to its series
// (those years the demo does not script in full).
func (g *gen) seriesDrafts(unit string, fy int) []draft {
	var out []draft
	for _, sp := range seriesPlans {
		v, ok := sp.actuals[fy]
		if sp.unit != unit || !ok {
			continue
		}
		out = append(out, draft{t: sp.t, spec: seriesSpec(sp, fy, sp.performance),
			rounds: []roundPlan{{round: 12, reports: numbers(v), late: sp.late[fy]}}})
	}
	return out
}

func seriesByKey(unit, key string) seriesPlan {
	for _, sp := range seriesPlans {
		if sp.unit == unit && sp.key == key {
			return sp
		}
	}
	panic("demo: no series " + unit + "/" + key)
}

// provinceYear writes one province's fiscal year: FY2561 only for the
// three provinces the README follows, every province from FY2562 on.
func (g *gen) provinceYear(code string, fy int) {
	u := g.units[code]
	r := g.rng("year", code, fy)
	_, featured := featuredOfficers[code]
	switch {
	case fy == 2561:
		if featured {
			g.play(u, fy, g.fiveComponentYear(u, fy, r))
		}
		return
	case code == "TH-50" && fy == 2563:
		g.play(u, fy, chiangMai2563())
		return
	case code == "TH-57" && fy == 2564:
		g.play(u, fy, chiangRai2564())
		return
	}
	fixed := g.seriesDrafts(code, fy)
	skip := map[string]bool{}
	for _, sp := range seriesPlans {
		if sp.unit == code {
			skip[sp.t.key] = true
		}
	}
	var withdrawn []draft
	if code == "TH-30" && fy == 2563 {
		// Nakhon Ratchasima takes back an indicator another agency
		// already answers for, before OPDC reviews it.
		t := provinceTemplate("water")
		d := g.randomDraft(u, fy, compPerformance, "30", t, r)
		d.first, d.fate, d.note, d.rounds = nil, "withdraw", "ซ้ำซ้อนกับตัวชี้วัดของการประปาส่วนภูมิภาคเขต 2 จังหวัดจะเสนอตัวชี้วัดด้านผลผลิตข้าวแทน", nil
		withdrawn = append(withdrawn, d)
		skip[t.key] = true
	}
	n := performanceCount(fy, r)
	if code == "TH-50" {
		n = 4 // two series and two more
	}
	n = max(n, len(fixed)+1)
	weights := performanceWeights(fy, n)
	for i := range fixed {
		fixed[i].spec.Weight = domain.Number(weights[i])
	}
	drafts := append(withdrawn, fixed...)
	drafts = append(drafts, g.fillers(u, fy, weights[len(fixed):], skip, r)...)
	drafts = append(drafts, g.potentialDrafts(u, fy, r)...)
	g.play(u, fy, drafts)
}

// departmentYear writes one department's fiscal year, FY2562 on.
func (g *gen) departmentYear(code string, fy int) {
	if fy < 2562 {
		return
	}
	u := g.units[code]
	if code == "cdd" && fy == 2564 {
		g.play(u, fy, cdd2564())
		return
	}
	r := g.rng("year", code, fy)
	n := min(performanceCount(fy, r), len(u.templates))
	drafts := g.fillers(u, fy, performanceWeights(fy, n), nil, r)
	drafts = append(drafts, g.potentialDrafts(u, fy, r)...)
	g.play(u, fy, drafts)
}

// performanceCount is how many Performance Base indicators a unit proposes:
// 2–3 in FY2562, 2–4 in FY2563, 3–5 from FY2564 (the framework's range).
func performanceCount(fy int, r *rand.Rand) int {
	switch fy {
	case 2562:
		return 2 + r.IntN(2)
	case 2563:
		return 2 + r.IntN(3)
	}
	return 3 + r.IntN(3)
}

// performanceWeights are the Performance Base weights: 70 in all from
// FY2564 (weighted rollup), 100 within the component before (component
// mean).
func performanceWeights(fy, n int) []string {
	if fy >= 2564 {
		return map[int][]string{3: {"25", "25", "20"}, 4: {"20", "20", "15", "15"}, 5: {"15", "15", "15", "15", "10"}}[n]
	}
	return map[int][]string{1: {"100"}, 2: {"50", "50"}, 3: {"40", "30", "30"}, 4: {"25", "25", "25", "25"}}[n]
}

// fillers are a unit-year's own Performance Base indicators, drawn from the
// unit's preferred templates; the preference shifts a little each year, so
// most indicators recur and year-over-year comparisons can match them.
func (g *gen) fillers(u *unitCtx, fy int, weights []string, skip map[string]bool, r *rand.Rand) []draft {
	var out []draft
	offset := (fy - FirstYear) % 3
	for i := 0; i < len(u.templates) && len(out) < len(weights); i++ {
		t := u.templates[(offset+i)%len(u.templates)]
		if skip[t.key] {
			continue
		}
		out = append(out, g.randomDraft(u, fy, compPerformance, weights[len(out)], t, r))
	}
	return out
}

// potentialDrafts are the Potential Base indicators every unit carries:
// PMQA 4.0 alone until FY2563, digital organisation 15 + PMQA 4.0 15 after.
func (g *gen) potentialDrafts(u *unitCtx, fy int, r *rand.Rand) []draft {
	if fy >= 2564 {
		return []draft{
			g.fixedDraft(u, fy, compPotential, "15", digitalOrg, []int64{700, 800, 900}, 100, r),
			g.fixedDraft(u, fy, compPotential, "15", pmqa, []int64{3000, 3500, 4000}, 500, r),
		}
	}
	if fy == 2562 {
		return []draft{g.fixedDraft(u, fy, compPotential, "100", pmqa, []int64{2500, 2750, 3000, 3250, 3500}, 250, r)}
	}
	return []draft{g.fixedDraft(u, fy, compPotential, "100", pmqa, []int64{3000, 3500, 4000}, 500, r)}
}

// fiveComponentYear is FY2561 for a featured province: one indicator in each
// of the five components, scored on the five levels.
func (g *gen) fiveComponentYear(u *unitCtx, fy int, r *rand.Rand) []draft {
	var general, regional []template
	for _, t := range u.templates {
		switch {
		case t.key == "poverty": // the Agenda Base indicator below
		case t.regions == nil:
			general = append(general, t)
		default:
			regional = append(regional, t)
		}
	}
	area := general[2]
	if len(regional) > 0 {
		area = regional[0]
	}
	return []draft{
		g.randomDraft(u, fy, compFunction, "20", general[0], r),
		g.randomDraft(u, fy, compAgenda, "30", provinceTemplate("poverty"), r),
		g.randomDraft(u, fy, compArea, "20", area, r),
		g.fixedDraft(u, fy, compInnovation, "10", innovationStage, []int64{1, 2, 3, 4, 5}, 1, r),
		g.fixedDraft(u, fy, compPotential, "20", pmqa, []int64{2500, 2750, 3000, 3250, 3500}, 250, r),
	}
}

// selection is the body that sends an outline to OPDC (true) or takes it
// back (false).
func selection(send bool) api.SelectionBody { return api.SelectionBody{Selected: &send} }

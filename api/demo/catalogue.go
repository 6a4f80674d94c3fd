package demo

import "github.com/opdc/kpiledger/domain"

// template is a kind of indicator a unit may propose, with the ranges its
// numbers plausibly fall in. Values are drawn in whole units of the
// template's last decimal place, so that every number the demo sends is
// exact (no binary-float noise reaches the ledger).
type template struct {
	key     string // short name, used in idempotency keys and evidence links
	titleTH string
	titleEN string
	measure string
	dir     domain.Direction
	// regions limits a province template to these regions (nil: all).
	regions []string
	base    [2]float64 // the baseline's range
	step    [2]float64 // the distance between two criteria levels
	dec     int        // decimals of every value
	cap     float64    // no value exceeds it (100 for a share); 0: none
	// drift is how far, in steps, the baseline moves each year as the
	// unit improves (negative values make a "down" measure fall).
	drift float64
	// source names where the evidence of a result comes from.
	source string
	// obstacles are this indicator's own reasons for a missed target.
	obstacles []string
	// shock overrides the actual in years a crisis decided the result
	// (COVID-19 for tourism and the economy): fiscal year → range.
	shock map[int][2]float64
	// shockBase overrides the baseline in years the targets were set
	// knowing the crisis: fiscal year → range.
	shockBase map[int][2]float64
}

// provinceTemplates are the indicators provinces choose from: the issues
// provincial development plans actually target.
var provinceTemplates = []template{
	{key: "tourism", titleTH: "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว", titleEN: "Growth in tourism income",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{3, 6}, step: [2]float64{1, 2}, dec: 2, drift: 0.2,
		source:    "สถิติรายได้จากการท่องเที่ยว กระทรวงการท่องเที่ยวและกีฬา",
		obstacles: []string{"กำลังซื้อของนักท่องเที่ยวชะลอตัวตามภาวะเศรษฐกิจ และเที่ยวบินตรงจากต่างประเทศลดลง"},
		shock: map[int][2]float64{
			2563: {-75, -40}, // the country closed in April 2020
			2564: {-70, -35},
			2565: {60, 140}, // reopening: far above any pre-pandemic target
		},
		shockBase: map[int][2]float64{2564: {-45, -35}}},
	{key: "otop", titleTH: "ร้อยละที่เพิ่มขึ้นของมูลค่าการจำหน่ายผลิตภัณฑ์ชุมชนท้องถิ่น (OTOP)", titleEN: "Growth in OTOP sales",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{4, 8}, step: [2]float64{1, 2}, dec: 2, drift: 0.2,
		source:    "ระบบข้อมูลผู้ผลิตผู้ประกอบการ OTOP กรมการพัฒนาชุมชน",
		obstacles: []string{"กำลังซื้อของประชาชนลดลง และงานแสดงสินค้า OTOP ระดับภาคถูกเลื่อนออกไป"},
		shock:     map[int][2]float64{2563: {-18, -4}}},
	{key: "poverty", titleTH: "ร้อยละของครัวเรือนยากจนเป้าหมายตามระบบ TPMAP ที่ได้รับการช่วยเหลือจนพ้นเกณฑ์ความยากจน",
		titleEN: "TPMAP poor households lifted above the poverty line", measure: "ร้อยละ", dir: domain.DirectionUp,
		base: [2]float64{55, 68}, step: [2]float64{4, 7}, dec: 2, cap: 100, drift: 0.5,
		source:    "ระบบบริหารจัดการข้อมูลการพัฒนาคนแบบชี้เป้า (TPMAP)",
		obstacles: []string{"ครัวเรือนเป้าหมายบางส่วนย้ายถิ่นไปทำงานนอกพื้นที่ ติดตามให้ความช่วยเหลือได้ไม่ต่อเนื่อง"}},
	{key: "hotspot", titleTH: "จำนวนจุดความร้อน (Hotspot) สะสมในช่วงฤดูหมอกควัน", titleEN: "Accumulated hotspots in the haze season",
		measure: "จุด", dir: domain.DirectionDown, regions: []string{domain.RegionNorth},
		base: [2]float64{900, 2600}, step: [2]float64{60, 150}, dec: 0, drift: -0.5,
		source: "ข้อมูลจุดความร้อนจากดาวเทียม VIIRS สำนักงานพัฒนาเทคโนโลยีอวกาศและภูมิสารสนเทศ (GISTDA)",
		obstacles: []string{
			"สภาพอากาศแห้งแล้งและอุณหภูมิสูงกว่าค่าเฉลี่ย ไฟป่าลุกลามในพื้นที่สูงชันที่เจ้าหน้าที่เข้าถึงได้ยาก",
			"มีการลักลอบเผาในพื้นที่เกษตร และหมอกควันข้ามแดนจากประเทศเพื่อนบ้าน"}},
	{key: "pm25", titleTH: "จำนวนวันที่ค่าฝุ่นละอองขนาดไม่เกิน 2.5 ไมครอน (PM2.5) เกินค่ามาตรฐาน", titleEN: "Days with PM2.5 above the standard",
		measure: "วัน", dir: domain.DirectionDown, regions: []string{domain.RegionNorth, domain.RegionNortheast, domain.RegionCentral},
		base: [2]float64{40, 90}, step: [2]float64{4, 8}, dec: 0, drift: -0.3,
		source:    "สถานีตรวจวัดคุณภาพอากาศ กรมควบคุมมลพิษ",
		obstacles: []string{"สภาพอากาศปิด ลมสงบเป็นเวลานาน ทำให้ฝุ่นละอองสะสมในพื้นที่"}},
	{key: "water", titleTH: "ร้อยละของหมู่บ้านที่มีระบบประปาหมู่บ้านได้มาตรฐาน", titleEN: "Villages with a standard village water supply",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{70, 84}, step: [2]float64{2, 4}, dec: 2, cap: 100, drift: 0.5,
		source:    "ฐานข้อมูลระบบประปาหมู่บ้าน กรมทรัพยากรน้ำ",
		obstacles: []string{"แหล่งน้ำดิบไม่เพียงพอในช่วงฤดูแล้ง และการก่อสร้างระบบประปาบางแห่งล่าช้ากว่าแผน"}},
	{key: "rice", titleTH: "ผลผลิตข้าวนาปีเฉลี่ยต่อไร่", titleEN: "Average in-season rice yield",
		measure: "กิโลกรัมต่อไร่", dir: domain.DirectionUp, regions: []string{domain.RegionNortheast, domain.RegionCentral, domain.RegionNorth},
		base: [2]float64{360, 480}, step: [2]float64{8, 15}, dec: 0, drift: 0.4,
		source: "ข้อมูลผลผลิตรายจังหวัด สำนักงานเศรษฐกิจการเกษตร",
		obstacles: []string{
			"ภาวะฝนทิ้งช่วงในระยะข้าวตั้งท้อง ทำให้ผลผลิตต่อไร่ลดลง",
			"เกิดอุทกภัยในพื้นที่ลุ่มต่ำช่วงเดือนกันยายน นาข้าวเสียหายบางส่วน"}},
	{key: "dengue", titleTH: "อัตราป่วยด้วยโรคไข้เลือดออกต่อประชากรแสนคน", titleEN: "Dengue incidence per 100,000 population",
		measure: "ต่อแสนประชากร", dir: domain.DirectionDown, base: [2]float64{70, 130}, step: [2]float64{8, 15}, dec: 2, drift: -0.3,
		source:    "รายงานการเฝ้าระวังโรค (รง. 506) สำนักงานสาธารณสุขจังหวัด",
		obstacles: []string{"มีฝนตกชุกต่อเนื่อง ทำให้แหล่งเพาะพันธุ์ยุงลายเพิ่มขึ้นในชุมชนและสถานศึกษา"}},
	{key: "elderly", titleTH: "ร้อยละของผู้สูงอายุที่มีภาวะพึ่งพิงได้รับการดูแลตามแผนการดูแลรายบุคคล (Care Plan)",
		titleEN: "Dependent elderly cared for under an individual care plan", measure: "ร้อยละ", dir: domain.DirectionUp,
		base: [2]float64{76, 86}, step: [2]float64{2, 3}, dec: 2, cap: 100, drift: 0.5,
		source:    "โปรแกรมการดูแลระยะยาว (LTC) สำนักงานหลักประกันสุขภาพแห่งชาติ",
		obstacles: []string{"จำนวนผู้ดูแลผู้สูงอายุ (Caregiver) ไม่เพียงพอต่อจำนวนผู้สูงอายุที่มีภาวะพึ่งพิงที่เพิ่มขึ้น"}},
	{key: "digital-services", titleTH: "ร้อยละของงานบริการประชาชนที่ให้บริการผ่านช่องทางดิจิทัล", titleEN: "Public services offered through digital channels",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{35, 60}, step: [2]float64{5, 9}, dec: 2, cap: 100, drift: 0.8,
		source:    "ระบบติดตามการให้บริการภาครัฐผ่านระบบดิจิทัล สำนักงานพัฒนารัฐบาลดิจิทัล",
		obstacles: []string{"เครือข่ายอินเทอร์เน็ตในพื้นที่ห่างไกลยังไม่ครอบคลุม และหน่วยงานบางแห่งยังต้องใช้เอกสารฉบับจริง"}},
	{key: "road", titleTH: "อัตราการเสียชีวิตจากอุบัติเหตุทางถนนต่อประชากรแสนคน", titleEN: "Road traffic deaths per 100,000 population",
		measure: "ต่อแสนประชากร", dir: domain.DirectionDown, base: [2]float64{18, 35}, step: [2]float64{1, 2.5}, dec: 2, drift: -0.3,
		source:    "ข้อมูลบูรณาการ 3 ฐาน ศูนย์ข้อมูลอุบัติเหตุ (ThaiRSC)",
		obstacles: []string{"ปริมาณการจราจรช่วงเทศกาลเพิ่มขึ้น และผู้ขับขี่รถจักรยานยนต์ยังไม่สวมหมวกนิรภัย"}},
	{key: "gpp", titleTH: "อัตราการขยายตัวของผลิตภัณฑ์มวลรวมจังหวัด (GPP)", titleEN: "Growth of gross provincial product",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{1.5, 3}, step: [2]float64{0.3, 0.6}, dec: 2,
		source:    "ผลิตภัณฑ์ภาคและจังหวัด สำนักงานสภาพัฒนาการเศรษฐกิจและสังคมแห่งชาติ",
		obstacles: []string{"ภาคการค้าและบริการชะลอตัว ราคาสินค้าเกษตรหลักตกต่ำ"},
		shock:     map[int][2]float64{2563: {-9, -3}, 2564: {-3, 0.5}}},
	{key: "gap", titleTH: "ร้อยละที่เพิ่มขึ้นของพื้นที่เกษตรที่ได้รับรองมาตรฐาน GAP และเกษตรอินทรีย์", titleEN: "Growth in GAP-certified and organic farmland",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{4, 10}, step: [2]float64{1.5, 3}, dec: 2,
		source:    "ระบบรับรองมาตรฐานสินค้าเกษตร สำนักงานมาตรฐานสินค้าเกษตรและอาหารแห่งชาติ",
		obstacles: []string{"ค่าใช้จ่ายในการตรวจรับรองสูงสำหรับเกษตรกรรายย่อย และผู้ตรวจประเมินมีไม่เพียงพอ"}},
	{key: "waste", titleTH: "ร้อยละของขยะมูลฝอยชุมชนที่ได้รับการจัดการอย่างถูกต้อง", titleEN: "Municipal solid waste handled properly",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{60, 78}, step: [2]float64{3, 6}, dec: 2, cap: 100, drift: 0.4,
		source:    "ระบบสารสนเทศการจัดการขยะมูลฝอย กรมควบคุมมลพิษ",
		obstacles: []string{"ศูนย์กำจัดขยะรวมยังไม่เปิดดำเนินการ องค์กรปกครองส่วนท้องถิ่นบางแห่งยังใช้วิธีเทกองกลางแจ้ง"}},
	{key: "fishery", titleTH: "ร้อยละที่เพิ่มขึ้นของมูลค่าผลผลิตประมงชายฝั่ง", titleEN: "Growth in coastal fishery output value",
		measure: "ร้อยละ", dir: domain.DirectionUp, regions: []string{domain.RegionSouth, domain.RegionEast},
		base: [2]float64{2, 5}, step: [2]float64{1, 1.5}, dec: 2,
		source:    "ข้อมูลผลผลิตประมงรายจังหวัด กรมประมง",
		obstacles: []string{"คลื่นลมแรงจากมรสุมตะวันตกเฉียงใต้ ทำให้ชาวประมงออกเรือได้น้อยกว่าปกติ"}},
	{key: "rubber", titleTH: "ร้อยละของเกษตรกรชาวสวนยางที่มีรายได้เสริมจากการปลูกพืชร่วมยาง", titleEN: "Rubber farmers with supplementary income from intercropping",
		measure: "ร้อยละ", dir: domain.DirectionUp, regions: []string{domain.RegionSouth, domain.RegionEast},
		base: [2]float64{20, 35}, step: [2]float64{4, 6}, dec: 2, cap: 100, drift: 0.5,
		source:    "ทะเบียนเกษตรกรชาวสวนยาง การยางแห่งประเทศไทย",
		obstacles: []string{"ราคายางพาราตกต่ำ เกษตรกรขาดเงินทุนสำหรับซื้อพันธุ์พืชร่วมยาง"}},
	{key: "drugs", titleTH: "ร้อยละของผู้ใช้ยาเสพติดที่ผ่านการบำบัดและได้รับการติดตามดูแลต่อเนื่อง", titleEN: "Drug users treated and followed up",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{65, 80}, step: [2]float64{3, 5}, dec: 2, cap: 100, drift: 0.4,
		source:    "ระบบข้อมูลการบำบัดรักษาและฟื้นฟูผู้ติดยาเสพติดของประเทศ (บสต.)",
		obstacles: []string{"ผู้ผ่านการบำบัดบางส่วนย้ายที่อยู่โดยไม่แจ้ง ทำให้ติดตามได้ไม่ครบตามเกณฑ์"}},
	{key: "diabetes", titleTH: "ร้อยละของผู้ป่วยเบาหวานที่ควบคุมระดับน้ำตาลในเลือดได้ดี", titleEN: "Diabetic patients with good glycaemic control",
		measure: "ร้อยละ", dir: domain.DirectionUp, base: [2]float64{22, 32}, step: [2]float64{3, 5}, dec: 2, cap: 100, drift: 0.3,
		source:    "ระบบคลังข้อมูลด้านการแพทย์และสุขภาพ (HDC) กระทรวงสาธารณสุข",
		obstacles: []string{"ผู้ป่วยขาดการรักษาต่อเนื่องในช่วงที่คลินิกโรคเรื้อรังปรับรูปแบบบริการ"}},
	{key: "forest", titleTH: "พื้นที่ป่าเสื่อมโทรมที่ได้รับการฟื้นฟู", titleEN: "Degraded forest land restored",
		measure: "ไร่", dir: domain.DirectionUp, regions: []string{domain.RegionNorth, domain.RegionWest},
		base: [2]float64{1000, 4000}, step: [2]float64{200, 500}, dec: 0,
		source:    "รายงานผลการปลูกป่า กรมป่าไม้ และกรมอุทยานแห่งชาติ สัตว์ป่า และพันธุ์พืช",
		obstacles: []string{"ฝนมาล่าช้า กล้าไม้ที่ปลูกช่วงต้นฤดูฝนตายเป็นจำนวนมาก"}},
	{key: "disaster", titleTH: "ร้อยละของครัวเรือนที่ได้รับผลกระทบจากสาธารณภัยได้รับการช่วยเหลือภายใน 15 วัน",
		titleEN: "Disaster-hit households helped within 15 days", measure: "ร้อยละ", dir: domain.DirectionUp,
		base: [2]float64{80, 90}, step: [2]float64{2, 3}, dec: 2, cap: 100, drift: 0.3,
		source:    "ระบบรายงานสาธารณภัย กรมป้องกันและบรรเทาสาธารณภัย",
		obstacles: []string{"พื้นที่ประสบภัยกว้างขวางพร้อมกันหลายอำเภอ การสำรวจความเสียหายจึงใช้เวลานานกว่ากำหนด"}},
}

// department is a department the demo registers, with its own indicators.
type department struct {
	code, nameTH, nameEN string
	officer              string // the token subject of its evaluation officer
	web                  string // its web domain, for evidence links
	templates            []template
}

// departments are the demo's departments; cdd's FY2564 is scripted from
// SPEC.md, its other years and the others are drawn from their templates.
var departments = []department{
	{code: "cdd", nameTH: "กรมการพัฒนาชุมชน", nameEN: "Community Development Department", officer: "kanokwan.s@cdd.go.th", web: "cdd.go.th",
		templates: []template{
			deptUp("jpt", "ร้อยละของครัวเรือนเป้าหมายที่มีรายได้ผ่านเกณฑ์ข้อมูลความจำเป็นพื้นฐาน (จปฐ.)", "Target households above the basic-needs income line", 97, 98.5, 0.1, 0.2, "ข้อมูลความจำเป็นพื้นฐาน (จปฐ.) กรมการพัฒนาชุมชน"),
			deptUp("otop", "ร้อยละที่เพิ่มขึ้นของรายได้จากการจำหน่ายผลิตภัณฑ์ OTOP", "Growth in OTOP sales revenue", 5, 10, 1, 2, "ระบบข้อมูลผู้ผลิตผู้ประกอบการ OTOP"),
			deptUp("sufficiency", "ร้อยละของหมู่บ้านที่ผ่านเกณฑ์หมู่บ้านเศรษฐกิจพอเพียงต้นแบบ", "Villages meeting the sufficiency-economy model criteria", 60, 75, 3, 5, "ฐานข้อมูลหมู่บ้านเศรษฐกิจพอเพียง"),
			deptUp("funds", "ร้อยละของกองทุนชุมชนที่มีการบริหารจัดการตามหลักธรรมาภิบาล", "Community funds run under good governance", 70, 85, 2, 4, "ระบบสารสนเทศกองทุนชุมชน"),
			deptUp("leaders", "ร้อยละของผู้นำชุมชนที่ได้รับการพัฒนาศักยภาพด้านการจัดการความรู้", "Community leaders trained in knowledge management", 65, 80, 3, 5, "ทะเบียนผู้นำชุมชน กรมการพัฒนาชุมชน"),
		}},
	{code: "doae", nameTH: "กรมส่งเสริมการเกษตร", nameEN: "Department of Agricultural Extension", officer: "thanawat.r@doae.go.th", web: "doae.go.th",
		templates: []template{
			deptUp("smart-farmer", "ร้อยละของเกษตรกรที่ได้รับการพัฒนาเป็นเกษตรกรปราดเปรื่อง (Smart Farmer)", "Farmers developed into Smart Farmers", 40, 55, 3, 5, "ทะเบียนเกษตรกร กรมส่งเสริมการเกษตร"),
			deptUp("large-plots", "ร้อยละของแปลงใหญ่ที่ลดต้นทุนการผลิตได้ไม่น้อยกว่าร้อยละ 20", "Collective large farms cutting production costs by 20 %", 50, 65, 4, 7, "ระบบส่งเสริมการเกษตรแบบแปลงใหญ่"),
			deptUp("learning-centres", "ร้อยละของศูนย์เรียนรู้การเพิ่มประสิทธิภาพการผลิตสินค้าเกษตร (ศพก.) ที่ผ่านเกณฑ์คุณภาพ", "Agricultural learning centres meeting the quality criteria", 70, 80, 3, 5, "รายงานการประเมิน ศพก."),
			deptUp("farmbook", "ร้อยละของเกษตรกรที่ปรับปรุงทะเบียนผ่านแอปพลิเคชัน Farmbook", "Farmers updating their registration through Farmbook", 30, 50, 6, 10, "ระบบทะเบียนเกษตรกร Farmbook"),
		}},
	{code: "ddc", nameTH: "กรมควบคุมโรค", nameEN: "Department of Disease Control", officer: "siriporn.m@ddc.moph.go.th", web: "ddc.moph.go.th",
		templates: []template{
			{key: "dengue", titleTH: "อัตราป่วยด้วยโรคไข้เลือดออกต่อประชากรแสนคน (ระดับประเทศ)", titleEN: "National dengue incidence per 100,000 population",
				measure: "ต่อแสนประชากร", dir: domain.DirectionDown, base: [2]float64{80, 120}, step: [2]float64{8, 12}, dec: 2,
				source: "รายงานการเฝ้าระวังโรค (รง. 506) กองระบาดวิทยา"},
			deptUp("vaccine", "ร้อยละของประชากรกลุ่มเป้าหมายที่ได้รับวัคซีนป้องกันโรคโควิด-19 ครบตามเกณฑ์", "Target population fully vaccinated against COVID-19", 60, 75, 5, 8, "ระบบ MOPH Immunization Center"),
			deptUp("tb", "อัตราความสำเร็จของการรักษาผู้ป่วยวัณโรครายใหม่", "Treatment success rate of new tuberculosis cases", 82, 86, 1, 2, "โปรแกรมบริหารจัดการข้อมูลผู้ป่วยวัณโรค (NTIP)"),
			deptUp("hypertension", "ร้อยละของผู้ป่วยโรคความดันโลหิตสูงที่ควบคุมความดันโลหิตได้ดี", "Hypertensive patients with controlled blood pressure", 45, 55, 3, 5, "ระบบคลังข้อมูลด้านการแพทย์และสุขภาพ (HDC)"),
		}},
	{code: "dopa", nameTH: "กรมการปกครอง", nameEN: "Department of Provincial Administration", officer: "anucha.b@dopa.go.th", web: "dopa.go.th",
		templates: []template{
			deptUp("d-dopa", "ร้อยละของงานบริการทะเบียนราษฎรที่ให้บริการผ่านแอปพลิเคชัน D.DOPA", "Civil registration services delivered through the D.DOPA app", 10, 25, 5, 8, "ระบบ D.DOPA สำนักบริหารการทะเบียน"),
			deptUp("drug-free", "ร้อยละของหมู่บ้านที่ผ่านเกณฑ์หมู่บ้านมั่นคงปลอดยาเสพติด", "Villages certified secure and drug-free", 60, 75, 4, 6, "ระบบติดตามหมู่บ้าน/ชุมชนมั่นคง"),
			deptUp("complaints", "ร้อยละของเรื่องร้องเรียนร้องทุกข์ที่แก้ไขแล้วเสร็จภายใน 30 วัน", "Complaints resolved within 30 days", 75, 85, 3, 4, "ระบบรับเรื่องราวร้องทุกข์ ศูนย์ดำรงธรรม"),
			deptUp("mediation", "ร้อยละของข้อพิพาทที่ยุติได้โดยศูนย์ไกล่เกลี่ยข้อพิพาทระดับอำเภอ", "Disputes settled by district mediation centres", 55, 70, 4, 6, "ทะเบียนศูนย์ไกล่เกลี่ยข้อพิพาทภาคประชาชน"),
		}},
	{code: "dla", nameTH: "กรมส่งเสริมการปกครองท้องถิ่น", nameEN: "Department of Local Administration", officer: "pattama.c@dla.go.th", web: "dla.go.th",
		templates: []template{
			deptUp("waste", "ร้อยละขององค์กรปกครองส่วนท้องถิ่นที่จัดการขยะมูลฝอยได้ตามเกณฑ์มาตรฐาน", "Local governments managing solid waste to standard", 55, 70, 4, 6, "ระบบสารสนเทศการจัดการขยะมูลฝอยชุมชน"),
			deptUp("early-years", "ร้อยละของเด็กปฐมวัยในศูนย์พัฒนาเด็กเล็กที่มีพัฒนาการสมวัย", "Children in child-development centres developing on track", 80, 88, 2, 3, "ระบบข้อมูลศูนย์พัฒนาเด็กเล็ก"),
			deptUp("ita", "ร้อยละขององค์กรปกครองส่วนท้องถิ่นที่ผ่านเกณฑ์การประเมินคุณธรรมและความโปร่งใส (ITA)", "Local governments passing the integrity and transparency assessment", 60, 75, 4, 6, "ผลการประเมิน ITA สำนักงาน ป.ป.ช."),
			deptUp("allowance", "ร้อยละของผู้สูงอายุที่ได้รับเบี้ยยังชีพผ่านบัญชีเงินฝากธนาคาร", "Elderly allowances paid into bank accounts", 85, 92, 1.5, 2.5, "ระบบสารสนเทศการจ่ายเบี้ยยังชีพ"),
		}},
}

// deptUp is a department's "higher is better" share indicator.
func deptUp(key, th, en string, baseLo, baseHi, stepLo, stepHi float64, source string) template {
	return template{key: key, titleTH: th, titleEN: en, measure: "ร้อยละ", dir: domain.DirectionUp,
		base: [2]float64{baseLo, baseHi}, step: [2]float64{stepLo, stepHi}, dec: 2, cap: 100, drift: 0.3, source: source}
}

// Indicators every unit carries in the Potential Base.
var (
	// pmqa is the public-sector management quality score (PMQA 4.0, out of 500).
	pmqa = template{key: "pmqa", titleTH: "ระดับความสำเร็จของการพัฒนาคุณภาพการบริหารจัดการภาครัฐ (PMQA 4.0)",
		titleEN: "Public Sector Management Quality Award (PMQA 4.0) score", measure: "คะแนน", dir: domain.DirectionUp, dec: 1,
		source:    "ผลการตรวจประเมินระบบราชการ 4.0 (PMQA 4.0) สำนักงาน ก.พ.ร.",
		obstacles: []string{"การจัดทำหลักฐานเชิงประจักษ์ในหมวดการมุ่งเน้นบุคลากรและการจัดการความรู้ยังไม่ครบถ้วน"}}
	// digitalOrg is the progress towards a digital organisation.
	digitalOrg = template{key: "digital-org", titleTH: "ระดับความสำเร็จของการพัฒนาองค์การสู่ดิจิทัล (Digital Organization)",
		titleEN: "Progress towards a digital organisation", measure: "ร้อยละ", dir: domain.DirectionUp, dec: 1, cap: 100,
		source:    "รายงานการประเมินสถานะการเป็นรัฐบาลดิจิทัล สำนักงานพัฒนารัฐบาลดิจิทัล",
		obstacles: []string{"การเชื่อมโยงข้อมูลกับหน่วยงานส่วนกลางยังไม่แล้วเสร็จ และบุคลากรด้านเทคโนโลยีสารสนเทศมีไม่เพียงพอ"}}
	// innovationStage is FY2561's Innovation Base: the stage reached in
	// developing a service innovation, scored by the step reached.
	innovationStage = template{key: "innovation", titleTH: "ระดับความสำเร็จของการพัฒนานวัตกรรมการให้บริการของจังหวัด",
		titleEN: "Stage reached in developing a service innovation", measure: "ขั้นตอน", dir: domain.DirectionMilestone, dec: 0,
		source:    "รายงานความก้าวหน้าการพัฒนานวัตกรรม สำนักงานจังหวัด",
		obstacles: []string{"การทดลองใช้นวัตกรรมในพื้นที่นำร่องล่าช้าเนื่องจากต้องปรับระบบตามข้อเสนอแนะของผู้ใช้บริการ"}}
)

// generalObstacles explain a missed target when the indicator has no
// reason of its own that fits, or as a second reason.
var generalObstacles = []string{
	"งบประมาณได้รับการจัดสรรล่าช้าและถูกปรับลดระหว่างปี จึงต้องเลื่อนการดำเนินโครงการบางส่วนออกไป",
	"เจ้าหน้าที่ผู้รับผิดชอบถูกโยกย้ายระหว่างปี ทำให้การติดตามผลไม่ต่อเนื่อง",
	"ข้อมูลจากหน่วยงานที่เกี่ยวข้องยังไม่ครบถ้วน ทำให้การรวบรวมผลล่าช้า",
	"การประสานงานระหว่างหน่วยงานระดับอำเภอและองค์กรปกครองส่วนท้องถิ่นยังไม่เป็นเอกภาพ",
}

// covidObstacle is the reason of FY2563-FY2564 for activities that could not
// take place.
const covidObstacle = "สถานการณ์การแพร่ระบาดของโรคติดเชื้อไวรัสโคโรนา 2019 (COVID-19) ทำให้ต้องงดหรือเลื่อนกิจกรรมที่มีการรวมกลุ่มของประชาชน"

// halfYearObstacle explains why a six-month figure is below the year's
// standard level: most of the work is planned for the second half.
const halfYearObstacle = "เป็นผลการดำเนินงานสะสมรอบ 6 เดือน กิจกรรมหลักตามแผนจะดำเนินการในไตรมาสที่ 3–4"

// sendBacks are OPDC's requests for revision and the unit's answers.
var sendBacks = []struct {
	comment, reason string
	harder          bool // the first proposal's targets were too easy
}{
	{"ค่าเป้าหมายต่ำกว่าผลการดำเนินงานย้อนหลัง 3 ปี ขอให้ปรับค่าเป้าหมายให้ท้าทายขึ้น", "ปรับค่าเป้าหมายให้ท้าทายขึ้นตามข้อเสนอแนะของสำนักงาน ก.พ.ร.", true},
	{"ขอให้ระบุสูตรการคำนวณและแหล่งข้อมูลที่ใช้ประเมินให้ชัดเจน", "เพิ่มสูตรการคำนวณและแหล่งข้อมูลตามข้อเสนอแนะของสำนักงาน ก.พ.ร.", false},
}

// adjustments are OPDC's reasons for changing a reported value.
var adjustments = []string{
	"ปรับค่าตามหลักฐานที่ตรวจสอบได้ ข้อมูลบางส่วนเป็นผลการดำเนินงานหลังวันสิ้นปีงบประมาณ",
	"ปรับค่าตามข้อมูลจากระบบของหน่วยงานเจ้าของข้อมูล ณ วันที่ 30 กันยายน",
	"หลักฐานไม่รองรับผลการดำเนินงานบางรายการ จึงปรับลดตามที่ตรวจสอบได้",
}

// givenNames and initials make plausible government e-mail subjects.
var (
	givenNames = []string{"somsak", "wanida", "prasert", "suda", "kanya", "anan", "pornthip", "chaiwat", "siriporn",
		"thanakorn", "malee", "preecha", "ratana", "surachai", "jintana", "wichai", "napaporn", "boonmee", "duangjai",
		"ekkachai", "kittiya", "narong", "orawan", "pichit", "rungnapa", "sakchai", "tassanee", "udom", "yupin", "sompong"}
	initials = "bcdjkmnprstw"
)

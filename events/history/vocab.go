package history

// The benchmark's vocabulary: the Thai text that fills generated events, so
// that payload sizes and the strings a read model keeps are those of real
// evaluation documents rather than "title-1". The demo data generator
// (api/demo) is to hold the project's realistic vocabulary; until it does,
// the benchmark keeps its own here, and the two are meant to be unified.

// department is a real department (กรม) the benchmark registers.
type department struct{ code, nameTH, nameEN string }

var departments = []department{
	{"cdd", "กรมการพัฒนาชุมชน", "Community Development Department"},
	{"dopa", "กรมการปกครอง", "Department of Provincial Administration"},
	{"dla", "กรมส่งเสริมการปกครองท้องถิ่น", "Department of Local Administration"},
	{"ddc", "กรมควบคุมโรค", "Department of Disease Control"},
	{"doae", "กรมส่งเสริมการเกษตร", "Department of Agricultural Extension"},
	{"rid", "กรมชลประทาน", "Royal Irrigation Department"},
	{"rd", "กรมสรรพากร", "The Revenue Department"},
	{"customs", "กรมศุลกากร", "The Customs Department"},
	{"excise", "กรมสรรพสามิต", "The Excise Department"},
	{"dlt", "กรมการขนส่งทางบก", "Department of Land Transport"},
	{"doh", "กรมทางหลวง", "Department of Highways"},
	{"drr", "กรมทางหลวงชนบท", "Department of Rural Roads"},
	{"dsd", "กรมพัฒนาฝีมือแรงงาน", "Department of Skill Development"},
	{"doe", "กรมการจัดหางาน", "Department of Employment"},
	{"dip", "กรมส่งเสริมอุตสาหกรรม", "Department of Industrial Promotion"},
	{"dbd", "กรมพัฒนาธุรกิจการค้า", "Department of Business Development"},
	{"dft", "กรมการค้าต่างประเทศ", "Department of Foreign Trade"},
	{"dit", "กรมการค้าภายใน", "Department of Internal Trade"},
	{"dnp", "กรมอุทยานแห่งชาติ สัตว์ป่า และพันธุ์พืช", "Department of National Parks, Wildlife and Plant Conservation"},
	{"rfd", "กรมป่าไม้", "Royal Forest Department"},
	{"pcd", "กรมควบคุมมลพิษ", "Pollution Control Department"},
	{"dmr", "กรมทรัพยากรธรณี", "Department of Mineral Resources"},
	{"dld", "กรมปศุสัตว์", "Department of Livestock Development"},
	{"fisheries", "กรมประมง", "Department of Fisheries"},
	{"doa", "กรมวิชาการเกษตร", "Department of Agriculture"},
	{"ldd", "กรมพัฒนาที่ดิน", "Land Development Department"},
	{"dol", "กรมที่ดิน", "Department of Lands"},
	{"dpt", "กรมโยธาธิการและผังเมือง", "Department of Public Works and Town & Country Planning"},
	{"disaster", "กรมป้องกันและบรรเทาสาธารณภัย", "Department of Disaster Prevention and Mitigation"},
	{"dms", "กรมการแพทย์", "Department of Medical Services"},
	{"anamai", "กรมอนามัย", "Department of Health"},
	{"dmh", "กรมสุขภาพจิต", "Department of Mental Health"},
	{"dtam", "กรมการแพทย์แผนไทยและการแพทย์ทางเลือก", "Department of Thai Traditional and Alternative Medicine"},
	{"hss", "กรมสนับสนุนบริการสุขภาพ", "Department of Health Service Support"},
	{"dmsc", "กรมวิทยาศาสตร์การแพทย์", "Department of Medical Sciences"},
	{"dcy", "กรมกิจการเด็กและเยาวชน", "Department of Children and Youth"},
	{"dop", "กรมกิจการผู้สูงอายุ", "Department of Older Persons"},
	{"dsdw", "กรมพัฒนาสังคมและสวัสดิการ", "Department of Social Development and Welfare"},
	{"dpe", "กรมพลศึกษา", "Department of Physical Education"},
	{"tourism", "กรมการท่องเที่ยว", "Department of Tourism"},
	{"dcp", "กรมส่งเสริมวัฒนธรรม", "Department of Cultural Promotion"},
	{"finearts", "กรมศิลปากร", "The Fine Arts Department"},
	{"religion", "กรมการศาสนา", "Department of Religious Affairs"},
	{"cgd", "กรมบัญชีกลาง", "The Comptroller General's Department"},
	{"treasury", "กรมธนารักษ์", "The Treasury Department"},
	{"dtn", "กรมเจรจาการค้าระหว่างประเทศ", "Department of Trade Negotiations"},
	{"ipthailand", "กรมทรัพย์สินทางปัญญา", "Department of Intellectual Property"},
	{"dwr", "กรมทรัพยากรน้ำ", "Department of Water Resources"},
	{"dgr", "กรมทรัพยากรน้ำบาดาล", "Department of Groundwater Resources"},
	{"deqp", "กรมส่งเสริมคุณภาพสิ่งแวดล้อม", "Department of Environmental Quality Promotion"},
	{"dmcr", "กรมทรัพยากรทางทะเลและชายฝั่ง", "Department of Marine and Coastal Resources"},
	{"md", "กรมเจ้าท่า", "Marine Department"},
	{"airports", "กรมท่าอากาศยาน", "Department of Airports"},
	{"rlpd", "กรมคุ้มครองสิทธิและเสรีภาพ", "Rights and Liberties Protection Department"},
	{"probation", "กรมคุมประพฤติ", "Department of Probation"},
	{"correct", "กรมราชทัณฑ์", "Department of Corrections"},
	{"led", "กรมบังคับคดี", "Legal Execution Department"},
	{"djop", "กรมพินิจและคุ้มครองเด็กและเยาวชน", "Department of Juvenile Observation and Protection"},
	{"dsi", "กรมสอบสวนคดีพิเศษ", "Department of Special Investigation"},
	{"labour", "กรมสวัสดิการและคุ้มครองแรงงาน", "Department of Labour Protection and Welfare"},
	{"dede", "กรมพัฒนาพลังงานทดแทนและอนุรักษ์พลังงาน", "Department of Alternative Energy Development and Efficiency"},
	{"doeb", "กรมธุรกิจพลังงาน", "Department of Energy Business"},
	{"diw", "กรมโรงงานอุตสาหกรรม", "Department of Industrial Works"},
	{"dss", "กรมวิทยาศาสตร์บริการ", "Department of Science Service"},
	{"tmd", "กรมอุตุนิยมวิทยา", "Thai Meteorological Department"},
	{"cpd", "กรมส่งเสริมสหกรณ์", "Cooperative Promotion Department"},
	{"cad", "กรมตรวจบัญชีสหกรณ์", "Cooperative Auditing Department"},
	{"ditp", "กรมส่งเสริมการค้าระหว่างประเทศ", "Department of International Trade Promotion"},
	{"consular", "กรมการกงสุล", "Department of Consular Affairs"},
}

// Local administrative organisations (องค์กรปกครองส่วนท้องถิ่น) are the
// headroom of the national-scale figures: the domain knows two unit kinds,
// so the benchmark registers them as department-kind units.
var laoKinds = []struct{ th, en string }{
	{"องค์การบริหารส่วนตำบล", "Subdistrict Administrative Organization"},
	{"องค์การบริหารส่วนตำบล", "Subdistrict Administrative Organization"},
	{"เทศบาลตำบล", "Subdistrict Municipality"},
	{"เทศบาลเมือง", "Town Municipality"},
	{"เทศบาลนคร", "City Municipality"},
}

var tambons = []struct{ th, en string }{
	{"หนองบัว", "Nong Bua"}, {"บ้านใหม่", "Ban Mai"}, {"ท่าช้าง", "Tha Chang"}, {"ดอนแก้ว", "Don Kaeo"},
	{"สันทราย", "San Sai"}, {"นาเกลือ", "Na Kluea"}, {"บางพระ", "Bang Phra"}, {"หนองหาร", "Nong Han"},
	{"โคกสูง", "Khok Sung"}, {"ห้วยยาง", "Huai Yang"}, {"ท่าศาลา", "Tha Sala"}, {"วังน้ำเย็น", "Wang Nam Yen"},
	{"บ้านโป่ง", "Ban Pong"}, {"คลองหลวง", "Khlong Luang"}, {"นาดี", "Na Di"}, {"เชียงกลาง", "Chiang Klang"},
	{"ปากช่อง", "Pak Chong"}, {"หนองแค", "Nong Khae"}, {"บางบัวทอง", "Bang Bua Thong"}, {"แม่ริม", "Mae Rim"},
	{"ป่าแดด", "Pa Daet"}, {"ทุ่งสง", "Thung Song"}, {"สามโคก", "Sam Khok"}, {"หัวหิน", "Hua Hin"},
	{"นาโพธิ์", "Na Pho"}, {"โนนสูง", "Non Sung"}, {"บ้านแพ้ว", "Ban Phaeo"}, {"ท่าม่วง", "Tha Muang"},
	{"ศรีสำราญ", "Si Samran"}, {"เขาพระ", "Khao Phra"}, {"วังทอง", "Wang Thong"}, {"หนองหญ้าปล้อง", "Nong Ya Plong"},
}

// Titles are indicator titles as units write them.
var Titles = []string{
	"ร้อยละของครัวเรือนยากจนเป้าหมายที่มีรายได้เพิ่มขึ้นจากการส่งเสริมอาชีพ",
	"อัตราการเบิกจ่ายงบประมาณรายจ่ายลงทุนภาพรวมของจังหวัด",
	"ร้อยละความพึงพอใจของผู้รับบริการศูนย์ดำรงธรรมจังหวัด",
	"จำนวนผลิตภัณฑ์ชุมชนท้องถิ่น (OTOP) ที่ได้รับการพัฒนามาตรฐานและยกระดับรายได้",
	"อัตราการเสียชีวิตจากอุบัติเหตุทางถนนต่อประชากรแสนคน",
	"ระดับความสำเร็จของการพัฒนาระบบบริการประชาชนผ่านช่องทางดิจิทัล",
	"ร้อยละของพื้นที่ป่าไม้ที่ได้รับการฟื้นฟูและเพิ่มพื้นที่สีเขียว",
	"มูลค่าการค้าชายแดนและการค้าผ่านแดนที่เพิ่มขึ้นเมื่อเทียบกับปีที่ผ่านมา",
	"ร้อยละของเด็กปฐมวัยที่มีพัฒนาการสมวัยตามเกณฑ์มาตรฐาน",
	"ร้อยละของจุดความร้อน (Hotspot) ที่ลดลงเมื่อเทียบกับค่าเฉลี่ยย้อนหลัง 3 ปี",
	"จำนวนวันที่ค่าฝุ่นละอองขนาดไม่เกิน 2.5 ไมครอนเกินค่ามาตรฐาน",
	"รายได้จากการท่องเที่ยวของจังหวัดที่เพิ่มขึ้น",
	"ร้อยละของเกษตรกรที่ได้รับการรับรองมาตรฐานการผลิตพืชอาหารที่ดี (GAP)",
	"ระดับความสำเร็จในการบริหารจัดการน้ำเพื่อการเกษตรและการอุปโภคบริโภค",
	"ร้อยละของผู้ป่วยโรคเบาหวานที่ควบคุมระดับน้ำตาลในเลือดได้ดี",
	"อัตราการตั้งครรภ์ในวัยรุ่นอายุ 15-19 ปี ต่อประชากรหญิงอายุ 15-19 ปี พันคน",
	"ร้อยละของผู้สูงอายุที่มีพฤติกรรมสุขภาพที่พึงประสงค์",
	"จำนวนคดียาเสพติดรายสำคัญที่ดำเนินการจับกุมได้",
	"ร้อยละของหมู่บ้านที่ผ่านเกณฑ์หมู่บ้านเศรษฐกิจพอเพียงต้นแบบ",
	"ระดับความสำเร็จของการแก้ไขปัญหาหนี้สินครัวเรือนเป้าหมาย",
	"ร้อยละของเรื่องร้องเรียนที่ได้รับการแก้ไขแล้วเสร็จภายในกำหนดเวลา",
	"ร้อยละของรายได้จากการจัดเก็บภาษีที่เพิ่มขึ้นเมื่อเทียบกับประมาณการ",
	"ระยะเวลาเฉลี่ยในการให้บริการออกใบอนุญาต (วันทำการ)",
	"ร้อยละของแรงงานที่ผ่านการฝึกอบรมและได้รับการจ้างงานภายใน 6 เดือน",
	"จำนวนวิสาหกิจชุมชนที่ได้รับการส่งเสริมด้านการตลาดออนไลน์",
	"ร้อยละของปริมาณขยะมูลฝอยชุมชนที่ได้รับการจัดการอย่างถูกต้อง",
	"ระดับความสำเร็จของการขับเคลื่อนยุทธศาสตร์ชาติในระดับพื้นที่",
	"ร้อยละของครัวเรือนที่เข้าถึงน้ำประปาที่มีคุณภาพมาตรฐาน",
	"ผลิตภาพแรงงานภาคอุตสาหกรรมที่เพิ่มขึ้น",
	"ร้อยละของนักเรียนที่มีผลการทดสอบทางการศึกษาระดับชาติผ่านเกณฑ์",
	"จำนวนผู้ประกอบการรายใหม่ที่จดทะเบียนนิติบุคคล",
	"ร้อยละของการใช้พลังงานทดแทนต่อการใช้พลังงานขั้นสุดท้าย",
	"ระดับความสำเร็จของการพัฒนาองค์การสู่ระบบราชการ 4.0 (PMQA 4.0)",
	"ร้อยละของข้อมูลภาครัฐที่เปิดเผยในรูปแบบข้อมูลเปิด (Open Data)",
	"อัตราผู้ป่วยวัณโรครายใหม่ที่รักษาสำเร็จ",
	"ร้อยละของพื้นที่เกษตรที่ได้รับการจัดรูปที่ดินและพัฒนาแหล่งน้ำ",
}

// titlesEN are optional English titles.
var titlesEN = []string{
	"Share of target poor households with increased income",
	"Capital budget disbursement rate",
	"Satisfaction of Damrongdhama Centre service users",
	"Road traffic deaths per 100,000 population",
	"Digital public service development level",
	"Tourism revenue growth",
}

var measures = []string{
	"ร้อยละ", "ร้อยละ", "ร้อยละ", "ระดับ", "จำนวน (ราย)", "จำนวน (ครัวเรือน)", "บาท/คน/ปี",
	"อัตราต่อประชากรแสนคน", "คะแนน", "ล้านบาท", "ไร่", "วันทำการ",
}

// Rationales are why units chose an indicator.
var Rationales = []string{
	"ตัวชี้วัดนี้สอดคล้องกับยุทธศาสตร์ชาติด้านการสร้างโอกาสและความเสมอภาคทางสังคม และแผนพัฒนาจังหวัด พ.ศ. 2561-2565 ประเด็นการพัฒนาที่ 2 การยกระดับคุณภาพชีวิตของประชาชน โดยใช้ข้อมูลความจำเป็นพื้นฐาน (จปฐ.) เป็นฐานในการวัดผล",
	"ค่าเป้าหมายกำหนดจากค่าเฉลี่ยผลการดำเนินงานย้อนหลัง 3 ปี และแนวโน้มการเปลี่ยนแปลงของสถานการณ์ในพื้นที่ โดยผ่านความเห็นชอบของคณะกรมการจังหวัดแล้ว",
	"เป็นประเด็นปัญหาสำคัญของพื้นที่ตามผลการวิเคราะห์ศักยภาพ (SWOT) และเป็นนโยบายสำคัญของรัฐบาลที่มอบหมายให้ส่วนราชการขับเคลื่อนในปีงบประมาณนี้",
	"ใช้ข้อมูลจากระบบสารสนเทศของกระทรวงเจ้าภาพซึ่งปรับปรุงเป็นรายไตรมาส ตรวจสอบย้อนกลับได้ และมีนิยามตัวชี้วัดตรงกับคู่มือการประเมินของสำนักงาน ก.พ.ร.",
	"มุ่งเน้นผลลัพธ์ต่อประชาชนมากกว่าผลผลิต โดยวัดการเปลี่ยนแปลงที่เกิดขึ้นจริงกับกลุ่มเป้าหมาย และบูรณาการการทำงานร่วมกับหน่วยงานในพื้นที่และภาคเอกชน",
}

// Evidence are the documents results cite.
var Evidence = []string{
	"รายงานผลการดำเนินงานประจำรอบการประเมิน ลงนามโดยผู้ว่าราชการจังหวัด",
	"ข้อมูลจากระบบบริหารจัดการข้อมูลความจำเป็นพื้นฐาน (จปฐ.) ณ วันสิ้นรอบการประเมิน",
	"สรุปผลการประชุมคณะทำงานขับเคลื่อนตัวชี้วัด พร้อมภาพถ่ายกิจกรรม",
	"รายงานการเบิกจ่ายงบประมาณจากระบบ GFMIS ณ วันที่ 30 กันยายน",
	"ผลการสำรวจความพึงพอใจโดยสถาบันอุดมศึกษาในพื้นที่ จำนวนกลุ่มตัวอย่าง 400 ราย",
	"https://kpi.opdc.go.th/evidence/report-round.pdf",
	"หนังสือรับรองผลการดำเนินงานจากหน่วยงานเจ้าของข้อมูล",
	"ฐานข้อมูลทะเบียนเกษตรกรของกรมส่งเสริมการเกษตร ณ สิ้นปีงบประมาณ",
}

// Obstacles are what units report when a result misses the standard level.
var Obstacles = []string{
	"งบประมาณได้รับการจัดสรรล่าช้ากว่าแผน ทำให้เริ่มดำเนินโครงการได้ในไตรมาสที่ 3 และมีระยะเวลาดำเนินการไม่เพียงพอ",
	"สถานการณ์การแพร่ระบาดของโรคติดเชื้อไวรัสโคโรนา 2019 ทำให้ต้องงดกิจกรรมที่มีการรวมกลุ่ม และปรับรูปแบบเป็นออนไลน์ซึ่งกลุ่มเป้าหมายเข้าถึงได้จำกัด",
	"เกิดอุทกภัยในพื้นที่ 5 อำเภอ ช่วงเดือนกันยายนถึงตุลาคม ส่งผลให้ผลผลิตทางการเกษตรเสียหายและรายได้ครัวเรือนลดลง",
	"ภัยแล้งต่อเนื่อง ปริมาณน้ำในอ่างเก็บน้ำต่ำกว่าร้อยละ 30 ของความจุ เกษตรกรงดการเพาะปลูกนาปรัง",
	"บุคลากรผู้รับผิดชอบมีการโยกย้ายระหว่างปี และอัตรากำลังไม่เพียงพอต่อภารกิจที่เพิ่มขึ้น",
	"ระบบสารสนเทศของหน่วยงานเจ้าของข้อมูลขัดข้อง ทำให้ไม่สามารถนำเข้าข้อมูลได้ครบถ้วนตามกำหนดเวลา",
	"กระบวนการจัดซื้อจัดจ้างล่าช้าเนื่องจากมีผู้ยื่นอุทธรณ์ผลการพิจารณา ต้องดำเนินการใหม่",
	"ราคาสินค้าเกษตรตกต่ำ และต้นทุนปัจจัยการผลิตสูงขึ้น ทำให้รายได้สุทธิของครัวเรือนไม่เพิ่มขึ้นตามเป้าหมาย",
	"การประสานงานระหว่างหน่วยงานในพื้นที่ยังไม่เป็นเอกภาพ เนื่องจากอยู่ระหว่างปรับโครงสร้างส่วนราชการ",
}

var reviewComments = []string{
	"โปรดปรับค่าเป้าหมายให้ท้าทายขึ้น โดยพิจารณาจากผลการดำเนินงานย้อนหลัง 3 ปี",
	"ควรระบุแหล่งข้อมูลและวิธีการคำนวณให้ชัดเจน และแยกนิยามของกลุ่มเป้าหมายให้ตรวจสอบได้",
	"ตัวชี้วัดเน้นผลผลิตมากกว่าผลลัพธ์ โปรดทบทวนให้สะท้อนประโยชน์ที่ประชาชนได้รับ",
	"ค่าเป้าหมายระดับขั้นต้นต่ำกว่าผลการดำเนินงานปีที่ผ่านมา โปรดทบทวน",
}

var rejectComments = []string{
	"ตัวชี้วัดไม่สอดคล้องกับภารกิจหลักและประเด็นการพัฒนาของพื้นที่",
	"ซ้ำซ้อนกับตัวชี้วัดที่ประเมินโดยกระทรวงเจ้าภาพแล้ว",
}

var revisionReasons = []string{
	"ปรับค่าเป้าหมายตามข้อเสนอแนะของสำนักงาน ก.พ.ร. และมติคณะกรมการจังหวัด",
	"ปรับนิยามและแหล่งข้อมูลให้ชัดเจนตามข้อสังเกตของคณะทำงานพิจารณาตัวชี้วัด",
}

var adjustComments = []string{
	"ปรับค่าตามหลักฐานจากระบบฐานข้อมูลกลาง ซึ่งต่างจากค่าที่รายงาน",
	"ผลการตรวจสอบพบการนับซ้ำกลุ่มเป้าหมายบางส่วน จึงปรับลดค่าผลการดำเนินงาน",
}

var verifyRejectComments = []string{
	"หลักฐานไม่เพียงพอ โปรดแนบรายงานจากระบบที่ผู้บริหารลงนามรับรอง",
	"ค่าที่รายงานไม่ตรงกับข้อมูลของหน่วยงานเจ้าของข้อมูล โปรดตรวจสอบและรายงานใหม่",
}

var innovationTitles = []string{
	"ระบบบริการประชาชนแบบเบ็ดเสร็จ ณ จุดเดียวผ่านแอปพลิเคชันไลน์",
	"แพลตฟอร์มติดตามผู้ป่วยติดเตียงร่วมกับอาสาสมัครสาธารณสุขประจำหมู่บ้าน",
	"ธนาคารน้ำใต้ดินชุมชนเพื่อแก้ปัญหาภัยแล้งและน้ำท่วมซ้ำซาก",
	"ตลาดออนไลน์สินค้าชุมชนเชื่อมโยงกับไปรษณีย์ไทย",
	"ระบบแจ้งเตือนจุดความร้อนและไฟป่าแบบทันเวลา",
	"การบริหารงบประมาณแบบมุ่งผลสัมฤทธิ์ด้วยแดชบอร์ดผู้บริหาร",
	"ศูนย์เรียนรู้เกษตรอัจฉริยะสำหรับเกษตรกรรุ่นใหม่",
	"ระบบจองคิวรับบริการล่วงหน้าลดระยะเวลารอคอย",
}

var agencies = []string{
	"สำนักงานจังหวัด", "สำนักงานสาธารณสุขจังหวัด", "สำนักงานพัฒนาชุมชนจังหวัด", "สำนักงานเกษตรจังหวัด",
	"สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัด", "สำนักงานพาณิชย์จังหวัด", "ที่ทำการปกครองจังหวัด", "สำนักงานแรงงานจังหวัด",
}

var innovationSummaries = []string{
	"นำเทคโนโลยีดิจิทัลมาลดขั้นตอนการให้บริการจาก 7 ขั้นตอนเหลือ 3 ขั้นตอน ประชาชนไม่ต้องเดินทางมาติดต่อที่สำนักงาน และติดตามสถานะคำขอได้ด้วยตนเอง",
	"บูรณาการข้อมูลจากหน่วยงานในพื้นที่ให้เป็นฐานข้อมูลเดียว ใช้วางแผนและติดตามผลการช่วยเหลือกลุ่มเปราะบางได้แบบรายครัวเรือน",
	"ชุมชนมีส่วนร่วมออกแบบและดูแลรักษา มีการขยายผลไปยังพื้นที่ใกล้เคียงแล้ว 12 หมู่บ้าน",
}

var innovationDeclines = []string{
	"ยังไม่แสดงผลลัพธ์ที่วัดได้อย่างชัดเจน โปรดพัฒนาต่อยอดและเสนอในปีถัดไป",
	"มีลักษณะเป็นการปรับปรุงงานประจำ ยังไม่เข้าเกณฑ์นวัตกรรมตามคู่มือ",
}

var frameworkReasons = []string{
	"แก้ไขตามมติคณะอนุกรรมการพัฒนาระบบการประเมินผลการปฏิบัติราชการ",
	"ปรับเกณฑ์ระดับผลการประเมินตามหนังสือสำนักงาน ก.พ.ร. แจ้งเวียนส่วนราชการและจังหวัด",
}

// names are given names for the officers who write the events.
var names = []string{
	"somchai", "somsak", "wanida", "kanokwan", "pornthip", "suchart", "nattaya", "prasert",
	"siriporn", "anan", "jintana", "thanakorn", "kittipong", "rattana", "sunisa", "wichai",
}

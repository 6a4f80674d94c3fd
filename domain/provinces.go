package domain

import (
	"cmp"
	"slices"
)

// Province is one of Thailand's 76 provinces (จังหวัด), built into the ledger as an evaluation unit.
type Province struct {
	Code   string // ISO 3166-2:TH, e.g. "TH-50"
	NameTH string // เชียงใหม่
	NameEN string // Chiang Mai
	Region string // one of the Region* constants
}

// Regions follow the six-region scheme of the National Geographical
// Committee (คณะกรรมการภูมิศาสตร์แห่งชาติ, 1977) as published by the Royal
// Institute. Bangkok is not a province and is not listed, so central has 21
// provinces here (22 with Bangkok): north 9, northeast 20, central 21,
// east 7, west 5, south 14 = 76.
const (
	// RegionNorth is ภาคเหนือ, the northern region (9 provinces).
	RegionNorth = "north" // ภาคเหนือ
	// RegionNortheast is ภาคตะวันออกเฉียงเหนือ, the northeastern region or Isan (20 provinces).
	RegionNortheast = "northeast" // ภาคตะวันออกเฉียงเหนือ
	// RegionCentral is ภาคกลาง, the central region (21 provinces, excluding Bangkok).
	RegionCentral = "central" // ภาคกลาง
	// RegionEast is ภาคตะวันออก, the eastern region (7 provinces).
	RegionEast = "east" // ภาคตะวันออก
	// RegionWest is ภาคตะวันตก, the western region (5 provinces).
	RegionWest = "west" // ภาคตะวันตก
	// RegionSouth is ภาคใต้, the southern region (14 provinces).
	RegionSouth = "south" // ภาคใต้
)

var regionNamesTH = map[string]string{
	RegionNorth:     "ภาคเหนือ",
	RegionNortheast: "ภาคตะวันออกเฉียงเหนือ",
	RegionCentral:   "ภาคกลาง",
	RegionEast:      "ภาคตะวันออก",
	RegionWest:      "ภาคตะวันตก",
	RegionSouth:     "ภาคใต้",
}

// RegionNameTH gives the Thai name of a region constant.
// It returns the empty string for an unknown region.
func RegionNameTH(region string) string { return regionNamesTH[region] }

// provinceList holds the 76 provinces sorted by code. English names follow
// the ISO 3166-2:TH subdivision names (RTGS romanisation).
var provinceList = sortedProvinces([]Province{
	// Central (ภาคกลาง) — TH-10 Bangkok deliberately omitted.
	{"TH-11", "สมุทรปราการ", "Samut Prakan", RegionCentral},
	{"TH-12", "นนทบุรี", "Nonthaburi", RegionCentral},
	{"TH-13", "ปทุมธานี", "Pathum Thani", RegionCentral},
	{"TH-14", "พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya", RegionCentral},
	{"TH-15", "อ่างทอง", "Ang Thong", RegionCentral},
	{"TH-16", "ลพบุรี", "Lop Buri", RegionCentral},
	{"TH-17", "สิงห์บุรี", "Sing Buri", RegionCentral},
	{"TH-18", "ชัยนาท", "Chai Nat", RegionCentral},
	{"TH-19", "สระบุรี", "Saraburi", RegionCentral},

	// East (ภาคตะวันออก); TH-26 Nakhon Nayok is central.
	{"TH-20", "ชลบุรี", "Chon Buri", RegionEast},
	{"TH-21", "ระยอง", "Rayong", RegionEast},
	{"TH-22", "จันทบุรี", "Chanthaburi", RegionEast},
	{"TH-23", "ตราด", "Trat", RegionEast},
	{"TH-24", "ฉะเชิงเทรา", "Chachoengsao", RegionEast},
	{"TH-25", "ปราจีนบุรี", "Prachin Buri", RegionEast},
	{"TH-26", "นครนายก", "Nakhon Nayok", RegionCentral},
	{"TH-27", "สระแก้ว", "Sa Kaeo", RegionEast},

	// Northeast (ภาคตะวันออกเฉียงเหนือ).
	{"TH-30", "นครราชสีมา", "Nakhon Ratchasima", RegionNortheast},
	{"TH-31", "บุรีรัมย์", "Buri Ram", RegionNortheast},
	{"TH-32", "สุรินทร์", "Surin", RegionNortheast},
	{"TH-33", "ศรีสะเกษ", "Si Sa Ket", RegionNortheast},
	{"TH-34", "อุบลราชธานี", "Ubon Ratchathani", RegionNortheast},
	{"TH-35", "ยโสธร", "Yasothon", RegionNortheast},
	{"TH-36", "ชัยภูมิ", "Chaiyaphum", RegionNortheast},
	{"TH-37", "อำนาจเจริญ", "Amnat Charoen", RegionNortheast},
	{"TH-38", "บึงกาฬ", "Bueng Kan", RegionNortheast},
	{"TH-39", "หนองบัวลำภู", "Nong Bua Lam Phu", RegionNortheast},
	{"TH-40", "ขอนแก่น", "Khon Kaen", RegionNortheast},
	{"TH-41", "อุดรธานี", "Udon Thani", RegionNortheast},
	{"TH-42", "เลย", "Loei", RegionNortheast},
	{"TH-43", "หนองคาย", "Nong Khai", RegionNortheast},
	{"TH-44", "มหาสารคาม", "Maha Sarakham", RegionNortheast},
	{"TH-45", "ร้อยเอ็ด", "Roi Et", RegionNortheast},
	{"TH-46", "กาฬสินธุ์", "Kalasin", RegionNortheast},
	{"TH-47", "สกลนคร", "Sakon Nakhon", RegionNortheast},
	{"TH-48", "นครพนม", "Nakhon Phanom", RegionNortheast},
	{"TH-49", "มุกดาหาร", "Mukdahan", RegionNortheast},

	// North (ภาคเหนือ).
	{"TH-50", "เชียงใหม่", "Chiang Mai", RegionNorth},
	{"TH-51", "ลำพูน", "Lamphun", RegionNorth},
	{"TH-52", "ลำปาง", "Lampang", RegionNorth},
	{"TH-53", "อุตรดิตถ์", "Uttaradit", RegionNorth},
	{"TH-54", "แพร่", "Phrae", RegionNorth},
	{"TH-55", "น่าน", "Nan", RegionNorth},
	{"TH-56", "พะเยา", "Phayao", RegionNorth},
	{"TH-57", "เชียงราย", "Chiang Rai", RegionNorth},
	{"TH-58", "แม่ฮ่องสอน", "Mae Hong Son", RegionNorth},

	// Lower north in the four-region scheme; central in the six-region
	// scheme, except Tak which is west.
	{"TH-60", "นครสวรรค์", "Nakhon Sawan", RegionCentral},
	{"TH-61", "อุทัยธานี", "Uthai Thani", RegionCentral},
	{"TH-62", "กำแพงเพชร", "Kamphaeng Phet", RegionCentral},
	{"TH-63", "ตาก", "Tak", RegionWest},
	{"TH-64", "สุโขทัย", "Sukhothai", RegionCentral},
	{"TH-65", "พิษณุโลก", "Phitsanulok", RegionCentral},
	{"TH-66", "พิจิตร", "Phichit", RegionCentral},
	{"TH-67", "เพชรบูรณ์", "Phetchabun", RegionCentral},

	// West (ภาคตะวันตก) and the western part of central.
	{"TH-70", "ราชบุรี", "Ratchaburi", RegionWest},
	{"TH-71", "กาญจนบุรี", "Kanchanaburi", RegionWest},
	{"TH-72", "สุพรรณบุรี", "Suphan Buri", RegionCentral},
	{"TH-73", "นครปฐม", "Nakhon Pathom", RegionCentral},
	{"TH-74", "สมุทรสาคร", "Samut Sakhon", RegionCentral},
	{"TH-75", "สมุทรสงคราม", "Samut Songkhram", RegionCentral},
	{"TH-76", "เพชรบุรี", "Phetchaburi", RegionWest},
	{"TH-77", "ประจวบคีรีขันธ์", "Prachuap Khiri Khan", RegionWest},

	// South (ภาคใต้).
	{"TH-80", "นครศรีธรรมราช", "Nakhon Si Thammarat", RegionSouth},
	{"TH-81", "กระบี่", "Krabi", RegionSouth},
	{"TH-82", "พังงา", "Phangnga", RegionSouth},
	{"TH-83", "ภูเก็ต", "Phuket", RegionSouth},
	{"TH-84", "สุราษฎร์ธานี", "Surat Thani", RegionSouth},
	{"TH-85", "ระนอง", "Ranong", RegionSouth},
	{"TH-86", "ชุมพร", "Chumphon", RegionSouth},
	{"TH-90", "สงขลา", "Songkhla", RegionSouth},
	{"TH-91", "สตูล", "Satun", RegionSouth},
	{"TH-92", "ตรัง", "Trang", RegionSouth},
	{"TH-93", "พัทลุง", "Phatthalung", RegionSouth},
	{"TH-94", "ปัตตานี", "Pattani", RegionSouth},
	{"TH-95", "ยะลา", "Yala", RegionSouth},
	{"TH-96", "นราธิวาส", "Narathiwat", RegionSouth},
})

// provinceIndex maps an ISO code to its province; built once at init.
var provinceIndex = func() map[string]Province {
	m := make(map[string]Province, len(provinceList))
	for _, p := range provinceList {
		m[p.Code] = p
	}
	return m
}()

func sortedProvinces(ps []Province) []Province {
	slices.SortFunc(ps, func(a, b Province) int { return cmp.Compare(a.Code, b.Code) })
	return ps
}

// Provinces returns all 76 provinces ordered by code (a fresh copy each call).
func Provinces() []Province {
	out := make([]Province, len(provinceList))
	copy(out, provinceList)
	return out
}

// ProvinceByCode finds a province by its ISO code.
func ProvinceByCode(code string) (Province, bool) {
	p, ok := provinceIndex[code]
	return p, ok
}

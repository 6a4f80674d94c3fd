package domain

import (
	"regexp"
	"testing"
)

var provinceCodeRE = regexp.MustCompile(`^TH-\d{2}$`)

func TestProvincesCount(t *testing.T) {
	if got := len(Provinces()); got != 76 {
		t.Fatalf("len(Provinces()) = %d, want 76", got)
	}
}

func TestProvincesCodesUniqueSortedAndWellFormed(t *testing.T) {
	seen := make(map[string]bool)
	ps := Provinces()
	for i, p := range ps {
		if !provinceCodeRE.MatchString(p.Code) {
			t.Errorf("province %q: code does not match %s", p.Code, provinceCodeRE)
		}
		if seen[p.Code] {
			t.Errorf("duplicate code %q", p.Code)
		}
		seen[p.Code] = true
		if i > 0 && ps[i-1].Code >= p.Code {
			t.Errorf("not sorted by code: %q before %q", ps[i-1].Code, p.Code)
		}
		got, ok := ProvinceByCode(p.Code)
		if !ok || got != p {
			t.Errorf("ProvinceByCode(%q) = %+v, %v; want %+v, true", p.Code, got, ok, p)
		}
	}
}

func TestProvincesExcludeBangkok(t *testing.T) {
	if p, ok := ProvinceByCode("TH-10"); ok {
		t.Errorf("ProvinceByCode(TH-10) = %+v, want absent (Bangkok is not a province)", p)
	}
	if p, ok := ProvinceByCode("TH-S"); ok {
		t.Errorf("ProvinceByCode(TH-S) = %+v, want absent (Pattaya is not a province)", p)
	}
	for _, p := range Provinces() {
		if p.Code == "TH-10" || p.NameTH == "กรุงเทพมหานคร" {
			t.Errorf("Provinces() contains Bangkok: %+v", p)
		}
	}
}

func TestProvinceByCodeKnown(t *testing.T) {
	tests := []struct {
		code, nameTH, nameEN, region string
	}{
		{"TH-50", "เชียงใหม่", "Chiang Mai", RegionNorth},
		{"TH-57", "เชียงราย", "Chiang Rai", RegionNorth},
		{"TH-30", "นครราชสีมา", "Nakhon Ratchasima", RegionNortheast},
		{"TH-38", "บึงกาฬ", "Bueng Kan", RegionNortheast},
		{"TH-11", "สมุทรปราการ", "Samut Prakan", RegionCentral},
		{"TH-90", "สงขลา", "Songkhla", RegionSouth},
		{"TH-96", "นราธิวาส", "Narathiwat", RegionSouth},
		{"TH-20", "ชลบุรี", "Chon Buri", RegionEast},
		{"TH-63", "ตาก", "Tak", RegionWest},
	}
	for _, tt := range tests {
		p, ok := ProvinceByCode(tt.code)
		if !ok {
			t.Errorf("ProvinceByCode(%q) not found", tt.code)
			continue
		}
		if p.Code != tt.code || p.NameTH != tt.nameTH || p.NameEN != tt.nameEN || p.Region != tt.region {
			t.Errorf("ProvinceByCode(%q) = %+v, want {%s %s %s %s}", tt.code, p, tt.code, tt.nameTH, tt.nameEN, tt.region)
		}
	}
}

func TestProvinceByCodeUnknown(t *testing.T) {
	for _, code := range []string{"TH-99", "", "th-50", "TH-5", "TH-500"} {
		if p, ok := ProvinceByCode(code); ok {
			t.Errorf("ProvinceByCode(%q) = %+v, true; want false", code, p)
		}
	}
}

func TestProvinceNames(t *testing.T) {
	for _, p := range Provinces() {
		if p.NameTH == "" {
			t.Errorf("%s: empty Thai name", p.Code)
		}
		for _, r := range p.NameTH {
			if r < 0x0E00 || r > 0x0E7F {
				t.Errorf("%s: Thai name %q contains non-Thai rune %U", p.Code, p.NameTH, r)
			}
		}
		if p.NameEN == "" {
			t.Errorf("%s: empty English name", p.Code)
		}
	}
}

// TestProvinceRegionCounts pins the six-region scheme of the National
// Geographical Committee (1977, used by the Royal Institute): north 9,
// northeast 20, central 22 including Bangkok, east 7, west 5, south 14.
// Bangkok (TH-10) is a special administrative area, not a province, so
// central has 21 here and the total is 9+20+21+7+5+14 = 76.
func TestProvinceRegionCounts(t *testing.T) {
	want := map[string]int{
		RegionNorth:     9,
		RegionNortheast: 20,
		RegionCentral:   21,
		RegionEast:      7,
		RegionWest:      5,
		RegionSouth:     14,
	}
	got := make(map[string]int)
	for _, p := range Provinces() {
		if _, known := want[p.Region]; !known {
			t.Errorf("%s: unknown region %q", p.Code, p.Region)
		}
		got[p.Region]++
	}
	total := 0
	for region, n := range want {
		total += n
		if got[region] != n {
			t.Errorf("region %s: %d provinces, want %d", region, got[region], n)
		}
	}
	if total != 76 {
		t.Errorf("expected region counts sum to %d, want 76", total)
	}
}

func TestProvinceRegionNameTH(t *testing.T) {
	tests := map[string]string{
		RegionNorth:     "ภาคเหนือ",
		RegionNortheast: "ภาคตะวันออกเฉียงเหนือ",
		RegionCentral:   "ภาคกลาง",
		RegionEast:      "ภาคตะวันออก",
		RegionWest:      "ภาคตะวันตก",
		RegionSouth:     "ภาคใต้",
		"nowhere":       "",
	}
	for region, want := range tests {
		if got := RegionNameTH(region); got != want {
			t.Errorf("RegionNameTH(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestProvincesReturnsCopy(t *testing.T) {
	a := Provinces()
	orig := a[0]
	a[0] = Province{Code: "TH-00", NameTH: "x", NameEN: "x", Region: "x"}
	a[len(a)-1].NameEN = "mutated"
	b := Provinces()
	if len(b) != 76 {
		t.Fatalf("len after mutation = %d, want 76", len(b))
	}
	if b[0] != orig {
		t.Errorf("Provinces()[0] = %+v after mutating an earlier result, want %+v", b[0], orig)
	}
	if b[len(b)-1].NameEN != "Narathiwat" {
		t.Errorf("Provinces()[last].NameEN = %q after mutating an earlier result, want Narathiwat", b[len(b)-1].NameEN)
	}
	if p, ok := ProvinceByCode(orig.Code); !ok || p != orig {
		t.Errorf("ProvinceByCode(%q) = %+v, %v after mutation, want %+v", orig.Code, p, ok, orig)
	}
}

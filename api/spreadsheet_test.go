package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

const mediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// provinceYear sets up Chiang Mai's FY2563: two approved indicators, one
// verified at year end, the other reported and pending.
func provinceYear(t *testing.T, h *harness) (a, b string) {
	t.Helper()
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	a = h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("function", "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว", 1, 35, 40, 45))["id"].(string)
	b = h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", cm, indicatorBody("agenda", "ร้อยละของหมู่บ้านที่ปลอดหมอกควัน", 1, 60, 70, 80))["id"].(string)
	for _, id := range []string{a, b} {
		h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)
	}
	h.must(201, "POST", "/v1/indicators/"+a+"/results", cm, map[string]any{"round": 12, "actual": 42.5, "evidence": []string{"รายงานการท่องเที่ยวจังหวัดเชียงใหม่ 2563"}})
	v := h.must(200, "GET", "/v1/indicators/"+a, opdc, nil)["version"]
	h.must(200, "POST", "/v1/indicators/"+a+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, ifMatch(v)...)
	h.must(201, "POST", "/v1/indicators/"+b+"/results", cm, map[string]any{"round": 12, "actual": 75})
	return a, b
}

func openXLSX(t *testing.T, r resp) *excelize.File {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != mediaXLSX {
		t.Fatalf("Content-Type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("not an XLSX workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// column finds a header key's column letter on a sheet (row 2 holds keys).
func column(t *testing.T, f *excelize.File, sheet, key string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) < 2 {
		t.Fatalf("sheet %q: %v", sheet, err)
	}
	for i, k := range rows[1] {
		if k == key {
			c, _ := excelize.ColumnNumberToName(i + 1)
			return c
		}
	}
	t.Fatalf("sheet %q has no column %q: %v", sheet, key, rows[1])
	return ""
}

// TestExportScorecardXLSXAndCSV: the scorecard downloads as a workbook
// whose scores are numbers shown to four decimals, Thai intact, header
// rows frozen; and as CSV with a BOM. ?format= and Accept both choose it.
func TestExportScorecardXLSXAndCSV(t *testing.T) {
	h := newHarness(t)
	a, _ := provinceYear(t, h)
	cm := h.officer("TH-50")

	for _, r := range []resp{
		h.do("GET", "/v1/units/TH-50/years/2563/scorecard?format=xlsx", cm, nil),
		h.do("GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil, "Accept", mediaXLSX),
	} {
		f := openXLSX(t, r)
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename=units-TH-50-years-2563-scorecard.xlsx`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if got := f.GetSheetList(); len(got) != 3 || got[0] != "ตัวชี้วัด" || got[2] != "สรุป" {
			t.Fatalf("sheets %v", got)
		}
		sh := "ตัวชี้วัด"
		if v, _ := f.GetCellValue(sh, "A1"); v != "รหัสตัวชี้วัด" {
			t.Errorf("A1 = %q, want the Thai title", v)
		}
		panes, err := f.GetPanes(sh)
		if err != nil || !panes.Freeze || panes.YSplit != 2 {
			t.Errorf("header rows not frozen: %+v %v", panes, err)
		}
		score := column(t, f, sh, "score")
		title := column(t, f, sh, "title_th")
		if v, _ := f.GetCellValue(sh, title+"3"); v != "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว" {
			t.Errorf("Thai title = %q", v)
		}
		// 42.5 between 40 (75) and 45 (100): 87.5, a number shown as 87.5000.
		if typ, _ := f.GetCellType(sh, score+"3"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("score cell type %v, want a number", typ)
		}
		if v, _ := f.GetCellValue(sh, score+"3", excelize.Options{RawCellValue: true}); v != "87.5" {
			t.Errorf("raw score %q, want 87.5", v)
		}
		if v, _ := f.GetCellValue(sh, score+"3"); v != "87.5000" {
			t.Errorf("formatted score %q, want 87.5000", v)
		}
		if v, _ := f.GetCellValue(sh, column(t, f, sh, "id")+"3"); v != a {
			t.Errorf("id %q, want %q", v, a)
		}
		if w, _ := f.GetColWidth(sh, title); w < 40 {
			t.Errorf("title column width %v, want a readable one", w)
		}
	}

	r := h.do("GET", "/v1/units/TH-50/years/2563/scorecard?format=csv&sheet=components", cm, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if !bytes.HasPrefix(r.Body, []byte("\xef\xbb\xbf")) {
		t.Fatal("CSV has no UTF-8 byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[1][0] != "code" || recs[2][1] != "การประเมินตามภารกิจหลัก" || recs[2][3] != "87.5" {
		t.Fatalf("components CSV: %q", recs)
	}

	// Bad choices are refused; roles are the JSON view's.
	if r := h.do("GET", "/v1/units/TH-50/years/2563/scorecard?format=pdf", cm, nil); r.Status != 400 {
		t.Errorf("format=pdf: %d", r.Status)
	}
	if r := h.do("GET", "/v1/units/TH-50/years/2563/scorecard?format=csv&sheet=nope", cm, nil); r.Status != 400 || !strings.Contains(string(r.Body), "indicators, components, summary") {
		t.Errorf("sheet=nope: %d %s", r.Status, r.Body)
	}
	if r := h.do("GET", "/v1/units/TH-50/years/2563/scorecard?format=xlsx", h.officer("TH-57"), nil); r.Status != 403 {
		t.Errorf("another unit's officer: %d", r.Status)
	}
}

// TestExportEveryView: each view named by the issue downloads as a
// workbook with the sheets a reader expects, and as CSV.
func TestExportEveryView(t *testing.T) {
	h := newHarness(t)
	provinceYear(t, h)
	opdc, aud := h.opdc(), h.auditor()
	h.must(201, "POST", "/v1/frameworks", opdc, strings.Replace(fy2563Province, "2563", "2564", 1))
	sid := h.must(201, "POST", "/v1/units/TH-50/series", h.officer("TH-50"), map[string]any{
		"title_th": "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว", "measure": "ร้อยละ", "direction": "up",
		"baseline": 30, "start_year": 2563, "end_year": 2565, "targets": map[string]any{"2563": 40, "2564": 45, "2565": 50}})["id"].(string)

	for _, c := range []struct {
		path   string
		token  string
		sheets []string
	}{
		{"/v1/units/TH-50/years/2563/scorecard?as_of=2099-01-01T00:00:00Z", opdc, []string{"ตัวชี้วัด", "องค์ประกอบ", "สรุป"}},
		{"/v1/units/TH-50/comparison?from=2563&to=2564", opdc, []string{"ตัวชี้วัดที่จับคู่", "ไม่ได้จับคู่", "สรุป"}},
		{"/v1/frameworks/compare?from=2563&to=2564&kind=province", opdc, []string{"หน่วยงาน", "การเปลี่ยนแปลง"}},
		{"/v1/units/TH-50/trends", opdc, []string{"ชุดข้อมูลระยะยาว", "รายปี"}},
		{"/v1/units/TH-50/series/" + sid + "/trend", opdc, []string{"ชุดข้อมูลระยะยาว", "รายปี"}},
		{"/v1/units/TH-50/series", opdc, []string{"ชุดข้อมูลระยะยาว"}},
		{"/v1/units?fiscal_year=2563", opdc, []string{"หน่วยรับการประเมิน"}},
		{"/v1/units/TH-50/years/2563/audit", aud, []string{"เหตุการณ์", "ที่มาของคะแนน", "สรุป"}},
	} {
		sep := "?"
		if strings.Contains(c.path, "?") {
			sep = "&"
		}
		f := openXLSX(t, h.do("GET", c.path+sep+"format=xlsx", c.token, nil))
		if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(c.sheets, "|") {
			t.Errorf("%s: sheets %v, want %v", c.path, got, c.sheets)
		}
		if r := h.do("GET", c.path+sep+"format=csv", c.token, nil); r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("\xef\xbb\xbf")) {
			t.Errorf("%s as CSV: %d %.200s", c.path, r.Status, r.Body)
		}
	}

	// The audit trail: one row per event, and the derivations with
	// their steps on a sheet of their own.
	f := openXLSX(t, h.do("GET", "/v1/units/TH-50/years/2563/audit?format=xlsx", aud, nil))
	rows, _ := f.GetRows("เหตุการณ์")
	audit := h.must(200, "GET", "/v1/units/TH-50/years/2563/audit", aud, nil)
	if n := len(audit["events"].([]any)); len(rows)-2 != n {
		t.Errorf("audit sheet has %d event rows, the trail %d events", len(rows)-2, n)
	}
	steps := column(t, f, "ที่มาของคะแนน", "steps")
	if v, _ := f.GetCellValue("ที่มาของคะแนน", steps+"3"); !strings.Contains(v, "42.5") {
		t.Errorf("derivation steps %q do not show the value used", v)
	}

	// The units list carries each readable unit's total; a unit officer
	// sees only its own.
	f = openXLSX(t, h.do("GET", "/v1/units?format=xlsx&fiscal_year=2563", h.officer("TH-57"), nil))
	rows, _ = f.GetRows("หน่วยรับการประเมิน")
	for _, r := range rows[2:] {
		if r[0] == "TH-50" && len(r) > 6 && r[6] != "" {
			t.Errorf("TH-57's officer sees TH-50's total: %v", r)
		}
	}
	f = openXLSX(t, h.do("GET", "/v1/units?format=xlsx&fiscal_year=2563", opdc, nil))
	rows, _ = f.GetRows("หน่วยรับการประเมิน", excelize.Options{RawCellValue: true})
	found := false
	for _, r := range rows[2:] {
		if r[0] == "TH-50" {
			found = true
			// function 87.5, agenda pending (0): component mean 43.75.
			if len(r) < 7 || r[5] != "2563" || r[6] != "43.75" {
				t.Errorf("TH-50's row %v, want FY2563 total 43.75", r)
			}
		}
	}
	if !found {
		t.Error("TH-50 is not in the units export")
	}
}

// TestSSConvertReadsExports has an independent reader, gnumeric's
// ssconvert, read the workbook: numbers and Thai text come through.
func TestSSConvertReadsExports(t *testing.T) {
	ssconvert, err := exec.LookPath("ssconvert")
	if err != nil {
		t.Skip("ssconvert (Debian package gnumeric) is not installed; .ci/run installs it")
	}
	h := newHarness(t)
	provinceYear(t, h)
	dir := t.TempDir()
	for _, c := range []struct{ path, sheet, want string }{
		{"/v1/units/TH-50/years/2563/scorecard?format=xlsx", "", "ร้อยละที่เพิ่มขึ้นของรายได้จากการท่องเที่ยว"},
		{"/v1/units/TH-50/years/2563/indicators/template", "", "ร้อยละของหมู่บ้านที่ปลอดหมอกควัน"},
	} {
		r := h.do("GET", c.path, h.opdc(), nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", c.path, r.Status, r.Body)
		}
		in, out := filepath.Join(dir, "in.xlsx"), filepath.Join(dir, "out.csv")
		if err := os.WriteFile(in, r.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(ssconvert, "--export-type=Gnumeric_stf:stf_assistant", "--export-options=format=preserve separator=,", in, out)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ssconvert %s: %v: %s", c.path, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		// Every sheet is exported in turn; the first comes first.
		cr := csv.NewReader(bytes.NewReader(b))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil || len(recs) < 3 {
			t.Fatalf("ssconvert's CSV: %v\n%s", err, b)
		}
		text := string(b)
		if !strings.Contains(text, c.want) {
			t.Errorf("%s: Thai text lost in ssconvert's reading:\n%s", c.path, text)
		}
		if c.path[len(c.path)-4:] == "xlsx" {
			// The score is a number that ssconvert, keeping the cells'
			// formats, shows as 87.5000: four decimals.
			hdr := recs[1]
			col := -1
			for i, k := range hdr {
				if k == "score" {
					col = i
				}
			}
			if col < 0 || recs[2][col] != "87.5000" {
				t.Errorf("score read by ssconvert: %q (header %q)", recs[2], hdr)
			}
		}
	}
}

// upload posts a spreadsheet to an import endpoint.
func upload(h *harness, path, token string, file []byte, media string) resp {
	h.t.Helper()
	return h.do("POST", path, token, file, "Content-Type", media)
}

func xlsxBytes(t *testing.T, f *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// summary reads an import report's summary count.
func summary(t *testing.T, rep map[string]any, outcome string) int {
	t.Helper()
	s, _ := rep["summary"].(map[string]any)
	n, _ := s[outcome].(float64)
	return int(n)
}

// TestImportRoundTrip: download the pre-filled indicators template, change
// one target and add an indicator, dry-run it (nothing appended), import
// it (exactly the two commands appended), import it again (nothing), and
// the scorecard is the one the edits imply.
func TestImportRoundTrip(t *testing.T) {
	h := newHarness(t)
	a, _ := provinceYear(t, h)
	cm := h.officer("TH-50")
	base := "/v1/units/TH-50/years/2563/indicators"
	// A proposal still under review, which its unit may revise.
	b := h.must(201, "POST", base, cm, indicatorBody("agenda", "ร้อยละของครัวเรือนที่คัดแยกขยะ", 1, 60, 70, 80))["id"].(string)

	// Unchanged: downloading and uploading the template appends nothing.
	tmpl := h.do("GET", base+"/template", cm, nil)
	f := openXLSX(t, tmpl)
	before := h.lastSeq()
	scJSON := h.do("GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil).Body
	rep := h.must(200, "POST", base+"/import", cm, tmpl.Body, "Content-Type", mediaXLSX)
	if summary(t, rep, "unchanged") != 3 || h.lastSeq() != before {
		t.Fatalf("untouched template: %v; %d events appended", rep, h.lastSeq()-before)
	}
	if again := h.do("GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil).Body; !bytes.Equal(again, scJSON) {
		t.Fatalf("the scorecard changed after re-importing its own template:\n%s\n%s", scJSON, again)
	}
	scBefore := h.must(200, "GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil)

	// Edit: b's first target 60 → 65, and a new indicator.
	sh := f.GetSheetList()[0]
	rows, _ := f.GetRows(sh)
	bRow := 0
	for i, r := range rows {
		if len(r) > 0 && r[0] == b {
			bRow = i + 1
		}
	}
	if bRow == 0 {
		t.Fatalf("template has no row for %s: %v", b, rows)
	}
	set := func(key string, row int, v any) {
		if err := f.SetCellValue(sh, column(t, f, sh, key)+strconv.Itoa(row), v); err != nil {
			t.Fatal(err)
		}
	}
	set("target_1", bRow, 65)
	set("reason", bRow, "ปรับค่าเป้าหมายตามข้อมูลปีฐาน")
	newRow := len(rows) + 1
	for k, v := range map[string]any{"component": "agenda", "title_th": "จำนวนผู้ป่วยโรคทางเดินหายใจจากฝุ่นละอองลดลง", "measure": "ร้อยละ",
		"direction": "up", "weight": 1, "target_1": "๑๐", "target_2": 20, "target_3": 30} {
		set(k, newRow, v)
	}
	edited := xlsxBytes(t, f)

	rep = h.must(200, "POST", base+"/import?dry_run=true", cm, edited, "Content-Type", mediaXLSX)
	if h.lastSeq() != before {
		t.Fatal("the dry run appended")
	}
	if summary(t, rep, "would_append") != 2 || summary(t, rep, "unchanged") != 2 || rep["dry_run"] != true {
		t.Fatalf("dry run report: %v", rep)
	}
	byRow := func(rep map[string]any) map[int]map[string]any {
		out := map[int]map[string]any{}
		for _, r := range rep["rows"].([]any) {
			m := r.(map[string]any)
			out[int(m["row"].(float64))] = m
		}
		return out
	}
	if r := byRow(rep)[bRow]; r["command"] != "revise_indicator" || r["event_type"] != "indicator.revised" {
		t.Errorf("row %d: %v", bRow, r)
	}
	if r := byRow(rep)[newRow]; r["command"] != "propose_indicator" || r["event_type"] != "indicator.proposed" {
		t.Errorf("row %d: %v", newRow, r)
	}

	rep = h.must(200, "POST", base+"/import", cm, edited, "Content-Type", mediaXLSX)
	if summary(t, rep, "appended") != 2 || h.lastSeq() != before+2 || rep["complete"] != true {
		t.Fatalf("import: %v; %d events appended", rep, h.lastSeq()-before)
	}
	newID := byRow(rep)[newRow]["indicator_id"].(string)
	got := h.must(200, "GET", "/v1/indicators/"+newID, cm, nil)
	if tg := got["targets"].([]any); str(tg[0]) != "10" {
		t.Errorf("Thai numerals ๑๐ stored as %v, want 10", tg[0])
	}
	if got["title_th"] != "จำนวนผู้ป่วยโรคทางเดินหายใจจากฝุ่นละอองลดลง" {
		t.Errorf("Thai title: %v", got["title_th"])
	}
	if tg := h.must(200, "GET", "/v1/indicators/"+b, cm, nil)["targets"].([]any); str(tg[0]) != "65" {
		t.Errorf("revised target %v, want 65", tg[0])
	}

	// Again: the same file appends nothing; the proposal is a replay of the
	// first upload's, the revision now equals the ledger.
	after := h.lastSeq()
	rep = h.must(200, "POST", base+"/import", cm, edited, "Content-Type", mediaXLSX)
	if h.lastSeq() != after {
		t.Fatalf("second upload appended %d events: %v", h.lastSeq()-after, rep)
	}
	if summary(t, rep, "replayed") != 1 || summary(t, rep, "unchanged") != 3 {
		t.Errorf("second upload: %v", rep)
	}
	if id := byRow(rep)[newRow]["indicator_id"]; id != newID {
		t.Errorf("the replayed proposal names %v, the first upload created %s", id, newID)
	}

	// a was untouched: its score is the one it had.
	scAfter := h.must(200, "GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil)
	score := func(sc map[string]any, id string) string {
		for _, i := range sc["indicators"].([]any) {
			if m := i.(map[string]any); m["id"] == id {
				return str(m["score"])
			}
		}
		return "absent"
	}
	if score(scBefore, a) != "87.5" || score(scAfter, a) != score(scBefore, a) {
		t.Errorf("a's score %s then %s", score(scBefore, a), score(scAfter, a))
	}
}

// TestImportResults: the results template lists a row per approved
// indicator and round, pre-filled; filling one actual reports it; the
// same file again appends nothing; a CSV works like an XLSX.
func TestImportResults(t *testing.T) {
	h := newHarness(t)
	a, _ := provinceYear(t, h)
	cm := h.officer("TH-50")
	base := "/v1/units/TH-50/years/2563/results"

	f := openXLSX(t, h.do("GET", base+"/template?round=6", cm, nil))
	sh := f.GetSheetList()[0]
	rows, _ := f.GetRows(sh)
	if len(rows) != 4 { // two header rows, two indicators
		t.Fatalf("round-6 template rows: %v", rows)
	}
	aRow := 3
	if rows[2][0] != a {
		aRow = 4
	}
	if err := f.SetCellValue(sh, column(t, f, sh, "actual")+strconv.Itoa(aRow), 21.25); err != nil {
		t.Fatal(err)
	}
	_ = f.SetCellValue(sh, column(t, f, sh, "evidence")+strconv.Itoa(aRow), "https://example.go.th/รายงาน.pdf\nภาพถ่ายกิจกรรม.zip")
	_ = f.SetCellValue(sh, column(t, f, sh, "obstacles")+strconv.Itoa(aRow), "นักท่องเที่ยวลดลงช่วงฤดูฝุ่นควัน")
	file := xlsxBytes(t, f)
	before := h.lastSeq()
	rep := h.must(200, "POST", base+"/import", cm, file, "Content-Type", mediaXLSX)
	if summary(t, rep, "appended") != 1 || summary(t, rep, "skipped") != 1 || h.lastSeq() != before+1 {
		t.Fatalf("results import: %v", rep)
	}
	ind := h.must(200, "GET", "/v1/indicators/"+a, cm, nil)
	var r6 map[string]any
	for _, r := range ind["results"].([]any) {
		if m := r.(map[string]any); str(m["round"]) == "6" {
			r6 = m
		}
	}
	if r6 == nil || str(r6["actual"]) != "21.25" || len(r6["evidence"].([]any)) != 2 {
		t.Fatalf("round 6 after import: %v", ind["results"])
	}
	h.must(200, "POST", base+"/import", cm, file, "Content-Type", mediaXLSX)
	if h.lastSeq() != before+1 {
		t.Fatal("the same results file appended again")
	}

	// CSV, one header row, Thai numerals.
	csvFile := "\ufeffindicator_id,round,actual,obstacles\r\n" + a + ",9,๓๐,ฝุ่นควัน\r\n"
	rep = h.must(200, "POST", base+"/import", cm, csvFile, "Content-Type", "text/csv")
	if summary(t, rep, "appended") != 1 {
		t.Fatalf("CSV import: %v", rep)
	}
}

// TestImportBadFiles: every bad file is refused with a clear problem, and
// nothing is appended.
func TestImportBadFiles(t *testing.T) {
	h := newHarness(t)
	_, b := provinceYear(t, h)
	cm := h.officer("TH-50")
	base := "/v1/units/TH-50/years/2563/indicators"
	tmpl := h.do("GET", base+"/template", cm, nil).Body
	open := func() (*excelize.File, string) {
		f, err := excelize.OpenReader(bytes.NewReader(tmpl))
		if err != nil {
			t.Fatal(err)
		}
		return f, f.GetSheetList()[0]
	}
	withCell := func(key string, v any) []byte {
		f, sh := open()
		_ = f.SetCellValue(sh, column(t, f, sh, key)+"3", v)
		return xlsxBytes(t, f)
	}
	results := h.do("GET", "/v1/units/TH-50/years/2563/results/template", cm, nil).Body

	formula := func() []byte {
		f, sh := open()
		_ = f.SetCellFormula(sh, column(t, f, sh, "weight")+"3", "=1+1")
		return xlsxBytes(t, f)
	}()
	merged := func() []byte {
		f, sh := open()
		_ = f.MergeCell(sh, "E3", "E4")
		return xlsxBytes(t, f)
	}()
	dated := func() []byte {
		f, sh := open()
		cell := column(t, f, sh, "target_1") + "3"
		style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
		_ = f.SetCellValue(sh, cell, 43831)
		_ = f.SetCellStyle(sh, cell, cell, style)
		_ = f.SetCellValue(sh, column(t, f, sh, "reason")+"3", "แก้ไข")
		return xlsxBytes(t, f)
	}()
	extraColumn := func() []byte {
		f, sh := open()
		rows, _ := f.GetRows(sh)
		next, _ := excelize.ColumnNumberToName(len(rows[1]) + 1)
		_ = f.SetCellValue(sh, next+"2", "bonus")
		return xlsxBytes(t, f)
	}()
	missingColumn := func() []byte {
		f, sh := open()
		_ = f.RemoveCol(sh, column(t, f, sh, "weight"))
		return xlsxBytes(t, f)
	}()
	manyRows := func() []byte {
		var sb strings.Builder
		sb.WriteString("indicator_id,round,actual\n")
		for i := 0; i < 10000; i++ {
			fmt.Fprintf(&sb, "%s,12,%d\n", b, i)
		}
		return []byte(sb.String())
	}()
	huge := bytes.Repeat([]byte("x"), 50<<20)

	before := h.lastSeq()
	for _, c := range []struct {
		name, path string
		file       []byte
		media      string
		status     int
		want       string
	}{
		{"not a spreadsheet", base + "/import", []byte("%PDF-1.4 binary\x00\x01"), "application/pdf", 415, "not-a-spreadsheet"},
		{"a results file to the indicators import", base + "/import", results, mediaXLSX, 422, "Not the indicators template"},
		{"an extra column", base + "/import", extraColumn, mediaXLSX, 422, "bonus"},
		{"a missing column", base + "/import", missingColumn, mediaXLSX, 422, "missing column(s) weight"},
		{"a formula", base + "/import", formula, mediaXLSX, 422, "holds a formula"},
		{"merged cells", base + "/import", merged, mediaXLSX, 422, "merged range"},
		{"a date where a number belongs", base + "/import", dated, mediaXLSX, 422, "formatted as a date"},
		{"a comma in a number", base + "/import", withCell("weight", "1,5"), mediaXLSX, 422, "thousands separators"},
		{"text in a number column", base + "/import", withCell("target_2", "สูง"), mediaXLSX, 422, "is not a number"},
		{"10,000 rows", "/v1/units/TH-50/years/2563/results/import", manyRows, "text/csv", 422, "at most 1000"},
		{"a 50 MB file", base + "/import", huge, mediaXLSX, 413, "too-large"},
	} {
		r := upload(h, c.path, cm, c.file, c.media)
		if r.Status != c.status || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s: %d, want %d with %q: %.400s", c.name, r.Status, c.status, c.want, r.Body)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: Content-Type %q", c.name, r.Header.Get("Content-Type"))
		}
		if h.lastSeq() != before {
			t.Fatalf("%s: appended %d events", c.name, h.lastSeq()-before)
		}
	}

	// A refused row names its column: the domain's own rule, mapped back.
	bad := func() []byte {
		f, sh := open()
		rows, _ := f.GetRows(sh)
		row := strconv.Itoa(len(rows) + 1)
		for k, v := range map[string]any{"component": "agenda", "title_th": "ตัวชี้วัดใหม่", "measure": "ร้อยละ", "direction": "sideways",
			"weight": 1, "target_1": 1, "target_2": 2, "target_3": 3} {
			_ = f.SetCellValue(sh, column(t, f, sh, k)+row, v)
		}
		return xlsxBytes(t, f)
	}()
	r := upload(h, base+"/import", cm, bad, mediaXLSX)
	if r.Status != 422 || !strings.Contains(string(r.Body), `"column":"direction"`) {
		t.Errorf("bad direction: %d %s", r.Status, r.Body)
	}

	// Roles: an auditor or another unit's officer may not import.
	if r := upload(h, base+"/import", h.auditor(), tmpl, mediaXLSX); r.Status != 403 {
		t.Errorf("auditor import: %d", r.Status)
	}
	if r := upload(h, base+"/import", h.officer("TH-57"), tmpl, mediaXLSX); r.Status != 403 {
		t.Errorf("another unit's import: %d", r.Status)
	}
	if h.lastSeq() != before {
		t.Fatal("a refused import appended")
	}
}

// TestImportRowsDecidedTogether: rows that each pass on their own but not
// together are refused by the dry run, and a real import of such a file
// appends nothing: more new indicators than the unit-year's 50, two rows
// taking one series, two rows revising one indicator, two rows reporting
// one round. Before, each row was decided alone: a file of 50 proposals
// into a unit-year of 2 passed its dry run, and its import stopped at the
// 49th proposal with 48 appended.
func TestImportRowsDecidedTogether(t *testing.T) {
	h := newHarness(t)
	a, b := provinceYear(t, h) // two live indicators of TH-50 FY2563
	cm := h.officer("TH-50")
	base := "/v1/units/TH-50/years/2563"
	refusedRows := func(rep map[string]any) map[int]string {
		out := map[int]string{}
		for _, r := range rep["rows"].([]any) {
			m := r.(map[string]any)
			if m["outcome"] == "refused" {
				p, _ := m["problem"].(map[string]any)
				detail, _ := p["detail"].(string)
				out[int(m["row"].(float64))] = fmt.Sprintf("%v %s", p["status"], detail)
			}
		}
		return out
	}
	// csvRows: a header row, then data rows numbered from 2.
	csvOf := func(header string, rows []string) string {
		return "\ufeff" + header + "\r\n" + strings.Join(rows, "\r\n") + "\r\n"
	}
	const indHeader = "id,version,component,title_th,measure,direction,weight,series_id,target_1,target_2,target_3,reason"

	// 50 new indicators: the 49th and 50th (rows 50 and 51) would make 51 and 52.
	var rows []string
	for i := 1; i <= 50; i++ {
		rows = append(rows, fmt.Sprintf(",,agenda,ตัวชี้วัดนำเข้า %d,ร้อยละ,up,1,,1,2,3,", i))
	}
	file := csvOf(indHeader, rows)
	before := h.lastSeq()
	rep := h.must(200, "POST", base+"/indicators/import?dry_run=true", cm, file, "Content-Type", "text/csv")
	got := refusedRows(rep)
	if len(got) != 2 || !strings.HasPrefix(got[50], "409 ") || !strings.HasPrefix(got[51], "409 ") ||
		!strings.Contains(got[50], "at most 50 live indicators") || summary(t, rep, "would_append") != 48 {
		t.Fatalf("dry run of 50 proposals into a unit-year of 2: refused %v, report %v", got, rep["summary"])
	}
	r := upload(h, base+"/indicators/import", cm, []byte(file), "text/csv")
	if r.Status != 422 || h.lastSeq() != before {
		t.Fatalf("import of 50 proposals into a unit-year of 2: %d, %d events appended", r.Status, h.lastSeq()-before)
	}

	// One series, two rows; one indicator, two rows.
	series := h.must(201, "POST", "/v1/units/TH-50/series", cm, map[string]any{"title_th": "รายได้จากการท่องเที่ยว", "measure": "ร้อยละ",
		"direction": "up", "baseline": 30, "start_year": 2563, "end_year": 2565, "targets": map[string]any{"2563": 40, "2564": 45, "2565": 50}})["id"].(string)
	c := h.must(201, "POST", base+"/indicators", cm, indicatorBody("agenda", "ตัวชี้วัดที่จะปรับ", 1, 1, 2, 3))["id"].(string)
	file = csvOf(indHeader, []string{
		",,agenda,รายได้ ก,ร้อยละ,up,1," + series + ",35,40,45,",
		",,agenda,รายได้ ข,ร้อยละ,up,1," + series + ",35,40,45,",
		c + ",1,agenda,ตัวชี้วัดที่จะปรับ,ร้อยละ,up,1,,2,3,4,ปรับเป้า",
		c + ",1,agenda,ตัวชี้วัดที่จะปรับ,ร้อยละ,up,1,,5,6,7,ปรับอีก",
	})
	before = h.lastSeq()
	rep = h.must(200, "POST", base+"/indicators/import?dry_run=true", cm, file, "Content-Type", "text/csv")
	got = refusedRows(rep)
	if len(got) != 2 || !strings.Contains(got[3], "row 2 of this file already puts an indicator of FY2563 in series") ||
		!strings.Contains(got[5], "row 4 of this file already revises indicator "+c) {
		t.Fatalf("dry run of rows sharing a series and an indicator: refused %v", got)
	}
	if r := upload(h, base+"/indicators/import", cm, []byte(file), "text/csv"); r.Status != 422 || h.lastSeq() != before {
		t.Fatalf("import of rows sharing a series and an indicator: %d, %d events appended", r.Status, h.lastSeq()-before)
	}

	// One round of one indicator, two rows; other rounds and indicators are independent.
	file = csvOf("indicator_id,round,actual", []string{a + ",6,41", b + ",6,71", a + ",9,42", a + ",6,43"})
	rep = h.must(200, "POST", base+"/results/import?dry_run=true", cm, file, "Content-Type", "text/csv")
	got = refusedRows(rep)
	if len(got) != 1 || !strings.Contains(got[5], "row 2 of this file already reports round 6 of indicator "+a) || summary(t, rep, "would_append") != 3 {
		t.Fatalf("dry run of two reports of one round: refused %v, report %v", got, rep["summary"])
	}

	// Rows that fit together still import: 48 new indicators fill the unit-year to 50.
	before = h.lastSeq()
	rep = h.must(200, "POST", base+"/indicators/import", cm, csvOf(indHeader, rows[:47]), "Content-Type", "text/csv")
	if summary(t, rep, "appended") != 47 || h.lastSeq() != before+47 {
		t.Fatalf("47 proposals into a unit-year of 3: %v", rep["summary"])
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestImportCommand: `kpiledger import` uploads an edited template to a
// running ledger: the dry run reports the command it would run and appends
// nothing, the import appends it with a progress line, the same file again
// appends nothing, and a bad row exits 1 naming its column.
func TestImportCommand(t *testing.T) {
	dataDir := t.TempDir()
	base, _ := startRun(t, dataDir)
	waitReady(t, base)
	env := func(string) string { return "" }
	tok := func(args ...string) string {
		var out, errb strings.Builder
		if err := run(context.Background(), append([]string{"token", "--data-dir", dataDir}, args...), env, &out, &errb); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	opdc := tok("--role", "opdc")
	if code, body, err := post(http.DefaultClient, base+"/v1/frameworks", opdc, jsonMap(t, crashFramework)); err != nil || code != 201 {
		t.Fatalf("framework: %d %s %v", code, body, err)
	}
	req, _ := http.NewRequest("GET", base+"/v1/units/TH-50/years/2565/indicators/template", nil)
	req.Header.Set("Authorization", "Bearer "+tok("--role", "unit", "--unit", "TH-50"))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("template: %v %v", res, err)
	}
	tmpl, _ := io.ReadAll(res.Body)
	res.Body.Close()
	f, err := excelize.OpenReader(bytes.NewReader(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	sh := f.GetSheetList()[0]
	rows, _ := f.GetRows(sh)
	for i, k := range rows[1] {
		col, _ := excelize.ColumnNumberToName(i + 1)
		v := map[string]any{"component": "performance", "title_th": "ร้อยละของผู้รับบริการที่พึงพอใจ", "measure": "ร้อยละ",
			"direction": "up", "weight": 100, "target_1": 70, "target_2": 80, "target_3": 90}[k]
		if v != nil {
			_ = f.SetCellValue(sh, col+"3", v)
		}
	}
	file := filepath.Join(t.TempDir(), "indicators.xlsx")
	if err := f.SaveAs(file); err != nil {
		t.Fatal(err)
	}
	imp := func(extra ...string) (string, string, error) {
		var out, errb strings.Builder
		err := run(context.Background(), append([]string{"import", "--url", base, "--data-dir", dataDir, "--file", file, "--unit", "TH-50", "--fiscal-year", "2565"}, extra...), env, &out, &errb)
		return out.String(), errb.String(), err
	}
	seq := func() string {
		req, _ := http.NewRequest("GET", base+"/v1/events?after=0&limit=1000", nil)
		req.Header.Set("Authorization", "Bearer "+opdc)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	before := seq()
	out, _, err := imp("--dry-run")
	if err != nil || !strings.Contains(out, "row 3    propose_indicator  would_append  → indicator.proposed") || !strings.Contains(out, "(dry run: nothing was appended)") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if seq() != before {
		t.Fatal("the dry run appended")
	}
	out, errOut, err := imp()
	if err != nil || !strings.Contains(out, "propose_indicator  appended") || !strings.Contains(errOut, "1/1 rows") {
		t.Fatalf("import: %v\n%s\n%s", err, out, errOut)
	}
	after := seq()
	if out, _, err = imp(); err != nil || !strings.Contains(out, "replayed") || seq() != after {
		t.Fatalf("second import: %v\n%s", err, out)
	}

	_ = f.SetCellValue(sh, "A4", "")
	for i, k := range rows[1] {
		col, _ := excelize.ColumnNumberToName(i + 1)
		v := map[string]any{"component": "performance", "title_th": "ตัวชี้วัดที่น้ำหนักผิด", "measure": "ร้อยละ",
			"direction": "up", "weight": 500, "target_1": 1, "target_2": 2, "target_3": 3}[k]
		if v != nil {
			_ = f.SetCellValue(sh, col+"4", v)
		}
	}
	_ = f.SaveAs(file)
	out, _, err = imp()
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 || !strings.Contains(out, "weight: must be greater than 0 and at most 100") {
		t.Fatalf("bad row: %v\n%s", err, out)
	}
	if seq() != after {
		t.Fatal("a refused import appended")
	}
	_ = os.Remove(file)
}

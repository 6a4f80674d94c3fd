// Package sheets writes kpiledger's views as spreadsheets (XLSX through
// excelize, and CSV) and reads the import templates back. A view becomes a
// list of Tables; a Table is written the same way whatever view it came
// from: two frozen header rows (the Thai title, then the column's key, which
// is what an import matches), numbers as numbers, scores to four decimals,
// fiscal years in B.E. as the ledger keeps them, and times in Thai local
// time with a B.E. year, as text, so that no spreadsheet turns them into a
// Gregorian date of its own.
package sheets

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/opdc/kpiledger/domain"
)

// Media types of the two formats.
const (
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	MediaCSV  = "text/csv; charset=utf-8"
)

// Kind says how a column's values are written.
type Kind int

// Column kinds.
const (
	Text    Kind = iota // a string, as is
	Integer             // a whole number
	Decimal             // a number as given (targets, actuals, weights)
	Score               // a number shown to four decimals
	Year                // a fiscal year, B.E.
	Time                // an instant, shown in Thai time with a B.E. year
	Bool                // true/false, shown as ใช่/ไม่ใช่
)

// Column is one column of a table.
type Column struct {
	Key   string // machine name, the second header row; what an import matches
	Title string // Thai title, the first header row
	Kind  Kind
	Width float64 // in characters; 0 picks one from the kind and the title
	// Choices, when set, are the only values a template offers for the
	// column (a drop-down list in Excel).
	Choices []string
	// Info marks a column a template shows for reference only: it is
	// shaded, and an import ignores it.
	Info bool
}

// Table is one sheet: columns and rows of values. A value is a string,
// an int, a uint64, a domain.Number, a time.Time, a bool, a *bool, or nil
// for an empty cell.
type Table struct {
	Name    string // the sheet name (Thai), at most 31 characters
	Key     string // what ?sheet= names for CSV, which holds one table
	Columns []Column
	Rows    [][]any
}

// HeaderRows is how many header rows every written table has.
const HeaderRows = 2

// bangkok is Thai time; the ledger's users read times in it.
var bangkok = time.FixedZone("ICT", 7*60*60)

// FormatTime writes an instant as Thai readers write it: day/month/B.E.
// year and the time in Thai time (UTC+7).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(bangkok)
	return fmt.Sprintf("%02d/%02d/%04d %02d:%02d:%02d", t.Day(), int(t.Month()), t.Year()+543, t.Hour(), t.Minute(), t.Second())
}

// maxExactDigits is how many significant digits a spreadsheet's
// double-precision number keeps; a value with more is written as text so
// that no digit is lost.
const maxExactDigits = 15

// number turns a decimal string into the float64 a spreadsheet cell holds,
// or reports that the value would lose digits as one.
func number(n domain.Number) (float64, bool) {
	s := strings.TrimLeft(strings.TrimPrefix(string(n), "-"), "0.")
	mant, _, _ := strings.Cut(strings.ToLower(s), "e")
	if digits := len(strings.ReplaceAll(mant, ".", "")); digits > maxExactDigits {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return 0, false
	}
	f, _ := r.Float64()
	return f, true
}

// cellValue is a value as written into an XLSX cell.
func cellValue(k Kind, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case domain.Number:
		if x == "" {
			return nil
		}
		if f, ok := number(x); ok {
			return f
		}
		return string(x)
	case time.Time:
		return FormatTime(x)
	case bool:
		return boolText(x)
	case *bool:
		if x == nil {
			return nil
		}
		return boolText(*x)
	case *int:
		if x == nil {
			return nil
		}
		return *x
	case *string:
		if x == nil {
			return nil
		}
		return *x
	}
	return v
}

// textValue is a value as written into a CSV field.
func textValue(v any) string {
	switch x := cellValue(Text, v).(type) {
	case nil:
		return ""
	case float64:
		// The decimal as the ledger holds it, not the float's rendering.
		if n, ok := v.(domain.Number); ok {
			return string(n)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func boolText(b bool) string {
	if b {
		return "ใช่"
	}
	return "ไม่ใช่"
}

// width picks a column width in characters.
func (c Column) width() float64 {
	if c.Width > 0 {
		return c.Width
	}
	w := float64(max(utf8.RuneCountInString(c.Title), len(c.Key))) + 2
	switch c.Kind {
	case Time:
		w = max(w, 20)
	case Score, Decimal:
		w = max(w, 12)
	case Text:
		w = max(w, 16)
	}
	return min(w, 60)
}

// WriteXLSX writes the tables as one workbook, a sheet each.
func WriteXLSX(w io.Writer, tables []Table) error {
	f := excelize.NewFile()
	defer f.Close()
	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EEF7"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
	})
	if err != nil {
		return err
	}
	keyRow, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "666666"}})
	if err != nil {
		return err
	}
	fourDP := "0.0000"
	score, err := f.NewStyle(&excelize.Style{CustomNumFmt: &fourDP})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	for i, t := range tables {
		name := SheetName(t.Name)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		for j, c := range t.Columns {
			col, _ := excelize.ColumnNumberToName(j + 1)
			if err := f.SetColWidth(name, col, col, c.width()); err != nil {
				return err
			}
			if err := f.SetCellValue(name, col+"1", c.Title); err != nil {
				return err
			}
			if err := f.SetCellValue(name, col+"2", c.Key); err != nil {
				return err
			}
		}
		if n := len(t.Columns); n > 0 {
			last, _ := excelize.ColumnNumberToName(n)
			if err := f.SetCellStyle(name, "A1", last+"1", header); err != nil {
				return err
			}
			if err := f.SetCellStyle(name, "A2", last+"2", keyRow); err != nil {
				return err
			}
		}
		for r, row := range t.Rows {
			cells := make([]any, len(row))
			for j, v := range row {
				k := Text
				if j < len(t.Columns) {
					k = t.Columns[j].Kind
				}
				cells[j] = cellValue(k, v)
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+HeaderRows+1)
			if err := f.SetSheetRow(name, cell, &cells); err != nil {
				return err
			}
		}
		if len(t.Rows) > 0 {
			for j, c := range t.Columns {
				style := 0
				switch c.Kind {
				case Score:
					style = score
				case Text:
					style = wrap
				}
				if style == 0 {
					continue
				}
				col, _ := excelize.ColumnNumberToName(j + 1)
				if err := f.SetCellStyle(name, col+"3", col+strconv.Itoa(len(t.Rows)+HeaderRows), style); err != nil {
					return err
				}
			}
		}
		if err := decorate(f, name, t.Columns, len(t.Rows)); err != nil {
			return err
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: HeaderRows, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
	}
	_, err = f.WriteTo(w)
	return err
}

// decorate adds a template's drop-down lists and shades its reference
// columns.
func decorate(f *excelize.File, sheet string, cols []Column, rows int) error {
	var info int
	for j, c := range cols {
		col, _ := excelize.ColumnNumberToName(j + 1)
		if len(c.Choices) > 0 {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(fmt.Sprintf("%s%d:%s%d", col, HeaderRows+1, col, MaxRows+HeaderRows))
			if err := dv.SetDropList(c.Choices); err != nil {
				return err
			}
			dv.SetError(excelize.DataValidationErrorStyleStop, c.Key, "เลือกจากรายการ: "+strings.Join(c.Choices, ", "))
			if err := f.AddDataValidation(sheet, dv); err != nil {
				return err
			}
		}
		if c.Info && rows > 0 {
			if info == 0 {
				var err error
				if info, err = f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}},
					Font: &excelize.Font{Color: "555555"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}); err != nil {
					return err
				}
			}
			if err := f.SetCellStyle(sheet, fmt.Sprintf("%s%d", col, HeaderRows+1), fmt.Sprintf("%s%d", col, rows+HeaderRows), info); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteCSV writes one table as CSV: UTF-8 with a byte-order mark, which is
// what makes Excel read Thai as Thai, then the two header rows.
func WriteCSV(w io.Writer, t Table) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	titles, keys := make([]string, len(t.Columns)), make([]string, len(t.Columns))
	for i, c := range t.Columns {
		titles[i], keys[i] = c.Title, c.Key
	}
	if err := cw.Write(titles); err != nil {
		return err
	}
	if err := cw.Write(keys); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = textValue(row[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// SheetName makes a name acceptable to spreadsheets: at most 31 characters,
// none of : \ / ? * [ ].
func SheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '-'
		}
		return r
	}, s)
	if s == "" {
		s = "sheet"
	}
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return s
}

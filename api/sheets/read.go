package sheets

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Limits on what Read accepts, so that a hostile or mistaken upload is
// refused before it costs memory.
const (
	// MaxRows bounds the data rows of one import: a unit-year holds at most
	// 50 live indicators, and a results template one row per indicator and
	// round, so a thousand is far beyond any real file.
	MaxRows = 1000
	// MaxColumns bounds the columns of one sheet.
	MaxColumns = 64
	// unzipLimit and unzipXMLLimit bound what an XLSX may expand to.
	unzipLimit    = 64 << 20
	unzipXMLLimit = 16 << 20
)

// ErrNotSpreadsheet is a file that is neither an XLSX workbook nor CSV.
var ErrNotSpreadsheet = errors.New("the file is not an XLSX workbook or a UTF-8 CSV file")

// CellError is a problem with one cell (or, with Row 0, the whole sheet).
type CellError struct {
	Row     int    // 1-based, as the spreadsheet numbers rows; 0 for the sheet
	Column  string // the column's key, when known
	Cell    string // A1-style reference, XLSX only
	Message string
}

func (e *CellError) Error() string {
	where := "the sheet"
	switch {
	case e.Cell != "":
		where = "cell " + e.Cell
	case e.Row > 0 && e.Column != "":
		where = fmt.Sprintf("row %d, column %s", e.Row, e.Column)
	case e.Row > 0:
		where = fmt.Sprintf("row %d", e.Row)
	}
	return where + ": " + e.Message
}

// Cell is one value as the file holds it.
type Cell struct {
	Value string
	// Date is set when an XLSX cell is formatted as a date or time: its
	// value is then a serial day number that means nothing as a figure.
	Date bool
}

// Row is one data row.
type Row struct {
	Number int // 1-based spreadsheet row number
	Cells  map[string]Cell
}

// Empty reports whether every cell of the row is blank.
func (r Row) Empty() bool {
	for _, c := range r.Cells {
		if strings.TrimSpace(c.Value) != "" {
			return false
		}
	}
	return true
}

// Grid is an uploaded sheet: its column keys in order and its data rows.
type Grid struct {
	Format  string // "xlsx" or "csv"
	Sheet   string // the sheet read (XLSX)
	Columns []string
	Rows    []Row
}

// keyPattern is what a column key looks like; the row of keys is the
// header an import matches, whether or not a Thai title row precedes it.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Read parses an uploaded XLSX or CSV file. It takes the first sheet of a
// workbook, finds the row of column keys among the first two rows, and
// refuses what an import cannot take at face value: merged cells,
// formulas, more than MaxRows rows, and a file that is not a spreadsheet.
// Every cell error is returned, not only the first.
func Read(data []byte) (*Grid, []*CellError, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return readXLSX(data)
	}
	return readCSV(data)
}

func readXLSX(data []byte) (*Grid, []*CellError, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true, UnzipSizeLimit: unzipLimit, UnzipXMLSizeLimit: unzipXMLLimit})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotSpreadsheet, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, fmt.Errorf("%w: the workbook has no sheet", ErrNotSpreadsheet)
	}
	sheet := sheets[0]
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotSpreadsheet, err)
	}
	g := &Grid{Format: "xlsx", Sheet: sheet}
	hdr, cols, errs := header(rows)
	if errs != nil {
		return nil, errs, nil
	}
	g.Columns = cols
	if n := len(rows) - hdr; n > MaxRows {
		return nil, []*CellError{{Message: fmt.Sprintf("has %d data rows; an import takes at most %d", n, MaxRows)}}, nil
	}
	var cerrs []*CellError
	merged, err := f.GetMergeCells(sheet, true)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range merged {
		_, row, _ := excelize.CellNameToCoordinates(m.GetStartAxis())
		if row <= hdr {
			row = 0 // in the header: the whole sheet is unreadable
		}
		cerrs = append(cerrs, &CellError{Row: row, Cell: m.GetStartAxis() + ":" + m.GetEndAxis(),
			Message: "is a merged range; unmerge it so that every value has a cell of its own"})
	}
	styles := map[int]bool{} // style index → is a date format
	for i := hdr; i < len(rows); i++ {
		r := Row{Number: i + 1, Cells: map[string]Cell{}}
		for j, v := range rows[i] {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if formula, _ := f.GetCellFormula(sheet, ref); formula != "" {
				cerrs = append(cerrs, &CellError{Row: i + 1, Cell: ref, Column: colKey(cols, j),
					Message: "holds a formula (=" + formula + "); paste its value instead, so that the ledger records what you saw"})
				continue
			}
			if j >= len(cols) {
				if strings.TrimSpace(v) != "" {
					cerrs = append(cerrs, &CellError{Row: i + 1, Cell: ref, Message: "has a value in a column without a header"})
				}
				continue
			}
			c := Cell{Value: v}
			if v != "" {
				idx, err := f.GetCellStyle(sheet, ref)
				if err == nil && idx != 0 {
					isDate, seen := styles[idx]
					if !seen {
						isDate = dateStyle(f, idx)
						styles[idx] = isDate
					}
					c.Date = isDate
				}
			}
			r.Cells[cols[j]] = c
		}
		g.Rows = append(g.Rows, r)
	}
	return g, cerrs, nil
}

func colKey(cols []string, j int) string {
	if j < len(cols) {
		return cols[j]
	}
	return ""
}

// dateStyle reports whether a cell style formats numbers as dates or
// times: one of the built-in date formats, or a custom format with a day,
// month or year code outside quotes.
func dateStyle(f *excelize.File, idx int) bool {
	st, err := f.GetStyle(idx)
	if err != nil || st == nil {
		return false
	}
	switch n := st.NumFmt; {
	case n >= 14 && n <= 22, n >= 27 && n <= 36, n >= 45 && n <= 47, n >= 50 && n <= 58, n >= 71 && n <= 81:
		return true
	}
	if st.CustomNumFmt == nil {
		return false
	}
	inQuote, inBracket := false, false
	for _, r := range strings.ToLower(*st.CustomNumFmt) {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == '[' && !inQuote:
			inBracket = true
		case r == ']' && !inQuote:
			inBracket = false
		case !inQuote && !inBracket && (r == 'y' || r == 'd' || r == 'm' || r == 'h' || r == 'e' || r == 'b'):
			return true
		}
	}
	return false
}

func readCSV(data []byte) (*Grid, []*CellError, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return nil, nil, fmt.Errorf("%w: it is not UTF-8 text (save a CSV as \"CSV UTF-8\")", ErrNotSpreadsheet)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrNotSpreadsheet, err)
		}
		rows = append(rows, rec)
		if len(rows) > MaxRows+HeaderRows+1 {
			return nil, []*CellError{{Message: fmt.Sprintf("has more than %d data rows; an import takes at most %d", MaxRows, MaxRows)}}, nil
		}
	}
	hdr, cols, errs := header(rows)
	if errs != nil {
		return nil, errs, nil
	}
	if n := len(rows) - hdr; n > MaxRows {
		return nil, []*CellError{{Message: fmt.Sprintf("has %d data rows; an import takes at most %d", n, MaxRows)}}, nil
	}
	g := &Grid{Format: "csv", Columns: cols}
	var cerrs []*CellError
	for i := hdr; i < len(rows); i++ {
		row := Row{Number: i + 1, Cells: map[string]Cell{}}
		for j, v := range rows[i] {
			if j >= len(cols) {
				if strings.TrimSpace(v) != "" {
					cerrs = append(cerrs, &CellError{Row: i + 1, Message: fmt.Sprintf("has a value in column %d, which has no header", j+1)})
				}
				continue
			}
			if strings.HasPrefix(v, "=") {
				cerrs = append(cerrs, &CellError{Row: i + 1, Column: cols[j], Message: "holds a formula (" + v + "); give its value instead"})
				continue
			}
			row.Cells[cols[j]] = Cell{Value: v}
		}
		g.Rows = append(g.Rows, row)
	}
	return g, cerrs, nil
}

// header finds the row of column keys (the first or second row) and
// returns the number of rows before the data and the keys.
func header(rows [][]string) (int, []string, []*CellError) {
	for i := 0; i < min(HeaderRows, len(rows)); i++ {
		keys := trimTrailing(rows[i])
		if !keyRow(keys) {
			continue
		}
		if len(keys) > MaxColumns {
			return 0, nil, []*CellError{{Row: i + 1, Message: fmt.Sprintf("has %d columns; at most %d", len(keys), MaxColumns)}}
		}
		seen := map[string]bool{}
		for j, k := range keys {
			if k == "" {
				col, _ := excelize.ColumnNumberToName(j + 1)
				return 0, nil, []*CellError{{Row: i + 1, Message: "column " + col + " has no key in the row of column keys: remove the empty column or name it"}}
			}
			if seen[k] {
				return 0, nil, []*CellError{{Row: i + 1, Column: k, Message: "names column " + k + " twice"}}
			}
			seen[k] = true
		}
		return i + 1, keys, nil
	}
	return 0, nil, []*CellError{{Message: "has no row of column keys (such as id, component, title_th) in its first two rows: start from a template downloaded from the ledger"}}
}

// keyRow reports whether a row is the row of column keys: every cell
// that is not blank is a key, and there are at least two.
func keyRow(row []string) bool {
	n := 0
	for _, k := range row {
		switch {
		case k == "":
		case keyPattern.MatchString(k):
			n++
		default:
			return false
		}
	}
	return n >= 2
}

func trimTrailing(row []string) []string {
	n := len(row)
	for n > 0 && strings.TrimSpace(row[n-1]) == "" {
		n--
	}
	out := make([]string, n)
	for i := range out {
		out[i] = strings.TrimSpace(row[i])
	}
	return out
}

package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api/sheets"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// Spreadsheet import: a unit officer downloads a template pre-filled with
// what the ledger holds, edits it in Excel, and uploads it. Each row
// becomes the same command a JSON request would send, run by the same
// handler, so every rule, limit and role applies unchanged. A dry run
// decides every row and appends nothing; a real import first decides
// every row too and appends nothing unless all of them would be accepted,
// then runs them one by one. Each row's Idempotency-Key is derived from
// the file and the row, so uploading the same file again appends nothing.

// Import templates.
const (
	templateIndicators = "indicators"
	templateResults    = "results"
)

// maxImportBody bounds an uploaded file. A full template of 50 indicators
// is about 15 KB; 5 MB leaves room for any real workbook's styling.
const maxImportBody = 5 << 20

// mediaNDJSON is the streamed form of an import report, one row a line.
const mediaNDJSON = "application/x-ndjson"

// Row outcomes.
const (
	outcomeWouldAppend  = "would_append"  // dry run: the command would append an event
	outcomeAppended     = "appended"      // the command appended an event
	outcomeReplayed     = "replayed"      // the row's key was used before: nothing new appended
	outcomeUnchanged    = "unchanged"     // the row equals what the ledger holds: no command
	outcomeSkipped      = "skipped"       // an empty row, or a result row with no actual
	outcomeRefused      = "refused"       // the command was refused (see problem and errors)
	outcomeNotAttempted = "not_attempted" // an earlier row failed with the log unavailable
)

type (
	// importReport answers an import: what each row did or would do.
	importReport struct {
		Unit       string         `json:"unit"`
		FiscalYear int            `json:"fiscal_year"`
		Template   string         `json:"template"`
		DryRun     bool           `json:"dry_run"`
		File       importFile     `json:"file"`
		Rows       []importRow    `json:"rows"`
		Summary    map[string]int `json:"summary"`
		// Complete is true when every row was accepted (or would be).
		Complete bool `json:"complete"`
	}
	importFile struct {
		SHA256 string `json:"sha256"`
		Format string `json:"format"`
		Sheet  string `json:"sheet,omitempty"`
		Rows   int    `json:"rows"`
	}
	// importRow is one row's outcome.
	importRow struct {
		Row         int           `json:"row"`
		Command     string        `json:"command,omitempty"`
		Outcome     string        `json:"outcome"`
		IndicatorID string        `json:"indicator_id,omitempty"`
		Round       int           `json:"round,omitempty"`
		EventType   string        `json:"event_type,omitempty"`
		Version     uint64        `json:"version,omitempty"`
		Status      int           `json:"status,omitempty"`
		Problem     *Problem      `json:"problem,omitempty"`
		Errors      []importError `json:"errors,omitempty"`
	}
	// importError is a problem with a row, naming the column at fault.
	importError struct {
		Column  string `json:"column,omitempty"`
		Field   string `json:"field,omitempty"`
		Cell    string `json:"cell,omitempty"`
		Message string `json:"message"`
	}
	// importProblem is a refused import: a problem document that carries
	// the per-row report.
	importProblem struct {
		Problem
		Report *importReport `json:"report"`
	}
)

// rowCommand is the request a row becomes.
type rowCommand struct {
	row       int
	name      string // propose_indicator, revise_indicator, report_result
	indicator string
	round     int
	method    string
	path      string // the route's path, as in the table
	params    []string
	values    []string
	handler   echo.HandlerFunc
	body      []byte
	ifMatch   string
	key       string
	outcome   importRow // filled as the row is decided and run
}

// template column sets: required columns, and optional ones.
func indicatorColumns(levels int) (required, optional []string) {
	required = []string{"id", "component", "title_th", "measure", "direction", "weight"}
	for l := 1; l <= levels; l++ {
		required = append(required, "target_"+strconv.Itoa(l))
	}
	return required, []string{"version", "status", "title_en", "baseline", "series_id", "rationale", "reason"}
}

var resultRequired, resultOptional = []string{"indicator_id", "round", "actual"},
	[]string{"title_th", "component", "evidence", "obstacles", "verification", "reports"}

// indicatorsTemplate: GET /v1/units/{unit}/years/{fy}/indicators/template.
func (s *Server) indicatorsTemplate(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireReader(c, unit.Code); err != nil {
		return err
	}
	var (
		f     domain.Framework
		found bool
		inds  []domain.Indicator
	)
	s.model.Read(func(st *projections.State) {
		if fw := st.Framework(fy, unit.Kind); fw != nil {
			f, found = fw.Framework, true
		}
		for _, ind := range st.UnitIndicators(unit.Code, fy) {
			if ind.Status.Live() {
				inds = append(inds, *ind)
			}
		}
	})
	if !found {
		return notFound("no FY%d %s framework is published, so there is no template", fy, unit.Kind)
	}
	codes := make([]string, len(f.Components))
	for i, comp := range f.Components {
		codes[i] = comp.Code
	}
	cols := []sheets.Column{
		{Key: "id", Title: "รหัสตัวชี้วัด (ว่าง = เสนอใหม่)", Kind: sheets.Text, Width: 38},
		{Key: "version", Title: "ฉบับที่", Kind: sheets.Integer, Width: 8},
		{Key: "status", Title: "สถานะ (อ้างอิง)", Kind: sheets.Text, Width: 14, Info: true},
		{Key: "component", Title: "องค์ประกอบ", Kind: sheets.Text, Width: 12, Choices: codes},
		{Key: "title_th", Title: "ชื่อตัวชี้วัด", Kind: sheets.Text, Width: 50},
		{Key: "title_en", Title: "ชื่อภาษาอังกฤษ", Kind: sheets.Text, Width: 30},
		{Key: "measure", Title: "หน่วยวัด", Kind: sheets.Text, Width: 12},
		{Key: "direction", Title: "ทิศทาง", Kind: sheets.Text, Width: 10, Choices: []string{"up", "down", "milestone"}},
		{Key: "weight", Title: "น้ำหนัก", Kind: sheets.Decimal},
		{Key: "baseline", Title: "ค่าฐาน", Kind: sheets.Decimal},
	}
	for i, l := range f.Scheme.Levels {
		cols = append(cols, sheets.Column{Key: "target_" + strconv.Itoa(i+1), Title: "ค่าเป้าหมาย " + l.Label + " (" + string(l.Score) + ")", Kind: sheets.Decimal})
	}
	cols = append(cols,
		sheets.Column{Key: "series_id", Title: "ชุดข้อมูลระยะยาว", Kind: sheets.Text, Width: 38},
		sheets.Column{Key: "rationale", Title: "เหตุผลประกอบ", Kind: sheets.Text, Width: 40},
		sheets.Column{Key: "reason", Title: "เหตุผลการแก้ไข (เมื่อแก้ไข)", Kind: sheets.Text, Width: 30},
	)
	main := sheets.Table{Name: "ตัวชี้วัด", Key: templateIndicators, Columns: cols}
	for _, ind := range inds {
		sp := ind.Spec
		row := []any{ind.ID, ind.Version, string(ind.Status), sp.Component, sp.TitleTH, sp.TitleEN, sp.Measure, string(sp.Direction), sp.Weight, sp.Baseline}
		for i := range f.Scheme.Levels {
			var t any
			if i < len(sp.Targets) {
				t = sp.Targets[i]
			}
			row = append(row, t)
		}
		main.Rows = append(main.Rows, append(row, sp.SeriesID, sp.Rationale, nil))
	}
	ref := sheets.Table{Name: "กรอบการประเมิน", Key: "framework", Columns: []sheets.Column{
		{Key: "component", Title: "องค์ประกอบ", Kind: sheets.Text, Width: 12},
		{Key: "name_th", Title: "ชื่อองค์ประกอบ", Kind: sheets.Text, Width: 40},
		{Key: "weight", Title: "น้ำหนัก", Kind: sheets.Decimal},
		{Key: "min_indicators", Title: "จำนวนตัวชี้วัดขั้นต่ำ", Kind: sheets.Integer},
		{Key: "max_indicators", Title: "จำนวนตัวชี้วัดสูงสุด", Kind: sheets.Integer},
	}}
	for _, comp := range f.Components {
		ref.Rows = append(ref.Rows, []any{comp.Code, comp.NameTH, comp.Weight, comp.MinIndicators, comp.MaxIndicators})
	}
	levels := sheets.Table{Name: "ระดับคะแนน", Key: "levels", Columns: []sheets.Column{
		{Key: "column", Title: "คอลัมน์", Kind: sheets.Text, Width: 12},
		{Key: "label", Title: "ระดับ", Kind: sheets.Text, Width: 12},
		{Key: "score", Title: "คะแนน", Kind: sheets.Decimal},
	}}
	for i, l := range f.Scheme.Levels {
		levels.Rows = append(levels.Rows, []any{"target_" + strconv.Itoa(i+1), l.Label, l.Score})
	}
	return sendTemplate(c, fmt.Sprintf("indicators-template-%s-%d", unit.Code, fy), []sheets.Table{main, ref, levels, instructions(templateIndicators)})
}

// resultsTemplate: GET /v1/units/{unit}/years/{fy}/results/template(?round=).
func (s *Server) resultsTemplate(c echo.Context) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireReader(c, unit.Code); err != nil {
		return err
	}
	round := 0
	if v := c.QueryParam("round"); v != "" {
		if round, err = strconv.Atoi(v); err != nil || round < 1 {
			return badRequest("round", "must be a reporting round such as 6, 9 or 12")
		}
	}
	var (
		rounds []int
		inds   []domain.Indicator
	)
	s.model.Read(func(st *projections.State) {
		if fw := st.Framework(fy, unit.Kind); fw != nil {
			rounds = slices.Clone(fw.Framework.Rounds)
		}
		for _, ind := range st.UnitIndicators(unit.Code, fy) {
			if ind.Status == domain.StatusApproved {
				inds = append(inds, *ind)
			}
		}
	})
	if rounds == nil {
		return notFound("no FY%d %s framework is published, so there is no template", fy, unit.Kind)
	}
	if round != 0 {
		if !slices.Contains(rounds, round) {
			return badRequest("round", fmt.Sprintf("the FY%d framework's rounds are %s", fy, sheets.JoinInts(rounds)))
		}
		rounds = []int{round}
	}
	main := sheets.Table{Name: "ผลการดำเนินงาน", Key: templateResults, Columns: []sheets.Column{
		{Key: "indicator_id", Title: "รหัสตัวชี้วัด", Kind: sheets.Text, Width: 38},
		{Key: "title_th", Title: "ชื่อตัวชี้วัด (อ้างอิง)", Kind: sheets.Text, Width: 50, Info: true},
		{Key: "component", Title: "องค์ประกอบ (อ้างอิง)", Kind: sheets.Text, Width: 12, Info: true},
		{Key: "round", Title: "รอบ (เดือน)", Kind: sheets.Integer, Width: 10},
		{Key: "actual", Title: "ผลการดำเนินงาน", Kind: sheets.Decimal, Width: 16},
		{Key: "evidence", Title: "หลักฐาน (บรรทัดละรายการ)", Kind: sheets.Text, Width: 50},
		{Key: "obstacles", Title: "ปัญหาอุปสรรค", Kind: sheets.Text, Width: 40},
		{Key: "verification", Title: "ผลการตรวจสอบ (อ้างอิง)", Kind: sheets.Text, Width: 14, Info: true},
		{Key: "reports", Title: "จำนวนรายงาน (อ้างอิง)", Kind: sheets.Integer, Width: 10, Info: true},
	}}
	for _, ind := range inds {
		for _, r := range rounds {
			row := []any{ind.ID, ind.Spec.TitleTH, ind.Spec.Component, r, nil, nil, nil, "", 0}
			if cur := ind.Round(r); cur != nil {
				row[4], row[5], row[6] = cur.Report.Actual, strings.Join(cur.Report.Evidence, "\n"), cur.Report.Obstacles
				row[7], row[8] = "pending", cur.Reports
				if v := cur.Verification; v != nil {
					row[7] = v.Decision
				}
			}
			main.Rows = append(main.Rows, row)
		}
	}
	name := fmt.Sprintf("results-template-%s-%d", unit.Code, fy)
	if round != 0 {
		name += fmt.Sprintf("-round-%d", round)
	}
	return sendTemplate(c, name, []sheets.Table{main, instructions(templateResults)})
}

// sendTemplate answers a template as an XLSX workbook, or with
// ?format=csv as its first sheet in CSV (for editing in a script).
func sendTemplate(c echo.Context, name string, ts []sheets.Table) error {
	f, err := viewFormat(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if f == formatCSV {
		if err := sheets.WriteCSV(&buf, ts[0]); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".csv"}))
		return c.Blob(http.StatusOK, sheets.MediaCSV, buf.Bytes())
	}
	if err := sheets.WriteXLSX(&buf, ts); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".xlsx"}))
	return c.Blob(http.StatusOK, sheets.MediaXLSX, buf.Bytes())
}

// instructions is a template's sheet of Thai instructions.
func instructions(template string) sheets.Table {
	t := sheets.Table{Name: "คำอธิบาย", Key: "help", Columns: []sheets.Column{{Key: "note", Title: "วิธีใช้แม่แบบ", Kind: sheets.Text, Width: 110}}}
	lines := []string{
		"แก้ไขเฉพาะแผ่นงานแรก แล้วอัปโหลดกลับ (POST …/import?dry_run=true เพื่อตรวจก่อน โดยยังไม่บันทึก)",
		"อย่าแก้แถวที่ 2 (ชื่อคอลัมน์ภาษาอังกฤษ) ระบบใช้แถวนี้จับคู่คอลัมน์ และอย่าเพิ่มหรือลบคอลัมน์",
		"ใส่ตัวเลขเป็นตัวเลข ไม่ใส่เครื่องหมายจุลภาคคั่นหลักพัน ตัวเลขไทย (๐–๙) ระบบแปลงเป็นเลขอารบิกให้",
		"ห้ามใช้สูตร ห้ามผสานเซลล์ และห้ามจัดรูปแบบเซลล์ตัวเลขเป็นวันที่",
		"คอลัมน์ที่แรเงา (อ้างอิง) มีไว้ให้ดูเท่านั้น ระบบไม่นำเข้า",
		"อัปโหลดไฟล์เดิมซ้ำได้โดยไม่เกิดรายการซ้ำ: แต่ละแถวมีรหัสคำสั่ง (Idempotency-Key) ที่คำนวณจากไฟล์และเนื้อหาของแถว",
	}
	switch template {
	case templateIndicators:
		lines = append(lines,
			"แถวที่ไม่มีรหัสตัวชี้วัด = เสนอตัวชี้วัดใหม่; แถวที่มีรหัส = แก้ไขตัวชี้วัดนั้น (ต้องระบุ reason) หากเนื้อหาเปลี่ยน; แถวที่ไม่เปลี่ยนจะไม่บันทึกสิ่งใด",
			"version คือฉบับที่ของตัวชี้วัดตอนดาวน์โหลด หากมีผู้แก้ไขก่อน ระบบจะปฏิเสธแถวนั้น (409) ให้ดาวน์โหลดแม่แบบใหม่",
			"target_1 … target_N คือค่าเป้าหมายของแต่ละระดับตามกรอบการประเมิน (ดูแผ่นงาน ระดับคะแนน)")
	case templateResults:
		lines = append(lines,
			"กรอก actual ของแต่ละตัวชี้วัดและรอบ; แถวที่ actual ว่างจะข้ามไป; แถวที่เหมือนรายงานปัจจุบันจะไม่บันทึกสิ่งใด",
			"หลักฐาน: บรรทัดละหนึ่งรายการ (ลิงก์หรือชื่อไฟล์)")
	}
	for _, l := range lines {
		t.Rows = append(t.Rows, []any{l})
	}
	return t
}

// importIndicators: POST /v1/units/{unit}/years/{fy}/indicators/import.
func (s *Server) importIndicators(c echo.Context) error { return s.importFile(c, templateIndicators) }

// importResults: POST /v1/units/{unit}/years/{fy}/results/import.
func (s *Server) importResults(c echo.Context) error { return s.importFile(c, templateResults) }

func (s *Server) importFile(c echo.Context, template string) error {
	unit, fy, err := s.unitYearParams(c)
	if err != nil {
		return err
	}
	if err := requireOwner(c, unit.Code); err != nil {
		return err
	}
	dryRun := false
	if v := c.QueryParam("dry_run"); v != "" {
		if dryRun, err = strconv.ParseBool(v); err != nil {
			return badRequest("dry_run", `must be "true" or "false"`)
		}
	}
	data, err := uploadedFile(c)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	rep := &importReport{Unit: unit.Code, FiscalYear: fy, Template: template, DryRun: dryRun,
		File: importFile{SHA256: hex.EncodeToString(sum[:])}, Rows: []importRow{}, Summary: map[string]int{}}
	grid, cellErrs, err := sheets.Read(data)
	if err != nil {
		if errors.Is(err, sheets.ErrNotSpreadsheet) {
			return problem(http.StatusUnsupportedMediaType, "not-a-spreadsheet", "Not a spreadsheet",
				err.Error()+"; upload the XLSX template from …/"+template+"/template, or a CSV file saved as UTF-8")
		}
		return err
	}
	if grid == nil {
		return fileProblem(cellErrs)
	}
	rep.File.Format, rep.File.Sheet, rep.File.Rows = grid.Format, grid.Sheet, len(grid.Rows)

	var cmds []*rowCommand
	switch template {
	case templateIndicators:
		cmds, err = s.indicatorRows(unit, fy, grid, rep.File.SHA256)
	case templateResults:
		cmds, err = s.resultRows(unit, fy, grid, rep.File.SHA256)
	}
	if err != nil {
		return err
	}
	// Cell errors (a merged range, a formula) refuse the rows they touch:
	// those cannot be read as the person meant them.
	for _, ce := range cellErrs {
		row := rowOutcome(cmds, ce.Row)
		if row == nil {
			return fileProblem([]*sheets.CellError{ce})
		}
		row.Outcome = outcomeRefused
		row.Errors = append(row.Errors, importError{Column: ce.Column, Cell: ce.Cell, Message: ce.Message})
	}
	correlation := "import-" + rep.File.SHA256[:32]

	// Decide every row first; nothing is appended unless every row would be
	// accepted.
	for _, cmd := range cmds {
		if cmd.outcome.Outcome == "" {
			s.runRow(c, cmd, correlation, true)
		}
	}
	s.fileRules(template, unit, fy, cmds)
	refused := slices.ContainsFunc(cmds, func(cmd *rowCommand) bool { return cmd.outcome.Outcome == outcomeRefused })
	if refused || dryRun {
		for _, cmd := range cmds {
			rep.add(cmd.outcome)
		}
		if refused && !dryRun {
			p := problem(http.StatusUnprocessableEntity, "import-refused", "Import refused",
				fmt.Sprintf("%d of %d rows would be refused, so nothing was appended; the report names each row and column at fault", rep.Summary[outcomeRefused], len(cmds)))
			c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
			c.Response().WriteHeader(p.Status)
			return json.NewEncoder(c.Response()).Encode(importProblem{Problem: *p, Report: rep})
		}
		return c.JSON(http.StatusOK, rep)
	}

	// Run the rows that would append, streaming each outcome when the
	// client asked for NDJSON (the CLI's progress line).
	stream := acceptsNDJSON(c)
	if stream {
		c.Response().Header().Set(echo.HeaderContentType, mediaNDJSON)
		c.Response().WriteHeader(http.StatusOK)
	}
	enc := json.NewEncoder(c.Response())
	failed := false
	for _, cmd := range cmds {
		switch {
		case failed && cmd.outcome.Outcome == outcomeWouldAppend:
			cmd.outcome.Outcome = outcomeNotAttempted
		case cmd.outcome.Outcome == outcomeWouldAppend:
			s.runRow(c, cmd, correlation, false)
			if cmd.outcome.Status >= 500 {
				// The log could not take or confirm the write: stop, and
				// say which rows were not tried. Uploading the same file
				// again finishes the job without duplicating anything.
				failed = true
			}
		}
		rep.add(cmd.outcome)
		if stream {
			if err := enc.Encode(cmd.outcome); err != nil {
				return nil // the client went away; the rows run so far stand
			}
			c.Response().Flush()
		}
	}
	if stream {
		_ = enc.Encode(map[string]any{"summary": rep.Summary, "complete": rep.Complete, "file": rep.File})
		return nil
	}
	return c.JSON(http.StatusOK, rep)
}

// fileRules refuses rows that each pass on their own but not together.
// Every row is decided against the ledger as it stands, and a real import
// then runs the rows in order, so without this a file of 60 new
// indicators passed its dry run and stopped at the 51st with 50 appended.
// What rows of one file can break together: the unit-year's 50 live
// indicators, a series taken by two rows for the year, one indicator
// revised by two rows (the second would meet a stale version), and one
// round of an indicator reported by two rows. The later row is refused as
// a conflict naming the earlier one.
func (s *Server) fileRules(template string, unit domain.Unit, fy int, cmds []*rowCommand) {
	refuse := func(cmd *rowCommand, format string, args ...any) {
		cmd.fail(fmt.Errorf("%w: %s", domain.ErrConflict, fmt.Sprintf(format, args...)))
	}
	switch template {
	case templateIndicators:
		live := 0
		s.model.Read(func(st *projections.State) {
			for _, ind := range st.UnitIndicators(unit.Code, fy) {
				if ind.Status.Live() {
					live++
				}
			}
		})
		series, revised := map[string]int{}, map[string]int{}
		for _, cmd := range cmds {
			if cmd.outcome.Outcome != outcomeWouldAppend {
				continue
			}
			var spec struct {
				SeriesID string `json:"series_id"`
			}
			_ = json.Unmarshal(cmd.body, &spec)
			switch {
			case cmd.name == "revise_indicator" && revised[cmd.indicator] != 0:
				refuse(cmd, "row %d of this file already revises indicator %s; put both changes in one row", revised[cmd.indicator], cmd.indicator)
			case spec.SeriesID != "" && series[spec.SeriesID] != 0:
				refuse(cmd, "series_id: row %d of this file already puts an indicator of FY%d in series %s, where one may", series[spec.SeriesID], fy, spec.SeriesID)
			case cmd.name == "propose_indicator" && live >= domain.MaxIndicatorsPerUnitYear:
				refuse(cmd, "indicators: with the rows above it, %s FY%d would hold more than %d live indicators; a unit-year may have at most %d live indicators",
					unit.Code, fy, domain.MaxIndicatorsPerUnitYear, domain.MaxIndicatorsPerUnitYear)
			default:
				if cmd.name == "propose_indicator" {
					live++
				} else {
					revised[cmd.indicator] = cmd.row
				}
				if spec.SeriesID != "" {
					series[spec.SeriesID] = cmd.row
				}
			}
		}
	case templateResults:
		type indicatorRound struct {
			id    string
			round int
		}
		reported := map[indicatorRound]int{}
		for _, cmd := range cmds {
			if cmd.outcome.Outcome != outcomeWouldAppend {
				continue
			}
			k := indicatorRound{cmd.indicator, cmd.round}
			if row := reported[k]; row != 0 {
				refuse(cmd, "row %d of this file already reports round %d of indicator %s", row, cmd.round, cmd.indicator)
				continue
			}
			reported[k] = cmd.row
		}
	}
}

// add records a row's outcome in the report.
func (r *importReport) add(row importRow) {
	r.Rows = append(r.Rows, row)
	r.Summary[row.Outcome]++
	r.Complete = r.Summary[outcomeRefused] == 0 && r.Summary[outcomeNotAttempted] == 0
}

// rowOutcome is the command of a spreadsheet row, or nil.
func rowOutcome(cmds []*rowCommand, row int) *importRow {
	for _, cmd := range cmds {
		if cmd.row == row {
			return &cmd.outcome
		}
	}
	return nil
}

func acceptsNDJSON(c echo.Context) bool {
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == mediaNDJSON {
			return true
		}
	}
	return false
}

// uploadedFile reads the upload: a multipart form's "file" field (a
// browser's form), or the body itself (curl --data-binary).
func uploadedFile(c echo.Context) ([]byte, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxImportBody)
	var src io.Reader = r.Body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, badRequest("file", "the multipart form could not be read: "+err.Error())
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return nil, err
				}
				return nil, badRequest("file", "the form has no field named file")
			}
			if part.FormName() == "file" {
				src = part
				break
			}
		}
	}
	data, err := io.ReadAll(src)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badRequest("file", "could not be read: "+err.Error())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, badRequest("file", "is empty: upload the XLSX or CSV file as the body")
	}
	return data, nil
}

// fileProblem refuses a file as a whole (no header row, too many rows).
func fileProblem(errs []*sheets.CellError) error {
	p := problem(http.StatusUnprocessableEntity, "import-file", "Import file refused", "")
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = "the file " + strings.TrimPrefix(e.Error(), "the sheet: ")
		p.Errors = append(p.Errors, domain.FieldError{Field: orDefault(e.Column, "file"), Message: e.Message})
		if strings.Contains(e.Message, "data rows") {
			p.Limit = "import_rows"
		}
	}
	p.Detail = strings.Join(parts, "; ")
	return p
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkColumns refuses a file whose columns are not the template's.
func checkColumns(template string, got, required, optional []string) error {
	var missing, extra []string
	for _, k := range required {
		if !slices.Contains(got, k) {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			extra = append(extra, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	p := problem(http.StatusUnprocessableEntity, "import-columns", "Not the "+template+" template", "")
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing column(s) "+strings.Join(missing, ", "))
		for _, k := range missing {
			p.Errors = append(p.Errors, domain.FieldError{Field: k, Message: "this column is required"})
		}
	}
	if len(extra) > 0 {
		parts = append(parts, "column(s) the template does not have: "+strings.Join(extra, ", "))
		for _, k := range extra {
			p.Errors = append(p.Errors, domain.FieldError{Field: k, Message: "this column is not in the template"})
		}
	}
	other := templateResults
	if template == templateResults {
		other = templateIndicators
	}
	p.Detail = "the file's columns are not the " + template + " template's: " + strings.Join(parts, "; ") +
		" (a file for the " + other + " import goes to …/" + other + "/import; download the template from …/" + template + "/template)"
	return p
}

// thaiDigits turns Thai numerals into Arabic ones: ๑๒๓ is 123. Thai
// officers type both, and the two mean the same number.
var thaiDigits = strings.NewReplacer("๐", "0", "๑", "1", "๒", "2", "๓", "3", "๔", "4", "๕", "5", "๖", "6", "๗", "7", "๘", "8", "๙", "9")

// cellNumber reads a number cell: blank is "", a date-formatted cell or
// text that is not a plain decimal is an error naming the column.
func cellNumber(r sheets.Row, key string) (domain.Number, *importError) {
	cell := r.Cells[key]
	v := strings.TrimSpace(thaiDigits.Replace(cell.Value))
	if v == "" {
		return "", nil
	}
	if cell.Date {
		return "", &importError{Column: key, Message: "is formatted as a date; this column takes a number (format the cell as a number)"}
	}
	if strings.Contains(v, ",") {
		return "", &importError{Column: key, Message: fmt.Sprintf("%q has a comma; write the number without thousands separators, with a point for decimals", v)}
	}
	var n domain.Number
	if err := json.Unmarshal([]byte(v), &n); err != nil || !isPlainNumber(v) {
		msg := fmt.Sprintf("%q is not a number", v)
		if looksLikeDate(v) {
			msg = fmt.Sprintf("%q is a date; this column takes a number", v)
		}
		return "", &importError{Column: key, Message: msg}
	}
	return n, nil
}

// isPlainNumber accepts what json accepts as a number and nothing that a
// JSON decoder would read as another type.
func isPlainNumber(v string) bool {
	return v != "" && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

func looksLikeDate(v string) bool {
	return strings.Count(v, "/") == 2 || strings.Count(v, "-") >= 2 && !strings.HasPrefix(v, "-")
}

func cellText(r sheets.Row, key string) string { return strings.TrimSpace(r.Cells[key].Value) }

// importKey is a row's Idempotency-Key: the same file and row always give
// the same key, so a second upload of a file replays instead of appending.
func importKey(fileSHA, template string, row int, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00", fileSHA, template, row)
	h.Write(body)
	return "import-" + hex.EncodeToString(h.Sum(nil)[:24])
}

// indicatorRows turns the indicators template into commands: a row
// without an id proposes, a row with one revises when it differs from the
// indicator as the ledger holds it, and is left alone when it does not.
func (s *Server) indicatorRows(unit domain.Unit, fy int, g *sheets.Grid, fileSHA string) ([]*rowCommand, error) {
	var (
		levels int
		inds   = map[string]domain.Indicator{}
	)
	s.model.Read(func(st *projections.State) {
		if fw := st.Framework(fy, unit.Kind); fw != nil {
			levels = len(fw.Framework.Scheme.Levels)
		}
		for _, ind := range st.UnitIndicators(unit.Code, fy) {
			inds[ind.ID] = *ind
		}
	})
	if levels == 0 {
		return nil, notFound("no FY%d %s framework is published", fy, unit.Kind)
	}
	req, opt := indicatorColumns(levels)
	if err := checkColumns(templateIndicators, g.Columns, req, opt); err != nil {
		return nil, err
	}
	var cmds []*rowCommand
	for _, r := range g.Rows {
		cmd := &rowCommand{row: r.Number, outcome: importRow{Row: r.Number}}
		cmds = append(cmds, cmd)
		if r.Empty() {
			cmd.outcome.Outcome = outcomeSkipped
			continue
		}
		var errs []importError
		num := func(key string) domain.Number {
			n, e := cellNumber(r, key)
			if e != nil {
				errs = append(errs, *e)
			}
			return n
		}
		spec := domain.IndicatorSpec{
			Component: cellText(r, "component"), TitleTH: cellText(r, "title_th"), TitleEN: cellText(r, "title_en"),
			Measure: cellText(r, "measure"), Direction: domain.Direction(cellText(r, "direction")),
			Weight: num("weight"), Baseline: num("baseline"),
			SeriesID: cellText(r, "series_id"), Rationale: cellText(r, "rationale"),
		}
		for l := 1; l <= levels; l++ {
			spec.Targets = append(spec.Targets, num("target_"+strconv.Itoa(l)))
		}
		id := cellText(r, "id")
		cmd.indicator = id
		cmd.outcome.IndicatorID = id
		if id == "" {
			cmd.name = "propose_indicator"
			cmd.method, cmd.path, cmd.handler = http.MethodPost, "/v1/units/:unit/years/:fy/indicators", s.proposeIndicator
			cmd.params, cmd.values = []string{"unit", "fy"}, []string{unit.Code, strconv.Itoa(fy)}
			cmd.body, _ = json.Marshal(spec)
		} else {
			cmd.name = "revise_indicator"
			cur, ok := inds[id]
			if !ok {
				errs = append(errs, importError{Column: "id", Message: fmt.Sprintf("no indicator %q in %s FY%d; leave id blank to propose a new one", id, unit.Code, fy)})
			} else if sameSpec(cur.Spec, spec) {
				cmd.outcome.Outcome, cmd.outcome.Version = outcomeUnchanged, cur.Version
				continue
			}
			version := cellText(r, "version")
			if _, err := strconv.ParseUint(version, 10, 64); err != nil {
				errs = append(errs, importError{Column: "version", Message: "is required to revise an indicator: the version the row was downloaded at, as in the template"})
			}
			cmd.ifMatch = strconv.Quote(version)
			cmd.method, cmd.path, cmd.handler = http.MethodPut, "/v1/indicators/:id", s.reviseIndicator
			cmd.params, cmd.values = []string{"id"}, []string{id}
			cmd.body, _ = json.Marshal(IndicatorRevisionBody{IndicatorSpec: spec, Reason: cellText(r, "reason")})
		}
		cmd.outcome.Command = cmd.name
		if len(errs) > 0 {
			cmd.outcome.Outcome, cmd.outcome.Errors = outcomeRefused, errs
			continue
		}
		cmd.key = importKey(fileSHA, templateIndicators, r.Number, cmd.body)
	}
	return cmds, nil
}

// sameSpec compares two specs by meaning: 75 and 75.0 are one weight.
func sameSpec(a, b domain.IndicatorSpec) bool {
	if a.Component != b.Component || a.TitleTH != b.TitleTH || a.TitleEN != b.TitleEN || a.Measure != b.Measure ||
		a.Direction != b.Direction || a.SeriesID != b.SeriesID || a.Rationale != b.Rationale ||
		!sameNumber(a.Weight, b.Weight) || !sameNumber(a.Baseline, b.Baseline) || len(a.Targets) != len(b.Targets) {
		return false
	}
	for i := range a.Targets {
		if !sameNumber(a.Targets[i], b.Targets[i]) {
			return false
		}
	}
	return true
}

func sameNumber(a, b domain.Number) bool {
	if a == "" || b == "" {
		return a == b
	}
	return a.Cmp(b) == 0
}

// resultRows turns the results template into result reports: a row with
// an actual reports it, unless the round's current report already says
// exactly that.
func (s *Server) resultRows(unit domain.Unit, fy int, g *sheets.Grid, fileSHA string) ([]*rowCommand, error) {
	if err := checkColumns(templateResults, g.Columns, resultRequired, resultOptional); err != nil {
		return nil, err
	}
	inds := map[string]domain.Indicator{}
	s.model.Read(func(st *projections.State) {
		for _, ind := range st.UnitIndicators(unit.Code, fy) {
			inds[ind.ID] = *ind
		}
	})
	var cmds []*rowCommand
	for _, r := range g.Rows {
		cmd := &rowCommand{row: r.Number, name: "report_result", outcome: importRow{Row: r.Number}}
		cmds = append(cmds, cmd)
		actualText := cellText(r, "actual")
		if r.Empty() || actualText == "" {
			cmd.outcome.Outcome = outcomeSkipped
			continue
		}
		var errs []importError
		id := cellText(r, "indicator_id")
		cmd.indicator, cmd.outcome.IndicatorID = id, id
		ind, ok := inds[id]
		if !ok {
			errs = append(errs, importError{Column: "indicator_id", Message: fmt.Sprintf("no indicator %q in %s FY%d", id, unit.Code, fy)})
		}
		round, err := strconv.Atoi(strings.TrimSpace(thaiDigits.Replace(r.Cells["round"].Value)))
		if err != nil || round < 1 {
			errs = append(errs, importError{Column: "round", Message: "must be a reporting round such as 6, 9 or 12"})
		}
		cmd.round, cmd.outcome.Round = round, round
		actual, e := cellNumber(r, "actual")
		if e != nil {
			errs = append(errs, *e)
		}
		var evidence []string
		for _, line := range strings.Split(strings.ReplaceAll(r.Cells["evidence"].Value, "\r\n", "\n"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				evidence = append(evidence, line)
			}
		}
		body := ResultBody{Round: round, Actual: actual, Evidence: evidence, Obstacles: cellText(r, "obstacles")}
		cmd.outcome.Command = cmd.name
		if len(errs) > 0 {
			cmd.outcome.Outcome, cmd.outcome.Errors = outcomeRefused, errs
			continue
		}
		if cur := ind.Round(round); cur != nil && sameNumber(cur.Report.Actual, actual) &&
			slices.Equal(cur.Report.Evidence, evidence) && cur.Report.Obstacles == body.Obstacles {
			cmd.outcome.Outcome, cmd.outcome.Version, cmd.outcome.Command = outcomeUnchanged, ind.Version, ""
			continue
		}
		cmd.method, cmd.path, cmd.handler = http.MethodPost, "/v1/indicators/:id/results", s.reportResult
		cmd.params, cmd.values = []string{"id"}, []string{id}
		cmd.body, _ = json.Marshal(body)
		cmd.key = importKey(fileSHA, templateResults, r.Number, cmd.body)
	}
	return cmds, nil
}

// runRow runs one row's command through its route's own handler, as the
// uploader: decided only (dryRun) or for real. It records the outcome.
func (s *Server) runRow(parent echo.Context, cmd *rowCommand, correlation string, dryRun bool) {
	ctx := parent.Request().Context()
	if dryRun {
		ctx = withDryRun(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, cmd.method, cmd.path, bytes.NewReader(cmd.body))
	if err != nil {
		cmd.fail(err)
		return
	}
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	req.Header.Set("Idempotency-Key", cmd.key)
	req.Header.Set("X-Correlation-ID", correlation)
	if cmd.ifMatch != "" {
		req.Header.Set("If-Match", cmd.ifMatch)
	}
	w := &capture{header: http.Header{}}
	c := s.e.NewContext(req, w)
	c.SetPath(cmd.path)
	c.SetParamNames(cmd.params...)
	c.SetParamValues(cmd.values...)
	c.Set(principalKey, principal(parent))
	err = cmd.handler(c)
	var wa *wouldAppend
	switch {
	case errors.As(err, &wa):
		// A proposal's row keeps no indicator id: its id is decided afresh
		// on each attempt, and the dry run's is not the one a real import
		// will get.
		cmd.outcome.Outcome, cmd.outcome.EventType, cmd.outcome.Version = outcomeWouldAppend, wa.Type, wa.Version
	case err != nil:
		cmd.fail(err)
	default:
		var v struct {
			ID      string `json:"id"`
			Version uint64 `json:"version"`
		}
		_ = json.Unmarshal(w.body.Bytes(), &v)
		cmd.outcome.Status, cmd.outcome.Version = w.status, v.Version
		if v.ID != "" {
			cmd.outcome.IndicatorID = v.ID
		}
		cmd.outcome.Outcome = outcomeAppended
		if w.header.Get("Idempotent-Replayed") == "true" {
			cmd.outcome.Outcome = outcomeReplayed
		}
	}
}

// fail records a refused command, naming the columns at fault.
func (cmd *rowCommand) fail(err error) {
	p := toProblem(err)
	cmd.outcome.Outcome, cmd.outcome.Status, cmd.outcome.Problem = outcomeRefused, p.Status, p
	for _, f := range p.Errors {
		cmd.outcome.Errors = append(cmd.outcome.Errors, importError{Column: columnOf(f.Field), Field: f.Field, Message: f.Message})
	}
	if len(p.Errors) == 0 {
		cmd.outcome.Errors = append(cmd.outcome.Errors, importError{Message: p.Detail})
	}
}

// columnOf maps a request field to the template column it came from:
// targets[0] is target_1, round is round.
func columnOf(field string) string {
	if rest, ok := strings.CutPrefix(field, "targets["); ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
			return "target_" + strconv.Itoa(n+1)
		}
		return "target_1"
	}
	if field == "targets" {
		return "target_1"
	}
	if strings.HasPrefix(field, "evidence") {
		return "evidence"
	}
	return field
}

// capture is the ResponseWriter a row's handler writes to.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *capture) Header() http.Header { return w.header }
func (w *capture) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
func (w *capture) WriteHeader(status int) { w.status = status }

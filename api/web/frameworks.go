package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

type comparePage struct {
	layout
	Kind     domain.UnitKind
	Kinds    []domain.UnitKind
	From, To int
	Years    []int // fiscal years with a framework of the kind
	FC       *projections.FrameworkComparison
	FromFW   *domain.Framework
	ToFW     *domain.Framework
	Missing  string
	Rows     []compareRow
	Headers  []sortHeader
	Scoped   bool
}

type compareRow struct {
	projections.UnitTotals
	FromRank, ToRank int
}

// sortHeader is a sortable column: its header links to the page sorted by
// it, so sorting needs no script.
type sortHeader struct {
	Key      string
	Label    string
	LabelEN  string
	Href     string
	AriaSort string // "ascending", "descending" or "" (not sorted by it)
	Numeric  bool
}

// The sortable columns of the units table, and the default order: by the
// later year's total, best first — the ranking OPDC reads first.
var compareColumns = []sortHeader{
	{Key: "unit", Label: "รหัส", LabelEN: "Code"},
	{Key: "name", Label: "หน่วยรับการประเมิน", LabelEN: "Unit"},
	{Key: "from", Label: "คะแนนรวมปีฐาน", LabelEN: "From total", Numeric: true},
	{Key: "to", Label: "คะแนนรวมปีเปรียบเทียบ", LabelEN: "To total", Numeric: true},
	{Key: "delta", Label: "ผลต่าง", LabelEN: "Change", Numeric: true},
}

const (
	defaultSort = "to"
	defaultDir  = "desc"
)

// compare: GET /frameworks/compare?from=&to=&kind=&sort=&dir= — the page of
// GET /v1/frameworks/compare: what changed between two years' frameworks and
// every unit's total under both, sortable by any column on the server.
func (d *Dashboard) compare(c echo.Context, s *session) error {
	kind := domain.UnitKind(c.QueryParam("kind"))
	if kind == "" {
		kind = domain.KindProvince
	}
	if !kind.Valid() {
		return badRequestf(`kind: ต้องเป็น "province" หรือ "department" (must be "province" or "department")`)
	}
	sortKey, dir := c.QueryParam("sort"), c.QueryParam("dir")
	col := slices.IndexFunc(compareColumns, func(h sortHeader) bool { return h.Key == sortKey })
	if col < 0 {
		sortKey, dir = defaultSort, defaultDir
	} else if dir != "asc" && dir != "desc" {
		dir = "asc"
		if compareColumns[col].Numeric {
			dir = "desc"
		}
	}
	var from, to int
	var err error
	if v := c.QueryParam("from"); v != "" {
		if from, err = fiscalYearParam("from", v); err != nil {
			return err
		}
	}
	if v := c.QueryParam("to"); v != "" {
		if to, err = fiscalYearParam("to", v); err != nil {
			return err
		}
	}
	pg := comparePage{layout: newLayout(s, "เปรียบเทียบกรอบการประเมิน", "compare"), Kind: kind,
		Kinds: []domain.UnitKind{domain.KindProvince, domain.KindDepartment}, Scoped: s.P.Role == domain.RoleUnit}
	// As the API does: a unit officer sees the framework changes and only
	// its own unit's totals.
	include := func(unit string) bool { return api.CanRead(s.P, unit) }
	status := http.StatusOK
	d.model.Read(func(st *projections.State) {
		for _, h := range st.Frameworks {
			if h.UnitKind == kind && h.Latest() != nil {
				pg.Years = append(pg.Years, h.FiscalYear)
			}
		}
		slices.Sort(pg.Years)
		if from == 0 && to == 0 && len(pg.Years) >= 2 {
			from, to = pg.Years[len(pg.Years)-2], pg.Years[len(pg.Years)-1]
		}
		if from == 0 || to == 0 {
			status = http.StatusNotFound
			pg.Missing = "เลือกปีงบประมาณสองปีที่มีกรอบการประเมิน (choose two fiscal years with a published framework)"
			return
		}
		fc, cerr := projections.CompareFrameworks(st, kind, from, to, include)
		if cerr != nil {
			pe, _ := toPageError(cerr)
			status, pg.Missing, err = pe.Status, pe.Detail, nil
			if pe.Status != http.StatusNotFound {
				err = cerr
			}
			return
		}
		pg.FC = &fc
		a, b := st.Framework(from, kind).Framework, st.Framework(to, kind).Framework
		pg.FromFW, pg.ToFW = cloneFramework(a), cloneFramework(b)
	})
	if err != nil {
		return err
	}
	pg.From, pg.To = from, to
	if pg.FC != nil {
		pg.Downloads = downloads("/v1/frameworks/compare", url.Values{"from": {itoa(from)}, "to": {itoa(to)}, "kind": {string(kind)}})
		for _, r := range pg.FC.Units {
			pg.Rows = append(pg.Rows, compareRow{UnitTotals: r, FromRank: bandRank(pg.FromFW.Bands, r.FromBand), ToRank: bandRank(pg.ToFW.Bands, r.ToBand)})
		}
		sortCompareRows(pg.Rows, sortKey, dir)
	}
	pg.Headers = sortHeaders(kind, from, to, sortKey, dir)
	d.render(c, status, "compare", pg)
	return nil
}

// cloneFramework copies a framework out of the state, so that the page
// holds nothing of it once the read lock is released.
func cloneFramework(f domain.Framework) *domain.Framework {
	f.Components = slices.Clone(f.Components)
	f.Scheme.Levels = slices.Clone(f.Scheme.Levels)
	f.Bands = slices.Clone(f.Bands)
	f.Rounds = slices.Clone(f.Rounds)
	return &f
}

// sortCompareRows orders the units table; ties fall back to the unit code,
// so the order is the same on every load. Units without a total sort last
// whichever the direction.
func sortCompareRows(rows []compareRow, key, dir string) {
	col := collate.New(language.Thai)
	by := func(a, b compareRow) int {
		switch key {
		case "name":
			return col.CompareString(a.NameTH, b.NameTH)
		case "from":
			return cmpNumbers(a.FromTotal, b.FromTotal)
		case "to":
			return cmpNumbers(a.ToTotal, b.ToTotal)
		case "delta":
			return cmpNumbers(a.Delta, b.Delta)
		}
		return strings.Compare(a.Unit, b.Unit)
	}
	absent := func(r compareRow) bool {
		switch key {
		case "from":
			return r.FromTotal == ""
		case "to":
			return r.ToTotal == ""
		case "delta":
			return r.Delta == ""
		}
		return false
	}
	slices.SortStableFunc(rows, func(a, b compareRow) int {
		if x, y := absent(a), absent(b); x != y {
			if x {
				return 1
			}
			return -1
		}
		n := by(a, b)
		if dir == "desc" {
			n = -n
		}
		if n == 0 {
			n = strings.Compare(a.Unit, b.Unit)
		}
		return n
	})
}

// sortHeaders builds each column's link: to sort by it ascending, or, when
// it is the current column, in the other direction.
func sortHeaders(kind domain.UnitKind, from, to int, key, dir string) []sortHeader {
	out := make([]sortHeader, len(compareColumns))
	for i, h := range compareColumns {
		next := "asc"
		if h.Numeric {
			next = "desc" // a reader sorting by a score wants the best first
		}
		if h.Key == key {
			h.AriaSort = map[string]string{"asc": "ascending", "desc": "descending"}[dir]
			next = map[string]string{"asc": "desc", "desc": "asc"}[dir]
		}
		q := url.Values{"kind": {string(kind)}, "sort": {h.Key}, "dir": {next}}
		if from != 0 {
			q.Set("from", itoa(from))
		}
		if to != 0 {
			q.Set("to", itoa(to))
		}
		h.Href = "/frameworks/compare?" + q.Encode() + "#units"
		out[i] = h
	}
	return out
}

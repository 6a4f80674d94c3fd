package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	// Under is true when the later year's results are also shown scored
	// under the earlier year's framework (?under=1); UnderFW is that
	// framework, ToggleHref the address that flips it.
	Under      bool
	UnderFW    *domain.Framework
	ToggleHref string
	Chart      barChart
}

type compareRow struct {
	projections.UnitTotals
	FromRank, ToRank int
	UnderRank        int // the re-scored band's tint, on the earlier year's bands
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
	{Key: "from_pos", Label: "ตำแหน่งปีฐาน", LabelEN: "From position", Numeric: true},
	{Key: "to_pos", Label: "ตำแหน่งปีเปรียบเทียบ", LabelEN: "To position", Numeric: true},
	{Key: "move", Label: "ตำแหน่งเปลี่ยน", LabelEN: "Position change", Numeric: true},
	{Key: "rank", Label: "อันดับขยับ", LabelEN: "Rank change", Numeric: true},
}

// underColumns are added while the later year is shown re-scored.
var underColumns = []sortHeader{
	{Key: "under", Label: "คะแนนปีเปรียบเทียบตามกรอบปีฐาน", LabelEN: "To re-scored", Numeric: true},
	{Key: "under_move", Label: "ตำแหน่งเปลี่ยน (กรอบเดียวกัน)", LabelEN: "Position change, one framework", Numeric: true},
}

// columnsFor is the units table's sortable columns.
func columnsFor(under bool) []sortHeader {
	if under {
		return append(slices.Clone(compareColumns), underColumns...)
	}
	return compareColumns
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
	under := c.QueryParam("under") == "1"
	columns := columnsFor(under)
	sortKey, dir := c.QueryParam("sort"), c.QueryParam("dir")
	col := slices.IndexFunc(columns, func(h sortHeader) bool { return h.Key == sortKey })
	if col < 0 {
		sortKey, dir = defaultSort, defaultDir
	} else if dir != "asc" && dir != "desc" {
		dir = "asc"
		if columns[col].Numeric {
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
		var underFW *domain.FrameworkRevision
		if under {
			// The toggle shows the later year's results under the earlier
			// year's framework: the API's &score_under=<from>.
			underFW = st.Framework(from, kind)
		}
		fc, cerr := projections.CompareFrameworksUnder(st, kind, from, to, include, underFW)
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
		if underFW != nil {
			pg.UnderFW = cloneFramework(underFW.Framework)
		}
	})
	if err != nil {
		return err
	}
	pg.From, pg.To, pg.Under = from, to, under && pg.FC != nil
	if pg.FC != nil {
		pg.Downloads = downloads("/v1/frameworks/compare", url.Values{"from": {itoa(from)}, "to": {itoa(to)}, "kind": {string(kind)}})
		for _, r := range pg.FC.Units {
			row := compareRow{UnitTotals: r, FromRank: bandRank(pg.FromFW.Bands, r.FromBand), ToRank: bandRank(pg.ToFW.Bands, r.ToBand), UnderRank: -1}
			if r.ScoreUnder != nil {
				row.UnderRank = bandRank(pg.UnderFW.Bands, r.ScoreUnder.Band)
			}
			pg.Rows = append(pg.Rows, row)
		}
		sortCompareRows(pg.Rows, sortKey, dir)
		pg.Chart = distributionChart(pg.FC)
	}
	pg.Headers = sortHeaders(columns, kind, from, to, under, sortKey, dir)
	q := compareQuery(kind, from, to, !under)
	q.Set("sort", sortKey)
	q.Set("dir", dir)
	pg.ToggleHref = "/frameworks/compare?" + q.Encode()
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
		if va, vb := sortValue(a, key), sortValue(b, key); key != "unit" && key != "name" {
			return cmpNumbers(va, vb)
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
		case "unit", "name":
			return false
		}
		return sortValue(r, key) == ""
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

// sortValue is a row's figure in one of the comparable columns.
func sortValue(r compareRow, key string) domain.Number {
	switch key {
	case "from_pos":
		return r.FromStanding.Position
	case "to_pos":
		return r.ToStanding.Position
	case "move":
		return r.Change.PositionChange
	case "rank":
		if r.Change.RankChange != nil {
			return domain.Number(strconv.Itoa(*r.Change.RankChange))
		}
	case "under":
		if r.ScoreUnder != nil {
			return r.ScoreUnder.Total
		}
	case "under_move":
		if r.UnderChange != nil {
			return r.UnderChange.PositionChange
		}
	}
	return ""
}

// compareQuery is the page's address without the sort.
func compareQuery(kind domain.UnitKind, from, to int, under bool) url.Values {
	q := url.Values{"kind": {string(kind)}}
	if from != 0 {
		q.Set("from", itoa(from))
	}
	if to != 0 {
		q.Set("to", itoa(to))
	}
	if under {
		q.Set("under", "1")
	}
	return q
}

// sortHeaders builds each column's link: to sort by it ascending, or, when
// it is the current column, in the other direction.
func sortHeaders(columns []sortHeader, kind domain.UnitKind, from, to int, under bool, key, dir string) []sortHeader {
	out := make([]sortHeader, len(columns))
	for i, h := range columns {
		next := "asc"
		if h.Numeric {
			next = "desc" // a reader sorting by a score wants the best first
		}
		if h.Key == key {
			h.AriaSort = map[string]string{"asc": "ascending", "desc": "descending"}[dir]
			next = map[string]string{"asc": "desc", "desc": "asc"}[dir]
		}
		q := compareQuery(kind, from, to, under)
		q.Set("sort", h.Key)
		q.Set("dir", next)
		h.Href = "/frameworks/compare?" + q.Encode() + "#units"
		out[i] = h
	}
	return out
}

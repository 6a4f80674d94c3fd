package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// regionOrder is the order Thai readers expect regions in, north to south.
var regionOrder = []string{domain.RegionNorth, domain.RegionNortheast, domain.RegionCentral, domain.RegionEast, domain.RegionWest, domain.RegionSouth}

type unitsPage struct {
	layout
	Groups []unitGroup
	// Scoped is set for a unit officer, who sees its own unit only.
	Scoped bool
}

type unitGroup struct {
	ID     string // anchor
	NameTH string
	NameEN string
	Units  []unitRow
}

// unitRow is a unit with its latest scored fiscal year.
type unitRow struct {
	domain.Unit
	Latest *latestResult
}

type latestResult struct {
	FiscalYear int
	Total      domain.Number
	Band       string
	BandRank   int
}

// units: GET /units — every unit the reader may see, provinces by region
// then departments, each with its latest result. The API lists every unit
// to any role, but a unit's scores only to its readers; so that the page
// never shows a name without being able to open it, a unit officer's list
// holds its own unit only.
func (d *Dashboard) units(c echo.Context, s *session) error {
	pg := unitsPage{layout: newLayout(s, "หน่วยรับการประเมิน", "units"), Scoped: s.P.Role == domain.RoleUnit}
	pg.Downloads = downloads("/v1/units", nil)
	groups := map[string]*unitGroup{}
	for _, r := range regionOrder {
		groups[r] = &unitGroup{ID: "region-" + r, NameTH: domain.RegionNameTH(r), NameEN: regionEN[r]}
	}
	deps := &unitGroup{ID: "departments", NameTH: "ส่วนราชการ", NameEN: "Departments"}
	var err error
	d.model.Read(func(st *projections.State) {
		for _, u := range st.Units() {
			if !api.CanRead(s.P, u.Code) {
				continue
			}
			row := unitRow{Unit: u}
			if row.Latest, err = latestScored(st, u); err != nil {
				return
			}
			if u.Kind == domain.KindDepartment {
				deps.Units = append(deps.Units, row)
			} else if g := groups[u.Region]; g != nil {
				g.Units = append(g.Units, row)
			}
		}
	})
	if err != nil {
		return err
	}
	for _, r := range regionOrder {
		if g := groups[r]; len(g.Units) > 0 {
			sortByThaiName(g.Units)
			pg.Groups = append(pg.Groups, *g)
		}
	}
	if len(deps.Units) > 0 {
		sortByThaiName(deps.Units)
		pg.Groups = append(pg.Groups, *deps)
	}
	d.render(c, http.StatusOK, "units", pg)
	return nil
}

var regionEN = map[string]string{
	domain.RegionNorth: "North", domain.RegionNortheast: "Northeast", domain.RegionCentral: "Central",
	domain.RegionEast: "East", domain.RegionWest: "West", domain.RegionSouth: "South",
}

// sortByThaiName orders units as a Thai dictionary does: Thai collation
// skips the leading vowels เ แ โ ใ ไ, which a byte order would not.
func sortByThaiName(rows []unitRow) {
	col := collate.New(language.Thai)
	slices.SortStableFunc(rows, func(a, b unitRow) int { return col.CompareString(a.NameTH, b.NameTH) })
}

// latestScored is the unit's most recent scored fiscal year, as its
// scorecard shows it (projections.LatestScored); nil when there is none.
func latestScored(st *projections.State, u domain.Unit) (*latestResult, error) {
	sc, ok, err := projections.LatestScored(st, u)
	if err != nil || !ok {
		return nil, err
	}
	fw := st.Framework(sc.FiscalYear, u.Kind)
	return &latestResult{FiscalYear: sc.FiscalYear, Total: sc.Total, Band: sc.Band, BandRank: bandRank(fw.Framework.Bands, sc.Band)}, nil
}

// bandClass is the CSS class that tints a band by its rank.
func bandClass(rank int) string {
	if rank < 0 {
		return "band"
	}
	return "band band-r" + itoa(rank)
}

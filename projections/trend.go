package projections

import (
	"fmt"

	"github.com/opdc/kpiledger/domain"
)

// SeriesTrend is a long-term series' target and verified actual per year,
// and whether it is on track to its end-year target.
type SeriesTrend struct {
	SeriesID  string           `json:"series_id"`
	Unit      string           `json:"unit"`
	TitleTH   string           `json:"title_th"`
	Measure   string           `json:"measure"`
	Direction domain.Direction `json:"direction"`
	Baseline  domain.Number    `json:"baseline"`
	StartYear int              `json:"start_year"`
	EndYear   int              `json:"end_year"`
	Points    []TrendPoint     `json:"points"`
	// OnTrack is null until some year has a verified actual.
	OnTrack *bool `json:"on_track"`
	// ProjectedEndValue is the end-year value at the pace so far (null
	// without an actual), shown to domain.ScoreDecimals decimals.
	ProjectedEndValue domain.Number `json:"projected_end_value"`
	EndTarget         domain.Number `json:"end_target"`
	// OnTrackRule says in words how on_track and achievement_pct are judged.
	OnTrackRule string `json:"on_track_rule"`
}

// TrendPoint is one fiscal year of a series.
type TrendPoint struct {
	FiscalYear int           `json:"fiscal_year"`
	Target     domain.Number `json:"target"`
	// IndicatorID is the unit's live indicator of that year belonging to
	// the series, null when there is none.
	IndicatorID    *string       `json:"indicator_id"`
	VerifiedActual domain.Number `json:"verified_actual"`
	// AchievementPct is shown to 2 decimals; null without an actual.
	AchievementPct domain.Number `json:"achievement_pct"`
	Met            *bool         `json:"met"`
}

// AchievementDecimals is how many decimals an achievement percentage shows.
const AchievementDecimals = 2

// BuildTrends returns the trend of each of a unit's long-term series, in the
// order they were defined ([] when it has none).
func BuildTrends(st *State, unit string) []SeriesTrend {
	out := make([]SeriesTrend, 0, len(st.UnitSeries[unit]))
	for _, id := range st.UnitSeries[unit] {
		if s := st.Series[id]; s != nil {
			out = append(out, buildTrend(st, s))
		}
	}
	return out
}

// BuildTrend returns one series' trend, or an error wrapping
// domain.ErrNotFound when no such series exists.
func BuildTrend(st *State, seriesID string) (SeriesTrend, error) {
	s := st.Series[seriesID]
	if s == nil {
		return SeriesTrend{}, fmt.Errorf("%w: long-term series %q", domain.ErrNotFound, seriesID)
	}
	return buildTrend(st, s), nil
}

func buildTrend(st *State, s *domain.Series) SeriesTrend {
	// A trend depends on the series (never changed once defined) and on
	// the unit's indicators of each year it spans: the sequences of those
	// unit-years' last events identify what it was computed from.
	deps := make([]uint64, 0, s.EndYear-s.StartYear+1)
	for y := s.StartYear; y <= s.EndYear; y++ {
		var seq uint64
		if uy := st.UnitYears[UnitYearKey(s.Unit, y)]; uy != nil {
			seq = uy.LastSeq
		}
		deps = append(deps, seq)
	}
	if tr, ok := st.scores.trend(s.ID, deps); ok {
		return tr
	}
	tr := computeTrend(st, s)
	st.scores.putTrend(s.ID, deps, tr)
	return tr
}

func computeTrend(st *State, s *domain.Series) SeriesTrend {
	actuals := map[int]domain.Number{}
	indicators := map[int]string{}
	for y := s.StartYear; y <= s.EndYear; y++ {
		if ind := seriesIndicator(st, s, y); ind != nil {
			indicators[y] = ind.ID
			if r := ind.Final(); r != nil {
				actuals[y] = r.Verified()
			}
		}
	}
	tr := domain.ComputeTrend(s, actuals)
	out := SeriesTrend{
		SeriesID: s.ID, Unit: s.Unit, TitleTH: s.TitleTH, Measure: s.Measure, Direction: s.Direction,
		Baseline: s.Baseline, StartYear: s.StartYear, EndYear: s.EndYear,
		Points:            make([]TrendPoint, 0, len(tr.Points)),
		OnTrack:           tr.OnTrack,
		ProjectedEndValue: ratNumber(tr.Projected, domain.ScoreDecimals),
		EndTarget:         s.Target(s.EndYear),
		OnTrackRule:       domain.OnTrackRule,
	}
	for _, p := range tr.Points {
		tp := TrendPoint{FiscalYear: p.FiscalYear, Target: p.Target, VerifiedActual: p.Actual,
			AchievementPct: ratNumber(p.Achievement, AchievementDecimals), Met: p.Met}
		if id, ok := indicators[p.FiscalYear]; ok {
			tp.IndicatorID = &id
		}
		out.Points = append(out.Points, tp)
	}
	return out
}

// seriesIndicator finds the unit's live indicator of a year that belongs to
// the series. The domain allows only one (IndicatorContext.SeriesTaken); if
// a history somehow held two, the first proposed wins, deterministically.
func seriesIndicator(st *State, s *domain.Series, fy int) *domain.Indicator {
	for _, ind := range st.UnitIndicators(s.Unit, fy) {
		if ind.Status.Live() && ind.Spec.SeriesID == s.ID {
			return ind
		}
	}
	return nil
}

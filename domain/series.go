package domain

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
)

// Series is a long-term indicator (ตัวชี้วัดระยะยาว) spanning 3 to 5 fiscal
// years, with a baseline and one target per year.
type Series struct {
	ID        string            `json:"id"`
	Unit      string            `json:"unit"`
	TitleTH   string            `json:"title_th"`
	TitleEN   string            `json:"title_en,omitempty"`
	Measure   string            `json:"measure"`
	Direction Direction         `json:"direction"`
	Baseline  Number            `json:"baseline"`
	StartYear int               `json:"start_year"`
	EndYear   int               `json:"end_year"`
	Targets   map[string]Number `json:"targets"` // keyed by fiscal year, "2563"
	Version   uint64            `json:"version"`
	Defined   Meta              `json:"defined"`
}

// SeriesDefined is the event of a new long-term series.
type SeriesDefined struct {
	ID        string            `json:"id"`
	Unit      string            `json:"unit"`
	TitleTH   string            `json:"title_th"`
	TitleEN   string            `json:"title_en,omitempty"`
	Measure   string            `json:"measure"`
	Direction Direction         `json:"direction"`
	Baseline  Number            `json:"baseline"`
	StartYear int               `json:"start_year"`
	EndYear   int               `json:"end_year"`
	Targets   map[string]Number `json:"targets"`
}

// Series spans are 3 to 5 fiscal years, both ends included.
const (
	MinSeriesYears = 3
	MaxSeriesYears = 5
)

// DefineSeries decides on a new series for a unit.
func DefineSeries(d SeriesDefined) (SeriesDefined, error) {
	var p problems
	checkText(&p, "title_th", d.TitleTH, MaxTitleLen, true)
	checkText(&p, "title_en", d.TitleEN, MaxTitleLen, false)
	checkText(&p, "measure", d.Measure, MaxMeasureLen, true)
	if d.Direction != DirectionUp && d.Direction != DirectionDown {
		p.add("direction", `must be "up" or "down"`)
	}
	if d.Baseline == "" {
		p.add("baseline", "is required")
	} else {
		checkNumber(&p, "baseline", d.Baseline)
	}
	yearsOK := true
	for _, f := range []struct {
		name string
		v    int
	}{{"start_year", d.StartYear}, {"end_year", d.EndYear}} {
		if f.v < MinFiscalYear || f.v > MaxFiscalYear {
			p.add(f.name, "must be a Buddhist Era year between %d and %d", MinFiscalYear, MaxFiscalYear)
			yearsOK = false
		}
	}
	if yearsOK {
		if n := d.EndYear - d.StartYear + 1; n < MinSeriesYears || n > MaxSeriesYears {
			p.add("end_year", "a long-term series spans %d to %d fiscal years (this one spans %d)", MinSeriesYears, MaxSeriesYears, n)
			yearsOK = false
		}
	}
	if yearsOK {
		for y := d.StartYear; y <= d.EndYear; y++ {
			t, ok := d.Targets[strconv.Itoa(y)]
			if !ok || t == "" {
				p.add(fmt.Sprintf("targets.%d", y), "a target is required for every year of the series")
				continue
			}
			checkNumber(&p, fmt.Sprintf("targets.%d", y), t)
		}
		for k := range d.Targets {
			y, err := strconv.Atoi(k)
			if err != nil || y < d.StartYear || y > d.EndYear {
				p.add("targets."+k, "is not a fiscal year of the series (%d–%d)", d.StartYear, d.EndYear)
			}
		}
	}
	if err := p.err(); err != nil {
		return SeriesDefined{}, err
	}
	return d, nil
}

// Apply folds a series event.
func (s *Series) Apply(e Event, m Meta) {
	s.Version = m.Version
	if e, ok := e.(SeriesDefined); ok {
		*s = Series{ID: e.ID, Unit: e.Unit, TitleTH: e.TitleTH, TitleEN: e.TitleEN, Measure: e.Measure,
			Direction: e.Direction, Baseline: e.Baseline, StartYear: e.StartYear, EndYear: e.EndYear,
			Targets: e.Targets, Version: m.Version, Defined: m}
	}
}

// Target returns the series' target for a fiscal year ("" if none).
func (s *Series) Target(fy int) Number { return s.Targets[strconv.Itoa(fy)] }

// TrendPoint is one year of a series' trend.
type TrendPoint struct {
	FiscalYear  int
	Target      Number
	Actual      Number   // verified actual of that year's indicator, "" if none
	Achievement *big.Rat // percent; nil without an actual
	Met         *bool    // whether the actual meets the year's target
}

// Trend is a series' target and actual per year and whether it is on track.
type Trend struct {
	Points []TrendPoint
	// OnTrack is nil until a verified actual exists.
	OnTrack   *bool
	Projected *big.Rat // the end-year value projected at the pace so far
}

// OnTrackRule says, in the response, how on-track is judged.
const OnTrackRule = "Achievement % = (actual − baseline) / (target − baseline) × 100 for the year (for a target equal to the baseline: 100 when the actual is at least as good, else 0). " +
	"The series is on track when the end-year value projected at the pace so far — a straight line from the baseline (the year before start_year) through the latest verified actual — reaches the end-year target in the series' direction."

// ComputeTrend builds a series' trend from the verified actual of each year
// (keyed by fiscal year; missing years have no actual).
func ComputeTrend(s *Series, actuals map[int]Number) Trend {
	var tr Trend
	base := s.Baseline.Rat()
	better := func(a, b *big.Rat) bool {
		if s.Direction == DirectionDown {
			return a.Cmp(b) <= 0
		}
		return a.Cmp(b) >= 0
	}
	latest := 0
	for y := s.StartYear; y <= s.EndYear; y++ {
		pt := TrendPoint{FiscalYear: y, Target: s.Target(y), Actual: actuals[y]}
		if pt.Actual != "" && pt.Target != "" {
			a, t := pt.Actual.Rat(), pt.Target.Rat()
			den := new(big.Rat).Sub(t, base)
			if den.Sign() == 0 {
				pt.Achievement = new(big.Rat)
				if better(a, t) {
					pt.Achievement.SetInt64(100)
				}
			} else {
				pt.Achievement = new(big.Rat).Mul(new(big.Rat).Quo(new(big.Rat).Sub(a, base), den), big.NewRat(100, 1))
			}
			met := better(a, t)
			pt.Met = &met
			latest = y
		}
		tr.Points = append(tr.Points, pt)
	}
	sort.Slice(tr.Points, func(i, j int) bool { return tr.Points[i].FiscalYear < tr.Points[j].FiscalYear })
	if latest == 0 {
		return tr
	}
	// Pace: (latest actual − baseline) per year since the baseline year.
	elapsed := int64(latest - (s.StartYear - 1))
	total := int64(s.EndYear - (s.StartYear - 1))
	gain := new(big.Rat).Sub(actuals[latest].Rat(), base)
	tr.Projected = new(big.Rat).Add(base, new(big.Rat).Mul(gain, big.NewRat(total, elapsed)))
	on := better(tr.Projected, s.Target(s.EndYear).Rat())
	tr.OnTrack = &on
	return tr
}

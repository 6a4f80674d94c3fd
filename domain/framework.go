package domain

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// UnitKind says whether a unit is a province or a department; each kind has
// its own framework every fiscal year.
type UnitKind string

// The two kinds of evaluated unit.
const (
	KindProvince   UnitKind = "province"
	KindDepartment UnitKind = "department"
)

// Valid reports whether k is one of the two kinds.
func (k UnitKind) Valid() bool { return k == KindProvince || k == KindDepartment }

// Rollup names how indicator scores roll up into a total.
type Rollup string

// The two rollups of SPEC.md.
const (
	// RollupWeighted is Σ wᵢ·sᵢ / Σ wᵢ over all approved indicators.
	RollupWeighted Rollup = "weighted"
	// RollupComponentMean is the plain mean of the components' weighted scores.
	RollupComponentMean Rollup = "component_mean"
)

// Fiscal years are Buddhist Era years; anything outside this range is a typo.
const (
	MinFiscalYear = 2500
	MaxFiscalYear = 2700
)

// Framework is one fiscal year's evaluation framework for one unit kind, as
// published by OPDC. It is data because every year changes it.
type Framework struct {
	FiscalYear int         `json:"fiscal_year"`
	UnitKind   UnitKind    `json:"unit_kind"`
	Components []Component `json:"components"`
	Scheme     Scheme      `json:"scheme"`
	Rollup     Rollup      `json:"rollup"`
	Bands      []Band      `json:"bands"`
	Rounds     []int       `json:"rounds"`
}

// Component is one part of a framework (e.g. Performance Base 70 %).
type Component struct {
	Code          string `json:"code"`
	NameTH        string `json:"name_th"`
	NameEN        string `json:"name_en,omitempty"`
	Weight        Number `json:"weight"`
	MinIndicators int    `json:"min_indicators"`
	MaxIndicators int    `json:"max_indicators"`
}

// Scheme is the ordered criteria levels and the score below the first one.
type Scheme struct {
	Levels     []Level `json:"levels"`
	BelowFirst Number  `json:"below_first"`
}

// Level is one criteria level (ขั้นต้น / มาตรฐาน / ขั้นสูง, or 1..5).
type Level struct {
	Label string `json:"label"`
	Score Number `json:"score"`
}

// Band is a result band of the total: the total belongs to the highest band
// whose Min it reaches.
type Band struct {
	Label string `json:"label"`
	Min   Number `json:"min"`
}

// Component returns the component with the given code.
func (f *Framework) Component(code string) (Component, bool) {
	for _, c := range f.Components {
		if c.Code == code {
			return c, true
		}
	}
	return Component{}, false
}

// HasRound reports whether results may be reported for the round (months).
func (f *Framework) HasRound(round int) bool { return slices.Contains(f.Rounds, round) }

// StandardLevel is the index of the "standard" (middle) level: มาตรฐาน of
// three, level 3 of five. A result below it must explain its obstacles.
func (s *Scheme) StandardLevel() int { return len(s.Levels) / 2 }

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Limits on framework shape and text sizes, counted in characters.
const (
	MaxComponents = 10
	MaxLevels     = 10
	MaxBands      = 10
	MaxNameLen    = 300
	MaxLabelLen   = 100
)

// Validate checks a framework as published or revised.
func (f *Framework) Validate() error {
	var p problems
	if f.FiscalYear < MinFiscalYear || f.FiscalYear > MaxFiscalYear {
		p.add("fiscal_year", "must be a Buddhist Era year between %d and %d", MinFiscalYear, MaxFiscalYear)
	}
	if !f.UnitKind.Valid() {
		p.add("unit_kind", `must be "province" or "department"`)
	}
	if f.Rollup != RollupWeighted && f.Rollup != RollupComponentMean {
		p.add("rollup", `must be "weighted" or "component_mean"`)
	}
	f.validateComponents(&p)
	f.Scheme.validate(&p)
	validateBands(&p, f.Bands)
	validateRounds(&p, f.Rounds)
	return p.err()
}

func (f *Framework) validateComponents(p *problems) {
	if len(f.Components) == 0 || len(f.Components) > MaxComponents {
		p.add("components", "must have 1 to %d components", MaxComponents)
		return
	}
	seen := map[string]bool{}
	sum := new(big.Rat)
	weightsOK := true
	for i, c := range f.Components {
		at := fmt.Sprintf("components[%d]", i)
		if !codePattern.MatchString(c.Code) {
			p.add(at+".code", "must be 1-32 lower-case letters, digits, '_' or '-', starting with a letter")
		} else if seen[c.Code] {
			p.add(at+".code", "duplicate component code %q", c.Code)
		}
		seen[c.Code] = true
		checkText(p, at+".name_th", c.NameTH, MaxNameLen, true)
		checkText(p, at+".name_en", c.NameEN, MaxNameLen, false)
		if c.Weight == "" {
			if f.Rollup == RollupWeighted {
				p.add(at+".weight", "is required for a weighted framework")
			}
			weightsOK = false
		} else if checkNumber(p, at+".weight", c.Weight) {
			w := c.Weight.Rat()
			if w.Sign() < 0 || w.Cmp(big.NewRat(100, 1)) > 0 {
				p.add(at+".weight", "must be between 0 and 100")
			}
			sum.Add(sum, w)
		} else {
			weightsOK = false
		}
		if c.MinIndicators < 0 || c.MinIndicators > 20 {
			p.add(at+".min_indicators", "must be between 0 and 20")
		}
		if c.MaxIndicators < 1 || c.MaxIndicators > 20 || c.MaxIndicators < c.MinIndicators {
			p.add(at+".max_indicators", "must be between max(1, min_indicators) and 20")
		}
	}
	if f.Rollup == RollupWeighted && weightsOK && sum.Cmp(big.NewRat(100, 1)) != 0 {
		p.add("components", "weights must add up to 100 for a weighted framework (they add up to %s)", FormatRat(sum, 6))
	}
}

func (s *Scheme) validate(p *problems) {
	if len(s.Levels) < 2 || len(s.Levels) > MaxLevels {
		p.add("scheme.levels", "must have 2 to %d levels", MaxLevels)
		return
	}
	var prev *big.Rat
	for i, l := range s.Levels {
		at := fmt.Sprintf("scheme.levels[%d]", i)
		checkText(p, at+".label", l.Label, MaxLabelLen, true)
		if l.Score == "" {
			p.add(at+".score", "is required")
			prev = nil
			continue
		}
		if !checkNumber(p, at+".score", l.Score) {
			prev = nil
			continue
		}
		r := l.Score.Rat()
		if prev != nil && r.Cmp(prev) <= 0 {
			p.add(at+".score", "levels must be strictly ordered: score must be greater than the previous level's")
		}
		prev = r
	}
	if s.BelowFirst == "" {
		p.add("scheme.below_first", "is required (0, or the floor score)")
	} else if checkNumber(p, "scheme.below_first", s.BelowFirst) {
		if first := s.Levels[0].Score.Rat(); first != nil && s.BelowFirst.Rat().Cmp(first) > 0 {
			p.add("scheme.below_first", "must not exceed the first level's score")
		}
	}
}

func validateBands(p *problems, bands []Band) {
	if len(bands) == 0 || len(bands) > MaxBands {
		p.add("bands", "must have 1 to %d bands", MaxBands)
		return
	}
	seen := map[string]bool{}
	var lowest *big.Rat
	for i, b := range bands {
		at := fmt.Sprintf("bands[%d]", i)
		checkText(p, at+".label", b.Label, MaxLabelLen, true)
		if b.Min == "" {
			p.add(at+".min", "is required")
			continue
		}
		if !checkNumber(p, at+".min", b.Min) {
			continue
		}
		r := b.Min.Rat()
		if seen[r.RatString()] {
			p.add(at+".min", "two bands start at the same minimum")
		}
		seen[r.RatString()] = true
		if lowest == nil || r.Cmp(lowest) < 0 {
			lowest = r
		}
	}
	if lowest != nil && lowest.Sign() > 0 {
		p.add("bands", "must cover 0: the lowest band's min must be 0 or less")
	}
}

func validateRounds(p *problems, rounds []int) {
	if len(rounds) == 0 {
		p.add("rounds", "must list the reporting rounds in months, e.g. [6, 9, 12] or [12]")
		return
	}
	for i, r := range rounds {
		if r < 1 || r > 12 {
			p.add(fmt.Sprintf("rounds[%d]", i), "must be a month count from 1 to 12")
		} else if i > 0 && r <= rounds[i-1] {
			p.add(fmt.Sprintf("rounds[%d]", i), "rounds must be strictly increasing")
		}
	}
	if rounds[len(rounds)-1] != 12 {
		p.add("rounds", "must end with the 12-month round")
	}
}

// checkText validates a free-text field's presence and its length in
// characters (Thai text is counted in runes, not bytes).
func checkText(p *problems, field, s string, max int, required bool) {
	if !utf8.ValidString(s) {
		p.add(field, "must be valid UTF-8")
		return
	}
	n := utf8.RuneCountInString(s)
	if required && n == 0 {
		p.add(field, "is required")
	}
	if n > max {
		p.add(field, "must be at most %d characters (got %d)", max, n)
	}
}

// FrameworkRevision is one published version of a framework.
type FrameworkRevision struct {
	Revision  int       `json:"revision"`
	Framework Framework `json:"framework"`
	Reason    string    `json:"reason,omitempty"`
	Meta      Meta      `json:"meta"`
}

// FrameworkHistory is the framework aggregate: every revision, oldest first.
// Revision n is aggregate version n.
type FrameworkHistory struct {
	FiscalYear int                 `json:"fiscal_year"`
	UnitKind   UnitKind            `json:"unit_kind"`
	Revisions  []FrameworkRevision `json:"revisions"`
}

// Latest returns the current revision, or nil when nothing is published.
func (h *FrameworkHistory) Latest() *FrameworkRevision {
	if h == nil || len(h.Revisions) == 0 {
		return nil
	}
	return &h.Revisions[len(h.Revisions)-1]
}

// Version is the aggregate version (the number of revisions).
func (h *FrameworkHistory) Version() uint64 {
	if h == nil {
		return 0
	}
	return uint64(len(h.Revisions))
}

// FrameworkPublished is the event of a framework's first publication.
type FrameworkPublished struct {
	Framework Framework `json:"framework"`
}

// FrameworkRevised is the event of a corrected framework; the old revision
// stays in the history.
type FrameworkRevised struct {
	Framework Framework `json:"framework"`
	Reason    string    `json:"reason"`
}

// PublishFramework decides on a first publication.
func PublishFramework(existing *FrameworkHistory, f Framework) (FrameworkPublished, error) {
	if err := f.Validate(); err != nil {
		return FrameworkPublished{}, err
	}
	if existing.Latest() != nil {
		return FrameworkPublished{}, conflictf("the FY%d %s framework is already published; publish a revision instead", f.FiscalYear, f.UnitKind)
	}
	return FrameworkPublished{Framework: f}, nil
}

// MaxReasonLen bounds reasons and comments.
const MaxReasonLen = 4000

// ReviseFramework decides on a revision. inUse maps each component code to
// the number of live indicators filed under it that year: a revision may not
// drop such a component, nor change the number of levels once indicators
// carry one target per level.
func ReviseFramework(h *FrameworkHistory, f Framework, reason string, inUse map[string]int) (FrameworkRevised, error) {
	if h.Latest() == nil {
		return FrameworkRevised{}, fmt.Errorf("%w: no FY%d %s framework is published", ErrNotFound, f.FiscalYear, f.UnitKind)
	}
	var p problems
	checkText(&p, "reason", reason, MaxReasonLen, true)
	if f.FiscalYear != h.FiscalYear {
		p.add("fiscal_year", "must be %d, the framework being revised", h.FiscalYear)
	}
	if f.UnitKind != h.UnitKind {
		p.add("unit_kind", "must be %q, the framework being revised", h.UnitKind)
	}
	if err := p.err(); err != nil {
		return FrameworkRevised{}, err
	}
	if err := f.Validate(); err != nil {
		return FrameworkRevised{}, err
	}
	// What the year's indicators already use is the ledger's state, not
	// the request's shape: refused as a conflict (409), as the other
	// limits that concurrent writes race for are.
	old := h.Latest().Framework
	used := 0
	var conflicts []string
	codes := make([]string, 0, len(inUse))
	for code := range inUse {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		n := inUse[code]
		if n == 0 {
			continue
		}
		used += n
		if _, ok := f.Component(code); !ok {
			conflicts = append(conflicts, fmt.Sprintf("components: component %q has %d indicators this year and cannot be removed", code, n))
		}
	}
	if used > 0 && len(f.Scheme.Levels) != len(old.Scheme.Levels) {
		conflicts = append(conflicts, fmt.Sprintf("scheme.levels: indicators already carry %d targets; the number of levels cannot change", len(old.Scheme.Levels)))
	}
	if len(conflicts) > 0 {
		return FrameworkRevised{}, conflictf("%s", strings.Join(conflicts, "; "))
	}
	return FrameworkRevised{Framework: f, Reason: reason}, nil
}

// Apply folds a framework event into the history.
func (h *FrameworkHistory) Apply(e Event, m Meta) {
	switch e := e.(type) {
	case FrameworkPublished:
		h.FiscalYear, h.UnitKind = e.Framework.FiscalYear, e.Framework.UnitKind
		h.Revisions = append(h.Revisions, FrameworkRevision{Revision: 1, Framework: e.Framework, Meta: m})
	case FrameworkRevised:
		h.Revisions = append(h.Revisions, FrameworkRevision{Revision: len(h.Revisions) + 1, Framework: e.Framework, Reason: e.Reason, Meta: m})
	}
}

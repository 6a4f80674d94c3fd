// Package projections holds kpiledger's read models: state folded from the
// event log in stream order, and the views computed from it (scorecards,
// comparisons, framework diffs, trends, audit trails). Nothing here is
// stored state that could drift from the log: a snapshot is only a
// checkpoint of the fold, checked against the log when it is loaded.
package projections

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// State is the fold of every event up to Sequence.
type State struct {
	Sequence    uint64                              `json:"sequence"`  // last event applied
	LastHash    string                              `json:"last_hash"` // its hash
	Count       uint64                              `json:"count"`     // events applied
	Frameworks  map[string]*domain.FrameworkHistory `json:"frameworks"`
	Departments map[string]*domain.Unit             `json:"departments"`
	Indicators  map[string]*domain.Indicator        `json:"indicators"`
	Series      map[string]*domain.Series           `json:"series"`
	Innovations map[string]*domain.Innovation       `json:"innovations"`
	// Heads is each aggregate's chain head, keyed by AggregateKey.
	Heads map[string]Head `json:"heads"`
	// Commands remembers client-supplied command ids (Idempotency-Key), so a
	// repeated request is answered from the log even after JetStream's
	// de-duplication window has passed.
	Commands    map[string]CommandRef `json:"commands"`
	UnitYears   map[string]*UnitYear  `json:"unit_years"`  // keyed by UnitYearKey
	UnitSeries  map[string][]string   `json:"unit_series"` // unit → series ids, in order defined
	Checkpoints []Checkpoint          `json:"checkpoints"`
	// Tree is the Merkle tree over every event's hash in stream order:
	// what the next checkpoint signs.
	Tree events.Tree `json:"tree"`
	// Groups is each group's chain head (unit-years, frameworks…): what
	// the next checkpoint's group tree commits to.
	Groups map[string]events.GroupHead `json:"groups"`

	// scores caches computed unit-year scores for the views (not part of
	// the fold, never saved).
	scores *scoreCache
}

// Head is where an aggregate's chain stands.
type Head struct {
	Version uint64 `json:"version"`
	Hash    string `json:"hash"`
	Seq     uint64 `json:"seq"`
}

// CommandRef is the event a client-identified command produced.
type CommandRef struct {
	Aggregate   string `json:"aggregate"` // AggregateKey
	Version     uint64 `json:"version"`
	Sequence    uint64 `json:"sequence"`
	RequestHash string `json:"request_hash,omitempty"`
}

// UnitYear indexes one unit's aggregates of one fiscal year.
type UnitYear struct {
	Unit        string   `json:"unit"`
	FiscalYear  int      `json:"fiscal_year"`
	Indicators  []string `json:"indicators"`
	Innovations []string `json:"innovations"`
	LastSeq     uint64   `json:"last_seq"` // last event of the unit-year
	// IndicatorsLastSeq is the last event of the unit-year's indicators:
	// what the guard of a decision that counted them expects.
	IndicatorsLastSeq uint64 `json:"indicators_last_seq"`
}

// Checkpoint is a signed checkpoint recorded in the log.
type Checkpoint struct {
	domain.CheckpointRecorded
	EventSequence uint64 `json:"event_sequence"` // where the checkpoint event itself sits
}

// NewState returns an empty fold.
func NewState() *State {
	return &State{
		Frameworks:  map[string]*domain.FrameworkHistory{},
		Departments: map[string]*domain.Unit{},
		Indicators:  map[string]*domain.Indicator{},
		Series:      map[string]*domain.Series{},
		Innovations: map[string]*domain.Innovation{},
		Heads:       map[string]Head{},
		Commands:    map[string]CommandRef{},
		UnitYears:   map[string]*UnitYear{},
		UnitSeries:  map[string][]string{},
		Groups:      map[string]events.GroupHead{},
		scores:      &scoreCache{},
	}
}

// AggregateKey identifies an aggregate across kinds.
func AggregateKey(kind, id string) string { return kind + "/" + id }

// UnitYearKey keys a unit-year.
func UnitYearKey(unit string, fy int) string { return unit + "/" + strconv.Itoa(fy) }

// ApplyError says which event a fold could not apply; the fold stops there.
type ApplyError struct {
	Sequence uint64
	EventID  string
	Err      error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("cannot apply event %s at sequence %d: %v", e.EventID, e.Sequence, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Apply folds one event. Every check happens before anything changes, so a
// refused event leaves the state exactly as it was.
func (s *State) Apply(e *events.Envelope) error {
	ev, err := e.Event()
	return s.apply(e, ev, err)
}

// apply folds an event whose payload the caller decoded (ev, or the
// decoding's error evErr), so that decoding can run ahead of the fold; the
// checks and their order are Apply's.
func (s *State) apply(e *events.Envelope, ev domain.Event, evErr error) error {
	fail := func(err error) error { return &ApplyError{Sequence: e.Sequence, EventID: e.ID, Err: err} }
	if e.Sequence <= s.Sequence {
		return fail(fmt.Errorf("sequence %d is not after the last applied %d", e.Sequence, s.Sequence))
	}
	key := AggregateKey(e.AggregateKind, e.AggregateID)
	head := s.Heads[key]
	if e.AggregateVersion != head.Version+1 {
		return fail(fmt.Errorf("aggregate %s: version %d follows version %d", key, e.AggregateVersion, head.Version))
	}
	if e.PrevHash != head.Hash {
		return fail(fmt.Errorf("aggregate %s: prev_hash does not match the previous event's hash", key))
	}
	if evErr != nil {
		return fail(evErr)
	}
	if err := s.check(ev, e); err != nil {
		return fail(err)
	}
	group, err := events.GroupOf(e)
	if err != nil {
		return fail(err)
	}
	gh := s.Groups[group]
	// The adds validate the hash; they are the last checks before changes.
	if err := gh.Add(e.Sequence, e.Hash); err != nil {
		return fail(err)
	}
	if err := s.Tree.Add(e.Hash); err != nil {
		return fail(err)
	}
	s.Groups[group] = gh
	m := e.Meta()
	switch ev := ev.(type) {
	case domain.FrameworkPublished, domain.FrameworkRevised:
		h := s.Frameworks[e.AggregateID]
		if h == nil {
			h = &domain.FrameworkHistory{}
			s.Frameworks[e.AggregateID] = h
		}
		h.Apply(ev, m)
	case domain.DepartmentRegistered:
		s.Departments[ev.Code] = &domain.Unit{Code: ev.Code, Kind: domain.KindDepartment, NameTH: ev.NameTH, NameEN: ev.NameEN}
	case domain.IndicatorProposed:
		ind := &domain.Indicator{}
		ind.Apply(ev, m)
		s.Indicators[ev.ID] = ind
		uy := s.unitYear(ev.Unit, ev.FiscalYear)
		uy.Indicators = append(uy.Indicators, ev.ID)
	case domain.IndicatorRevised, domain.IndicatorReviewed, domain.IndicatorWithdrawn, domain.ResultReported, domain.ResultVerified:
		s.Indicators[e.AggregateID].Apply(ev, m)
	case domain.SeriesDefined:
		sr := &domain.Series{}
		sr.Apply(ev, m)
		s.Series[ev.ID] = sr
		s.UnitSeries[ev.Unit] = append(s.UnitSeries[ev.Unit], ev.ID)
	case domain.InnovationProposed:
		n := &domain.Innovation{}
		n.Apply(ev, m)
		s.Innovations[ev.ID] = n
		uy := s.unitYear(ev.Unit, ev.FiscalYear)
		uy.Innovations = append(uy.Innovations, ev.ID)
	case domain.InnovationSelected, domain.InnovationReviewed:
		s.Innovations[e.AggregateID].Apply(ev, m)
	case domain.CheckpointRecorded:
		s.Checkpoints = append(s.Checkpoints, Checkpoint{CheckpointRecorded: ev, EventSequence: e.Sequence})
	}
	if e.Unit != "" && e.FiscalYear != 0 && e.AggregateKind != events.KindSeries {
		uy := s.unitYear(e.Unit, e.FiscalYear)
		uy.LastSeq = e.Sequence
		if e.AggregateKind == events.KindIndicator {
			uy.IndicatorsLastSeq = e.Sequence
		}
	}
	s.Heads[key] = Head{Version: e.AggregateVersion, Hash: e.Hash, Seq: e.Sequence}
	// Only a command that came with an Idempotency-Key (the API keeps its
	// request's hash then) can be repeated by its id; remembering every
	// other command id cost a map entry per event and was never looked up.
	if e.CommandID != "" && e.CommandID != e.ID && e.RequestHash != "" {
		s.Commands[e.CommandID] = CommandRef{Aggregate: key, Version: e.AggregateVersion, Sequence: e.Sequence, RequestHash: e.RequestHash}
	}
	s.Sequence, s.LastHash = e.Sequence, e.Hash
	s.Count++
	return nil
}

// check refuses an event that does not fit the aggregate it claims.
func (s *State) check(ev domain.Event, e *events.Envelope) error {
	switch ev := ev.(type) {
	case domain.FrameworkPublished:
		if events.FrameworkID(ev.Framework.FiscalYear, string(ev.Framework.UnitKind)) != e.AggregateID {
			return fmt.Errorf("framework FY%d %s published under aggregate %s", ev.Framework.FiscalYear, ev.Framework.UnitKind, e.AggregateID)
		}
	case domain.FrameworkRevised:
		if s.Frameworks[e.AggregateID] == nil {
			return fmt.Errorf("revision of unpublished framework %s", e.AggregateID)
		}
	case domain.IndicatorProposed:
		if ev.ID != e.AggregateID || ev.Unit != e.Unit || ev.FiscalYear != e.FiscalYear {
			return fmt.Errorf("indicator proposal does not match its envelope")
		}
	case domain.IndicatorRevised, domain.IndicatorReviewed, domain.IndicatorWithdrawn, domain.ResultReported, domain.ResultVerified:
		if s.Indicators[e.AggregateID] == nil {
			return fmt.Errorf("event for unknown indicator %s", e.AggregateID)
		}
	case domain.SeriesDefined:
		if ev.ID != e.AggregateID || ev.Unit != e.Unit {
			return fmt.Errorf("series definition does not match its envelope")
		}
	case domain.InnovationProposed:
		if ev.ID != e.AggregateID || ev.Unit != e.Unit || ev.FiscalYear != e.FiscalYear {
			return fmt.Errorf("innovation proposal does not match its envelope")
		}
	case domain.InnovationSelected, domain.InnovationReviewed:
		if s.Innovations[e.AggregateID] == nil {
			return fmt.Errorf("event for unknown innovation %s", e.AggregateID)
		}
	}
	return nil
}

func (s *State) unitYear(unit string, fy int) *UnitYear {
	// The key is built on the stack for the lookup, which every event of a
	// unit-year does; it is allocated only for a new unit-year.
	var buf [64]byte
	k := append(append(append(buf[:0], unit...), '/'), strconv.Itoa(fy)...)
	uy := s.UnitYears[string(k)]
	if uy == nil {
		uy = &UnitYear{Unit: unit, FiscalYear: fy}
		s.UnitYears[string(k)] = uy
	}
	return uy
}

// Framework returns the current framework revision for a year and kind.
func (s *State) Framework(fy int, kind domain.UnitKind) *domain.FrameworkRevision {
	return s.Frameworks[events.FrameworkID(fy, string(kind))].Latest()
}

// Unit finds a unit: a built-in province or a registered department.
func (s *State) Unit(code string) (domain.Unit, bool) {
	if p, ok := domain.ProvinceByCode(code); ok {
		return domain.Unit{Code: p.Code, Kind: domain.KindProvince, NameTH: p.NameTH, NameEN: p.NameEN, Region: p.Region}, true
	}
	if d := s.Departments[code]; d != nil {
		return *d, true
	}
	return domain.Unit{}, false
}

// UnitIndicators returns a unit-year's indicators in the order proposed.
func (s *State) UnitIndicators(unit string, fy int) []*domain.Indicator {
	uy := s.UnitYears[UnitYearKey(unit, fy)]
	if uy == nil {
		return nil
	}
	out := make([]*domain.Indicator, 0, len(uy.Indicators))
	for _, id := range uy.Indicators {
		out = append(out, s.Indicators[id])
	}
	return out
}

// UnitInnovations returns a unit-year's innovation proposals in order.
func (s *State) UnitInnovations(unit string, fy int) []*domain.Innovation {
	uy := s.UnitYears[UnitYearKey(unit, fy)]
	if uy == nil {
		return nil
	}
	out := make([]*domain.Innovation, 0, len(uy.Innovations))
	for _, id := range uy.Innovations {
		out = append(out, s.Innovations[id])
	}
	return out
}

// IndicatorContext gathers what a decision about an indicator of a
// unit-year needs from outside its aggregate. self is the indicator being
// decided on ("" for a new one).
func (s *State) IndicatorContext(unit string, fy int, kind domain.UnitKind, spec domain.IndicatorSpec, self string) domain.IndicatorContext {
	var ctx domain.IndicatorContext
	if fw := s.Framework(fy, kind); fw != nil {
		ctx.Framework = &fw.Framework
	}
	if spec.SeriesID != "" {
		ctx.Series = s.Series[spec.SeriesID]
	}
	for _, ind := range s.UnitIndicators(unit, fy) {
		if ind.ID == self || !ind.Status.Live() {
			continue
		}
		ctx.LiveInUnitYear++
		if spec.SeriesID != "" && ind.Spec.SeriesID == spec.SeriesID {
			ctx.SeriesTaken = true
		}
		if ind.Status == domain.StatusApproved && ind.Spec.Component == spec.Component {
			ctx.ApprovedInComponent++
		}
	}
	return ctx
}

// ComponentsInUse counts live indicators per component for a year and kind.
func (s *State) ComponentsInUse(fy int, kind domain.UnitKind) map[string]int {
	out := map[string]int{}
	for _, uy := range s.UnitYears {
		if uy.FiscalYear != fy {
			continue
		}
		u, ok := s.Unit(uy.Unit)
		if !ok || u.Kind != kind {
			continue
		}
		for _, id := range uy.Indicators {
			if ind := s.Indicators[id]; ind.Status.Live() {
				out[ind.Spec.Component]++
			}
		}
	}
	return out
}

// SortedKeys returns a map's keys in order, for deterministic output.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UnitYearIndicatorsFilter matches the subjects of a unit-year's
// indicators: the guard of every decision that counts them.
func UnitYearIndicatorsFilter(unit string, fy int) string {
	return "kpi.u." + unit + "." + strconv.Itoa(fy) + "." + events.KindIndicator + ".>"
}

// UnitYearIndicatorsLast is the stream sequence of the last event on a
// unit-year's indicators (0: none), the sequence the subjects matching
// UnitYearIndicatorsFilter end at in the log this state folded.
func (s *State) UnitYearIndicatorsLast(unit string, fy int) uint64 {
	if uy := s.UnitYears[UnitYearKey(unit, fy)]; uy != nil {
		return uy.IndicatorsLastSeq
	}
	return 0
}

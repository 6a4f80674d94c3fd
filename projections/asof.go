package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// SubjectReader reads the events stored under a set of subject filters, in
// stream order: all the as-of scorecard and the audit trail need of the
// store. *events.Store is one.
type SubjectReader interface {
	ReadSubjects(ctx context.Context, filters []string) ([]*events.Envelope, error)
}

// ScorecardAsOf rebuilds a unit's scorecard for a fiscal year exactly as it
// stood at an instant: only events recorded at or before asOf count. It
// reads only that unit-year's subjects and that year's framework subject
// for the unit's kind, never the whole stream, and folds them into a fresh
// State. The caller names the unit (its code, kind and name: a
// department's registration is not among the events read, and a unit's
// identity never changes).
//
// recorded_at comes from the clock of whichever node appended the event,
// so across nodes it can step backwards by a small skew while the stream
// order stays right. Once one event of an aggregate is excluded by time,
// all its later events are excluded too: the scorecard then shows every
// aggregate as a prefix of its own history, which is a state that really
// existed, and the fold's chain check never meets a gap.
func ScorecardAsOf(ctx context.Context, store SubjectReader, u domain.Unit, fy int, asOf time.Time) (Scorecard, error) {
	return ScorecardAsOfUnder(ctx, store, u, fy, asOf, nil)
}

// ScorecardAsOfUnder is ScorecardAsOf with the results as they stood then
// also re-scored under the framework revision under (nil: not re-scored).
// The framework is the one named, as it is now: as_of cuts the results,
// and the question is how those results score under that framework.
func ScorecardAsOfUnder(ctx context.Context, store SubjectReader, u domain.Unit, fy int, asOf time.Time, under *domain.FrameworkRevision) (Scorecard, error) {
	if asOf.IsZero() {
		return Scorecard{}, domain.Invalid("as_of", "must be an RFC 3339 instant")
	}
	evs, err := readUnitYear(ctx, store, u, fy, asOf)
	if err != nil {
		return Scorecard{}, err
	}
	fresh := NewState()
	for _, e := range cutAt(evs, asOf) {
		if err := fresh.Apply(e); err != nil {
			return Scorecard{}, fmt.Errorf("scorecard of %s FY%d as of %s: %w", u.Code, fy, asOf.UTC().Format(time.RFC3339), err)
		}
	}
	ys, err := scoreYear(fresh, u, fy)
	if err != nil {
		return Scorecard{}, fmt.Errorf("as of %s: %w", asOf.UTC().Format(time.RFC3339), err)
	}
	sc := ys.scorecard()
	if under != nil {
		rv := ys.rescoredView(under, ys.rescore(under))
		sc.ScoreUnder = &rv
	}
	sc.AsOf = asOf.UTC().Format(time.RFC3339Nano)
	return sc, nil
}

// unitYearFilters selects a unit-year's aggregates and its year's framework.
func unitYearFilters(u domain.Unit, fy int) []string {
	return []string{events.UnitYearFilter(u.Code, fy), events.FrameworkSubject(fy, string(u.Kind))}
}

// readUnitYear reads a unit-year's events and its framework's, in stream
// order; a non-zero until drops events recorded after it. It reads by the
// stream's per-subject index (events.Store.ReadSubjects), so its cost
// follows the unit-year's events, not the size of the stream.
func readUnitYear(ctx context.Context, store SubjectReader, u domain.Unit, fy int, until time.Time) ([]*events.Envelope, error) {
	evs, err := store.ReadSubjects(ctx, unitYearFilters(u, fy))
	if err != nil {
		return nil, fmt.Errorf("read %s FY%d: %w", u.Code, fy, err)
	}
	if until.IsZero() {
		return evs, nil
	}
	out := evs[:0]
	for _, e := range evs {
		if !e.RecordedAt.After(until) {
			out = append(out, e)
		}
	}
	return out, nil
}

// cutAt keeps, for every aggregate, the events before its first one
// recorded after asOf. The store may already have dropped the late events
// themselves (ReadOptions.Until), so a version gap also marks the cut:
// versions of one aggregate arrive 1, 2, 3 … in stream order.
func cutAt(evs []*events.Envelope, asOf time.Time) []*events.Envelope {
	last := map[string]uint64{} // aggregate → version of its last kept event
	cut := map[string]bool{}
	out := make([]*events.Envelope, 0, len(evs))
	for _, e := range evs {
		key := AggregateKey(e.AggregateKind, e.AggregateID)
		if cut[key] {
			continue
		}
		if e.RecordedAt.After(asOf) || e.AggregateVersion != last[key]+1 {
			cut[key] = true
			continue
		}
		last[key] = e.AggregateVersion
		out = append(out, e)
	}
	return out
}

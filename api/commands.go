package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// decideFunc looks at the read model (under its read lock) and decides:
// the event to append and the aggregate it extends, or a domain error.
type decideFunc func(st *projections.State) (domain.Event, events.Aggregate, error)

// written is where a command's event landed.
type written struct {
	Agg      events.Aggregate // identity of the aggregate written
	Version  uint64
	Sequence uint64
	Replayed bool // the answer to an earlier request with the same Idempotency-Key
}

// guardFunc names, under the same read lock as the decision, what the
// decision read beyond its aggregate, so that the append is refused if any
// of it changed in the meantime (see guard).
type guardFunc func(st *projections.State, agg events.Aggregate) guard

// guard is the boundary of a decision beyond its own aggregate. The zero
// guard is the aggregate alone. A filter guard names a subject filter that
// also covers the aggregate and the sequence its last event had; a stream
// guard is the whole log (its last sequence), for a decision that read
// aggregates no narrower filter shares with its own.
type guard struct {
	events.Guard
	Stream     bool
	StreamLast uint64
}

// unitYearIndicators guards a decision that counted or matched a
// unit-year's indicators: every indicator write of the unit-year moves it.
func unitYearIndicators(unit string, fy int) guardFunc {
	return func(st *projections.State, _ events.Aggregate) guard {
		return guard{Guard: events.Guard{Filter: projections.UnitYearIndicatorsFilter(unit, fy), Last: st.UnitYearIndicatorsLast(unit, fy)}}
	}
}

// wholeLog guards a decision on the entire log as the read model has it.
func wholeLog(st *projections.State, _ events.Aggregate) guard {
	return guard{Stream: true, StreamLast: st.Sequence}
}

// maxAttempts bounds re-deciding after a concurrent write changed the
// aggregate, or what the decision read beyond it, between our read and our
// append.
const maxAttempts = 10

// conflictPause is a random pause before deciding again after a conflict,
// growing with the attempt: on a replicated stream the winner may still be
// in flight (JetStream refuses writes guarded by the same filter until it
// is stored), and re-deciding at once would lose again to the same write.
func conflictPause(attempt int) time.Duration {
	ceiling := min(time.Millisecond<<attempt, 100*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

var idempotencyKey = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// execute runs one command: idempotency check, decide on the read model,
// append with the expected version, re-decide on conflict, and return only
// once this node's read model includes the event (read-your-writes).
func (s *Server) execute(c echo.Context, req request, decide decideFunc) (written, error) {
	return s.executeGuarded(c, req, nil, decide)
}

// executeGuarded is execute for a decision that reads beyond its own
// aggregate: guardOf names what it read, and the append is refused (and
// the command decided again on the new state) if that changed first.
func (s *Server) executeGuarded(c echo.Context, req request, guardOf guardFunc, decide decideFunc) (written, error) {
	ctx := c.Request().Context()
	p := principal(c)
	commandID, keyed, err := s.commandID(c, p)
	if err != nil {
		return written{}, err
	}
	if keyed {
		if w, ok, err := s.replay(commandID, req); ok || err != nil {
			return w, err
		}
	}
	correlation := c.Request().Header.Get("X-Correlation-ID")
	if correlation == "" || len(correlation) > 128 {
		correlation = commandID
	}
	occurred, err := s.occurredAt(c)
	if err != nil {
		return written{}, err
	}
	for attempt := 1; ; attempt++ {
		var (
			ev  domain.Event
			agg events.Aggregate
			g   guard
			err error
		)
		s.model.Read(func(st *projections.State) {
			ev, agg, err = decide(st)
			if err == nil && guardOf != nil {
				g = guardOf(st, agg)
			}
		})
		if err != nil {
			return written{}, err
		}
		env, err := events.NewEnvelope(ev, agg)
		if err != nil {
			return written{}, err
		}
		env.Actor = p.Actor()
		env.OccurredAt = occurred
		env.CommandID = commandID
		env.CorrelationID = correlation
		if keyed {
			env.RequestHash = req.hash
		}
		var res events.Appended
		switch {
		case g.Stream:
			res, err = s.store.AppendAfter(ctx, env, agg.LastSeq, g.StreamLast)
		case g.Filter != "":
			res, err = s.store.AppendGuarded(ctx, env, agg.LastSeq, g.Guard)
		default:
			res, err = s.store.Append(ctx, env, agg.LastSeq)
		}
		if errors.Is(err, events.ErrVersionConflict) && attempt < maxAttempts {
			// Another write reached the aggregate, or what the decision
			// read beyond it, first: let the read model catch up with the
			// log and decide again on the new state.
			select {
			case <-ctx.Done():
				return written{}, ctx.Err()
			case <-time.After(conflictPause(attempt)):
			}
			if err := s.catchUp(ctx); err != nil {
				return written{}, err
			}
			if keyed {
				// The write that got there first may have been this very
				// command, sent twice at once: answer as a retry.
				if w, ok, err := s.replay(commandID, req); ok || err != nil {
					if err == nil {
						err = s.waitFor(ctx, w.Sequence)
					}
					return w, err
				}
			}
			continue
		}
		if err != nil {
			return written{}, err
		}
		w := written{Agg: agg, Version: env.AggregateVersion, Sequence: res.Sequence}
		if res.Duplicate {
			// The same command was stored before (a retry whose first
			// answer was lost): answer with the stored event.
			orig, err := s.store.Get(ctx, res.Sequence)
			if err != nil {
				return written{}, err
			}
			if keyed && orig.RequestHash != req.hash {
				return written{}, errKeyReused
			}
			// The stored event names the aggregate: a retried proposal
			// decided a fresh indicator id this time, but the answer is
			// the indicator the first attempt created.
			w.Agg = events.Aggregate{Kind: orig.AggregateKind, ID: orig.AggregateID, Unit: orig.Unit, FiscalYear: orig.FiscalYear}
			w.Version, w.Replayed = orig.AggregateVersion, true
		}
		return w, s.waitFor(ctx, w.Sequence)
	}
}

var errKeyReused = problem(http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key reused",
	"this Idempotency-Key was already used with a different request body")

// maxClockSkew is how far in the future a client's X-Occurred-At may be.
const maxClockSkew = 5 * time.Minute

// occurredAt reads X-Occurred-At: when the thing happened in the world (a
// report signed on paper last week), as the client asserts it. The ledger's
// own recorded_at is always its clock; as-of views use recorded_at.
func (s *Server) occurredAt(c echo.Context) (time.Time, error) {
	v := c.Request().Header.Get("X-Occurred-At")
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, badRequest("X-Occurred-At", "must be an RFC 3339 instant, e.g. 2020-09-15T09:30:00+07:00")
	}
	if t.After(s.now().Add(maxClockSkew)) || t.Year() < 2000 {
		return t, badRequest("X-Occurred-At", "must not be in the future, nor before the year 2000")
	}
	return t.UTC(), nil
}

// commandID is the event's command id: derived from the caller's
// Idempotency-Key (scoped to the caller) when given, else fresh.
func (s *Server) commandID(c echo.Context, p Principal) (string, bool, error) {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		id, err := uuid.NewV7()
		return id.String(), false, err
	}
	if !idempotencyKey.MatchString(key) {
		return "", false, badRequest("Idempotency-Key", "must be 1-128 characters of A-Z a-z 0-9 . _ : -")
	}
	sum := sha256.Sum256([]byte(p.Subject + "\x00" + string(p.Role) + "\x00" + p.Unit + "\x00" + key))
	return "idem-" + hex.EncodeToString(sum[:16]), true, nil
}

// replay answers a repeated Idempotency-Key from the log's record of it.
func (s *Server) replay(commandID string, req request) (written, bool, error) {
	var (
		ref projections.CommandRef
		ok  bool
		agg events.Aggregate
	)
	s.model.Read(func(st *projections.State) {
		ref, ok = st.Commands[commandID]
		if ok {
			agg = aggregateFromKey(st, ref.Aggregate)
		}
	})
	if !ok {
		return written{}, false, nil
	}
	if ref.RequestHash != req.hash {
		return written{}, true, errKeyReused
	}
	return written{Agg: agg, Version: ref.Version, Sequence: ref.Sequence, Replayed: true}, true, nil
}

// aggregateFromKey recovers an aggregate's identity from the read model.
func aggregateFromKey(st *projections.State, key string) events.Aggregate {
	kind, id, _ := strings.Cut(key, "/")
	a := events.Aggregate{Kind: kind, ID: id}
	switch kind {
	case events.KindIndicator:
		if i := st.Indicators[id]; i != nil {
			a.Unit, a.FiscalYear = i.Unit, i.FiscalYear
		}
	case events.KindInnovation:
		if n := st.Innovations[id]; n != nil {
			a.Unit, a.FiscalYear = n.Unit, n.FiscalYear
		}
	case events.KindSeries:
		if sr := st.Series[id]; sr != nil {
			a.Unit, a.FiscalYear = sr.Unit, sr.StartYear
		}
	case events.KindFramework:
		fy, _, _ := strings.Cut(id, "-")
		a.FiscalYear, _ = strconv.Atoi(fy)
	}
	return a
}

// catchUp waits until the read model has applied everything in the log.
func (s *Server) catchUp(ctx context.Context) error {
	last, err := s.store.LastSequence(ctx)
	if err != nil {
		return err
	}
	return s.waitFor(ctx, last)
}

func (s *Server) waitFor(ctx context.Context, seq uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.writeWait)
	defer cancel()
	if err := s.model.WaitFor(ctx, seq); err != nil {
		if errors.Is(err, projections.ErrStopped) {
			return err
		}
		q := problem(http.StatusServiceUnavailable, "read-model-behind", "Read model behind",
			fmt.Sprintf("the event was appended at sequence %d but this node's read model has not applied it within %s; repeat the request with the same Idempotency-Key to get its answer", seq, s.writeWait))
		q.Sequence = &seq
		return q
	}
	return nil
}

// head fills an aggregate's chain position from the read model.
func head(st *projections.State, a events.Aggregate) events.Aggregate {
	h := st.Heads[projections.AggregateKey(a.Kind, a.ID)]
	a.Version, a.LastHash, a.LastSeq = h.Version, h.Hash, h.Seq
	return a
}

// checkIfMatch compares an If-Match version with the aggregate's current
// one. required: a missing header is 428; otherwise it is not checked.
func checkIfMatch(c echo.Context, current uint64, required bool) error {
	v, ok, err := ifMatch(c)
	if err != nil {
		return err
	}
	if !ok {
		if required {
			return errPreconditionRequired
		}
		return nil
	}
	if v != current {
		return &StaleError{Current: current, Given: v}
	}
	return nil
}

// ifMatch parses If-Match: "3", W/"3" or 3. "*" matches any version.
func ifMatch(c echo.Context) (uint64, bool, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, false, nil
	}
	if h == "*" {
		return 0, false, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.ParseUint(h, 10, 64)
	if err != nil || v == 0 {
		return 0, false, badRequest("If-Match", `must be the resource's version as in its ETag, e.g. "3"`)
	}
	return v, true, nil
}

// requireIfMatchHeader answers 428 early, before the body is read, when a
// versioned write arrives without If-Match.
func requireIfMatchHeader(c echo.Context) error {
	if strings.TrimSpace(c.Request().Header.Get("If-Match")) == "" {
		return errPreconditionRequired
	}
	_, _, err := ifMatch(c)
	return err
}

func setETag(c echo.Context, version uint64) {
	c.Response().Header().Set("ETag", strconv.Quote(strconv.FormatUint(version, 10)))
}

// foldAt rebuilds the state of one aggregate as of a version, from the log,
// for answers about a version the live read model has already moved past.
func (s *Server) foldAt(ctx context.Context, w written) (*projections.State, error) {
	subject, err := events.AggregateSubject(w.Agg.Kind, w.Agg.ID, w.Agg.Unit, w.Agg.FiscalYear)
	if err != nil {
		return nil, err
	}
	st := projections.NewState()
	err = s.store.Read(ctx, events.ReadOptions{Filters: []string{subject}, UpTo: w.Sequence}, st.Apply)
	return st, err
}

// respond renders the aggregate as of the written version: from the live
// read model when it is still at that version, else folded from the log.
func (s *Server) respond(c echo.Context, status int, w written, render func(st *projections.State) (any, uint64)) error {
	var (
		out     any
		version uint64
	)
	s.model.Read(func(st *projections.State) {
		if st.Heads[projections.AggregateKey(w.Agg.Kind, w.Agg.ID)].Version == w.Version {
			out, version = render(st)
		}
	})
	if out == nil {
		st, err := s.foldAt(c.Request().Context(), w)
		if err != nil {
			return err
		}
		out, version = render(st)
	}
	setETag(c, version)
	if w.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.JSON(status, out)
}

func isConflict(err error) bool { return errors.Is(err, events.ErrVersionConflict) }

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

// Decide looks at the read model (under its read lock) and decides:
// the event to append and the aggregate it extends, or a domain error.
type Decide func(st *projections.State) (domain.Event, events.Aggregate, error)

// Command is one write as the executor takes it: who sends it and what the
// request's headers said, already parsed, with nothing of HTTP left in it.
// The HTTP handlers build one from a request (Server.command); the bench
// builds its own.
type Command struct {
	// Principal sends the command; it is the event's actor.
	Principal Principal
	// IdempotencyKey, when set, makes a repeat of the command answered from
	// the log instead of appended again. Empty: the command gets a fresh id.
	IdempotencyKey string
	// RequestHash is the request's fingerprint (method, route, target and
	// canonical body; see request.hash): a repeated key with another
	// body is refused (idempotency-key-reused).
	RequestHash string
	// LegacyRequestHash is the SHA-256 of the body bytes as received, which
	// events stored before canonical fingerprints carry, and Target the
	// resource the request addresses; together they let such a key keep
	// matching a byte-identical retry on the same target (TargetID is its
	// {id} path parameter, if any). Optional.
	LegacyRequestHash string
	Target            string
	TargetID          string
	// DryRun decides the command and appends nothing: Execute answers
	// with a *wouldAppend naming the event it would have appended (a
	// spreadsheet import's dry run).
	DryRun bool
	// CorrelationID groups the event with others of one piece of work;
	// empty (or longer than 128 characters) means the command's own id.
	CorrelationID string
	// OccurredAt is when the thing happened in the world, as the client
	// asserts it; zero when it does not.
	OccurredAt time.Time
	// IfMatch is the aggregate version the caller expects; 0 when it named
	// none (no If-Match, or "*"). The decide functions check it.
	IfMatch uint64
}

// Written is where a command's event landed.
type Written struct {
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

// Execute runs one command: idempotency check, decide on the read model,
// append with the expected version, re-decide on conflict, and return only
// once this node's read model includes the event (read-your-writes). It is
// the one command path: the HTTP handlers, and the bench, call it.
func (s *Server) Execute(ctx context.Context, cmd Command, decide Decide) (Written, error) {
	return s.ExecuteGuarded(ctx, cmd, nil, decide)
}

// ExecuteGuarded is Execute for a decision that reads beyond its own
// aggregate: guardOf names what it read, and the append is refused (and
// the command decided again on the new state) if that changed first.
func (s *Server) ExecuteGuarded(ctx context.Context, cmd Command, guardOf guardFunc, decide Decide) (Written, error) {
	p := cmd.Principal
	commandID, keyed, err := s.commandID(cmd.IdempotencyKey, p)
	if err != nil {
		return Written{}, err
	}
	if keyed {
		if w, ok, err := s.replay(commandID, cmd); ok || err != nil {
			return w, err
		}
	}
	correlation := cmd.CorrelationID
	if correlation == "" || len(correlation) > 128 {
		correlation = commandID
	}
	occurred := cmd.OccurredAt
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
			return Written{}, err
		}
		env, err := events.NewEnvelope(ev, agg)
		if err != nil {
			return Written{}, err
		}
		if cmd.DryRun {
			// A spreadsheet import's dry run: decided, not appended.
			return Written{}, &wouldAppend{Type: env.Type, Agg: agg, Version: env.AggregateVersion}
		}
		env.Actor = p.Actor()
		env.OccurredAt = occurred
		env.CommandID = commandID
		env.CorrelationID = correlation
		if keyed {
			env.RequestHash = cmd.RequestHash
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
				return Written{}, ctx.Err()
			case <-time.After(conflictPause(attempt)):
			}
			if err := s.catchUp(ctx); err != nil {
				return Written{}, err
			}
			if keyed {
				// The write that got there first may have been this very
				// command, sent twice at once: answer as a retry.
				if w, ok, err := s.replay(commandID, cmd); ok || err != nil {
					if err == nil {
						err = s.waitFor(ctx, w.Sequence)
					}
					return w, err
				}
			}
			continue
		}
		if err != nil {
			return Written{}, err
		}
		w := Written{Agg: agg, Version: env.AggregateVersion, Sequence: res.Sequence}
		if res.Duplicate {
			// The same command was stored before (a retry whose first
			// answer was lost): answer with the stored event.
			orig, err := s.store.Get(ctx, res.Sequence)
			if err != nil {
				return Written{}, err
			}
			if keyed && !cmd.matches(orig.RequestHash, orig.AggregateID) {
				return Written{}, errKeyReused
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

// dryRunKey marks a request context whose command is to be decided but
// not appended: an import's dry run runs each row through its route's
// handler with it, and the handler's Command carries it to Execute.
type dryRunKey struct{}

func withDryRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, dryRunKey{}, true)
}

func isDryRun(ctx context.Context) bool { v, _ := ctx.Value(dryRunKey{}).(bool); return v }

// wouldAppend is a dry run's answer: the event the command would append.
type wouldAppend struct {
	Type    string
	Agg     events.Aggregate
	Version uint64
}

func (w *wouldAppend) Error() string {
	return "dry run: would append " + w.Type + " to " + w.Agg.Kind + " " + w.Agg.ID
}

var errKeyReused = problem(http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key reused",
	"this Idempotency-Key was already used for a different request: another body, or another method, route or target")

// maxClockSkew is how far in the future a client's X-Occurred-At may be.
const maxClockSkew = 5 * time.Minute

// command parses a write request's headers into the Command that Execute
// takes: its principal, Idempotency-Key, X-Correlation-ID, X-Occurred-At and
// If-Match. req is the decoded body.
func (s *Server) command(c echo.Context, req request) (Command, error) {
	h := c.Request().Header
	occurred, err := s.occurredAt(c)
	if err != nil {
		return Command{}, err
	}
	ifm, _, err := ifMatch(c)
	if err != nil {
		return Command{}, err
	}
	return Command{Principal: principal(c), IdempotencyKey: h.Get("Idempotency-Key"), RequestHash: req.hash,
		LegacyRequestHash: req.raw, Target: req.target, TargetID: req.id, DryRun: isDryRun(c.Request().Context()),
		CorrelationID: h.Get("X-Correlation-ID"), OccurredAt: occurred, IfMatch: ifm}, nil
}

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
// Idempotency-Key when given, else fresh. A key belongs to its principal:
// two callers' keys never meet. Within a principal a key names one
// request — method, route, target and canonical body, which the request's
// fingerprint covers (see request.hash) — so the same key sent to another
// route or another indicator finds the first use's record and its
// different fingerprint, and is answered 422 rather than executed again or
// replayed. Keeping the id a function of principal and key alone is also
// what lets keys stored before fingerprints covered the route keep working.
func (s *Server) commandID(key string, p Principal) (string, bool, error) {
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

// matches reports whether a stored request fingerprint is this command's
// (request.matches).
func (cmd Command) matches(stored, storedAggregateID string) bool {
	return request{hash: cmd.RequestHash, raw: cmd.LegacyRequestHash, target: cmd.Target, id: cmd.TargetID}.matches(stored, storedAggregateID)
}

// replay answers a repeated Idempotency-Key from the log's record of it.
func (s *Server) replay(commandID string, cmd Command) (Written, bool, error) {
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
		return Written{}, false, nil
	}
	if _, id, _ := strings.Cut(ref.Aggregate, "/"); !cmd.matches(ref.RequestHash, id) {
		return Written{}, true, errKeyReused
	}
	return Written{Agg: agg, Version: ref.Version, Sequence: ref.Sequence, Replayed: true}, true, nil
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

// checkIfMatch compares a command's If-Match version (0: none) with the
// aggregate's current one. required: a missing one is 428; otherwise it is
// not checked.
func checkIfMatch(v, current uint64, required bool) error {
	if v == 0 {
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
func (s *Server) foldAt(ctx context.Context, w Written) (*projections.State, error) {
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
func (s *Server) respond(c echo.Context, status int, w Written, render func(st *projections.State) (any, uint64)) error {
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

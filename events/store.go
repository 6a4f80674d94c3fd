package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStream is the one stream that holds every event.
const DefaultStream = "KPILEDGER"

// ErrVersionConflict means the aggregate gained an event since it was read:
// the append was refused and nothing was written.
var ErrVersionConflict = errors.New("version conflict: the aggregate changed since it was read")

// ErrUnavailable means the log could not take or confirm the append (no
// quorum, no responders, a timeout). Retrying with the same command id is
// safe: JetStream de-duplicates on it.
var ErrUnavailable = errors.New("event log unavailable")

// ErrLogUnreachable means a read could not reach the log (no replica
// answered, a timeout). It is an ErrUnavailable; nothing was written.
var ErrLogUnreachable = fmt.Errorf("%w for reading", ErrUnavailable)

// ErrCommandInProcess means JetStream was still storing another append
// with the same command id (two identical requests at once) after the
// store had waited for it: neither the first's outcome nor this one's is
// known yet. Retrying with the same command id is safe.
var ErrCommandInProcess = errors.New("an append with the same command id is still in process")

// Config shapes the stream.
type Config struct {
	Stream   string // default DefaultStream
	Replicas int    // 1 embedded, 3 on a cluster
	// Duplicates is JetStream's de-duplication window for command ids.
	Duplicates time.Duration
}

// Store is the event log on a JetStream stream: append with an expected
// aggregate version, read by subject filter, subscribe from a sequence.
type Store struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	name    string
	now     func() time.Time
	metrics *Metrics
	guard   logGuard // which stream was opened; see identity.go
}

// Option adjusts a Store.
type Option func(*Store)

// WithClock injects the clock that stamps recorded_at (tests fix it).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithMetrics makes the store count appends into m.
func WithMetrics(m *Metrics) Option { return func(s *Store) { s.metrics = m } }

// StreamConfig is the stream every kpiledger node expects: nothing can be
// deleted or purged, no limit ever evicts an event (and if one were set,
// new events would be refused rather than old ones dropped).
func StreamConfig(c Config) jetstream.StreamConfig {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Duplicates == 0 {
		c.Duplicates = 10 * time.Minute
	}
	return jetstream.StreamConfig{
		Name:              c.Stream,
		Description:       "kpiledger: every event of the evaluation cycle, immutable",
		Subjects:          []string{AllSubjects},
		Retention:         jetstream.LimitsPolicy,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxAge:            0,
		MaxMsgsPerSubject: -1,
		MaxMsgSize:        1 << 20,
		Discard:           jetstream.DiscardNew,
		Storage:           jetstream.FileStorage,
		Replicas:          c.Replicas,
		Duplicates:        c.Duplicates,
		DenyDelete:        true,
		DenyPurge:         true,
		AllowDirect:       true,
	}
}

// Open opens the stream, or creates it when it does not exist and no
// option says the ledger already holds events (see ExpectIdentity and
// ExpectHistory), and returns the store. An existing stream is checked,
// never updated.
func Open(ctx context.Context, js jetstream.JetStream, c Config, opts ...Option) (*Store, error) {
	want := StreamConfig(c)
	s := &Store{js: js, name: want.Name, now: time.Now, metrics: &Metrics{}}
	for _, o := range opts {
		o(s)
	}
	stream, err := s.openStream(ctx, want)
	if err != nil {
		return nil, err
	}
	s.stream = stream
	return s, nil
}

// OpenExisting opens the stream as it is, without creating or updating
// it (which writes its metadata): for a node whose disk is full, which can
// still serve what the log holds.
func OpenExisting(ctx context.Context, js jetstream.JetStream, c Config, opts ...Option) (*Store, error) {
	want := StreamConfig(c)
	stream, err := js.Stream(ctx, want.Name)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", want.Name, err)
	}
	info, err := checkedInfo(ctx, stream, want.Name)
	if err != nil {
		return nil, err
	}
	s := &Store{js: js, stream: stream, name: want.Name, now: time.Now, metrics: &Metrics{}}
	for _, o := range opts {
		o(s)
	}
	// The same identity check as Open's: a read-only node must not serve a
	// stream that replaced the one it recorded, nor later take its own
	// stream for a replaced one.
	if err := s.guard.sameStream(want.Name, info); err != nil {
		return nil, err
	}
	s.guard.identity = Identity{Stream: want.Name, Created: info.Created.UTC()}
	return s, nil
}

// checkedInfo asks for the stream's info and checks its settings, as
// Open and OpenExisting both do before they use a stream.
func checkedInfo(ctx context.Context, stream jetstream.Stream, name string) (*jetstream.StreamInfo, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s info: %w", name, err)
	}
	if err := checkStream(info.Config); err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	return info, nil
}

// checkStream refuses a stream that could lose events.
func checkStream(c jetstream.StreamConfig) error {
	switch {
	case !c.DenyDelete || !c.DenyPurge:
		return errors.New("deletes and purges must be denied")
	case c.MaxAge != 0 || c.MaxBytes > 0 || c.MaxMsgs > 0 || c.MaxMsgsPerSubject > 0:
		return errors.New("the stream has an age, size or count limit that would evict events")
	case c.Retention != jetstream.LimitsPolicy:
		return errors.New("retention must be the limits policy (no limits set)")
	case c.AllowRollup:
		// A rollup header would purge the events before it.
		return errors.New("rollups must not be allowed")
	}
	return nil
}

// Name is the stream's name.
func (s *Store) Name() string { return s.name }

// Metrics returns the store's counters.
func (s *Store) Metrics() *Metrics { return s.metrics }

// Appended is the outcome of an append.
type Appended struct {
	Sequence uint64
	// Duplicate is true when JetStream recognised the command id and kept
	// the event it already had (at Sequence) instead of this one.
	Duplicate bool
}

// Append writes one event if its aggregate's last event is still at stream
// sequence expectedLast (0: the aggregate has no event yet). It stamps the
// event's id (when empty), recorded_at and hash; the caller sets PrevHash
// and AggregateVersion from the state it decided on.
func (s *Store) Append(ctx context.Context, e *Envelope, expectedLast uint64) (Appended, error) {
	start := time.Now()
	res, err := s.append(ctx, e, expectedLast)
	s.metrics.observeAppend(time.Since(start), res, err)
	return res, err
}

// AppendAfter appends only if the stream's last sequence is still
// streamLast, so the event lands at streamLast+1: a checkpoint appended so
// covers exactly the events before it. A moved stream is a version conflict.
func (s *Store) AppendAfter(ctx context.Context, e *Envelope, expectedLast, streamLast uint64) (Appended, error) {
	start := time.Now()
	res, err := s.append(ctx, e, expectedLast, jetstream.WithExpectLastSequence(streamLast))
	s.metrics.observeAppend(time.Since(start), res, err)
	return res, err
}

// Guard is a condition on events beyond the appended event's aggregate:
// the last event on the subjects matching Filter (a subject filter that
// also matches the aggregate's own subject) must still be at stream
// sequence Last, 0 meaning none yet. It is how a decision that read other
// aggregates (a unit-year's indicators, say) is refused when one of them
// changed before the append: JetStream checks it atomically with the write
// (Nats-Expected-Last-Subject-Sequence with its -Subject header).
type Guard struct {
	Filter string
	Last   uint64
}

// AppendGuarded is Append with a guard over the aggregates the decision
// read. It replaces the aggregate's own version check, which it covers:
// the filter matches the aggregate's subject, so an event there moves the
// filter's last sequence too. A moved guard is a version conflict.
func (s *Store) AppendGuarded(ctx context.Context, e *Envelope, expectedLast uint64, g Guard) (Appended, error) {
	subject, err := e.Subject()
	if err != nil {
		return Appended{}, err
	}
	if !MatchesAny(subject, []string{g.Filter}) {
		return Appended{}, fmt.Errorf("guard %q does not cover the aggregate's subject %s", g.Filter, subject)
	}
	if g.Last < expectedLast {
		return Appended{}, fmt.Errorf("guard %q at sequence %d is before the aggregate's last event at %d", g.Filter, g.Last, expectedLast)
	}
	start := time.Now()
	res, err := s.append(ctx, e, expectedLast, jetstream.WithExpectLastSequenceForSubject(g.Last, g.Filter))
	s.metrics.observeAppend(time.Since(start), res, err)
	return res, err
}

// inProcessWait bounds how long an append waits for another append of the
// same command id that JetStream is still storing.
const inProcessWait = 3 * time.Second

func (s *Store) append(ctx context.Context, e *Envelope, expectedLast uint64, extra ...jetstream.PublishOpt) (Appended, error) {
	subject, data, err := e.SealAt(s.now())
	if err != nil {
		return Appended{}, err
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	// De-duplication is keyed by command: a retried command is stored once.
	msg.Header.Set(jetstream.MsgIDHeader, e.CommandID)
	// A guard (WithExpectLastSequenceForSubject in extra) sets the same
	// option over a wider subject, and so replaces the aggregate's check.
	opts := append([]jetstream.PublishOpt{jetstream.WithExpectStream(s.name),
		jetstream.WithExpectLastSequencePerSubject(expectedLast)}, extra...)
	ack, err := s.js.PublishMsg(ctx, msg, opts...)
	// The same command id sent twice at once (a client repeating a request
	// before the first had its answer): on a replicated stream JetStream
	// refuses the second with 10158 while the first is being stored. Wait
	// for the first to land, then publish again: the answer is then the
	// first one's (a duplicate, or a conflict resolved below), or, if the
	// first failed, this one is stored.
	for wait, waited := 10*time.Millisecond, time.Duration(0); isInProcess(err) && waited < inProcessWait; wait = min(2*wait, 500*time.Millisecond) {
		select {
		case <-ctx.Done():
			return Appended{}, fmt.Errorf("%w: %v", ErrCommandInProcess, ctx.Err())
		case <-time.After(wait):
		}
		waited += wait
		ack, err = s.js.PublishMsg(ctx, msg, opts...)
	}
	if err != nil {
		err = classify(err)
		if errors.Is(err, ErrVersionConflict) {
			// nats-server checks the expected subject sequence before the
			// message id, so a retry decided on the version it already
			// advanced comes back as a conflict. It is a duplicate if the
			// command's event is among the aggregate's later events.
			if dup, found, ferr := s.findCommand(ctx, subject, expectedLast, e.CommandID); ferr == nil && found {
				return dup, nil
			}
		}
		return Appended{}, err
	}
	e.Sequence = ack.Sequence
	return Appended{Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// findCommand looks for an event with the command id among the subject's
// events after sequence `after`.
func (s *Store) findCommand(ctx context.Context, subject string, after uint64, commandID string) (Appended, bool, error) {
	var res Appended
	found := false
	err := s.Read(ctx, ReadOptions{Filters: []string{subject}, After: after}, func(e *Envelope) error {
		if e.CommandID == commandID {
			res, found = Appended{Sequence: e.Sequence, Duplicate: true}, true
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return res, found, err
}

// errStop ends a Read early from inside its callback.
var errStop = errors.New("stop")

// jsErrCodeDuplicateInProcess is nats-server's 10158, "duplicate message
// id is in process" (nats.go names no constant for it).
const jsErrCodeDuplicateInProcess jetstream.ErrorCode = 10158

func isInProcess(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsErrCodeDuplicateInProcess
}

// classify maps JetStream's answers onto the store's errors.
func classify(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsErrCodeDuplicateInProcess:
			return fmt.Errorf("%w (%s)", ErrCommandInProcess, apiErr.Description)
		// 10071 is "wrong last sequence"; a replicated stream often answers
		// 10164 for the same compare-and-set failure. Both are conflicts.
		case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
			return fmt.Errorf("%w (%s)", ErrVersionConflict, apiErr.Description)
		}
		if apiErr.Code == 503 {
			return fmt.Errorf("%w: %s", ErrUnavailable, apiErr.Description)
		}
		return fmt.Errorf("append: %w", err)
	}
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return fmt.Errorf("append: %w", err)
}

// classifyRead maps a failed read onto ErrLogUnreachable.
func classifyRead(err error) error {
	if err == nil || errors.Is(err, ErrLogUnreachable) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	// Both stay visible to errors.Is: a read that found no message (10037)
	// is still that, for the callers that ask.
	return fmt.Errorf("%w: %w", ErrLogUnreachable, err)
}

// DecodeMessage turns a stored message into an envelope with its sequence.
func DecodeMessage(data []byte, seq uint64) (*Envelope, error) {
	return decodeMessage(data, seq, false)
}

// decodeOwned is DecodeMessage for a message buffer nobody else holds (a
// message nats.go delivered): the payload keeps pointing into it instead
// of being copied, one allocation and copy less per event read.
func decodeOwned(data []byte, seq uint64) (*Envelope, error) {
	return decodeMessage(data, seq, true)
}

func decodeMessage(data []byte, seq uint64, owned bool) (*Envelope, error) {
	var e Envelope
	if !decodeEnvelope(data, &e, owned) {
		e = Envelope{}
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("event at sequence %d: %w", seq, err)
		}
	}
	e.Sequence = seq
	return &e, nil
}

// LastSequence is the stream's last sequence now.
func (s *Store) LastSequence(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, classifyRead(err)
	}
	return info.State.LastSeq, nil
}

// Get reads the event at a stream sequence.
func (s *Store) Get(ctx context.Context, seq uint64) (*Envelope, error) {
	m, err := s.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) || errors.Is(err, nats.ErrNoResponders) {
		// A direct get is answered by whichever current replica is
		// nearest, and a follower that has not applied the latest events
		// says "not found" for a sequence the leader has just
		// acknowledged (a duplicate's, answered to a retry on another
		// node); right after a stream is created or its nodes restart, no
		// replica may be answering direct gets yet. The stream's leader is
		// the authority on what the log holds: ask it before saying the
		// event is not there.
		data, lerr := s.leaderGet(ctx, seq)
		if lerr != nil {
			return nil, classifyRead(lerr)
		}
		return DecodeMessage(data, seq)
	}
	if err != nil {
		return nil, classifyRead(err)
	}
	return DecodeMessage(m.Data, m.Sequence)
}

// leaderGet reads the event at seq through the stream's leader
// (STREAM.MSG.GET, not a direct get). jetstream.ErrMsgNotFound when the
// log does not hold it.
func (s *Store) leaderGet(ctx context.Context, seq uint64) ([]byte, error) {
	req, err := json.Marshal(struct {
		Seq uint64 `json:"seq"`
	}{seq})
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	msg, err := s.js.Conn().RequestWithContext(ctx, s.apiPrefix()+"STREAM.MSG.GET."+s.name, req)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Message *struct {
			Data []byte `json:"data"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, fmt.Errorf("the stream leader's answer for sequence %d: %w", seq, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == int(jetstream.JSErrCodeMessageNotFound):
		return nil, jetstream.ErrMsgNotFound
	case resp.Error != nil:
		return nil, &jetstream.APIError{Code: resp.Error.Code, ErrorCode: jetstream.ErrorCode(resp.Error.ErrCode), Description: resp.Error.Description}
	case resp.Message == nil:
		return nil, fmt.Errorf("the stream leader sent no message for sequence %d", seq)
	}
	return resp.Message.Data, nil
}

// LastOf returns the last event of an aggregate's subject, or nil when the
// subject holds none.
func (s *Store) LastOf(ctx context.Context, subject string) (*Envelope, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, classifyRead(err)
	}
	return DecodeMessage(m.Data, m.Sequence)
}

// ReadOptions selects events to read.
type ReadOptions struct {
	Filters []string  // subject filters; none means the whole stream
	After   uint64    // only sequences after this one
	UpTo    uint64    // only sequences up to this one (0: up to the end now)
	Until   time.Time // only events recorded at or before this instant (zero: any)
	Limit   int       // stop after this many events (0: no limit)
}

// readBatch is how many events one batched direct get asks for.
const readBatch = 1000

// Read calls fn for each selected event in stream order. It reads what the
// stream holds when it is called (up to o.UpTo, or the stream's last
// sequence then) and returns; it never waits for more.
//
// Reads use JetStream's batched direct get: a request on the stream's
// DIRECT.GET subject, answered by a replica's stream itself, with no
// consumer. Reads were once made with an ordered consumer, which on a
// cluster failed about one read in ten with "no responders": each Fetch of
// an ordered consumer deletes its consumer and creates a new one (nats.go
// resets it per fetch), the new R1 consumer may be placed on another node,
// and the pull request sent as soon as the create is answered can reach
// the client's server before the consumer's subscription interest has
// crossed the route, so the server answers that nobody listens. Every
// replica of the stream subscribes to direct gets while it is current, and
// a request is answered by the replica on the client's own server when
// there is one, so a direct get has nothing to race and needs only one
// live replica.
func (s *Store) Read(ctx context.Context, o ReadOptions, fn func(*Envelope) error) error {
	upTo := o.UpTo
	if upTo == 0 {
		last, err := s.LastSequence(ctx)
		if err != nil {
			return err
		}
		upTo = last
	}
	if upTo <= o.After {
		return nil
	}
	filters := o.Filters
	if len(filters) == 0 {
		filters = []string{AllSubjects}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readTimeout)
		defer cancel()
	}
	cursors := make([]*readCursor, len(filters))
	held := false // a replica was seen to hold upTo
	for i, f := range filters {
		cursors[i] = &readCursor{s: s, filter: f, next: o.After + 1, upTo: upTo, held: &held}
	}
	// Merge the filters' cursors by sequence; filters that overlap give an
	// event once.
	var delivered uint64
	n := 0
	for {
		var head *readCursor
		for _, c := range cursors {
			if err := c.fill(ctx); err != nil {
				return err
			}
			if len(c.buf) > 0 && (head == nil || c.buf[0].Sequence < head.buf[0].Sequence) {
				head = c
			}
		}
		if head == nil {
			return nil
		}
		e := head.buf[0]
		head.buf = head.buf[1:]
		if e.Sequence <= delivered {
			continue
		}
		delivered = e.Sequence
		if !o.Until.IsZero() && e.RecordedAt.After(o.Until) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
		n++
		if o.Limit > 0 && n >= o.Limit {
			return nil
		}
	}
}

// readTimeout bounds a read whose context has no deadline.
const readTimeout = 30 * time.Second

// readCursor walks one subject filter's events from next to upTo in
// batched direct gets.
type readCursor struct {
	s      *Store
	filter string
	next   uint64 // first sequence not yet asked for
	upTo   uint64
	buf    []*Envelope
	done   bool
	held   *bool // shared by a read's cursors: a replica holds upTo
}

// fill fetches the cursor's next batch when its buffer is empty.
func (c *readCursor) fill(ctx context.Context) error {
	for len(c.buf) == 0 && !c.done {
		got, more, err := c.s.directRange(ctx, c.filter, c.next, readBatch)
		if err != nil {
			return err
		}
		for _, e := range got {
			if e.Sequence > c.upTo {
				c.done = true
				break
			}
			c.buf = append(c.buf, e)
			c.next = e.Sequence + 1
		}
		if c.done || c.next > c.upTo {
			c.done = true
			return nil
		}
		if more {
			continue
		}
		// The replica that answered holds nothing more on the filter. That
		// is the end only if it holds the stream up to upTo: a follower
		// that has not applied the last events would otherwise cut the
		// read short. Its store is append-only and in order, so holding
		// upTo means holding every event before it.
		if !*c.held {
			held, err := c.s.replicaHolds(ctx, c.upTo)
			if err != nil {
				return err
			}
			*c.held = held
		}
		if *c.held {
			c.done = true
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no replica held sequence %d: %w", ErrLogUnreachable, c.upTo, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// replicaHolds asks a replica (the one that answers direct gets for this
// connection) whether it holds sequence seq.
func (s *Store) replicaHolds(ctx context.Context, seq uint64) (bool, error) {
	_, err := s.stream.GetMsg(ctx, seq)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return false, nil
	}
	return false, classifyRead(err)
}

// directRange asks for up to batch events on filter from sequence from
// on, in one batched direct get. more reports that the replica holds
// further events on the filter than it sent.
func (s *Store) directRange(ctx context.Context, filter string, from uint64, batch int) (out []*Envelope, more bool, err error) {
	r := directGetRequest{Seq: from, NextFor: filter, Batch: batch}
	if filter == AllSubjects {
		// Every subject of the stream: asking by sequence alone lets the
		// server walk its blocks without matching each subject against a
		// filter (with one subject per aggregate, that matching made a
		// whole-log read several times slower). And since nothing is ever
		// deleted, the stream's sequences have no gaps, so the events can
		// come without their headers, which the server otherwise rebuilds
		// for every event: they are numbered from `from` on, and the
		// end-of-batch status's last sequence confirms the numbering.
		r.NextFor, r.NoHeaders = "", true
	}
	out, more, last, err := s.directBatchGet(ctx, r)
	if err != nil || !r.NoHeaders {
		return out, more, err
	}
	if len(out) > 0 && last != from+uint64(len(out))-1 {
		// A gap after all (a stream restored from elsewhere): ask again
		// with each event's own sequence.
		r.NextFor, r.NoHeaders = AllSubjects, false
		out, more, _, err = s.directBatchGet(ctx, r)
	}
	return out, more, err
}

// directBatchGet sends one batched direct get and collects its answer: the
// events, whether the replica holds more, and the last sequence it sent.
// Without headers, events are numbered from r.Seq on.
func (s *Store) directBatchGet(ctx context.Context, r directGetRequest) (out []*Envelope, more bool, last uint64, err error) {
	var noReplicaSince time.Time
	for {
		out, more, last, err = s.directBatchGetOnce(ctx, r)
		switch {
		case errors.Is(err, errDirectGetSilent):
			// A request can be lost: sent to a replica on a node that
			// was just stopped, or while the client's connection moved
			// to another node. It is only a read: ask again, until the
			// read's own deadline.
		case errors.Is(err, nats.ErrNoResponders):
			// No replica answers direct gets for the moment: a replica
			// answers only while it is current, and while a stopped
			// node's stream leadership moves, none may be. Wait as long
			// as an election takes, not longer: a stream that does not
			// answer direct gets at all is an error to report.
			if noReplicaSince.IsZero() {
				// Unless the stream does not allow direct gets at all.
				ictx, cancel := context.WithTimeout(ctx, time.Second)
				info, ierr := s.stream.Info(ictx)
				cancel()
				if ierr == nil && !info.Config.AllowDirect {
					return nil, false, 0, err
				}
				noReplicaSince = time.Now()
			} else if time.Since(noReplicaSince) > noReplicaWait {
				return nil, false, 0, err
			}
			select {
			case <-ctx.Done():
				return nil, false, 0, err
			case <-time.After(100 * time.Millisecond):
			}
		default:
			return out, more, last, err
		}
	}
}

// noReplicaWait is how long a direct get that no replica answers is
// asked again: about what a stream leader election takes.
const noReplicaWait = 5 * time.Second

// directGetSilence is how long a batched direct get waits for its next
// message before asking again. Messages of an answer come back to back;
// seconds of silence mean nobody is answering.
const directGetSilence = 5 * time.Second

// errDirectGetSilent: no message of the answer came for directGetSilence.
var errDirectGetSilent = errors.New("no answer to a direct get")

func (s *Store) directBatchGetOnce(ctx context.Context, r directGetRequest) (out []*Envelope, more bool, last uint64, err error) {
	nc := s.js.Conn()
	inbox := nc.NewRespInbox()
	// The events, the end-of-batch status, and room for one stray.
	ch := make(chan *nats.Msg, r.Batch+2)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, false, 0, classifyRead(err)
	}
	defer sub.Unsubscribe()
	req, err := json.Marshal(r)
	if err != nil {
		return nil, false, 0, err
	}
	if err := nc.PublishRequest(s.apiPrefix()+"DIRECT.GET."+s.name, inbox, req); err != nil {
		return nil, false, 0, classifyRead(err)
	}
	what := r.NextFor
	if what == "" {
		what = "the stream"
	}
	out = make([]*Envelope, 0, min(r.Batch, 64))
	silence := time.NewTimer(directGetSilence)
	defer silence.Stop()
	for {
		var m *nats.Msg
		select {
		case m = <-ch:
			silence.Reset(directGetSilence)
		case <-silence.C:
			return nil, false, 0, errDirectGetSilent
		case <-ctx.Done():
			return nil, false, 0, fmt.Errorf("%w: direct get of %s from %d: %w", ErrLogUnreachable, what, r.Seq, ctx.Err())
		}
		if status := m.Header.Get("Status"); status != "" && len(m.Data) == 0 {
			switch status {
			case "204": // end of batch
				np, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				last, _ = strconv.ParseUint(m.Header.Get(jetstream.LastSequenceHeader), 10, 64)
				return out, np > 0, last, nil
			case "404": // nothing at or after r.Seq
				return out, false, 0, nil
			case "503":
				return nil, false, 0, fmt.Errorf("%w: direct get of %s: %w", ErrLogUnreachable, what, nats.ErrNoResponders)
			}
			return nil, false, 0, fmt.Errorf("%w: direct get of %s from %d: status %s %s", ErrLogUnreachable, what, r.Seq, status, m.Header.Get("Description"))
		}
		seq := r.Seq + uint64(len(out))
		if !r.NoHeaders {
			if seq, err = strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64); err != nil {
				return nil, false, 0, fmt.Errorf("direct get of %s: no sequence: %w", what, err)
			}
		}
		e, err := decodeOwned(m.Data, seq)
		if err != nil {
			return nil, false, 0, err
		}
		out = append(out, e)
	}
}

// directGetRequest is JetStream's direct get request, batched: the events
// on NextFor (a filter, wildcards allowed) from Seq on.
type directGetRequest struct {
	Seq     uint64 `json:"seq"`
	NextFor string `json:"next_by_subj,omitempty"`
	Batch   int    `json:"batch"`
	// NoHeaders leaves out each event's headers (its sequence among them).
	NoHeaders bool `json:"no_hdr,omitempty"`
}

// Load reads every event of one aggregate subject, in order.
func (s *Store) Load(ctx context.Context, subject string) ([]*Envelope, error) {
	var out []*Envelope
	err := s.Read(ctx, ReadOptions{Filters: []string{subject}}, func(e *Envelope) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Subscription delivers events as they are appended.
type Subscription struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc

	// Catching up: the events up to the stream's last sequence are read
	// with direct gets, target being that last sequence.
	next, target uint64
	buf          []*Envelope

	mu   sync.Mutex
	iter jetstream.MessagesContext // the live tail, once caught up
}

// Subscribe delivers every event after sequence `after`, in order, first
// the ones already stored and then new ones as they arrive. Next blocks.
//
// The stored events are read with batched direct gets, as Read does; only
// the live tail uses a consumer. A consumer created at once used to
// deliver a restarted node's backlog too, and in some restarts its first
// pull request met the race Read describes ("no responders": the new
// consumer's interest had not reached this server yet): nats.go then
// waits for two missed heartbeats, 2 × 5 s, before it creates the consumer
// again, so the node applied nothing for about 10 s after loading its
// snapshot. Now the backlog needs no consumer, and the tail's heartbeat is
// tailHeartbeat, which bounds that wait for a live event to about 2 s.
func (s *Store) Subscribe(ctx context.Context, after uint64) (*Subscription, error) {
	target, err := s.LastSequence(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Subscription{s: s, ctx: ctx, cancel: cancel, next: after + 1, target: target}, nil
}

// tailHeartbeat is how often the server tells a live subscription it is
// still there; two missed ones make nats.go recreate the consumer.
const tailHeartbeat = time.Second

// Next returns the next event and how many more the stream held when it
// was delivered (0 means the subscriber has caught up).
func (sub *Subscription) Next() (*Envelope, uint64, error) {
	for {
		sub.mu.Lock()
		it := sub.iter
		sub.mu.Unlock()
		if it != nil {
			return sub.nextLive(it)
		}
		if len(sub.buf) > 0 {
			e := sub.buf[0]
			sub.buf = sub.buf[1:]
			sub.next = e.Sequence + 1
			return e, sub.target - min(sub.target, e.Sequence), nil
		}
		if err := sub.catchUp(); err != nil {
			if sub.ctx.Err() != nil {
				return nil, 0, sub.ctx.Err()
			}
			// The log is unreachable for now (a node restarting, no
			// replica current yet): a subscription outlives that, as
			// the consumer it replaces did.
			select {
			case <-sub.ctx.Done():
				return nil, 0, sub.ctx.Err()
			case <-time.After(catchUpRetry):
			}
		}
	}
}

// catchUpRetry is the pause before a failed catch-up read is tried again.
const catchUpRetry = 200 * time.Millisecond

// catchUp reads the next batch of stored events, or starts the live tail
// once everything up to the stream's last sequence was delivered.
func (sub *Subscription) catchUp() error {
	if err := sub.ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(sub.ctx, 10*time.Second)
	defer cancel()
	if sub.next > sub.target {
		// Caught up with where the stream stood: look again, it may
		// have grown meanwhile.
		last, err := sub.s.LastSequence(ctx)
		if err != nil {
			return err
		}
		if last >= sub.next {
			sub.target = last
		} else {
			return sub.startLive()
		}
	}
	got, _, err := sub.s.directRange(ctx, AllSubjects, sub.next, readBatch)
	if err != nil {
		return err
	}
	if len(got) == 0 {
		// This node's replica has not stored what the leader reported
		// yet: give it a moment.
		select {
		case <-sub.ctx.Done():
			return sub.ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	sub.buf = got
	return nil
}

// startLive subscribes to the events after the last one delivered.
func (sub *Subscription) startLive() error {
	cons, err := sub.s.stream.OrderedConsumer(sub.ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: sub.next})
	if err != nil {
		return classifyRead(err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(readBatch),
		jetstream.PullHeartbeat(tailHeartbeat), jetstream.PullExpiry(10*tailHeartbeat))
	if err != nil {
		return classifyRead(err)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ctx.Err() != nil {
		it.Stop()
		return sub.ctx.Err()
	}
	sub.iter = it
	return nil
}

func (sub *Subscription) nextLive(it jetstream.MessagesContext) (*Envelope, uint64, error) {
	msg, err := it.Next()
	if err != nil {
		return nil, 0, err
	}
	md, err := msg.Metadata()
	if err != nil {
		return nil, 0, err
	}
	e, err := decodeOwned(msg.Data(), md.Sequence.Stream)
	return e, md.NumPending, err
}

// Stop ends the subscription; a blocked Next returns an error.
func (sub *Subscription) Stop() {
	sub.cancel()
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.iter != nil {
		sub.iter.Stop()
	}
}

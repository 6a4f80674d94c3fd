package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s info: %w", want.Name, err)
	}
	if err := checkStream(info.Config); err != nil {
		return nil, fmt.Errorf("stream %s: %w", want.Name, err)
	}
	s := &Store{js: js, stream: stream, name: want.Name, now: time.Now, metrics: &Metrics{}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
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

func (s *Store) append(ctx context.Context, e *Envelope, expectedLast uint64, extra ...jetstream.PublishOpt) (Appended, error) {
	subject, data, err := e.SealAt(s.now())
	if err != nil {
		return Appended{}, err
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	// De-duplication is keyed by command: a retried command is stored once.
	msg.Header.Set(jetstream.MsgIDHeader, e.CommandID)
	opts := append([]jetstream.PublishOpt{jetstream.WithExpectStream(s.name),
		jetstream.WithExpectLastSequencePerSubject(expectedLast)}, extra...)
	ack, err := s.js.PublishMsg(ctx, msg, opts...)
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

// classify maps JetStream's answers onto the store's errors.
func classify(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
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
		return 0, classify(err)
	}
	return info.State.LastSeq, nil
}

// Get reads the event at a stream sequence.
func (s *Store) Get(ctx context.Context, seq uint64) (*Envelope, error) {
	m, err := s.stream.GetMsg(ctx, seq)
	if err != nil {
		return nil, err
	}
	return DecodeMessage(m.Data, m.Sequence)
}

// LastOf returns the last event of an aggregate's subject, or nil when the
// subject holds none.
func (s *Store) LastOf(ctx context.Context, subject string) (*Envelope, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
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

// readBatch is how many messages one fetch asks for.
const readBatch = 1000

// Read calls fn for each selected event in stream order. It reads what the
// stream holds when it is called and returns; it never waits for more.
func (s *Store) Read(ctx context.Context, o ReadOptions, fn func(*Envelope) error) error {
	// A short inactivity threshold is the safety net; the consumer is
	// deleted as soon as the read ends, so that reads never pile up
	// consumers toward the server's limit.
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: o.Filters, DeliverPolicy: jetstream.DeliverAllPolicy,
		InactiveThreshold: readConsumerIdle}
	if o.After > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = o.After + 1
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return classify(err)
	}
	defer s.dropConsumer(cons)
	n := 0
	for {
		batch, err := cons.FetchNoWait(readBatch)
		if err != nil {
			return classify(err)
		}
		got, last := 0, false
		for msg := range batch.Messages() {
			got++
			md, err := msg.Metadata()
			if err != nil {
				return err
			}
			seq := md.Sequence.Stream
			if o.UpTo > 0 && seq > o.UpTo {
				last = true
				continue
			}
			e, err := decodeOwned(msg.Data(), seq)
			if err != nil {
				return err
			}
			if !o.Until.IsZero() && e.RecordedAt.After(o.Until) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
			n++
			if o.Limit > 0 && n >= o.Limit {
				return nil // the rest of this batch is not delivered
			}
			if md.NumPending == 0 {
				last = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return classify(err)
		}
		if last || got == 0 || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// readConsumerIdle is how long the server keeps a read's consumer that
// was not deleted (its client vanished mid-read).
const readConsumerIdle = 30 * time.Second

// dropConsumer deletes a finished read's ephemeral consumer, in the
// background: the reader has its answer and need not wait for the delete.
func (s *Store) dropConsumer(c jetstream.Consumer) {
	info := c.CachedInfo()
	if info == nil {
		return // never created on the server
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.stream.DeleteConsumer(ctx, info.Name)
	}()
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
	iter jetstream.MessagesContext
}

// Subscribe delivers every event after sequence `after`, in order, first
// the ones already stored and then new ones as they arrive. Next blocks.
func (s *Store) Subscribe(ctx context.Context, after uint64) (*Subscription, error) {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if after > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = after + 1
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, classify(err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(readBatch))
	if err != nil {
		return nil, classify(err)
	}
	return &Subscription{iter: it}, nil
}

// Next returns the next event and how many more the stream held when it
// was delivered (0 means the subscriber has caught up).
func (sub *Subscription) Next() (*Envelope, uint64, error) {
	msg, err := sub.iter.Next()
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
func (sub *Subscription) Stop() { sub.iter.Stop() }

package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// Model is the live read model of one node: the fold of the log, kept
// current by a subscription, safe for concurrent readers.
type Model struct {
	mu sync.RWMutex
	st *State

	applied atomic.Uint64
	ready   atomic.Bool
	failure atomic.Pointer[ApplyError]

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced when an event is applied while watched
	// watched is set by a waiter that took the notify channel; an applied
	// event closes and replaces the channel only then, so a rebuild with
	// nobody waiting does not allocate a channel per event.
	watched atomic.Bool
}

// NewModel starts from an empty state.
func NewModel() *Model { return NewModelFrom(NewState()) }

// NewModelFrom starts from a given state (a snapshot).
func NewModelFrom(st *State) *Model {
	m := &Model{st: st, notify: make(chan struct{})}
	m.applied.Store(st.Sequence)
	return m
}

// Read runs fn with the state under a read lock; fn must not keep
// references to the state after it returns.
func (m *Model) Read(fn func(*State)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fn(m.st)
}

// Apply folds one event. An event that cannot be applied stops the model:
// it reports unhealthy with the sequence instead of skipping the event.
func (m *Model) Apply(e *events.Envelope) error {
	if f := m.failure.Load(); f != nil {
		return f
	}
	m.mu.Lock()
	err := m.st.Apply(e)
	m.mu.Unlock()
	if err != nil {
		var ae *ApplyError
		if !errors.As(err, &ae) {
			ae = &ApplyError{Sequence: e.Sequence, EventID: e.ID, Err: err}
		}
		m.failure.Store(ae)
		m.wake()
		return ae
	}
	m.applied.Store(e.Sequence)
	m.wake()
	return nil
}

// decoded is an event read from the log with its payload decoded ahead of
// the fold, and how many more the stream held when it was delivered.
type decoded struct {
	e       *events.Envelope
	ev      domain.Event
	err     error
	pending uint64
}

// applyBatch folds events in order under one write lock and one wake-up,
// and stops at the first it cannot apply, as Apply does; it returns how
// many it applied.
func (m *Model) applyBatch(items []decoded) (int, error) {
	if f := m.failure.Load(); f != nil {
		return 0, f
	}
	var (
		n    int
		last uint64
		err  error
	)
	m.mu.Lock()
	for _, it := range items {
		if err = m.st.apply(it.e, it.ev, it.err); err != nil {
			break
		}
		last = it.e.Sequence
		n++
	}
	m.mu.Unlock()
	if n > 0 {
		m.applied.Store(last)
	}
	if err != nil {
		var ae *ApplyError
		if !errors.As(err, &ae) {
			it := items[n]
			ae = &ApplyError{Sequence: it.e.Sequence, EventID: it.e.ID, Err: err}
		}
		m.failure.Store(ae)
		m.wake()
		return n, ae
	}
	m.wake()
	return n, nil
}

// wake runs after applied (or failure) is stored. WaitFor sets watched
// before it reads applied, and wake reads watched after applied was
// stored; both are sequentially consistent atomics, so either the waiter
// sees the new sequence or wake sees the waiter and closes its channel.
func (m *Model) wake() {
	if !m.watched.Load() {
		return
	}
	m.notifyMu.Lock()
	if m.watched.Swap(false) {
		close(m.notify)
		m.notify = make(chan struct{})
	}
	m.notifyMu.Unlock()
}

// Applied is the sequence of the last event folded.
func (m *Model) Applied() uint64 { return m.applied.Load() }

// Ready reports whether the model has caught up with the log since start.
func (m *Model) Ready() bool { return m.ready.Load() && m.failure.Load() == nil }

// Failure returns the event the model stopped at, if it stopped.
func (m *Model) Failure() *ApplyError { return m.failure.Load() }

// ErrStopped means the model stopped on an event it could not apply.
var ErrStopped = errors.New("read model stopped")

// WaitFor blocks until the model has applied sequence seq, the context
// ends, or the model stops on a bad event.
func (m *Model) WaitFor(ctx context.Context, seq uint64) error {
	for {
		m.notifyMu.Lock()
		ch := m.notify
		m.watched.Store(true)
		m.notifyMu.Unlock()
		if m.applied.Load() >= seq {
			return nil
		}
		if f := m.failure.Load(); f != nil {
			return fmt.Errorf("%w: %v", ErrStopped, f)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the read model to reach sequence %d (at %d): %w", seq, m.applied.Load(), ctx.Err())
		}
	}
}

// Runner keeps a Model current from the store and checkpoints it.
type Runner struct {
	Store     *events.Store
	Model     *Model
	Snapshots *Snapshots // nil: no checkpoints
	// SnapshotEvery is the least time between two checkpoints.
	SnapshotEvery time.Duration
	Log           *slog.Logger
	// Progress, when set, is called now and then while catching up.
	Progress func(applied, target uint64)
}

// Run subscribes after the model's sequence and applies events until ctx
// ends or an event cannot be applied. It marks the model ready once it has
// applied everything the stream held when it started.
func (r *Runner) Run(ctx context.Context) error {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	target, err := r.Store.LastSequence(ctx)
	if err != nil {
		return fmt.Errorf("read model: stream state: %w", err)
	}
	if r.Model.Applied() > target {
		return fmt.Errorf("read model is at sequence %d but the stream ends at %d: the snapshot belongs to another stream", r.Model.Applied(), target)
	}
	if r.Model.Applied() >= target {
		r.Model.ready.Store(true)
	}
	sub, err := r.Store.Subscribe(ctx, r.Model.Applied())
	if err != nil {
		return fmt.Errorf("read model: subscribe: %w", err)
	}
	stop := context.AfterFunc(ctx, sub.Stop)
	defer stop()
	defer sub.Stop()

	// One goroutine reads and decodes (envelope and payload) while this
	// one folds: on a rebuild the two overlap, and events that arrive
	// together are folded under one lock. A batch is handed over as soon as
	// the stream has nothing more pending, so a live event waits for no
	// other.
	batches := make(chan []decoded, 4)
	done := make(chan struct{})
	defer close(done)
	var readErr error
	go func() {
		defer close(batches)
		batch := make([]decoded, 0, runnerBatch)
		for {
			e, pending, err := sub.Next()
			if err != nil {
				// What was read before the error is folded first, as it
				// was when each event was folded as it came.
				if len(batch) > 0 {
					select {
					case batches <- batch:
					case <-done:
					}
				}
				readErr = err
				return
			}
			ev, derr := e.Event()
			batch = append(batch, decoded{e: e, ev: ev, err: derr, pending: pending})
			if pending == 0 || len(batch) == runnerBatch {
				select {
				case batches <- batch:
				case <-done:
					return
				}
				batch = make([]decoded, 0, runnerBatch)
			}
		}
	}()

	lastSnap := time.Now()
	lastProgress := time.Now()
	for batch := range batches {
		fresh := dropRedelivered(batch, r.Model.Applied())
		if len(fresh) == 0 {
			continue
		}
		if n, err := r.Model.applyBatch(fresh); err != nil {
			log.Error("read model stopped", "sequence", fresh[n].e.Sequence, "err", err)
			return err
		}
		lastItem := fresh[len(fresh)-1]
		pending, seq := lastItem.pending, lastItem.e.Sequence
		if !r.Model.ready.Load() && (pending == 0 || seq >= target) {
			r.Model.ready.Store(true)
			log.Info("read model caught up", "sequence", seq)
		}
		if r.Progress != nil && !r.Model.ready.Load() && time.Since(lastProgress) > time.Second {
			r.Progress(seq, target)
			lastProgress = time.Now()
		}
		if r.Snapshots != nil && pending == 0 && time.Since(lastSnap) >= r.snapshotEvery() {
			r.snapshot(log)
			lastSnap = time.Now()
		}
	}
	// The reader stopped: the context ended, or the subscription failed.
	if ctx.Err() != nil {
		r.snapshot(log)
		return nil
	}
	return fmt.Errorf("read model: subscription: %w", readErr)
}

// dropRedelivered keeps the events of a batch that come after applied
// and after every event kept before them: an ordered consumer may deliver
// again what it delivered before a reset, even within one batch.
func dropRedelivered(batch []decoded, applied uint64) []decoded {
	fresh := batch[:0]
	for _, it := range batch {
		if it.e.Sequence > applied {
			fresh = append(fresh, it)
			applied = it.e.Sequence
		}
	}
	return fresh
}

// runnerBatch bounds how many events are folded under one lock.
const runnerBatch = 128

func (r *Runner) snapshotEvery() time.Duration {
	if r.SnapshotEvery > 0 {
		return r.SnapshotEvery
	}
	return time.Minute
}

func (r *Runner) snapshot(log *slog.Logger) {
	if r.Snapshots == nil || r.Model.Failure() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Snapshots.Save(ctx, r.Model); err != nil {
		log.Warn("read model checkpoint failed", "err", err)
	}
}

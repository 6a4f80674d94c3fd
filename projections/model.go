package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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
	notify   chan struct{} // closed and replaced after every applied event
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

func (m *Model) wake() {
	m.notifyMu.Lock()
	close(m.notify)
	m.notify = make(chan struct{})
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

	lastSnap := time.Now()
	lastProgress := time.Now()
	for {
		e, pending, err := sub.Next()
		if err != nil {
			if ctx.Err() != nil {
				r.snapshot(log)
				return nil
			}
			return fmt.Errorf("read model: subscription: %w", err)
		}
		if e.Sequence <= r.Model.Applied() {
			continue // an ordered consumer may redeliver after a reset
		}
		if err := r.Model.Apply(e); err != nil {
			log.Error("read model stopped", "sequence", e.Sequence, "err", err)
			return err
		}
		if !r.Model.ready.Load() && (pending == 0 || e.Sequence >= target) {
			r.Model.ready.Store(true)
			log.Info("read model caught up", "sequence", e.Sequence)
		}
		if r.Progress != nil && !r.Model.ready.Load() && time.Since(lastProgress) > time.Second {
			r.Progress(e.Sequence, target)
			lastProgress = time.Now()
		}
		if r.Snapshots != nil && pending == 0 && time.Since(lastSnap) >= r.snapshotEvery() {
			r.snapshot(log)
			lastSnap = time.Now()
		}
	}
}

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

package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrLogMissing means the event stream this ledger wrote to is gone, or a
// different stream now has its name (deleted and created again, purged,
// restored from an older backup). Nothing the ledger knows can be
// trusted to be in the log any more: the node refuses writes and reports
// itself not ready until an operator restores the stream.
var ErrLogMissing = errors.New("the event log is missing or was replaced")

// Identity tells one incarnation of the event stream from another of the
// same name: JetStream stamps a stream with its creation time, and a
// stream that can be neither purged nor limited always starts at
// sequence 1.
type Identity struct {
	Stream  string    `json:"stream"`
	Created time.Time `json:"created"`
}

// IdentityFile is where serve records, in its data directory, which
// stream its ledger lives in.
const IdentityFile = "stream-identity.json"

// LoadIdentity reads the stream identity recorded in dir (nil when none
// was recorded yet).
func LoadIdentity(dir string) (*Identity, error) {
	b, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil || id.Stream == "" || id.Created.IsZero() {
		return nil, fmt.Errorf("%s: unreadable stream identity (%v); it records which stream holds this ledger, restore it from a backup", filepath.Join(dir, IdentityFile), err)
	}
	return &id, nil
}

// SaveIdentity records id in dir, replacing the file atomically.
func SaveIdentity(dir string, id Identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, IdentityFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, IdentityFile))
}

// ExpectIdentity makes Open accept only the stream id names: a missing
// stream, or one created at another time, is ErrLogMissing, and Open
// never creates the stream.
func ExpectIdentity(id Identity) Option {
	return func(s *Store) { s.guard.expect, s.guard.mustExist = &id, "this node recorded it in "+IdentityFile }
}

// ExpectHistory makes Open refuse to create the stream: something else
// (why) shows the ledger already holds events, so an empty new stream
// would silently lose them.
func ExpectHistory(why string) Option {
	return func(s *Store) { s.guard.mustExist = why }
}

// logGuard is what a Store knows about the stream it opened, to notice
// when that stream disappears or is replaced.
type logGuard struct {
	expect    *Identity // from ExpectIdentity
	mustExist string    // non-empty: never create the stream; why
	identity  Identity  // the stream Open found or created
	lost      atomic.Pointer[error]
}

// openStream finds the stream and checks it is the one expected, or
// creates it when nothing says the ledger already holds events. It never
// updates an existing stream: the ledger's NATS user may not (see
// ServicePermissions), and a stream whose settings could lose events is
// refused by checkStream instead.
func (s *Store) openStream(ctx context.Context, want jetstream.StreamConfig) (jetstream.Stream, error) {
	g := &s.guard
	stream, err := s.js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) && g.mustExist != "" {
		// A verdict that stops the node is asked twice (see CheckLog).
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(confirmDelay):
		}
		stream, err = s.js.Stream(ctx, want.Name)
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if g.mustExist != "" {
			return nil, fmt.Errorf("%w: stream %s does not exist, but the ledger holds events (%s); refusing to start on a new empty stream — restore the stream (or, to really start a new ledger, use a new data directory)",
				ErrLogMissing, want.Name, g.mustExist)
		}
		stream, err = s.js.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Another node created it meanwhile, with other settings.
			stream, err = s.js.Stream(ctx, want.Name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", want.Name, err)
	}
	info, err := checkedInfo(ctx, stream, want.Name)
	if err != nil {
		return nil, err
	}
	if err := g.sameStream(want.Name, info); err != nil {
		return nil, err
	}
	if err := firstSequenceOK(info); err != nil {
		return nil, err
	}
	g.identity = Identity{Stream: want.Name, Created: info.Created.UTC()}
	return stream, nil
}

// sameStream refuses a stream other than the one the ledger recorded: one
// deleted and created again has another creation time.
func (g *logGuard) sameStream(name string, info *jetstream.StreamInfo) error {
	if e := g.expect; e != nil && (e.Stream != name || !e.Created.Equal(info.Created)) {
		return fmt.Errorf("%w: stream %s was created at %s, but this ledger's stream %s was created at %s (%s); it was deleted and created again — restore the original stream",
			ErrLogMissing, name, info.Created.UTC().Format(time.RFC3339Nano), e.Stream, e.Created.UTC().Format(time.RFC3339Nano), g.mustExist)
	}
	return nil
}

// firstSequenceOK: a stream that can be neither purged nor limited keeps
// every event from sequence 1 on.
func firstSequenceOK(info *jetstream.StreamInfo) error {
	if info.State.Msgs > 0 && info.State.FirstSeq != 1 {
		return fmt.Errorf("%w: stream %s starts at sequence %d: events 1-%d were removed", ErrLogMissing,
			info.Config.Name, info.State.FirstSeq, info.State.FirstSeq-1)
	}
	return nil
}

// Identity is the stream this store opened.
func (s *Store) Identity() Identity { return s.guard.identity }

// CheckLog asks JetStream whether the stream this store opened is still
// there, still the same stream, starts at sequence 1 and holds at least
// the `applied` events a read model has already seen. When it is not, it
// returns ErrLogMissing (wrapped with what is wrong) and remembers it:
// LogLost reports it from then on, for good — a log that vanished once is
// not trusted again without a restart. An error reaching JetStream is
// returned as it is and remembered not.
//
// Because that verdict sticks, it is asked twice, confirmDelay apart: a
// cluster in the middle of an election must not turn a node red for good.
func (s *Store) CheckLog(ctx context.Context, applied uint64) error {
	if err := s.LogLost(); err != nil {
		return err
	}
	err := s.checkLogOnce(ctx, applied)
	if !errors.Is(err, ErrLogMissing) {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(confirmDelay):
	}
	if err = s.checkLogOnce(ctx, applied); !errors.Is(err, ErrLogMissing) {
		return err
	}
	s.guard.lost.CompareAndSwap(nil, &err)
	return s.LogLost()
}

// confirmDelay is how long CheckLog waits before it asks again.
const confirmDelay = 500 * time.Millisecond

func (s *Store) checkLogOnce(ctx context.Context, applied uint64) error {
	info, err := s.stream.Info(ctx)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		// Only the meta leader answers "not found" on a cluster.
		return fmt.Errorf("%w: stream %s no longer exists (it held this ledger's events up to sequence %d at least)", ErrLogMissing, s.name, applied)
	case err != nil:
		return err
	case !info.Created.Equal(s.guard.identity.Created):
		// The creation time is the stream assignment's, the same on
		// every node.
		return fmt.Errorf("%w: stream %s was created at %s, not at %s as the one this node opened: it was deleted and created again",
			ErrLogMissing, s.name, info.Created.UTC().Format(time.RFC3339Nano), s.guard.identity.Created.Format(time.RFC3339Nano))
	case info.Cluster != nil && info.Cluster.Leader == "":
		// Without a leader any replica may answer with its own state,
		// which can be behind: it cannot tell a shorter stream.
		return fmt.Errorf("%w: stream %s has no leader; its length cannot be checked now", ErrUnavailable, s.name)
	case info.State.LastSeq < applied:
		return fmt.Errorf("%w: stream %s ends at sequence %d, but this node has already read up to %d", ErrLogMissing, s.name, info.State.LastSeq, applied)
	}
	return firstSequenceOK(info)
}

// LogLost is the ErrLogMissing CheckLog found, or nil.
func (s *Store) LogLost() error {
	if p := s.guard.lost.Load(); p != nil {
		return *p
	}
	return nil
}

package projections

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/events"
)

// SnapshotVersion names the shape of State and the semantics of the fold.
// Bump it whenever either changes: a snapshot of another version is
// ignored and the read models are rebuilt from the log.
//
// 2: commands are remembered only when they carried an Idempotency-Key.
// 3: every event (checkpoints too) is a leaf of the tree; group heads.
// 4: each unit-year keeps the last sequence of its indicators' events.
const SnapshotVersion = 4

// SnapshotBucket is the JetStream object store that holds checkpoints of
// the read models; every node of a cluster shares it.
const SnapshotBucket = "kpiledger-snapshots"

const snapshotObject = "projections"

// Snapshots saves and loads checkpoints of a Model in a JetStream object store.
type Snapshots struct {
	js    jetstream.JetStream
	obj   jetstream.ObjectStore
	store *events.Store
}

type snapshotHeader struct {
	Version  int    `json:"version"`
	Stream   string `json:"stream"`
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"` // the hash of the event at Sequence
}

// OpenSnapshots creates or opens the snapshot bucket.
func OpenSnapshots(ctx context.Context, js jetstream.JetStream, store *events.Store, replicas int) (*Snapshots, error) {
	if replicas == 0 {
		replicas = 1
	}
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      SnapshotBucket,
		Description: "checkpoints of kpiledger's read models; derived data, safe to lose",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot bucket: %w", err)
	}
	return &Snapshots{js: js, obj: obj, store: store}, nil
}

// Save writes the model's current state.
func (s *Snapshots) Save(ctx context.Context, m *Model) error {
	var buf bytes.Buffer
	var err error
	var h snapshotHeader
	m.Read(func(st *State) {
		if st.Sequence == 0 {
			return
		}
		h = snapshotHeader{Version: SnapshotVersion, Stream: s.store.Name(), Sequence: st.Sequence, Hash: st.LastHash}
		enc := json.NewEncoder(&buf)
		if err = enc.Encode(h); err == nil {
			err = enc.Encode(st)
		}
	})
	if err != nil || buf.Len() == 0 {
		return err
	}
	// The header goes into the object's meta message as well: that one
	// message is all LatestSnapshotMark needs, and it is whole even when
	// the chunks are not (see openSnapshot).
	_, err = s.obj.Put(ctx, jetstream.ObjectMeta{Name: snapshotObject, Metadata: h.metadata()}, &buf)
	return err
}

func (h snapshotHeader) metadata() map[string]string {
	return map[string]string{
		"version":  strconv.Itoa(h.Version),
		"stream":   h.Stream,
		"sequence": strconv.FormatUint(h.Sequence, 10),
		"hash":     h.Hash,
	}
}

// headerFromMetadata reads the header Save put into the object's meta
// message; ok is false for a snapshot saved before it did.
func headerFromMetadata(md map[string]string) (h snapshotHeader, ok bool) {
	v, verr := strconv.Atoi(md["version"])
	seq, serr := strconv.ParseUint(md["sequence"], 10, 64)
	if verr != nil || serr != nil || md["stream"] == "" {
		return h, false
	}
	return snapshotHeader{Version: v, Stream: md["stream"], Sequence: seq, Hash: md["hash"]}, true
}

// errBrokenSnapshot: the object's meta message names chunks the bucket
// does not hold, or holds differently.
var errBrokenSnapshot = errors.New("the snapshot object is incomplete")

// openSnapshot opens the saved snapshot for reading, once the bucket is
// seen to hold every chunk its meta message names. nats.go's object Put
// publishes the chunks and the meta message asynchronously together and
// only then looks at the answers: during a leader election of the bucket's
// stream a chunk can be refused while the meta message is stored, which
// leaves an object whose reader would start in the middle of the data (or
// wait for chunks that never come). The content is also checked against
// the meta's SHA-256 when the reader reaches its end: read it to EOF.
func openSnapshot(ctx context.Context, js jetstream.JetStream, obj jetstream.ObjectStore) (jetstream.ObjectResult, error) {
	info, err := obj.GetInfo(ctx, snapshotObject)
	if err != nil {
		return nil, err
	}
	stream, err := js.Stream(ctx, "OBJ_"+SnapshotBucket)
	if err != nil {
		return nil, err
	}
	chunks := fmt.Sprintf("$O.%s.C.%s", SnapshotBucket, info.NUID)
	si, err := stream.Info(ctx, jetstream.WithSubjectFilter(chunks))
	if err != nil {
		return nil, err
	}
	if held := si.State.Subjects[chunks]; held != uint64(info.Chunks) {
		return nil, fmt.Errorf("%w: its meta names %d chunks, the bucket holds %d", errBrokenSnapshot, info.Chunks, held)
	}
	return obj.Get(ctx, snapshotObject)
}

// ErrNoSnapshot means no usable snapshot exists; Load says why.
var ErrNoSnapshot = errors.New("no usable snapshot")

// Load returns the saved state if it was written by this version of the
// code for this stream, and the event it ends at is still in the log with
// the same hash. Otherwise it returns ErrNoSnapshot (wrapped with why).
func (s *Snapshots) Load(ctx context.Context) (*State, error) {
	r, err := openSnapshot(ctx, s.js, s.obj)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: none saved yet", ErrNoSnapshot)
	}
	if errors.Is(err, errBrokenSnapshot) {
		return nil, fmt.Errorf("%w: %v", ErrNoSnapshot, err)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("%w: unreadable header: %v", ErrNoSnapshot, err)
	}
	var h snapshotHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%w: unreadable header: %v", ErrNoSnapshot, err)
	}
	if h.Version != SnapshotVersion {
		return nil, fmt.Errorf("%w: written by snapshot version %d, this build folds version %d", ErrNoSnapshot, h.Version, SnapshotVersion)
	}
	if h.Stream != s.store.Name() {
		return nil, fmt.Errorf("%w: written for stream %s", ErrNoSnapshot, h.Stream)
	}
	e, err := s.store.Get(ctx, h.Sequence)
	if err != nil {
		return nil, fmt.Errorf("%w: its last event %d is not in the stream: %v", ErrNoSnapshot, h.Sequence, err)
	}
	if e.Hash != h.Hash {
		return nil, fmt.Errorf("%w: the event at %d has another hash than when the snapshot was taken", ErrNoSnapshot, h.Sequence)
	}
	st := NewState()
	dec := json.NewDecoder(br)
	if err := dec.Decode(st); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: unreadable state: %v", ErrNoSnapshot, err)
	}
	// Reading to the end is what checks the whole object's digest.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSnapshot, err)
	}
	if st.Sequence != h.Sequence || st.LastHash != h.Hash {
		return nil, fmt.Errorf("%w: header and state disagree", ErrNoSnapshot)
	}
	return st, nil
}

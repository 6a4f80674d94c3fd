package projections

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// SnapshotMark is where the shared snapshot of read models stands: the
// stream it was folded from and the sequence and hash of the last event
// it includes.
type SnapshotMark struct {
	Stream   string
	Sequence uint64
	Hash     string
}

// LatestSnapshotMark reads only the header of the shared snapshot (nil
// when there is none). A snapshot means the event log it was built from
// held events: a missing log must not be replaced by an empty one, and a
// log without that event at that sequence is not the same log. It only
// looks; it creates no bucket. The header comes from the object's meta
// message; a snapshot saved before Save put it there is read from its
// first line, and one whose chunks are not whole is ErrNoSnapshot.
func LatestSnapshotMark(ctx context.Context, js jetstream.JetStream) (*SnapshotMark, error) {
	obs, err := js.ObjectStore(ctx, SnapshotBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info, err := obs.GetInfo(ctx, snapshotObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if h, ok := headerFromMetadata(info.Metadata); ok {
		return &SnapshotMark{Stream: h.Stream, Sequence: h.Sequence, Hash: h.Hash}, nil
	}
	r, err := openSnapshot(ctx, js, obs)
	if errors.Is(err, errBrokenSnapshot) {
		return nil, fmt.Errorf("%w: %v", ErrNoSnapshot, err)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("snapshot header: %w", err)
	}
	var h snapshotHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%w: unreadable header: %v", ErrNoSnapshot, err)
	}
	return &SnapshotMark{Stream: h.Stream, Sequence: h.Sequence, Hash: h.Hash}, nil
}

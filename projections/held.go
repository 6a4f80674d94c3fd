package projections

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// SnapshotHeld reports whether the shared snapshot bucket holds a
// snapshot of read models: if it does, the event log they were built from
// held events, and a missing log must not be replaced by an empty one.
// It only looks; it creates no bucket.
func SnapshotHeld(ctx context.Context, js jetstream.JetStream) (bool, error) {
	obs, err := js.ObjectStore(ctx, SnapshotBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = obs.GetInfo(ctx, snapshotObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	return err == nil, err
}

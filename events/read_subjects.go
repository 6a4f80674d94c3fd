package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ReadSubjects returns, in stream order, every event on the subjects that
// match the filters: what Read with those filters gives, found another way.
//
// A consumer with a wildcard filter makes the server walk the stream block
// by block, testing each block's subjects against the filter; with a
// million events that is tens of milliseconds for the few dozen events of
// one unit-year. Instead, the stream's per-subject index names the literal
// subjects that match and how many events each holds (a stream info
// request), and each subject's events come back in one batched direct get,
// which starts at the subject's first block. Where that cannot be done
// (direct gets not allowed, a replica that answers with fewer events than
// the stream leader counted, any error) it falls back to Read.
func (s *Store) ReadSubjects(ctx context.Context, filters []string) ([]*Envelope, error) {
	out, err := s.readSubjectsDirect(ctx, filters)
	if err == nil {
		return out, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out = out[:0]
	err = s.Read(ctx, ReadOptions{Filters: filters}, func(e *Envelope) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// maxDirectBatch bounds one batched get (an aggregate holds tens of
// events; a subject with more is read with a consumer instead).
const maxDirectBatch = 10000

// errShortBatch means a direct get gave fewer events than the stream
// leader's count: a replica that has not caught up answered.
var errShortBatch = errors.New("direct get returned fewer events than the stream holds")

func (s *Store) readSubjectsDirect(ctx context.Context, filters []string) ([]*Envelope, error) {
	info := s.stream.CachedInfo()
	if info == nil || !info.Config.AllowDirect {
		return nil, errors.New("direct gets are not allowed on the stream")
	}
	// The leader answers stream info, so its counts are complete.
	counts := map[string]uint64{}
	for _, f := range filters {
		si, err := s.stream.Info(ctx, jetstream.WithSubjectFilter(f))
		if err != nil {
			return nil, err
		}
		for subj, n := range si.State.Subjects {
			counts[subj] = n
		}
	}
	var out []*Envelope
	for _, subj := range sortedSubjects(counts) {
		n := counts[subj]
		if n == 0 {
			continue
		}
		got, err := s.directBatch(ctx, subj, n)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b *Envelope) int {
		switch {
		case a.Sequence < b.Sequence:
			return -1
		case a.Sequence > b.Sequence:
			return 1
		}
		return 0
	})
	return out, nil
}

// sortedSubjects returns a count map's subjects in order.
func sortedSubjects(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// directBatch asks for the first n events of a literal subject in one
// batched direct get (nats-server 2.11 and later answer it with one message
// per event and an end-of-batch status).
func (s *Store) directBatch(ctx context.Context, subject string, n uint64) ([]*Envelope, error) {
	if n > maxDirectBatch {
		return nil, fmt.Errorf("subject %s holds %d events; read with a consumer", subject, n)
	}
	nc := s.js.Conn()
	inbox := nc.NewRespInbox()
	// A channel sized to the batch: SubscribeSync would allocate and
	// clear a buffer for 64k messages on every call. n events and the
	// end-of-batch status are all that can arrive.
	ch := make(chan *nats.Msg, n+2)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	req, err := json.Marshal(struct {
		Seq     uint64 `json:"seq"`
		NextFor string `json:"next_by_subj"`
		Batch   uint64 `json:"batch"`
	}{1, subject, n})
	if err != nil {
		return nil, err
	}
	if err := nc.PublishRequest(s.apiPrefix()+"DIRECT.GET."+s.name, inbox, req); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	out := make([]*Envelope, 0, n)
	for {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if status := m.Header.Get("Status"); status != "" {
			// 204 ends the batch; anything else (404 none, 408, 413) is
			// left to the fallback.
			if status != "204" {
				return nil, fmt.Errorf("direct get of %s: status %s %s", subject, status, m.Header.Get("Description"))
			}
			break
		}
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("direct get of %s: no sequence: %w", subject, err)
		}
		e, err := decodeOwned(m.Data, seq)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if uint64(len(out)) < n {
		return nil, errShortBatch
	}
	return out, nil
}

// apiPrefix is the JetStream API subject prefix the store's context uses.
func (s *Store) apiPrefix() string {
	o := s.js.Options()
	switch {
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return jetstream.DefaultAPIPrefix
}

// Package events is kpiledger's event log: the envelope every event travels
// in and its hash chain, the catalogue of event types with their schema
// versions and upcasters, the subject scheme, and the JetStream store.
package events

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/opdc/kpiledger/domain"
)

// Envelope is one event as stored in the log. Every field but Sequence is
// immutable and covered by Hash; Sequence is where the stream put it.
type Envelope struct {
	ID               string          `json:"id"` // UUID v7
	Type             string          `json:"type"`
	SchemaVersion    int             `json:"schema_version"`
	AggregateKind    string          `json:"aggregate_kind"`
	AggregateID      string          `json:"aggregate_id"`
	AggregateVersion uint64          `json:"aggregate_version"`
	Unit             string          `json:"unit,omitempty"`
	FiscalYear       int             `json:"fiscal_year,omitempty"`
	OccurredAt       time.Time       `json:"occurred_at"`
	RecordedAt       time.Time       `json:"recorded_at"`
	Actor            domain.Actor    `json:"actor"`
	CommandID        string          `json:"command_id"`
	CorrelationID    string          `json:"correlation_id,omitempty"`
	RequestHash      string          `json:"request_hash,omitempty"`
	Data             json.RawMessage `json:"data"`
	PrevHash         string          `json:"prev_hash"`
	Hash             string          `json:"hash"`
	Sequence         uint64          `json:"sequence,omitempty"`
}

// hashDomain separates kpiledger's event hashes from any other SHA-256 use.
const hashDomain = "kpiledger/event/v1"

// ComputeHash returns the SHA-256 over a canonical encoding of the
// envelope's immutable fields and PrevHash: each field is written as its
// name and value, each length-prefixed, in a fixed order, so no two
// different envelopes encode alike. Data is hashed as stored, byte for byte.
func (e *Envelope) ComputeHash() string {
	// The canonical encoding is built in one buffer and hashed once: the
	// same bytes as writing each field to the hash, without a copy per
	// field. Every event is hashed on append and on verification.
	var stack [2048]byte
	b := stack[:0]
	var tmp [64]byte
	b = appendLP(b, "domain", hashDomain)
	b = appendLP(b, "id", e.ID)
	b = appendLP(b, "type", e.Type)
	b = appendLP(b, "schema_version", strconv.AppendInt(tmp[:0], int64(e.SchemaVersion), 10))
	b = appendLP(b, "aggregate_kind", e.AggregateKind)
	b = appendLP(b, "aggregate_id", e.AggregateID)
	b = appendLP(b, "aggregate_version", strconv.AppendUint(tmp[:0], e.AggregateVersion, 10))
	b = appendLP(b, "unit", e.Unit)
	b = appendLP(b, "fiscal_year", strconv.AppendInt(tmp[:0], int64(e.FiscalYear), 10))
	b = appendLP(b, "occurred_at", e.OccurredAt.UTC().AppendFormat(tmp[:0], time.RFC3339Nano))
	b = appendLP(b, "recorded_at", e.RecordedAt.UTC().AppendFormat(tmp[:0], time.RFC3339Nano))
	b = appendLP(b, "actor.sub", e.Actor.Subject)
	b = appendLP(b, "actor.role", e.Actor.Role)
	b = appendLP(b, "actor.unit", e.Actor.Unit)
	// Added with single sign-on, and hashed only when present so that every
	// earlier event keeps its hash. Each field carries its name, so leaving
	// one out cannot make two different envelopes encode alike.
	if e.Actor.Issuer != "" {
		b = appendLP(b, "actor.iss", e.Actor.Issuer)
	}
	if e.Actor.Name != "" {
		b = appendLP(b, "actor.name", e.Actor.Name)
	}
	b = appendLP(b, "command_id", e.CommandID)
	b = appendLP(b, "correlation_id", e.CorrelationID)
	b = appendLP(b, "request_hash", e.RequestHash)
	b = appendLP(b, "data", e.Data)
	b = appendLP(b, "prev_hash", e.PrevHash)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// appendLP appends a field's name and value, each with its length as a
// uvarint before it.
func appendLP[V ~string | ~[]byte](b []byte, name string, value V) []byte {
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

// Seal sets the envelope's hash after its previous hash is known.
func (e *Envelope) Seal() { e.Hash = e.ComputeHash() }

// SealAt makes the envelope what the log stores, recorded at recordedAt:
// it stamps an id (a UUID v7, when empty), the command id (the event id,
// when empty), recorded_at, occurred_at (recorded_at when the client
// asserted none), both in UTC, clears the sequence (the stream assigns it),
// seals the hash, and returns the subject and the bytes to publish. It is
// the one way an event is sealed: Store.Append calls it, and so does the
// bench's history generator, which publishes the bytes itself.
func (e *Envelope) SealAt(recordedAt time.Time) (subject string, data []byte, err error) {
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", nil, err
		}
		e.ID = id.String()
	}
	if e.CommandID == "" {
		e.CommandID = e.ID
	}
	e.RecordedAt = recordedAt.UTC()
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.RecordedAt
	}
	e.OccurredAt = e.OccurredAt.UTC()
	e.Sequence = 0
	e.Seal()
	if subject, err = e.Subject(); err != nil {
		return "", nil, err
	}
	data, err = marshalEnvelope(e)
	return subject, data, err
}

// CheckHash reports whether the stored hash matches the content.
func (e *Envelope) CheckHash() error {
	if got := e.ComputeHash(); got != e.Hash {
		return fmt.Errorf("event %s (aggregate %s v%d): content hashes to %s but the event says %s",
			e.ID, e.AggregateID, e.AggregateVersion, short(got), short(e.Hash))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Meta returns the fold metadata of the envelope.
func (e *Envelope) Meta() domain.Meta {
	return domain.Meta{EventID: e.ID, Sequence: e.Sequence, Version: e.AggregateVersion, RecordedAt: e.RecordedAt, Actor: e.Actor}
}

// ChainState is what a verifier remembers of each aggregate: the version
// and hash of its last event.
type ChainState struct {
	Version uint64
	Hash    string
}

// ChainBreak describes the first place a hash chain does not hold.
type ChainBreak struct {
	// Kind is "hash" (content changed), "gap" (a version is missing),
	// "repeat" (a version comes again or goes back) or "link" (prev_hash
	// does not match the previous event's hash).
	Kind        string `json:"kind"`
	AggregateID string `json:"aggregate_id"`
	Sequence    uint64 `json:"sequence"`
	EventID     string `json:"event_id"`
	Expected    string `json:"expected"`
	Found       string `json:"found"`
	Reason      string `json:"reason"`
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("chain break at sequence %d (aggregate %s, event %s): %s", b.Sequence, b.AggregateID, b.EventID, b.Reason)
}

// ChainVerifier checks events one by one, in log order, against each
// aggregate's chain: versions go 1, 2, 3 … with no gap, each event's
// prev_hash is the previous event's hash, and each hash matches content.
type ChainVerifier struct {
	chains map[string]ChainState
	Count  uint64
}

// NewChainVerifier starts with no aggregate seen.
func NewChainVerifier() *ChainVerifier { return &ChainVerifier{chains: map[string]ChainState{}} }

// Check verifies the next event and remembers it.
func (v *ChainVerifier) Check(e *Envelope) *ChainBreak {
	key := e.AggregateKind + "/" + e.AggregateID
	prev := v.chains[key]
	brk := func(kind, expected, found, reason string) *ChainBreak {
		return &ChainBreak{Kind: kind, AggregateID: e.AggregateID, Sequence: e.Sequence, EventID: e.ID, Expected: expected, Found: found, Reason: reason}
	}
	if got := e.ComputeHash(); got != e.Hash {
		return brk("hash", got, e.Hash, "the event's content does not match its hash (changed after it was written)")
	}
	want, found := strconv.FormatUint(prev.Version+1, 10), strconv.FormatUint(e.AggregateVersion, 10)
	if e.AggregateVersion > prev.Version+1 {
		return brk("gap", want, found, "aggregate version skips ahead: an earlier event of this aggregate is missing")
	}
	if e.AggregateVersion <= prev.Version {
		return brk("repeat", want, found, "aggregate version comes again or goes back: an event was repeated or reordered")
	}
	if e.PrevHash != prev.Hash {
		return brk("link", prev.Hash, e.PrevHash, "prev_hash does not match the hash of the aggregate's previous event")
	}
	v.chains[key] = ChainState{Version: e.AggregateVersion, Hash: e.Hash}
	v.Count++
	return nil
}

// Heads returns each aggregate's last verified state.
func (v *ChainVerifier) Heads() map[string]ChainState { return v.chains }

// Aggregate identifies an aggregate and where its chain stands: the version
// and hash of its last event and that event's stream sequence (all zero
// for an aggregate with no event yet).
type Aggregate struct {
	Kind       string
	ID         string
	Unit       string
	FiscalYear int
	Version    uint64
	LastHash   string
	LastSeq    uint64
}

// NewEnvelope wraps a domain event as the aggregate's next event. The
// caller adds actor, command and correlation ids; the store seals it.
func NewEnvelope(ev domain.Event, agg Aggregate) (*Envelope, error) {
	typ, schema, kind := Describe(ev)
	if kind != agg.Kind {
		return nil, fmt.Errorf("%s is not an event of a %s", typ, agg.Kind)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return &Envelope{
		Type: typ, SchemaVersion: schema,
		AggregateKind: agg.Kind, AggregateID: agg.ID, AggregateVersion: agg.Version + 1,
		Unit: agg.Unit, FiscalYear: agg.FiscalYear,
		Data: data, PrevHash: agg.LastHash,
	}, nil
}

// Event decodes the envelope's payload (upcasting older schemas).
func (e *Envelope) Event() (domain.Event, error) { return Decode(e.Type, e.SchemaVersion, e.Data) }

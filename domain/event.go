package domain

import "time"

// Event is a domain event payload: the data part of one entry in the log.
// The unexported marker keeps arbitrary values from posing as events; the
// catalogue in package events names each one and decodes it.
type Event interface{ isEvent() }

func (FrameworkPublished) isEvent()   {}
func (FrameworkRevised) isEvent()     {}
func (DepartmentRegistered) isEvent() {}
func (IndicatorProposed) isEvent()    {}
func (IndicatorRevised) isEvent()     {}
func (IndicatorReviewed) isEvent()    {}
func (IndicatorWithdrawn) isEvent()   {}
func (ResultReported) isEvent()       {}
func (ResultVerified) isEvent()       {}
func (SeriesDefined) isEvent()        {}
func (InnovationProposed) isEvent()   {}
func (InnovationSelected) isEvent()   {}
func (InnovationReviewed) isEvent()   {}
func (CheckpointRecorded) isEvent()   {}

// Role is what an authenticated caller may do.
type Role string

// The three roles of SPEC.md, plus the ledger itself (checkpoints).
const (
	RoleOPDC    Role = "opdc"
	RoleUnit    Role = "unit"
	RoleAuditor Role = "auditor"
	RoleSystem  Role = "system"
)

// Actor is who caused an event.
//
// A person signed in through an OpenID Connect provider is Subject (the
// provider's stable "sub") at Issuer (its issuer URL): the pair identifies
// them for good, since a subject is unique only within its issuer. Name is
// the display name or e-mail the provider gave at the time, for people
// reading the trail; it may change later and is never used to match. The
// ledger's own tokens (kpiledger token, the demo) and the ledger itself
// leave Issuer and Name empty, and events recorded before single sign-on
// have neither, so both are omitted when empty: old events keep their
// bytes and their hashes.
type Actor struct {
	Subject string `json:"sub"`
	Issuer  string `json:"iss,omitempty"`
	Role    Role   `json:"role"`
	Unit    string `json:"unit,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Meta is what the log records about an event besides its payload; folds
// keep the parts an audit needs (which event produced a value, and when).
type Meta struct {
	EventID    string    `json:"event_id"`
	Sequence   uint64    `json:"sequence"`
	Version    uint64    `json:"version"`
	RecordedAt time.Time `json:"recorded_at"`
	Actor      Actor     `json:"actor"`
}

// CheckpointRecorded is the ledger's signed statement of how many events it
// held up to a stream sequence and the Merkle root over their hashes. Note
// is the signed text (a golang.org/x/mod/sumdb/note note); Key is the
// verifier key that signed it.
type CheckpointRecorded struct {
	Sequence uint64 `json:"sequence"`
	Count    uint64 `json:"count"`
	Root     string `json:"root"`
	Key      string `json:"key"`
	Note     string `json:"note"`
}

package events

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/opdc/kpiledger/domain"
)

// BundleFormat names the export format: JSON Lines, one header, the events
// in stream order, and a signed trailer.
const BundleFormat = "kpiledger-bundle/1"

// Scope says what a bundle holds.
type Scope struct {
	Unit       string `json:"unit,omitempty"`
	FiscalYear int    `json:"fiscal_year,omitempty"`
}

// BundleHeader is a bundle's first line.
type BundleHeader struct {
	Kind        string    `json:"kind"` // "header"
	Format      string    `json:"format"`
	Stream      string    `json:"stream"`
	Scope       Scope     `json:"scope"`
	Filters     []string  `json:"filters"` // subject filters; none: the whole stream
	ExportedAt  time.Time `json:"exported_at"`
	VerifierKey string    `json:"verifier_key"`
}

type bundleEvent struct {
	Kind  string    `json:"kind"` // "event"
	Event *Envelope `json:"event"`
}

type bundleTrailer struct {
	Kind string `json:"kind"` // "trailer"
	Note string `json:"note"` // the signed BundleStatement
}

// bundleLine is any line, for decoding.
type bundleLine struct {
	Kind string `json:"kind"`
	BundleHeader
	Event *Envelope `json:"event"`
	Note  string    `json:"note"`
}

// statement is what a bundle's trailer signs.
type statement struct {
	Stream    string
	Filters   []string
	UpTo      uint64
	Count     uint64
	Digest    [32]byte
	TreeCount uint64     // whole-stream bundles: leaves of the Merkle tree
	Root      *tlog.Hash // whole-stream bundles: its root
	Heads     map[string]ChainState
}

const statementHeader = "kpiledger bundle v1"

func (s *statement) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nstream %s\n", statementHeader, s.Stream)
	if len(s.Filters) == 0 {
		b.WriteString("filters *\n")
	} else {
		fmt.Fprintf(&b, "filters %s\n", strings.Join(s.Filters, " "))
	}
	fmt.Fprintf(&b, "up_to_sequence %d\ncount %d\ndigest %s\n", s.UpTo, s.Count, base64.StdEncoding.EncodeToString(s.Digest[:]))
	if s.Root != nil {
		fmt.Fprintf(&b, "root %d %s\n", s.TreeCount, base64.StdEncoding.EncodeToString(s.Root[:]))
	}
	keys := make([]string, 0, len(s.Heads))
	for k := range s.Heads {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h := s.Heads[k]
		fmt.Fprintf(&b, "head %s %d %s\n", k, h.Version, h.Hash)
	}
	return b.String()
}

func parseStatement(text string) (*statement, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 6 || lines[0] != statementHeader {
		return nil, errors.New("the trailer is not a kpiledger bundle statement")
	}
	s := &statement{Heads: map[string]ChainState{}}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 2 {
			return nil, fmt.Errorf("trailer line %q", l)
		}
		var err error
		switch f[0] {
		case "stream":
			s.Stream = f[1]
		case "filters":
			if f[1] != "*" {
				s.Filters = f[1:]
			}
		case "up_to_sequence":
			s.UpTo, err = strconv.ParseUint(f[1], 10, 64)
		case "count":
			s.Count, err = strconv.ParseUint(f[1], 10, 64)
		case "digest":
			var d []byte
			if d, err = base64.StdEncoding.DecodeString(f[1]); err == nil && len(d) == 32 {
				copy(s.Digest[:], d)
			} else if err == nil {
				err = errors.New("bad digest")
			}
		case "root":
			if len(f) != 3 {
				return nil, errors.New("trailer root line")
			}
			if s.TreeCount, err = strconv.ParseUint(f[1], 10, 64); err == nil {
				var d []byte
				if d, err = base64.StdEncoding.DecodeString(f[2]); err == nil && len(d) == 32 {
					var h tlog.Hash
					copy(h[:], d)
					s.Root = &h
				} else if err == nil {
					err = errors.New("bad root")
				}
			}
		case "head":
			if len(f) != 4 {
				return nil, fmt.Errorf("trailer line %q", l)
			}
			var v uint64
			if v, err = strconv.ParseUint(f[2], 10, 64); err == nil {
				s.Heads[f[1]] = ChainState{Version: v, Hash: f[3]}
			}
		default:
			return nil, fmt.Errorf("trailer line %q", l)
		}
		if err != nil {
			return nil, fmt.Errorf("trailer line %q: %w", l, err)
		}
	}
	return s, nil
}

// digestStep chains one event into a bundle digest: SHA-256 of the digest
// so far, the event's sequence and its hash. It fixes order and numbering.
func digestStep(d [32]byte, seq uint64, hash string) [32]byte {
	h := sha256.New()
	h.Write(d[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], seq)
	h.Write(n[:])
	hb, _ := hex.DecodeString(hash)
	h.Write(hb)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// BundleWriter streams a bundle.
type BundleWriter struct {
	w     *bufio.Writer
	key   *SigningKey
	stmt  statement
	tree  Tree
	whole bool
}

// NewBundleWriter writes the header. Filters select the events (none: the
// whole stream, whose trailer then also carries the Merkle root).
func NewBundleWriter(w io.Writer, key *SigningKey, stream string, scope Scope, filters []string, at time.Time) (*BundleWriter, error) {
	b := &BundleWriter{w: bufio.NewWriterSize(w, 64<<10), key: key, whole: len(filters) == 0,
		stmt: statement{Stream: stream, Filters: filters, Heads: map[string]ChainState{}}}
	h := BundleHeader{Kind: "header", Format: BundleFormat, Stream: stream, Scope: scope, Filters: filters,
		ExportedAt: at.UTC(), VerifierKey: key.VerifierKey()}
	if h.Filters == nil {
		h.Filters = []string{}
	}
	return b, b.line(h)
}

func (b *BundleWriter) line(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.w.Write(data)
	return b.w.WriteByte('\n')
}

// Event writes the next event; events must come in stream order.
func (b *BundleWriter) Event(e *Envelope) error {
	if e.Sequence <= b.stmt.UpTo {
		return fmt.Errorf("bundle: sequence %d after %d", e.Sequence, b.stmt.UpTo)
	}
	b.stmt.UpTo = e.Sequence
	b.stmt.Count++
	b.stmt.Digest = digestStep(b.stmt.Digest, e.Sequence, e.Hash)
	b.stmt.Heads[AggregateKey(e)] = ChainState{Version: e.AggregateVersion, Hash: e.Hash}
	if b.whole && CountsInTree(e) {
		if err := b.tree.Add(e.Hash); err != nil {
			return err
		}
	}
	return b.line(bundleEvent{Kind: "event", Event: e})
}

// Close signs and writes the trailer. upTo is the stream sequence the
// export read up to (at least the last event's).
func (b *BundleWriter) Close(upTo uint64) error {
	if upTo > b.stmt.UpTo {
		b.stmt.UpTo = upTo
	}
	if b.whole {
		root := b.tree.Root()
		b.stmt.Root, b.stmt.TreeCount = &root, b.tree.N
	}
	signed, err := b.key.Sign(b.stmt.text())
	if err != nil {
		return err
	}
	if err := b.line(bundleTrailer{Kind: "trailer", Note: signed}); err != nil {
		return err
	}
	return b.w.Flush()
}

// AggregateKey identifies an envelope's aggregate across kinds.
func AggregateKey(e *Envelope) string { return e.AggregateKind + "/" + e.AggregateID }

// BundleReport summarises a verified bundle.
type BundleReport struct {
	Events      uint64
	Aggregates  int
	Checkpoints int
	UpTo        uint64
	Scope       Scope
	Whole       bool
	Key         string
	// KeyFromBundle is true when no trusted key was given and the bundle's
	// own key was used: the bundle is consistent, but only a pinned key
	// proves who signed it.
	KeyFromBundle bool
}

// Summary is the one-line report of an intact bundle.
func (r BundleReport) Summary() string {
	scope := "the whole ledger"
	if !r.Whole {
		scope = "unit " + r.Scope.Unit
		if r.Scope.Unit == "" {
			scope = "all units"
		}
		if r.Scope.FiscalYear != 0 {
			scope += fmt.Sprintf(" FY%d", r.Scope.FiscalYear)
		}
	}
	trust := "signed by the pinned key " + r.Key
	if r.KeyFromBundle {
		trust = "signed by the bundle's own key " + r.Key + " (pin it with --trust to prove who signed)"
	}
	return fmt.Sprintf("intact: %d events of %d aggregates (%s) up to sequence %d, %d checkpoints verified, %s",
		r.Events, r.Aggregates, scope, r.UpTo, r.Checkpoints, trust)
}

// BundleError names the first problem found in a bundle.
type BundleError struct {
	Line     int
	Sequence uint64
	EventID  string
	Problem  string // changed, removed, reordered, inserted, malformed, signature
	Reason   string
}

func (e *BundleError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.Sequence != 0 {
		where += fmt.Sprintf(", sequence %d", e.Sequence)
	}
	if e.EventID != "" {
		where += ", event " + e.EventID
	}
	return fmt.Sprintf("%s (%s): %s", e.Problem, where, e.Reason)
}

// maxBundleLine bounds one line of a bundle (an event is at most 1 MiB).
const maxBundleLine = 4 << 20

// VerifyBundle checks a bundle offline: every event's hash, every
// aggregate's chain, stream order, scope, every embedded checkpoint
// (signature and Merkle root), and the signed trailer's count, digest,
// aggregate heads and (for the whole ledger) root. trusted are verifier
// keys; with none, the bundle's own key is used and the report says so.
func VerifyBundle(r io.Reader, trusted []string) (BundleReport, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxBundleLine)
	var (
		rep     BundleReport
		hdr     *BundleHeader
		chains  = NewChainVerifier()
		digest  [32]byte
		tree    Tree
		lastSeq uint64
		firstOf = map[string]*Envelope{}
		lineNo  int
		stmt    *statement
	)
	fail := func(problem, format string, args ...any) error {
		return &BundleError{Line: lineNo, Problem: problem, Reason: fmt.Sprintf(format, args...)}
	}
	failAt := func(e *Envelope, problem, format string, args ...any) error {
		return &BundleError{Line: lineNo, Sequence: e.Sequence, EventID: e.ID, Problem: problem, Reason: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		var l bundleLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return rep, fail("malformed", "not a JSON object: %v", err)
		}
		if stmt != nil {
			return rep, fail("inserted", "a line follows the signed trailer")
		}
		switch {
		case lineNo == 1:
			if l.Kind != "header" || l.Format != BundleFormat {
				return rep, fail("malformed", "the first line must be a %s header", BundleFormat)
			}
			h := l.BundleHeader
			hdr = &h
			rep.Scope, rep.Whole = h.Scope, len(h.Filters) == 0
			if len(trusted) == 0 {
				if h.VerifierKey == "" {
					return rep, fail("signature", "no trusted key given and the bundle names none")
				}
				trusted, rep.KeyFromBundle = []string{h.VerifierKey}, true
			}
			rep.Key = trusted[0]
		case l.Kind == "event":
			e := l.Event
			if e == nil {
				return rep, fail("malformed", "an event line without an event")
			}
			if e.Sequence <= lastSeq {
				return rep, failAt(e, "reordered", "sequence %d comes after sequence %d: events are out of stream order", e.Sequence, lastSeq)
			}
			subject, err := e.Subject()
			if err != nil || (len(hdr.Filters) > 0 && !MatchesAny(subject, hdr.Filters)) {
				return rep, failAt(e, "inserted", "the event's subject %q is outside the bundle's scope %v", subject, hdr.Filters)
			}
			if brk := chains.Check(e); brk != nil {
				problem := map[string]string{"hash": "changed", "gap": "removed", "repeat": "inserted", "link": "inserted"}[brk.Kind]
				return rep, failAt(e, problem, "aggregate %s: %s (expected %s, found %s)", AggregateKey(e), brk.Reason, short(brk.Expected), short(brk.Found))
			}
			if _, ok := firstOf[AggregateKey(e)]; !ok {
				firstOf[AggregateKey(e)] = e
			}
			lastSeq = e.Sequence
			digest = digestStep(digest, e.Sequence, e.Hash)
			rep.Events++
			if !CountsInTree(e) {
				if problem, err := checkEmbeddedCheckpoint(e, &tree, hdr.Stream, trusted, rep.Whole); err != nil {
					return rep, failAt(e, problem, "%v", err)
				}
				rep.Checkpoints++
			} else if rep.Whole {
				if err := tree.Add(e.Hash); err != nil {
					return rep, failAt(e, "malformed", "%v", err)
				}
			}
		case l.Kind == "trailer":
			text, err := OpenNote(l.Note, trusted...)
			if err != nil {
				return rep, fail("signature", "the trailer's signature does not verify: %v", err)
			}
			if stmt, err = parseStatement(text); err != nil {
				return rep, fail("malformed", "%v", err)
			}
		default:
			return rep, fail("malformed", "unknown line kind %q", l.Kind)
		}
	}
	if err := sc.Err(); err != nil {
		return rep, fail("malformed", "reading the bundle: %v", err)
	}
	if hdr == nil {
		return rep, &BundleError{Problem: "malformed", Reason: "the bundle is empty"}
	}
	if stmt == nil {
		return rep, &BundleError{Line: lineNo, Problem: "removed", Reason: "the bundle has no signed trailer: it was truncated"}
	}
	lineNo++ // problems found against the trailer point past the last line
	if err := checkStatement(stmt, hdr, chains.Heads(), firstOf, rep, digest, tree, lastSeq); err != nil {
		return rep, err
	}
	rep.Aggregates, rep.UpTo = len(chains.Heads()), stmt.UpTo
	return rep, nil
}

// checkStatement compares what the bundle holds with what its trailer signed.
func checkStatement(stmt *statement, hdr *BundleHeader, heads map[string]ChainState, firstOf map[string]*Envelope,
	rep BundleReport, digest [32]byte, tree Tree, lastSeq uint64) error {
	bad := func(e *Envelope, problem, format string, args ...any) error {
		be := &BundleError{Problem: problem, Reason: fmt.Sprintf(format, args...)}
		if e != nil {
			be.Sequence, be.EventID = e.Sequence, e.ID
		}
		return be
	}
	if stmt.Stream != hdr.Stream || !slices.Equal(stmt.Filters, hdr.Filters) {
		return bad(nil, "changed", "the header's stream or scope differs from the signed trailer's")
	}
	// Every aggregate in the bundle must end where the trailer says.
	for _, key := range sortedKeys(heads) {
		got, want := heads[key], stmt.Heads[key]
		switch {
		case want.Version == 0:
			return bad(firstOf[key], "inserted", "aggregate %s is not in the signed trailer: its events were inserted", key)
		case got.Version > want.Version:
			return bad(nil, "inserted", "aggregate %s goes to version %d but the signed trailer says it ends at %d", key, got.Version, want.Version)
		case got.Version < want.Version:
			return bad(nil, "removed", "aggregate %s ends at version %d but the signed trailer says %d: its last events were removed", key, got.Version, want.Version)
		case got.Hash != want.Hash:
			return bad(nil, "changed", "aggregate %s's last event hash differs from the signed trailer's", key)
		}
	}
	for _, key := range sortedKeys(stmt.Heads) {
		if _, ok := heads[key]; !ok {
			return bad(nil, "removed", "aggregate %s (version %d) is in the signed trailer but not in the bundle: its events were removed", key, stmt.Heads[key].Version)
		}
	}
	if rep.Events != stmt.Count {
		return bad(nil, "removed", "the bundle holds %d events but the signed trailer counts %d", rep.Events, stmt.Count)
	}
	if digest != stmt.Digest {
		return bad(nil, "reordered", "the events' order or sequence numbers differ from the signed digest")
	}
	if lastSeq > stmt.UpTo {
		return bad(nil, "inserted", "an event at sequence %d lies beyond the signed end %d", lastSeq, stmt.UpTo)
	}
	if rep.Whole {
		if stmt.Root == nil || stmt.TreeCount != tree.N || *stmt.Root != tree.Root() {
			return bad(nil, "removed", "the Merkle root over the bundle's %d events differs from the signed root", tree.N)
		}
	}
	return nil
}

// checkEmbeddedCheckpoint verifies a checkpoint event met in a bundle: its
// signature, and, for a whole-ledger bundle, that the events before it
// hash to its Merkle root — proving none before it was dropped. It names
// the kind of problem found.
func checkEmbeddedCheckpoint(e *Envelope, tree *Tree, stream string, trusted []string, whole bool) (string, error) {
	ev, err := e.Event()
	if err != nil {
		return "malformed", err
	}
	cp, ok := ev.(domain.CheckpointRecorded)
	if !ok {
		return "inserted", fmt.Errorf("a %s event on the ledger subject", e.Type)
	}
	text, err := OpenNote(cp.Note, trusted...)
	if err != nil {
		return "signature", fmt.Errorf("checkpoint %w", err)
	}
	c, err := ParseCheckpoint(text)
	if err != nil {
		return "malformed", err
	}
	if c.Stream != stream {
		return "inserted", fmt.Errorf("checkpoint of stream %s in a bundle of %s", c.Stream, stream)
	}
	if !whole {
		return "", nil
	}
	if c.Sequence != e.Sequence-1 {
		return "reordered", fmt.Errorf("checkpoint covers sequence %d but sits at %d", c.Sequence, e.Sequence)
	}
	if c.Count != tree.N || c.Root != tree.Root() {
		return "removed", fmt.Errorf("the %d events before this checkpoint do not hash to its signed root over %d events: an event before sequence %d was removed or changed", tree.N, c.Count, c.Sequence)
	}
	return "", nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MatchesAny reports whether a literal subject matches one of the filters
// (NATS wildcards: * one token, > the rest), by nats-server's own matching,
// so that a bundle's filters select what a JetStream consumer would.
func MatchesAny(subject string, filters []string) bool {
	for _, f := range filters {
		if server.SubjectMatchesFilter(subject, f) {
			return true
		}
	}
	return false
}

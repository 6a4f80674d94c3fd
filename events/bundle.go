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

// BundleFormat names the export format: JSON Lines, one header carrying
// the checkpoint the bundle was cut at, the events in stream order (each
// with its inclusion proof), the group records that show a scope is
// complete, and a signed trailer.
const BundleFormat = "kpiledger-bundle/2"

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
	// Checkpoint is the signed checkpoint note (with any witness
	// cosignatures) the bundle was cut at: it holds every event up to the
	// checkpoint's size that the filters select.
	Checkpoint string `json:"checkpoint"`
	// Consistency, when present, proves the checkpoint's tree extends the
	// tree of an earlier size (export ?since=).
	Consistency *ConsistencyProof `json:"consistency,omitempty"`
	// Statement is the unit-year's latest signed results statement (a
	// unit-year bundle), with StatementConsistency proving the bundle's
	// checkpoint extends the one the statement was computed at.
	Statement            string            `json:"statement,omitempty"`
	StatementConsistency *ConsistencyProof `json:"statement_consistency,omitempty"`
}

type bundleEvent struct {
	Kind  string    `json:"kind"` // "event"
	Event *Envelope `json:"event"`
	// Proof is the event's inclusion proof in the checkpoint's tree (scoped
	// bundles; a whole-ledger bundle recomputes the root instead).
	Proof []tlog.Hash `json:"proof,omitempty"`
}

// bundleGroup proves one group's record is in the checkpoint's group tree.
type bundleGroup struct {
	Kind   string      `json:"kind"` // "group"
	Record string      `json:"record"`
	Index  int64       `json:"index"`
	Proof  []tlog.Hash `json:"proof"`
}

// bundleAbsent proves a group of the bundle's scope has no record in the
// checkpoint's group tree, so no events up to the checkpoint (a unit-year
// that had none yet).
type bundleAbsent struct {
	Kind       string           `json:"kind"` // "absent"
	Group      string           `json:"group"`
	Neighbours []GroupNeighbour `json:"neighbours"`
}

type bundleTrailer struct {
	Kind string `json:"kind"` // "trailer"
	Note string `json:"note"` // the signed BundleStatement
}

// bundleLine is any line, for decoding.
type bundleLine struct {
	Kind string `json:"kind"`
	BundleHeader
	Event  *Envelope   `json:"event"`
	Proof  []tlog.Hash `json:"proof"`
	Record string      `json:"record"`
	Index  int64       `json:"index"`
	Note   string      `json:"note"`
	// Group and Neighbours are an "absent" line's.
	Group      string           `json:"group"`
	Neighbours []GroupNeighbour `json:"neighbours"`
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

// BundleCut is where a bundle is cut: a signed checkpoint, the tiles that
// prove each event is in its tree, and the group tree it commits to.
type BundleCut struct {
	Note        string // the signed checkpoint, with any cosignatures
	Checkpoint  Checkpoint
	Tiles       *Tiles
	Groups      *GroupTree
	Consistency *ConsistencyProof // optional: from an earlier size
	// Statement and StatementConsistency go into the header as they are.
	Statement            string
	StatementConsistency *ConsistencyProof
}

// BundleWriter streams a bundle.
type BundleWriter struct {
	w       *bufio.Writer
	key     *SigningKey
	stmt    statement
	tree    Tree
	whole   bool
	filters []string
	scope   Scope
	cut     BundleCut
}

// NewBundleWriter writes the header. Filters select the events (none: the
// whole stream, whose trailer then also carries the Merkle root); write
// only events up to the cut's checkpoint size.
func NewBundleWriter(w io.Writer, key *SigningKey, stream string, scope Scope, filters []string, at time.Time, cut BundleCut) (*BundleWriter, error) {
	b := &BundleWriter{w: bufio.NewWriterSize(w, 64<<10), key: key, whole: len(filters) == 0, filters: filters, scope: scope, cut: cut,
		stmt: statement{Stream: stream, Filters: filters, Heads: map[string]ChainState{}}}
	h := BundleHeader{Kind: "header", Format: BundleFormat, Stream: stream, Scope: scope, Filters: filters,
		ExportedAt: at.UTC(), VerifierKey: key.VerifierKey(), Checkpoint: cut.Note, Consistency: cut.Consistency,
		Statement: cut.Statement, StatementConsistency: cut.StatementConsistency}
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
	if e.Sequence > b.cut.Checkpoint.Size {
		return fmt.Errorf("bundle: sequence %d is beyond the checkpoint's %d events", e.Sequence, b.cut.Checkpoint.Size)
	}
	b.stmt.UpTo = e.Sequence
	b.stmt.Count++
	b.stmt.Digest = digestStep(b.stmt.Digest, e.Sequence, e.Hash)
	b.stmt.Heads[AggregateKey(e)] = ChainState{Version: e.AggregateVersion, Hash: e.Hash}
	line := bundleEvent{Kind: "event", Event: e}
	if b.whole {
		if err := b.tree.Add(e.Hash); err != nil {
			return err
		}
	} else {
		p, err := b.cut.Tiles.ProveInclusion(int64(e.Sequence-1), int64(b.cut.Checkpoint.Size))
		if err != nil {
			return fmt.Errorf("bundle: inclusion proof of sequence %d: %w", e.Sequence, err)
		}
		line.Proof = p
	}
	return b.line(line)
}

// Close writes the group records the scope covers and the signed trailer.
// upTo is the stream sequence the export read up to (at least the last
// event's).
func (b *BundleWriter) Close(upTo uint64) error {
	if upTo > b.stmt.UpTo {
		b.stmt.UpTo = upTo
	}
	if b.whole {
		root := b.tree.Root()
		b.stmt.Root, b.stmt.TreeCount = &root, b.tree.N
	} else if b.cut.Groups != nil {
		for _, r := range b.cut.Groups.Records() {
			if !groupInScope(r.Name, b.filters) {
				continue
			}
			_, i, p, err := b.cut.Groups.Prove(r.Name)
			if err != nil {
				return err
			}
			if err := b.line(bundleGroup{Kind: "group", Record: r.Text(), Index: i, Proof: p}); err != nil {
				return err
			}
		}
		if s := b.scope; s.Unit != "" && s.FiscalYear != 0 {
			g := UnitYearGroup(s.Unit, s.FiscalYear)
			if _, _, _, err := b.cut.Groups.Prove(g); err != nil {
				// No record: the unit-year had no events at the checkpoint.
				n, err := b.cut.Groups.ProveAbsent(g)
				if err != nil {
					return err
				}
				if err := b.line(bundleAbsent{Kind: "absent", Group: g, Neighbours: n}); err != nil {
					return err
				}
			}
		}
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

// groupInScope reports whether filters select a group's events.
func groupInScope(group string, filters []string) bool {
	if strings.HasPrefix(group, "kpi.u.") {
		return MatchesAny(group+".indicator.x", filters) || MatchesAny(group+".innovation.x", filters) || MatchesAny(group+".series.x", filters)
	}
	return MatchesAny(group, filters)
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
	// Checkpoint is the checkpoint the bundle was cut at.
	Checkpoint Checkpoint
	// Cosigners are the names of the trusted witnesses whose cosignatures
	// on the checkpoint verified.
	Cosigners []string
	// Groups is how many groups (unit-years, frameworks…) were shown
	// complete against the checkpoint's group tree.
	Groups int
	// Absent are the groups of the scope shown to have no record in the
	// checkpoint's group tree: no events up to it.
	Absent []string
	// Since is the size of the earlier trusted checkpoint the log was shown
	// to have only grown from (0: none given).
	Since uint64
	// EventList are the verified events in order (with KeepEvents), for
	// recomputing scores.
	EventList []*Envelope
	// Header is the bundle's first line.
	Header BundleHeader
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
	proof := "every event proven in checkpoint " + strconv.FormatUint(r.Checkpoint.Size, 10)
	if r.Whole {
		proof = "the whole tree recomputed to checkpoint " + strconv.FormatUint(r.Checkpoint.Size, 10)
	}
	proof += fmt.Sprintf(", %d groups complete", r.Groups)
	if len(r.Absent) > 0 {
		proof += fmt.Sprintf(", no events of %s (proven absent from the group tree)", strings.Join(r.Absent, ", "))
	}
	if len(r.Cosigners) > 0 {
		proof += ", cosigned by " + strings.Join(r.Cosigners, ", ")
	}
	if r.Since > 0 {
		proof += fmt.Sprintf(", consistent with trusted checkpoint %d", r.Since)
	}
	if r.Checkpoints > 0 {
		proof += fmt.Sprintf(", %d checkpoints in the log verified", r.Checkpoints)
	}
	return fmt.Sprintf("intact: %d events of %d aggregates (%s) up to sequence %d, %s, %s",
		r.Events, r.Aggregates, scope, r.UpTo, proof, trust)
}

// BundleError names the first problem found in a bundle.
type BundleError struct {
	Line     int
	Sequence uint64
	EventID  string
	// Problem is one of changed, removed, reordered, inserted, malformed,
	// signature, not-included, incomplete, witness, fork, stale.
	Problem string
	Reason  string
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

// VerifyOptions says what a bundle is checked against.
type VerifyOptions struct {
	// Trusted are the ledger's verifier keys; with none, the bundle's own
	// key is used and the report says so.
	Trusted []string
	// Witnesses are witness cosigner keys; Quorum of them must have
	// cosigned the bundle's checkpoint.
	Witnesses []string
	Quorum    int
	// Since is an earlier checkpoint the auditor trusts (a signed note):
	// the bundle's checkpoint must extend it.
	Since string
	// KeepEvents keeps the events in the report (for recomputing scores).
	KeepEvents bool
}

// VerifyBundle checks a bundle offline against trusted keys; see
// VerifyBundleWith.
func VerifyBundle(r io.Reader, trusted []string) (BundleReport, error) {
	return VerifyBundleWith(r, VerifyOptions{Trusted: trusted})
}

// VerifyBundleWith checks a bundle offline: the checkpoint it was cut at
// (the ledger's signature, a quorum of witness cosignatures, consistency
// with an earlier trusted checkpoint), every event's hash, every
// aggregate's chain, stream order, scope, every event's inclusion in the
// checkpoint's tree (a whole-ledger bundle recomputes the tree instead),
// every group of the scope complete against the checkpoint's group tree,
// every embedded checkpoint, and the signed trailer's count, digest and
// aggregate heads.
func VerifyBundleWith(r io.Reader, o VerifyOptions) (BundleReport, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxBundleLine)
	var (
		rep     BundleReport
		hdr     *BundleHeader
		cp      Checkpoint
		chains  = NewChainVerifier()
		digest  [32]byte
		tree    Tree
		lastSeq uint64
		firstOf = map[string]*Envelope{}
		lineNo  int
		stmt    *statement
		groups  = map[string]GroupHead{}
		proven  = map[string]GroupRecord{}
		absent  = map[string]bool{}
		trusted = o.Trusted
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
			rep.Header = h
			rep.Scope, rep.Whole = h.Scope, len(h.Filters) == 0
			if len(trusted) == 0 {
				if h.VerifierKey == "" {
					return rep, fail("signature", "no trusted key given and the bundle names none")
				}
				trusted, rep.KeyFromBundle = []string{h.VerifierKey}, true
			}
			rep.Key = trusted[0]
			var err error
			if cp, err = checkBundleCheckpoint(&h, trusted, o, &rep); err != nil {
				var be *BundleError
				if errors.As(err, &be) {
					be.Line = lineNo
				}
				return rep, err
			}
			rep.Checkpoint = cp
		case l.Kind == "event":
			e := l.Event
			if e == nil {
				return rep, fail("malformed", "an event line without an event")
			}
			if e.Sequence <= lastSeq {
				return rep, failAt(e, "reordered", "sequence %d comes after sequence %d: events are out of stream order", e.Sequence, lastSeq)
			}
			if len(proven) > 0 || len(absent) > 0 {
				return rep, failAt(e, "malformed", "an event after the group records")
			}
			subject, err := e.Subject()
			if err != nil || (len(hdr.Filters) > 0 && !MatchesAny(subject, hdr.Filters)) {
				return rep, failAt(e, "inserted", "the event's subject %q is outside the bundle's scope %v", subject, hdr.Filters)
			}
			if e.Sequence > cp.Size {
				return rep, failAt(e, "inserted", "sequence %d lies beyond the checkpoint the bundle was cut at (%d events)", e.Sequence, cp.Size)
			}
			if brk := chains.Check(e); brk != nil {
				problem := map[string]string{"hash": "changed", "gap": "removed", "repeat": "inserted", "link": "inserted"}[brk.Kind]
				return rep, failAt(e, problem, "aggregate %s: %s (expected %s, found %s)", AggregateKey(e), brk.Reason, short(brk.Expected), short(brk.Found))
			}
			if !rep.Whole {
				if err := checkInclusion(cp, e, l.Proof); err != nil {
					return rep, failAt(e, "not-included", "%v", err)
				}
			}
			if _, ok := firstOf[AggregateKey(e)]; !ok {
				firstOf[AggregateKey(e)] = e
			}
			lastSeq = e.Sequence
			digest = digestStep(digest, e.Sequence, e.Hash)
			rep.Events++
			if e.AggregateKind == KindLedger {
				if problem, err := checkEmbeddedCheckpoint(e, &tree, hdr.Stream, trusted, rep.Whole); err != nil {
					return rep, failAt(e, problem, "%v", err)
				}
				rep.Checkpoints++
			}
			if rep.Whole {
				if err := tree.Add(e.Hash); err != nil {
					return rep, failAt(e, "malformed", "%v", err)
				}
			}
			g := GroupOfSubject(subject)
			gh := groups[g]
			if err := gh.Add(e.Sequence, e.Hash); err != nil {
				return rep, failAt(e, "malformed", "%v", err)
			}
			groups[g] = gh
			if o.KeepEvents {
				rep.EventList = append(rep.EventList, e)
			}
		case l.Kind == "group":
			rec, err := ParseGroupRecord(l.Record)
			if err != nil {
				return rep, fail("malformed", "%v", err)
			}
			if err := CheckGroupRecord(cp, rec, l.Index, l.Proof); err != nil {
				return rep, fail("not-included", "the record of group %s is not in the checkpoint's group tree: %v", rec.Name, err)
			}
			proven[rec.Name] = rec
		case l.Kind == "absent":
			if err := CheckGroupAbsent(cp, l.Group, l.Neighbours); err != nil {
				return rep, fail("not-included", "the bundle claims group %s has no events at the checkpoint, but %v", l.Group, err)
			}
			absent[l.Group] = true
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
	if err := checkGroups(cp, hdr, rep.Whole, tree, groups, proven, absent); err != nil {
		err.Line = lineNo
		return rep, err
	}
	rep.Groups, rep.Absent = len(groups), sortedKeys(absent)
	rep.Aggregates, rep.UpTo = len(chains.Heads()), stmt.UpTo
	return rep, nil
}

// checkBundleCheckpoint opens the checkpoint a bundle was cut at and checks
// it against the ledger's keys, the witnesses and an earlier checkpoint.
func checkBundleCheckpoint(h *BundleHeader, trusted []string, o VerifyOptions, rep *BundleReport) (Checkpoint, error) {
	bad := func(problem, format string, args ...any) error {
		return &BundleError{Problem: problem, Reason: fmt.Sprintf(format, args...)}
	}
	if h.Checkpoint == "" {
		return Checkpoint{}, bad("malformed", "the header carries no checkpoint")
	}
	text, err := OpenNote(h.Checkpoint, trusted...)
	if err != nil {
		return Checkpoint{}, bad("signature", "the checkpoint the bundle was cut at: %v", err)
	}
	cp, err := ParseCheckpoint(text)
	if err != nil {
		return cp, bad("malformed", "%v", err)
	}
	if cp.Origin != Origin(h.Stream) {
		return cp, bad("inserted", "the checkpoint is of log %q, the bundle of stream %s", cp.Origin, h.Stream)
	}
	if len(o.Witnesses) > 0 || o.Quorum > 0 {
		names, err := Cosigners(h.Checkpoint, o.Witnesses)
		if err != nil {
			return cp, bad("witness", "%v", err)
		}
		rep.Cosigners = names
		if len(names) < o.Quorum {
			return cp, bad("witness", "the checkpoint of size %d carries %d valid cosignatures of the %d trusted witnesses, %d required: no quorum of witnesses saw this tree (a re-signed history, or a checkpoint the witnesses never saw)",
				cp.Size, len(names), len(o.Witnesses), o.Quorum)
		}
	}
	if o.Since != "" {
		stext, err := OpenNote(o.Since, trusted...)
		if err != nil {
			return cp, bad("signature", "the earlier trusted checkpoint (--since): %v", err)
		}
		since, err := ParseCheckpoint(stext)
		if err != nil {
			return cp, bad("malformed", "the earlier trusted checkpoint (--since): %v", err)
		}
		if since.Origin != cp.Origin {
			return cp, bad("fork", "the earlier trusted checkpoint is of log %q, the bundle's of %q", since.Origin, cp.Origin)
		}
		switch {
		case since.Size > cp.Size:
			return cp, bad("stale", "the bundle's checkpoint holds %d events but the trusted checkpoint already held %d: a stale checkpoint presented as new, or a log rolled back", cp.Size, since.Size)
		case since.Size == cp.Size && since.Root != cp.Root:
			return cp, bad("fork", "the bundle's checkpoint and the trusted one both hold %d events but their root hashes differ: the log was forked", cp.Size)
		case since.Size < cp.Size:
			p := h.Consistency
			if p == nil || p.From != since.Size || p.To != cp.Size {
				return cp, bad("fork", "the bundle carries no consistency proof from size %d to %d (export it with --since)", since.Size, cp.Size)
			}
			if err := tlog.CheckTree(p.Hashes, int64(cp.Size), cp.Root, int64(since.Size), since.Root); err != nil {
				return cp, bad("fork", "the bundle's checkpoint of %d events does not extend the trusted checkpoint of %d events: the log was forked or rewritten (%v)", cp.Size, since.Size, err)
			}
		}
		rep.Since = since.Size
	}
	return cp, nil
}

// checkInclusion checks an event's proof against the checkpoint's tree.
func checkInclusion(cp Checkpoint, e *Envelope, proof []tlog.Hash) error {
	hb, err := hex.DecodeString(e.Hash)
	if err != nil || len(hb) != 32 {
		return fmt.Errorf("the event's hash is not 32 hex-encoded bytes")
	}
	if len(proof) == 0 && cp.Size > 1 {
		return fmt.Errorf("the event carries no inclusion proof")
	}
	if err := tlog.CheckRecord(proof, int64(cp.Size), cp.Root, int64(e.Sequence-1), tlog.RecordHash(hb)); err != nil {
		return fmt.Errorf("its inclusion proof does not lead to the root of the checkpoint's tree of %d events: the event was changed after the checkpoint, or the proof is for another tree size", cp.Size)
	}
	return nil
}

// checkGroups shows that every group of the bundle is complete: a
// whole-ledger bundle recomputes the tree and the group tree and compares
// them with the checkpoint; a scoped bundle compares each group it holds
// with the group's record proven in the checkpoint's group tree.
func checkGroups(cp Checkpoint, hdr *BundleHeader, whole bool, tree Tree, groups map[string]GroupHead, proven map[string]GroupRecord, absent map[string]bool) *BundleError {
	bad := func(problem, format string, args ...any) *BundleError {
		return &BundleError{Problem: problem, Reason: fmt.Sprintf(format, args...)}
	}
	if whole {
		if tree.N != cp.Size || tree.Root() != cp.Root {
			return bad("removed", "the %d events of the bundle do not hash to the root of the checkpoint's tree of %d events: events were changed, removed or inserted", tree.N, cp.Size)
		}
		if cp.Groups == nil {
			return nil
		}
		gt, err := NewGroupTree(groups)
		if err != nil {
			return bad("malformed", "%v", err)
		}
		if uint64(gt.Len()) != cp.GroupCount || gt.Root() != *cp.Groups {
			return bad("changed", "the groups recomputed from the bundle differ from the group tree the checkpoint commits to: the ledger signed a false commitment")
		}
		return nil
	}
	if cp.Groups == nil {
		return bad("incomplete", "the checkpoint commits to no group tree, so nothing shows the bundle holds every event of its scope")
	}
	if s := hdr.Scope; s.Unit != "" && s.FiscalYear != 0 {
		g := UnitYearGroup(s.Unit, s.FiscalYear)
		if _, ok := proven[g]; !ok && !absent[g] {
			return bad("incomplete", "the bundle carries no proven record of unit-year %s, so nothing shows it holds every event of it", g)
		}
	}
	for _, name := range sortedKeys(absent) {
		if !groupInScope(name, hdr.Filters) {
			return bad("inserted", "the bundle proves group %s absent, which lies outside its scope", name)
		}
		if _, ok := proven[name]; ok {
			return bad("malformed", "the bundle proves group %s both present and absent", name)
		}
		if n := groups[name].Count; n > 0 {
			return bad("inserted", "group %s: the checkpoint's group tree has no record of it, yet the bundle holds %d of its events", name, n)
		}
	}
	for _, name := range sortedKeys(proven) {
		rec := proven[name]
		if !groupInScope(name, hdr.Filters) {
			return bad("inserted", "the record of group %s lies outside the bundle's scope", name)
		}
		got := groups[name]
		switch {
		case got.Count < rec.Count:
			return bad("removed", "group %s: the checkpoint commits %d events but the bundle holds %d: %d event(s) of it were left out", name, rec.Count, got.Count, rec.Count-got.Count)
		case got.Count > rec.Count:
			return bad("inserted", "group %s: the checkpoint commits %d events but the bundle holds %d", name, rec.Count, got.Count)
		case got.Head != rec.Head:
			return bad("changed", "group %s: its events' chain differs from the head the checkpoint commits to: an event of it was replaced", name)
		}
	}
	for _, name := range sortedKeys(groups) {
		if _, ok := proven[name]; !ok {
			return bad("incomplete", "group %s has events in the bundle but no record proven in the checkpoint's group tree", name)
		}
	}
	return nil
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

// checkEmbeddedCheckpoint verifies a checkpoint event met in a bundle or
// the log: its signature, and, when the tree holds every event before it,
// that they hash to its root — proving none before it was dropped. It names
// the kind of problem found.
func checkEmbeddedCheckpoint(e *Envelope, tree *Tree, stream string, trusted []string, whole bool) (string, error) {
	ev, err := e.Event()
	if err != nil {
		return "malformed", err
	}
	cpe, ok := ev.(domain.CheckpointRecorded)
	if !ok {
		return "", nil // another ledger event: its own checks apply
	}
	text, err := OpenNote(cpe.Note, trusted...)
	if err != nil {
		return "signature", fmt.Errorf("checkpoint %w", err)
	}
	c, err := ParseCheckpoint(text)
	if err != nil {
		return "malformed", err
	}
	if c.Origin != Origin(stream) {
		return "inserted", fmt.Errorf("checkpoint of log %s in a log of %s", c.Origin, Origin(stream))
	}
	if !whole {
		return "", nil
	}
	if c.Size != e.Sequence-1 {
		return "reordered", fmt.Errorf("checkpoint covers sequence %d but sits at %d", c.Size, e.Sequence)
	}
	if c.Size != tree.N || c.Root != tree.Root() {
		return "removed", fmt.Errorf("the %d events before this checkpoint do not hash to its signed root over %d events: an event before sequence %d was removed or changed", tree.N, c.Size, c.Size)
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

// ResignTrailer replaces a bundle's trailer with one signed by key over
// exactly the events the bundle now holds: what whoever holds the ledger's
// key can do to a bundle after removing or changing events. The attack
// tests use it to show that such a bundle is still caught, by the
// checkpoint's tree, its group tree and the witnesses' cosignatures.
func ResignTrailer(bundle []byte, key *SigningKey) ([]byte, error) {
	lines := strings.Split(strings.TrimSuffix(string(bundle), "\n"), "\n")
	if len(lines) < 2 {
		return nil, errors.New("not a bundle")
	}
	var hdr BundleHeader
	if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil {
		return nil, err
	}
	st := statement{Stream: hdr.Stream, Filters: hdr.Filters, Heads: map[string]ChainState{}}
	if len(st.Filters) == 0 {
		st.Filters = nil
	}
	var tree Tree
	for _, l := range lines[1 : len(lines)-1] {
		var bl bundleLine
		if err := json.Unmarshal([]byte(l), &bl); err != nil {
			return nil, err
		}
		if bl.Kind != "event" || bl.Event == nil {
			continue
		}
		e := bl.Event
		st.UpTo, st.Count = e.Sequence, st.Count+1
		st.Digest = digestStep(st.Digest, e.Sequence, e.Hash)
		st.Heads[AggregateKey(e)] = ChainState{Version: e.AggregateVersion, Hash: e.Hash}
		if err := tree.Add(e.Hash); err != nil {
			return nil, err
		}
	}
	if len(st.Filters) == 0 {
		root := tree.Root()
		st.Root, st.TreeCount = &root, tree.N
	}
	signed, err := key.Sign(st.text())
	if err != nil {
		return nil, err
	}
	t, _ := json.Marshal(bundleTrailer{Kind: "trailer", Note: signed})
	lines[len(lines)-1] = string(t)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

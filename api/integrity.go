package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

type (
	keyView struct {
		VerifierKey string `json:"verifier_key"`
		Algorithm   string `json:"algorithm"`
		Format      string `json:"format"`
	}
	checkpointView struct {
		projections.Checkpoint
		Created bool `json:"created"`
	}
	checkpointList struct {
		Checkpoints []projections.Checkpoint `json:"checkpoints"`
	}
)

// verifyLog: GET /v1/verify — walks every hash chain in the stream.
func (s *Server) verifyLog(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	rep, err := events.VerifyLog(c.Request().Context(), s.store, s.trusted)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// verifyKey: GET /v1/verify/key — the key checkpoints and bundles are signed with.
func (s *Server) verifyKey(c echo.Context) error {
	return c.JSON(http.StatusOK, keyView{VerifierKey: s.signer.VerifierKey(), Algorithm: "Ed25519", Format: "golang.org/x/mod/sumdb/note verifier key"})
}

// export: GET /v1/export?unit=&fiscal_year=&since= — a JSON Lines bundle
// of the selected events, cut at the latest signed checkpoint (signed now
// if events came after it), each event with its inclusion proof, the
// records that show each unit-year is complete, and a signed trailer;
// verifiable offline by `kpiledger verify --file`. Without parameters: the
// whole ledger. since=N adds a consistency proof from the tree of N events.
func (s *Server) export(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	scope := events.Scope{Unit: c.QueryParam("unit")}
	if v := c.QueryParam("fiscal_year"); v != "" {
		fy, err := fiscalYear("fiscal_year", v)
		if err != nil {
			return err
		}
		scope.FiscalYear = fy
	}
	filters, err := s.exportFilters(scope)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cut, err := s.bundleCut(ctx, filters, c.QueryParam("since"))
	if err != nil {
		return err
	}
	if scope.Unit != "" && scope.FiscalYear != 0 {
		if err := s.attachStatement(ctx, &cut, scope); err != nil {
			return err
		}
	}
	last := cut.Checkpoint.Size
	name := "kpiledger-all"
	if scope.Unit != "" {
		name = "kpiledger-" + scope.Unit
	}
	if scope.FiscalYear != 0 {
		name += "-" + strconv.Itoa(scope.FiscalYear)
	}
	// Nothing is sent until the first bytes of events have been read:
	// a read that fails before then is answered 503 problem+json, never
	// 200 with an empty body.
	out := &deferredBody{c: c, open: func(h http.Header) {
		h.Set(echo.HeaderContentType, "application/x-ndjson; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%d.jsonl"`, name, last))
	}}
	w, err := events.NewBundleWriter(out, s.signer, s.store.Name(), scope, filters, s.now(), cut)
	if err != nil {
		return err
	}
	if err := s.store.Read(ctx, events.ReadOptions{Filters: filters, UpTo: last}, w.Event); err != nil {
		if !out.sent {
			return err
		}
		// Once streaming has begun the status cannot change: the bundle
		// ends without its signed trailer, which the verifier reports as
		// truncated.
		s.log.Error("export interrupted: the bundle was sent without its trailer", "scope", name, "up_to", last, "err", err)
		return nil
	}
	if err := w.Close(last); err != nil {
		if !out.sent {
			return err
		}
		s.log.Error("export trailer", "err", err)
		return nil
	}
	return out.flush()
}

// deferredBody holds a streamed answer's first bytes back until there are
// enough of them (or the answer is complete), so that a failure before
// then can still be answered with an error status.
type deferredBody struct {
	c    echo.Context
	open func(http.Header) // sets the success headers
	buf  []byte
	sent bool // the status line and the buffer went out
}

// deferredHold is how much a deferredBody holds before it starts sending.
const deferredHold = 64 << 10

func (d *deferredBody) Write(p []byte) (int, error) {
	if d.sent {
		return d.c.Response().Write(p)
	}
	d.buf = append(d.buf, p...)
	if len(d.buf) >= deferredHold {
		if err := d.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flush sends the status, the headers and what is held.
func (d *deferredBody) flush() error {
	if !d.sent {
		d.sent = true
		d.open(d.c.Response().Header())
		d.c.Response().WriteHeader(http.StatusOK)
	}
	if len(d.buf) == 0 {
		return nil
	}
	_, err := d.c.Response().Write(d.buf)
	d.buf = nil
	return err
}

// bundleCut is the latest checkpoint (signed now if events came after it)
// with its witness cosignatures, tiles brought up to it, and its group tree.
func (s *Server) bundleCut(ctx context.Context, filters []string, since string) (events.BundleCut, error) {
	var cut events.BundleCut
	cp, _, err := s.Checkpoint(ctx)
	if err != nil {
		return cut, err
	}
	tiles, err := s.tilesAt(ctx, cp.Count)
	if err != nil {
		return cut, err
	}
	if cut.Note, err = s.cosignedNote(ctx, tiles, cp); err != nil {
		return cut, err
	}
	text, err := events.OpenNote(cut.Note, s.trusted...)
	if err != nil {
		return cut, err
	}
	if cut.Checkpoint, err = events.ParseCheckpoint(text); err != nil {
		return cut, err
	}
	cut.Tiles = tiles
	if len(filters) > 0 {
		if cut.Groups, err = tiles.Groups(ctx, cp.Count); err != nil {
			return cut, err
		}
	}
	if since != "" {
		from, err := strconv.ParseUint(since, 10, 64)
		if err != nil || from == 0 || from > cp.Count {
			return cut, badRequest("since", fmt.Sprintf("must be a tree size from 1 to the checkpoint's %d", cp.Count))
		}
		p, err := consistency(tiles, from, cp.Count)
		if err != nil {
			return cut, err
		}
		cut.Consistency = &p
	}
	return cut, nil
}

// tilesRef opens the tiles on first use when the server was given none.
type tilesRef struct {
	mu sync.Mutex
	t  *events.Tiles
}

// tilesAt returns the tiles holding at least size leaves.
func (s *Server) tilesAt(ctx context.Context, size uint64) (*events.Tiles, error) {
	s.tiles.mu.Lock()
	if s.tiles.t == nil {
		t, err := events.OpenTilesFor(ctx, s.store)
		if err != nil {
			s.tiles.mu.Unlock()
			return nil, err
		}
		s.tiles.t = t
	}
	t := s.tiles.t
	s.tiles.mu.Unlock()
	if uint64(t.Size()) < size {
		// A size beyond the log is answered at once: reading up to it
		// would wait for a sequence no replica holds.
		if last, err := s.store.LastSequence(ctx); err == nil && size > last {
			return nil, notFound("the log holds %d events, not %d", last, size)
		}
	}
	// A read on a cluster can find no responder for a moment (a stream
	// leader moving): a few quick tries ride it out.
	for attempt := 1; uint64(t.Size()) < size; attempt++ {
		err := t.SyncTo(ctx, size)
		if err == nil {
			break
		}
		if !errors.Is(err, events.ErrUnavailable) || attempt == 5 {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
	if got := uint64(t.Size()); got < size {
		return nil, notFound("the log holds %d events, not %d", got, size)
	}
	return t, nil
}

// cosignedNote is a checkpoint's note with the cosignatures collected for it.
func (s *Server) cosignedNote(ctx context.Context, tiles *events.Tiles, cp projections.Checkpoint) (string, error) {
	note, ok, err := tiles.Cosigned(ctx, cp.Count)
	if err != nil || !ok {
		return cp.Note, err
	}
	return note, nil
}

// exportFilters maps a scope onto subject filters (nil: the whole stream).
func (s *Server) exportFilters(scope events.Scope) ([]string, error) {
	fy := strconv.Itoa(scope.FiscalYear)
	if scope.Unit == "" {
		if scope.FiscalYear == 0 {
			return nil, nil
		}
		return []string{"kpi.fw." + fy + ".*", "kpi.u.*." + fy + ".>"}, nil
	}
	u, err := s.unitOf(scope.Unit)
	if err != nil {
		return nil, err
	}
	if scope.FiscalYear != 0 {
		return []string{events.FrameworkSubject(scope.FiscalYear, string(u.Kind)), events.UnitYearFilter(u.Code, scope.FiscalYear)}, nil
	}
	filters := []string{"kpi.fw.*." + string(u.Kind), events.UnitFilter(u.Code)}
	if u.Kind == domain.KindDepartment {
		filters = append(filters, "kpi.reg."+u.Code)
	}
	return filters, nil
}

// createCheckpoint: POST /v1/checkpoints — sign a checkpoint now.
func (s *Server) createCheckpoint(c echo.Context) error {
	if err := requireRole(c, domain.RoleOPDC); err != nil {
		return err
	}
	cp, created, err := s.Checkpoint(c.Request().Context())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, checkpointView{Checkpoint: cp, Created: created})
}

// listCheckpoints: GET /v1/checkpoints.
func (s *Server) listCheckpoints(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	out := checkpointList{Checkpoints: []projections.Checkpoint{}}
	s.model.Read(func(st *projections.State) { out.Checkpoints = append(out.Checkpoints, st.Checkpoints...) })
	return c.JSON(http.StatusOK, out)
}

// Checkpoint signs a checkpoint over every event the read model holds,
// unless the last checkpoint is the last event (created is then false and
// the last one is returned). Nodes racing to checkpoint the same sequence
// produce one event: its command id names the sequence. The checkpoint's
// group tree is saved first, so bundles cut at it can prove each group.
func (s *Server) Checkpoint(ctx context.Context) (cp projections.Checkpoint, created bool, err error) {
	for attempt := 1; ; attempt++ {
		var (
			tree   events.Tree
			seq    uint64
			ledger events.Aggregate
			last   *projections.Checkpoint
			groups map[string]events.GroupHead
		)
		s.model.Read(func(st *projections.State) {
			tree, seq = st.Tree.Clone(), st.Sequence
			ledger = head(st, events.Aggregate{Kind: events.KindLedger, ID: events.LedgerID})
			if n := len(st.Checkpoints); n > 0 {
				cp := st.Checkpoints[n-1]
				last = &cp
			}
			groups = maps.Clone(st.Groups)
		})
		if last != nil && last.EventSequence == seq {
			return *last, false, nil
		}
		if tree.N == 0 {
			return cp, false, fmt.Errorf("%w: the ledger holds no events to checkpoint yet", domain.ErrConflict)
		}
		gt, err := events.NewGroupTree(groups)
		if err != nil {
			return cp, false, err
		}
		tiles, err := s.tilesAt(ctx, 0)
		if err != nil {
			return cp, false, err
		}
		if err := tiles.SaveGroups(ctx, tree.N, gt); err != nil {
			return cp, false, err
		}
		env, err := events.NewCheckpointEvent(s.signer, s.store.Name(), &tree, gt, ledger)
		if err != nil {
			return cp, false, err
		}
		env.Actor = domain.Actor{Subject: "kpiledger", Role: domain.RoleSystem}
		env.CommandID = "checkpoint-" + strconv.FormatUint(seq, 10)
		res, err := s.store.AppendAfter(ctx, env, ledger.LastSeq, seq)
		if isConflict(err) && attempt < maxAttempts {
			if err := s.catchUp(ctx); err != nil {
				return cp, false, err
			}
			continue
		}
		if err != nil {
			return cp, false, err
		}
		if err := s.waitFor(ctx, res.Sequence); err != nil {
			return cp, false, err
		}
		s.model.Read(func(st *projections.State) {
			for _, c := range st.Checkpoints {
				if c.EventSequence == res.Sequence {
					cp = c
				}
			}
		})
		return cp, !res.Duplicate, nil
	}
}

// checkpointOf finds the signed checkpoint of a tree size (0: the latest).
func (s *Server) checkpointOf(size uint64) (projections.Checkpoint, bool) {
	var (
		cp    projections.Checkpoint
		found bool
	)
	s.model.Read(func(st *projections.State) {
		for i := len(st.Checkpoints) - 1; i >= 0; i-- {
			if c := st.Checkpoints[i]; size == 0 || c.Count == size {
				cp, found = c, true
				return
			}
		}
	})
	return cp, found
}

// latestCheckpoint: GET /v1/checkpoints/latest — the latest signed
// checkpoint as a note (c2sp.org/tlog-checkpoint), with the witness
// cosignatures collected for it.
func (s *Server) latestCheckpoint(c echo.Context) error {
	return s.serveCheckpoint(c, 0)
}

// checkpointAt: GET /v1/checkpoints/:size — the signed checkpoint of a tree size.
func (s *Server) checkpointAt(c echo.Context) error {
	size, err := strconv.ParseUint(c.Param("size"), 10, 64)
	if err != nil || size == 0 {
		return badRequest("size", "must be a tree size (a positive number of events)")
	}
	return s.serveCheckpoint(c, size)
}

func (s *Server) serveCheckpoint(c echo.Context, size uint64) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	cp, ok := s.checkpointOf(size)
	if !ok {
		if size == 0 {
			return notFound("no checkpoint has been signed yet (POST /v1/checkpoints)")
		}
		return notFound("no checkpoint of size %d was signed", size)
	}
	tiles, err := s.tilesAt(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	note, err := s.cosignedNote(c.Request().Context(), tiles, cp)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(note))
}

// maxCosignedNote bounds a cosigned checkpoint's body.
const maxCosignedNote = 64 << 10

// maxCosignatures bounds the signature lines kept on one checkpoint.
const maxCosignatures = 16

// addCosignature: POST /v1/checkpoints/:size/cosignatures?key=VKEY — a
// witness hands back the checkpoint with its cosignature. The ledger keeps
// it if it verifies under the witness's key (one of serve --witness-keys
// when those are set). Which witnesses count is the auditor's choice, made
// with verify --witness; the ledger only refuses what does not verify.
func (s *Server) addCosignature(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	size, err := strconv.ParseUint(c.Param("size"), 10, 64)
	if err != nil || size == 0 {
		return badRequest("size", "must be a tree size (a positive number of events)")
	}
	key := c.QueryParam("key")
	if _, err := events.NewCosignVerifier(key); err != nil {
		return badRequest("key", "the witness's verifier key (name+hash+base64): "+err.Error())
	}
	if len(s.witnesses) > 0 && !slices.Contains(s.witnesses, key) {
		return forbidden("this ledger collects cosignatures only from the witnesses of serve --witness-keys")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxCosignedNote+1))
	if err != nil {
		return err
	}
	if len(body) > maxCosignedNote {
		return badRequest("body", fmt.Sprintf("a cosigned checkpoint is at most %d bytes", maxCosignedNote))
	}
	cp, ok := s.checkpointOf(size)
	if !ok {
		return notFound("no checkpoint of size %d was signed", size)
	}
	ctx := c.Request().Context()
	tiles, err := s.tilesAt(ctx, 0)
	if err != nil {
		return err
	}
	merged, err := tiles.UpdateCosigned(ctx, size, cp.Note, func(cur string) (string, error) {
		m, err := events.MergeCosignatures(cur, string(body), []string{key})
		if err != nil {
			return "", badRequest("body", err.Error())
		}
		if strings.Count(m, "\n— ") > maxCosignatures+1 {
			return "", fmt.Errorf("%w: checkpoint %d already carries %d cosignatures", domain.ErrConflict, size, maxCosignatures)
		}
		return m, nil
	})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(merged))
}

// treeSize reads a tree size parameter.
func treeSize(c echo.Context, name string) (uint64, error) {
	v, err := strconv.ParseUint(c.QueryParam(name), 10, 64)
	if err != nil || v == 0 {
		return 0, badRequest(name, "must be a positive number of events")
	}
	return v, nil
}

// inclusionProof: GET /v1/proofs/inclusion?sequence=N&size=M — the proof
// that the event at sequence N is in the tree of M events (default: the
// latest checkpoint's), with the signed checkpoint of that size if one exists.
func (s *Server) inclusionProof(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	seq, err := treeSize(c, "sequence")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var size uint64
	if c.QueryParam("size") == "" {
		cp, ok := s.checkpointOf(0)
		if !ok {
			return badRequest("size", "required while no checkpoint has been signed")
		}
		size = cp.Count
	} else if size, err = treeSize(c, "size"); err != nil {
		return err
	}
	if seq > size {
		return badRequest("sequence", fmt.Sprintf("sequence %d is not in a tree of %d events", seq, size))
	}
	tiles, err := s.tilesAt(ctx, size)
	if err != nil {
		return err
	}
	hashes, err := tiles.ProveInclusion(int64(seq-1), int64(size))
	if err != nil {
		return err
	}
	root, err := tiles.TreeHash(int64(size))
	if err != nil {
		return err
	}
	e, err := s.store.Get(ctx, seq)
	if err != nil {
		return err
	}
	p := events.InclusionProof{Sequence: seq, Index: seq - 1, Size: size, EventHash: e.Hash, Root: root, Hashes: hashes}
	if cp, ok := s.checkpointOf(size); ok {
		if p.Checkpoint, err = s.cosignedNote(ctx, tiles, cp); err != nil {
			return err
		}
		p.TlogProof = events.TlogProof(p.Index, hashes, p.Checkpoint)
	}
	if p.Hashes == nil {
		p.Hashes = []tlog.Hash{}
	}
	return c.JSON(http.StatusOK, p)
}

// consistencyProof: GET /v1/proofs/consistency?from=A&to=B — the proof
// that the tree of A events is a prefix of the tree of B events.
func (s *Server) consistencyProof(c echo.Context) error {
	if err := requireAuditor(c); err != nil {
		return err
	}
	from, err := treeSize(c, "from")
	if err != nil {
		return err
	}
	to, err := treeSize(c, "to")
	if err != nil {
		return err
	}
	if from > to {
		return badRequest("from", fmt.Sprintf("a tree of %d events cannot be a prefix of one of %d", from, to))
	}
	tiles, err := s.tilesAt(c.Request().Context(), to)
	if err != nil {
		return err
	}
	p, err := consistency(tiles, from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func consistency(tiles *events.Tiles, from, to uint64) (events.ConsistencyProof, error) {
	p := events.ConsistencyProof{From: from, To: to, Hashes: []tlog.Hash{}}
	var err error
	if p.FromRoot, err = tiles.TreeHash(int64(from)); err != nil {
		return p, err
	}
	if p.ToRoot, err = tiles.TreeHash(int64(to)); err != nil {
		return p, err
	}
	hashes, err := tiles.ProveConsistency(int64(from), int64(to))
	if err != nil {
		return p, err
	}
	if hashes != nil {
		p.Hashes = hashes
	}
	return p, nil
}

// attachStatement puts the unit-year's latest results statement into a
// bundle's cut, with the proof that the cut's checkpoint extends the one
// the statement was computed at.
func (s *Server) attachStatement(ctx context.Context, cut *events.BundleCut, scope events.Scope) error {
	note, ok, err := cut.Tiles.Statement(ctx, scope.Unit, scope.FiscalYear)
	if err != nil || !ok {
		return err
	}
	text, err := events.OpenNote(note, s.trusted...)
	if err != nil {
		return err
	}
	stmt, err := projections.ParseStatement(text)
	if err != nil || stmt.Size > cut.Checkpoint.Size {
		return err
	}
	cut.Statement = note
	if stmt.Size < cut.Checkpoint.Size {
		p, err := consistency(cut.Tiles, stmt.Size, cut.Checkpoint.Size)
		if err != nil {
			return err
		}
		cut.StatementConsistency = &p
	}
	return nil
}

// signStatement: POST /v1/units/:unit/years/:fy/statement — OPDC closes a
// round: the unit-year's figures (every approved indicator's score, each
// component's, the total and the band) computed from its events up to the
// latest checkpoint (signed now if events came after it), signed with the
// ledger's key and bound to that checkpoint. Unit-year exports carry the
// latest one; kpiledger verify --recompute checks every figure.
func (s *Server) signStatement(c echo.Context) error {
	if err := requireRole(c, domain.RoleOPDC); err != nil {
		return err
	}
	u, err := s.unitOf(c.Param("unit"))
	if err != nil {
		return err
	}
	fy, err := fiscalYear("fy", c.Param("fy"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cut, err := s.bundleCut(ctx, nil, "")
	if err != nil {
		return err
	}
	evs, err := s.store.ReadSubjects(ctx, []string{events.UnitYearFilter(u.Code, fy), events.FrameworkSubject(fy, string(u.Kind))})
	if err != nil {
		return err
	}
	var upTo []*events.Envelope
	for _, e := range evs {
		if e.Sequence <= cut.Checkpoint.Size {
			upTo = append(upTo, e)
		}
	}
	sc, err := projections.ScoreEvents(upTo, u, fy)
	if err != nil {
		return err
	}
	note, err := s.signer.Sign(projections.NewStatement(sc, cut.Checkpoint).Text())
	if err != nil {
		return err
	}
	if err := cut.Tiles.SaveStatement(ctx, u.Code, fy, note); err != nil {
		return err
	}
	return c.Blob(http.StatusCreated, "text/plain; charset=utf-8", []byte(note))
}

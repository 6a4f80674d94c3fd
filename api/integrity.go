package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

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

// export: GET /v1/export?unit=&fiscal_year= — a JSON Lines bundle of the
// selected events with a signed trailer, verifiable offline by
// `kpiledger verify --file`. Without parameters: the whole ledger.
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
	last, err := s.store.LastSequence(ctx)
	if err != nil {
		return err
	}
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
	w, err := events.NewBundleWriter(out, s.signer, s.store.Name(), scope, filters, s.now())
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
// unless the last checkpoint already covers them all (created is then
// false and the last one is returned). Nodes racing to checkpoint the same
// sequence produce one event: its command id names the sequence.
func (s *Server) Checkpoint(ctx context.Context) (cp projections.Checkpoint, created bool, err error) {
	for attempt := 1; ; attempt++ {
		var (
			tree   events.Tree
			seq    uint64
			ledger events.Aggregate
			last   *projections.Checkpoint
		)
		s.model.Read(func(st *projections.State) {
			tree, seq = st.Tree.Clone(), st.Sequence
			ledger = head(st, events.Aggregate{Kind: events.KindLedger, ID: events.LedgerID})
			if n := len(st.Checkpoints); n > 0 {
				cp := st.Checkpoints[n-1]
				last = &cp
			}
		})
		if last != nil && last.Count == tree.N {
			return *last, false, nil
		}
		if tree.N == 0 {
			return cp, false, fmt.Errorf("%w: the ledger holds no events to checkpoint yet", domain.ErrConflict)
		}
		env, err := events.NewCheckpointEvent(s.signer, s.store.Name(), seq, &tree, ledger)
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

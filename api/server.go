package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// Config wires the server to the log and the read model.
type Config struct {
	Store    *events.Store
	Model    *projections.Model
	TokenKey []byte
	Now      func() time.Time
	Log      *slog.Logger
	// WriteWait bounds how long a write waits for this node's read model
	// to include its event (default 10 s).
	WriteWait time.Duration
	// Signer signs checkpoints and export bundles.
	Signer *events.SigningKey
	// Trusted are further verifier keys whose checkpoints GET /v1/verify
	// accepts (earlier keys, other nodes' keys); the signer's is trusted.
	Trusted []string
	// Tiles keeps the log's tree hashes for proofs; nil: opened on first
	// use from the store's stream.
	Tiles *events.Tiles
	// Witnesses are the verifier keys of the witnesses whose cosignatures
	// the ledger collects (POST /v1/checkpoints/:size/cosignatures).
	Witnesses []string
	// Extra is called with the Echo instance after the API routes are
	// registered (the dashboard mounts itself here).
	Extra func(e *echo.Echo)
}

// Server is the HTTP API.
type Server struct {
	store     *events.Store
	model     *projections.Model
	key       []byte
	now       func() time.Time
	log       *slog.Logger
	writeWait time.Duration
	signer    *events.SigningKey
	trusted   []string
	witnesses []string
	tiles     tilesRef
	e         *echo.Echo
	routes    []route
}

// route is one endpoint: registered from this table, and documented in
// /openapi.json from the same entry.
type route struct {
	Method  string
	Path    string // Echo syntax, :param
	Summary string
	Access  string // who may call it, in words
	Body    any    // request body type, nil for none
	Out     any    // response body type, nil for none described
	Status  int    // success status
	Public  bool   // no token needed
	Handler echo.HandlerFunc
}

// New builds the server and registers every route.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, model: cfg.Model, key: cfg.TokenKey, now: cfg.Now, log: cfg.Log,
		writeWait: cfg.WriteWait, signer: cfg.Signer, witnesses: cfg.Witnesses, tiles: tilesRef{t: cfg.Tiles}}
	if s.signer != nil {
		s.trusted = append([]string{s.signer.VerifierKey()}, cfg.Trusted...)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.writeWait == 0 {
		s.writeWait = 10 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Use(s.recoverPanics)
	s.e = e
	s.routes = s.table()
	// The /v1 middleware is attached to each route rather than to a group:
	// an Echo v4 group with middleware also registers a catch-all behind it,
	// which would answer 401 instead of 404 for every unknown path.
	for _, r := range s.routes {
		if r.Public {
			e.Add(r.Method, r.Path, r.Handler)
		} else {
			e.Add(r.Method, r.Path, r.Handler, s.authenticate, s.whenReady, s.minSequence)
		}
	}
	if cfg.Extra != nil {
		cfg.Extra(e)
	}
	return s
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the router (for tests that list routes).
func (s *Server) Echo() *echo.Echo { return s.e }

// recoverPanics turns a handler panic into a logged 500 problem.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in handler", "path", c.Request().URL.Path, "panic", r)
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// whenReady refuses /v1 calls while the read model is still catching up
// (its answers would be stale) or has stopped on a bad event.
func (s *Server) whenReady(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if f := s.model.Failure(); f != nil {
			seq := f.Sequence
			p := problem(http.StatusServiceUnavailable, "read-model-stopped", "Read model stopped", f.Error())
			p.Sequence = &seq
			return p
		}
		if !s.model.Ready() {
			return problem(http.StatusServiceUnavailable, "not-ready", "Catching up",
				fmt.Sprintf("the read models are being rebuilt from the log (at sequence %d); retry shortly", s.model.Applied()))
		}
		return next(c)
	}
}

// minSequence lets a client that wrote through another node (behind a load
// balancer) ask this node to answer only once its read model includes that
// write: ?min_sequence=N or the X-Min-Sequence header.
func (s *Server) minSequence(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := c.QueryParam("min_sequence")
		if v == "" {
			v = c.Request().Header.Get("X-Min-Sequence")
		}
		if v == "" {
			return next(c)
		}
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return badRequest("min_sequence", "must be a stream sequence number")
		}
		if err := s.waitFor(c.Request().Context(), seq); err != nil {
			return err
		}
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is green only once the read models have caught up with the log.
func (s *Server) readyz(c echo.Context) error {
	body := map[string]any{"applied_sequence": s.model.Applied()}
	if f := s.model.Failure(); f != nil {
		body["status"], body["error"], body["failed_sequence"] = "stopped", f.Error(), f.Sequence
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	if !s.model.Ready() {
		body["status"] = "catching up"
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	body["status"] = "ready"
	return c.JSON(http.StatusOK, body)
}

// metrics writes Prometheus text: the store's append counters and latency,
// and where the stream and the read model stand.
func (s *Server) metrics(c echo.Context) error {
	var buf bytes.Buffer
	s.store.Metrics().WritePrometheus(&buf)
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if last, err := s.store.LastSequence(ctx); err == nil {
		fmt.Fprintf(&buf, "# HELP kpiledger_stream_last_sequence Last sequence in the event stream.\n# TYPE kpiledger_stream_last_sequence gauge\nkpiledger_stream_last_sequence %d\n", last)
	}
	fmt.Fprintf(&buf, "# HELP kpiledger_read_model_sequence Last sequence applied by this node's read models.\n# TYPE kpiledger_read_model_sequence gauge\nkpiledger_read_model_sequence %d\n", s.model.Applied())
	ready := 0
	if s.model.Ready() {
		ready = 1
	}
	fmt.Fprintf(&buf, "# HELP kpiledger_read_model_ready Whether the read models have caught up (1) or not (0).\n# TYPE kpiledger_read_model_ready gauge\nkpiledger_read_model_ready %d\n", ready)
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", buf.Bytes())
}

// pathInt parses an integer path parameter.
func pathInt(c echo.Context, name string) (int, error) {
	v, err := strconv.Atoi(c.Param(name))
	if err != nil {
		return 0, badRequest(name, "must be an integer")
	}
	return v, nil
}

// fiscalYear parses a fiscal year path or query parameter.
func fiscalYear(field, v string) (int, error) {
	fy, err := strconv.Atoi(v)
	if err != nil || fy < domain.MinFiscalYear || fy > domain.MaxFiscalYear {
		return 0, badRequest(field, fmt.Sprintf("must be a Buddhist Era fiscal year between %d and %d, e.g. 2563", domain.MinFiscalYear, domain.MaxFiscalYear))
	}
	return fy, nil
}

// unitOf checks that a unit exists and returns it.
func (s *Server) unitOf(code string) (domain.Unit, error) {
	var (
		u  domain.Unit
		ok bool
	)
	s.model.Read(func(st *projections.State) { u, ok = st.Unit(code) })
	if !ok {
		return u, notFound("no unit %q (a province's ISO code such as TH-50, or a registered department's code)", code)
	}
	return u, nil
}

package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

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
	// OIDC, when set, accepts the identity provider's access tokens beside
	// local ones and reports the provider in /readyz (oidc.go).
	OIDC *OIDC
	// NoLocalTokens refuses the ledger's own HS256 tokens (serve
	// --local-tokens=false); only the provider's are accepted then.
	NoLocalTokens bool
	// Tiles keeps the log's tree hashes for proofs; nil: opened on first
	// use from the store's stream.
	Tiles *events.Tiles
	// Witnesses are the verifier keys of the witnesses whose cosignatures
	// the ledger collects (POST /v1/checkpoints/:size/cosignatures).
	Witnesses []string
	// Extra is called with the Echo instance after the API routes are
	// registered (the dashboard mounts itself here).
	Extra func(e *echo.Echo)
	// BodyTimeout and MinBodyRate set each request body's read deadline:
	// BodyTimeout plus the declared length at MinBodyRate bytes a second
	// (defaults 10 s and 16 KiB/s).
	BodyTimeout time.Duration
	MinBodyRate int
	// WriteRate (writes a second, on average) and WriteBurst bound each
	// principal's writes (defaults 1 and 60); a negative WriteRate turns
	// the limit off.
	WriteRate  float64
	WriteBurst int
	// TokenMaxTTL bounds how long a token accepted may live (default
	// DefaultMaxTokenTTL).
	TokenMaxTTL time.Duration
	// ReadOnly, when not empty, is why this node cannot write (its disk
	// was full at start): writes are refused with 503, reads are served,
	// and /readyz says why.
	ReadOnly string
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
	tokens    tokenCache // local tokens already verified
	views     *viewCache // encoded view answers (viewcache.go)
	// bodyTimeout and minBodyRate: see Config.
	bodyTimeout time.Duration
	minBodyRate int
	limiter     *writeLimiter
	tokenMaxTTL time.Duration
	readOnly    string
	// oidc and noLocalTokens: see Config.
	oidc          *OIDC
	noLocalTokens bool
}

// New builds the server and registers every route.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, model: cfg.Model, key: cfg.TokenKey, now: cfg.Now, log: cfg.Log,
		writeWait: cfg.WriteWait, signer: cfg.Signer, views: newViewCache(), oidc: cfg.OIDC, noLocalTokens: cfg.NoLocalTokens,
		witnesses: cfg.Witnesses, tiles: tilesRef{t: cfg.Tiles}}
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
	s.tokenMaxTTL, s.readOnly = cfg.TokenMaxTTL, cfg.ReadOnly
	if s.tokenMaxTTL <= 0 {
		s.tokenMaxTTL = DefaultMaxTokenTTL
	}
	s.bodyTimeout, s.minBodyRate = cfg.BodyTimeout, cfg.MinBodyRate
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = defaultBodyTimeout
	}
	if s.minBodyRate <= 0 {
		s.minBodyRate = defaultMinBodyRate
	}
	s.limiter = &writeLimiter{rate: rate.Limit(cfg.WriteRate), burst: cfg.WriteBurst, byActor: map[string]*limiterEntry{}}
	switch {
	case cfg.WriteRate < 0:
		s.limiter.rate = rate.Inf
	case cfg.WriteRate == 0:
		s.limiter.rate = defaultWriteRate
	}
	if s.limiter.burst <= 0 {
		s.limiter.burst = defaultWriteBurst
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Pre(s.framing)
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
			e.Add(r.Method, r.Path, r.Handler, s.Middleware()...)
		}
	}
	if cfg.Extra != nil {
		cfg.Extra(e)
	}
	return s
}

// Middleware is what every /v1 route runs before its handler:
// no-store headers, authentication, the read model's readiness, the
// per-principal write limit and min_sequence. The bench
// puts its floor route (a pre-encoded answer) behind the same chain.
func (s *Server) Middleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{noStore, s.authenticate, s.whenReady, s.rateLimitWrites, s.minSequence}
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
		if s.readOnly != "" && isWrite(c.Request().Method) {
			return problem(http.StatusServiceUnavailable, "read-only", "Read-only",
				"this node cannot write ("+s.readOnly+"); it serves reads only until it is restarted with space to write; nothing was appended")
		}
		lost := s.store.LogLost()
		if lost != nil && c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
			return toProblem(lost)
		}
		err := next(c)
		if err != nil && lost != nil && toProblem(err).Status >= http.StatusInternalServerError {
			// A read that needed the log (verify, audit) failed because
			// it is gone: say so rather than "internal error".
			return toProblem(lost)
		}
		return err
	}
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
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
		// A sequence the log has not reached names no write: waiting for
		// it would park the request, and a write would then claim an
		// append that never happened.
		if seq > s.model.Applied() {
			// When the stream cannot be asked (no quorum just now), wait
			// as before: the write wait bounds it.
			ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
			last, err := s.store.LastSequence(ctx)
			cancel()
			if err == nil && seq > last {
				p := badRequest("min_sequence", fmt.Sprintf("is beyond the end of the log, whose last sequence is %d", last))
				p.Sequence = &last
				return p
			}
		}
		if err := s.waitFor(c.Request().Context(), seq); err != nil {
			return err
		}
		return next(c)
	}
}

// health is the /healthz answer.
type health struct {
	Status string `json:"status" enum:"ok"`
}

// readiness is the /readyz answer, the same body for 200 and 503.
type readiness struct {
	Status          string  `json:"status" enum:"ready,catching up,stopped,log missing,read-only,identity provider unreachable"`
	AppliedSequence uint64  `json:"applied_sequence"`
	Error           string  `json:"error,omitempty"`
	FailedSequence  *uint64 `json:"failed_sequence,omitempty"`
	// Reason says why a read-only node cannot write.
	Reason string `json:"reason,omitempty"`
	// OIDC is the identity provider's state, when single sign-on is on.
	OIDC map[string]any `json:"oidc,omitempty"`
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, health{Status: "ok"})
}

// readyz is green only once the read models have caught up with the log.
// It also reports the identity provider; a provider not yet reached makes
// it red only when local tokens are off, since then nobody can be served.
func (s *Server) readyz(c echo.Context) error {
	body := readiness{AppliedSequence: s.model.Applied()}
	oidcDown := false
	if s.oidc != nil {
		st := s.oidc.Status()
		body.OIDC, oidcDown = st, st["status"] != "ready"
	}
	if f := s.model.Failure(); f != nil {
		seq := f.Sequence
		body.Status, body.Error, body.FailedSequence = "stopped", f.Error(), &seq
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	if !s.model.Ready() {
		body.Status = "catching up"
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	// Asked of JetStream on every call: a stream deleted or replaced under
	// this node must turn it red at once, not only at the next periodic
	// check. An unreachable JetStream is not a missing log; it shows in
	// the writes (503 unavailable).
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	err := s.store.CheckLog(ctx, s.model.Applied())
	cancel()
	if errors.Is(err, events.ErrLogMissing) {
		body.Status, body.Error = "log missing", err.Error()
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	if s.readOnly != "" {
		// Reads are served; the 503 tells a load balancer and the
		// operator that writes are not.
		body.Status, body.Reason = "read-only", s.readOnly+": writes are refused until the node is restarted with space to write"
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	if oidcDown && s.noLocalTokens {
		body.Status = "identity provider unreachable"
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	body.Status = "ready"
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

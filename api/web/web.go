// Package web is kpiledger's dashboard: server-rendered HTML pages for the
// people who read the scores — provincial and departmental officers, OPDC
// staff and auditors. It is the API's first client in spirit: every page
// shows a read model of package projections exactly as the matching /v1
// endpoint would (the same numbers, to the same decimals) and is authorised
// by the same rules, with the caller's bearer token carried in a cookie.
//
// Pages are html/template files and one stylesheet embedded in the binary;
// charts are SVG drawn on the server. Nothing needs JavaScript, a build step
// or a network connection beyond the ledger itself, so the dashboard works
// offline and in a locked-down browser. Thai comes first, with English
// labels where an English-speaking reader (or an auditor from abroad) needs
// them; fiscal years and dates are Buddhist Era.
package web

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// Config wires the dashboard to the same log, read model and token key as
// the API it is mounted beside.
type Config struct {
	Store    *events.Store
	Model    *projections.Model
	TokenKey []byte
	// Now is the clock tokens are checked against (default time.Now).
	Now func() time.Time
	Log *slog.Logger
	// OIDC, when set, offers "Sign in with <provider>" (sso.go).
	OIDC *api.OIDC
	// NoLocalTokens hides the token-paste form and refuses sessions
	// holding a local token (serve --local-tokens=false).
	NoLocalTokens bool
	// SessionTTL bounds a single sign-on session (default 8 hours).
	SessionTTL time.Duration
}

// Dashboard serves the pages. Build it with New and register it on the
// API's Echo instance with Register (or pass Mount to api.Config.Extra).
type Dashboard struct {
	store *events.Store
	model *projections.Model
	key   []byte
	now   func() time.Time
	log   *slog.Logger
	// cop refuses cross-origin state changes (sign-in, sign-out) on top of
	// the SameSite=Strict cookie; see session.go.
	cop *http.CrossOriginProtection
	// echo is the instance the dashboard is mounted on: the export
	// download is answered by the API's own handler through it.
	echo *echo.Echo
	// Single sign-on (sso.go).
	oidc       *api.OIDC
	noLocal    bool
	sessionTTL time.Duration
	aead       cipher.AEAD // seals the session and flow cookies
}

// New builds a dashboard.
func New(cfg Config) *Dashboard {
	d := &Dashboard{store: cfg.Store, model: cfg.Model, key: cfg.TokenKey, now: cfg.Now, log: cfg.Log,
		cop: http.NewCrossOriginProtection(), oidc: cfg.OIDC, noLocal: cfg.NoLocalTokens, sessionTTL: cfg.SessionTTL,
		aead: sealer(cfg.TokenKey)}
	if d.sessionTTL <= 0 {
		d.sessionTTL = 8 * time.Hour
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// Mount returns a function for api.Config.Extra that serves the dashboard
// under / of the API's own Echo instance:
//
//	api.New(api.Config{..., Extra: web.Mount(web.Config{...})})
func Mount(cfg Config) func(e *echo.Echo) {
	return func(e *echo.Echo) { New(cfg).Register(e) }
}

// Register adds the dashboard's routes. None of them lies under /v1 or is
// one of the API's operational paths (/healthz, /readyz, /metrics,
// /openapi.json), so the API's routes and its OpenAPI document are
// untouched.
func (d *Dashboard) Register(e *echo.Echo) {
	d.echo = e
	e.GET("/", d.home)
	e.GET("/signin", d.signinForm)
	e.POST("/signin", d.signin)
	e.POST("/signout", d.signout)
	e.GET("/signin/oidc", d.ssoStart)
	e.GET(api.CallbackPath, d.ssoCallback)
	e.GET("/assets/*", serveAsset)

	e.GET("/units", d.page(d.units))
	e.GET("/units/:unit", d.page(d.unitPage))
	e.GET("/units/:unit/series/:id", d.page(d.seriesPage))
	e.GET("/units/:unit/years/:fy", d.page(d.scorecard))
	e.GET("/units/:unit/years/:fy/audit", d.page(d.audit))
	e.GET("/units/:unit/years/:fy/export", d.page(d.export))
	e.GET("/frameworks/compare", d.page(d.compare))
	e.GET("/download", d.page(d.download))

	// The API registers a catch-all behind its token check (Echo v4 does so
	// for a group with middleware), which would answer a mistyped dashboard
	// address with a JSON 401. Below the dashboard's own prefixes a reader
	// gets an HTML 404 instead.
	for _, prefix := range []string{"/units/*", "/frameworks/*"} {
		e.RouteNotFound(prefix, d.page(func(echo.Context, *session) error {
			return notFoundf("ไม่พบหน้านี้ (page not found)")
		}))
	}
}

// home sends a reader to the units list, or to sign in first.
func (d *Dashboard) home(c echo.Context) error {
	setSecurityHeaders(c)
	if _, err := d.session(c); err != nil {
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	return c.Redirect(http.StatusSeeOther, "/units")
}

// handler is a page that needs a signed-in reader.
type handler func(c echo.Context, s *session) error

// page wraps a handler: it requires a session (redirecting to the sign-in
// form otherwise), refuses to show stale numbers while the read model is
// catching up — as the API's /v1 routes do — and renders whatever error the
// handler returns as an HTML page rather than the API's problem+json.
func (d *Dashboard) page(h handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		setSecurityHeaders(c)
		s, err := d.session(c)
		if err != nil {
			return d.toSignin(c, err)
		}
		if err := d.ready(); err != nil {
			d.renderError(c, s, err)
			return nil
		}
		if err := h(c, s); err != nil {
			d.renderError(c, s, err)
		}
		return nil
	}
}

// ready mirrors the API's whenReady: no page while the read model is
// rebuilding or has stopped on an event it cannot apply.
func (d *Dashboard) ready() error {
	if f := d.model.Failure(); f != nil {
		return &pageError{Status: http.StatusServiceUnavailable, Title: "ข้อมูลหยุดปรับปรุง", TitleEN: "Read model stopped",
			Detail: f.Error()}
	}
	if !d.model.Ready() {
		return &pageError{Status: http.StatusServiceUnavailable, Title: "กำลังสร้างข้อมูลจากบันทึกเหตุการณ์", TitleEN: "Catching up",
			Detail: fmt.Sprintf("the read models are being rebuilt from the log (at sequence %d); reload shortly", d.model.Applied())}
	}
	return nil
}

// setSecurityHeaders applies to every dashboard response. The pages use no
// script at all, so the policy allows none; inline SVG needs no source.
// Pages show data scoped to the reader, so no cache may keep them.
func setSecurityHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// pageError is an error the reader sees as a page with a status.
type pageError struct {
	Status  int
	Title   string // Thai heading
	TitleEN string
	Detail  string
}

func (e *pageError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.TitleEN, e.Detail) }

func forbiddenf(format string, args ...any) *pageError {
	return &pageError{Status: http.StatusForbidden, Title: "ไม่มีสิทธิ์เข้าถึงหน้านี้", TitleEN: "Forbidden", Detail: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) *pageError {
	return &pageError{Status: http.StatusNotFound, Title: "ไม่พบข้อมูล", TitleEN: "Not found", Detail: fmt.Sprintf(format, args...)}
}

func badRequestf(format string, args ...any) *pageError {
	return &pageError{Status: http.StatusBadRequest, Title: "คำขอไม่ถูกต้อง", TitleEN: "Bad request", Detail: fmt.Sprintf(format, args...)}
}

// toPageError maps errors onto statuses the way the API's toProblem does,
// for the errors the read side can meet.
func toPageError(err error) (*pageError, bool) {
	var (
		pe *pageError
		ve *domain.ValidationError
	)
	switch {
	case errors.As(err, &pe):
		return pe, true
	case errors.As(err, &ve):
		parts := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			parts[i] = f.Field + ": " + f.Message
		}
		return badRequestf("%s", strings.Join(parts, "; ")), true
	case errors.Is(err, domain.ErrNotFound):
		return notFoundf("%s", strings.TrimPrefix(err.Error(), domain.ErrNotFound.Error()+": ")), true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, events.ErrUnavailable):
		return &pageError{Status: http.StatusServiceUnavailable, Title: "ระบบไม่พร้อมให้บริการชั่วคราว", TitleEN: "Unavailable", Detail: err.Error()}, true
	}
	return &pageError{Status: http.StatusInternalServerError, Title: "เกิดข้อผิดพลาดภายในระบบ", TitleEN: "Internal error",
		Detail: "an unexpected error occurred; it has been logged"}, false
}

type errorPage struct {
	layout
	Err *pageError
}

func (d *Dashboard) renderError(c echo.Context, s *session, err error) {
	pe, known := toPageError(err)
	if !known {
		d.log.Error("dashboard page failed", "path", c.Request().URL.Path, "err", err)
	}
	d.render(c, pe.Status, "error", errorPage{layout: newLayout(s, pe.Title, ""), Err: pe})
}

// render executes a page into a buffer first, so that a template failure
// becomes a clean 500 instead of half a page.
func (d *Dashboard) render(c echo.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "base", data); err != nil {
		d.log.Error("dashboard template failed", "page", name, "err", err)
		_ = c.String(http.StatusInternalServerError, "internal error: the page could not be rendered")
		return
	}
	_ = c.HTMLBlob(status, buf.Bytes())
}

// layout is what the frame of every page needs.
type layout struct {
	Title  string
	Who    *api.Principal
	Active string // which navigation entry is current
	Crumbs []crumb
	// Downloads are the page's data as spreadsheets (see download).
	Downloads []crumb
}

// downloads links a page to its API view as XLSX and CSV, fetched through
// the dashboard's /download so that the session's token goes with it.
func downloads(apiPath string, query url.Values) []crumb {
	link := func(format string) string {
		q := url.Values{"path": {apiPath}, "format": {format}}
		if len(query) > 0 {
			q.Set("query", query.Encode())
		}
		return "/download?" + q.Encode()
	}
	return []crumb{{"Excel (XLSX)", link("xlsx")}, {"CSV", link("csv")}}
}

type crumb struct {
	Label string
	Href  string
}

func newLayout(s *session, title, active string, crumbs ...crumb) layout {
	l := layout{Title: title, Active: active, Crumbs: crumbs}
	if s != nil {
		p := s.P
		l.Who = &p
	}
	return l
}

// Authorisation is the API's own (api.CanRead, api.CanAudit);
// TestAuthorisationMatchesAPI holds pages and endpoints together.

// unitParam resolves the :unit path parameter to a known unit the reader
// may see.
func (d *Dashboard) unitParam(c echo.Context, s *session) (domain.Unit, error) {
	code := c.Param("unit")
	var (
		u  domain.Unit
		ok bool
	)
	if domain.IsUnitCode(code) {
		d.model.Read(func(st *projections.State) { u, ok = st.Unit(code) })
	}
	if !ok {
		return u, notFoundf("ไม่มีหน่วยรับการประเมินรหัส %q (no unit %q: a province's ISO code such as TH-50, or a registered department's code)", code, code)
	}
	if !api.CanRead(s.P, u.Code) {
		return u, forbiddenf("บัญชีนี้ดูข้อมูลได้เฉพาะ %s (this token reads %s only, not %s)", s.P.Unit, s.P.Unit, u.Code)
	}
	return u, nil
}

// fiscalYearParam parses a B.E. fiscal year in the API's range.
func fiscalYearParam(name, v string) (int, error) {
	fy, err := strconv.Atoi(v)
	if err != nil || fy < domain.MinFiscalYear || fy > domain.MaxFiscalYear {
		return 0, badRequestf("%s: ปีงบประมาณต้องเป็นปี พ.ศ. ระหว่าง %d ถึง %d เช่น 2563 (must be a Buddhist Era fiscal year between %d and %d)",
			name, domain.MinFiscalYear, domain.MaxFiscalYear, domain.MinFiscalYear, domain.MaxFiscalYear)
	}
	return fy, nil
}

// unitYearParams resolves :unit and :fy.
func (d *Dashboard) unitYearParams(c echo.Context, s *session) (domain.Unit, int, error) {
	u, err := d.unitParam(c, s)
	if err != nil {
		return u, 0, err
	}
	fy, err := fiscalYearParam("fy", c.Param("fy"))
	return u, fy, err
}

// unitYears lists the fiscal years a unit has something to show for: a
// framework for its kind, or events of its own. Ascending.
func unitYears(st *projections.State, u domain.Unit) []int {
	seen := map[int]bool{}
	for _, h := range st.Frameworks {
		if h.UnitKind == u.Kind && h.Latest() != nil {
			seen[h.FiscalYear] = true
		}
	}
	for _, uy := range st.UnitYears {
		if uy.Unit == u.Code {
			seen[uy.FiscalYear] = true
		}
	}
	return sortedInts(seen)
}

// unitPath and friends build the dashboard's own addresses.
func unitPath(unit string) string { return "/units/" + url.PathEscape(unit) }

func yearPath(unit string, fy int) string { return unitPath(unit) + "/years/" + strconv.Itoa(fy) }

package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// A session signed in with a local token is the reader's bearer token
// itself, kept in a cookie; one signed in through the identity provider is
// a sealed value in the same cookie (sso.go). Either way the cookie is:
//
//   - HttpOnly, so no script (there is none, but a future one or an injected
//     one) can read the token;
//   - SameSite=Strict, so the browser sends it only with requests that start
//     on this site: another site can neither read pages as the reader nor
//     make the reader's browser post to the dashboard with the token;
//   - Secure whenever the request came over TLS;
//   - a session cookie (no expiry of its own), so closing the browser ends
//     it; the token's own expiry still bounds it, and an expired token sends
//     the reader back to the sign-in form.
//
// Every state change (sign-in, sign-out) is a POST; reading is GET only, and
// no GET changes anything. POSTs are also checked by net/http's
// CrossOriginProtection (Sec-Fetch-Site / Origin), which stops login CSRF —
// another site signing the reader in under the attacker's token — in
// browsers that would store a cookie from a cross-site response.
const cookieName = "kpiledger_session"

// maxSigninBody bounds the sign-in form: a token is a few hundred bytes.
const maxSigninBody = 16 << 10

// session is a signed-in reader.
type session struct {
	P     api.Principal
	token string // a local-token session's token
	// idToken is a single sign-on session's ID token (sso.go), the hint
	// for the provider's logout.
	idToken string
}

var errNoSession = errors.New("not signed in")

// session reads and verifies the cookie's token exactly as the API's
// authenticate middleware verifies a bearer token.
func (d *Dashboard) session(c echo.Context) (*session, error) {
	ck, err := c.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, errNoSession
	}
	if strings.HasPrefix(ck.Value, sealedPrefix) {
		return d.ssoSessionOf(ck.Value)
	}
	if d.noLocal {
		return nil, errors.New("local tokens are switched off on this server")
	}
	p, err := d.localToken(ck.Value)
	if err != nil {
		return nil, fmt.Errorf("the saved token was refused: %w", err)
	}
	return &session{P: p, token: ck.Value}, nil
}

// localToken checks a local token as the API's authenticate middleware
// does: its signature and bounds, and, for a unit's token, a unit the
// ledger knows (one registered later gains no rights through it).
func (d *Dashboard) localToken(tok string) (api.Principal, error) {
	p, err := api.ParseToken(d.key, tok, d.now())
	if err != nil {
		return p, err
	}
	if p.Role == domain.RoleUnit {
		known := false
		d.model.Read(func(st *projections.State) { _, known = st.Unit(p.Unit) })
		if !known {
			return api.Principal{}, fmt.Errorf("its unit %q is not known to this ledger", p.Unit)
		}
	}
	return p, nil
}

// toSignin sends a reader without a valid session to the form, remembering
// where they were going. A refused cookie (expired, or signed with a key no
// longer in use) is cleared so that the form starts clean.
func (d *Dashboard) toSignin(c echo.Context, err error) error {
	q := url.Values{}
	if next := c.Request().URL.RequestURI(); next != "/" {
		q.Set("next", next)
	}
	if !errors.Is(err, errNoSession) {
		clearCookie(c)
		q.Set("reason", "expired")
	}
	target := "/signin"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return c.Redirect(http.StatusSeeOther, target)
}

type signinPage struct {
	layout
	Next        string
	Notice      string
	Error       string
	ErrorDetail string
	// SSO names the identity provider when single sign-on is on; SSOStart
	// is where its button leads. Local says whether the token form shows.
	SSO      string
	SSOStart string
	Local    bool
}

// newSigninPage is the sign-in page with what this server offers.
func (d *Dashboard) newSigninPage(s *session, next string) signinPage {
	pg := signinPage{layout: newLayout(s, "เข้าสู่ระบบ", "signin"), Next: next, Local: !d.noLocal}
	if d.oidc != nil {
		pg.SSO = d.oidc.Config().Name
		pg.SSOStart = "/signin/oidc?" + url.Values{"next": {next}}.Encode()
	}
	return pg
}

// renderSignin shows the sign-in page with an error.
func (d *Dashboard) renderSignin(c echo.Context, status int, next, msg, detail string) {
	pg := d.newSigninPage(nil, safeNext(next))
	pg.Error, pg.ErrorDetail = msg, detail
	d.render(c, status, "signin", pg)
}

// signinForm: GET /signin.
func (d *Dashboard) signinForm(c echo.Context) error {
	setSecurityHeaders(c)
	s, _ := d.session(c)
	pg := d.newSigninPage(s, safeNext(c.QueryParam("next")))
	switch {
	case c.QueryParam("reason") == "expired":
		pg.Notice = "การเข้าสู่ระบบครั้งก่อนหมดอายุหรือใช้ไม่ได้แล้ว กรุณาเข้าสู่ระบบใหม่ (your token or session expired or was refused; sign in again)"
	case c.QueryParam("signed_out") != "":
		pg.Notice = "ออกจากระบบแล้ว (signed out)"
	}
	d.render(c, http.StatusOK, "signin", pg)
	return nil
}

// signin: POST /signin with the form field token.
func (d *Dashboard) signin(c echo.Context) error {
	setSecurityHeaders(c)
	r := c.Request()
	if d.noLocal {
		d.renderSignin(c, http.StatusForbidden, "", "เซิร์ฟเวอร์นี้ไม่รับโทเค็นภายใน (local tokens are switched off on this server)",
			"sign in through the identity provider")
		return nil
	}
	if err := d.cop.Check(r); err != nil {
		d.renderError(c, nil, forbiddenf("คำขอเข้าสู่ระบบมาจากเว็บไซต์อื่น จึงถูกปฏิเสธ (cross-origin sign-in refused: %v)", err))
		return nil
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxSigninBody)
	if err := r.ParseForm(); err != nil {
		d.renderError(c, nil, badRequestf("อ่านแบบฟอร์มไม่ได้ (the form could not be read: %v)", err))
		return nil
	}
	next := safeNext(r.PostForm.Get("next"))
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	// People paste what `kpiledger token` printed, or a whole header value.
	if scheme, rest, ok := strings.Cut(tok, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(rest)
	}
	if tok == "" {
		d.renderSignin(c, http.StatusBadRequest, next, "กรุณาวางโทเค็น (paste a token)", "")
		return nil
	}
	p, err := d.localToken(tok)
	if err != nil {
		d.renderSignin(c, http.StatusUnauthorized, next, "โทเค็นนี้ใช้ไม่ได้ (the token was refused)", err.Error())
		return nil
	}
	c.SetCookie(&http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil})
	d.log.Info("dashboard sign-in", "sub", p.Subject, "role", p.Role, "unit", p.Unit)
	return c.Redirect(http.StatusSeeOther, next)
}

// signout: POST /signout.
func (d *Dashboard) signout(c echo.Context) error {
	setSecurityHeaders(c)
	if err := d.cop.Check(c.Request()); err != nil {
		d.renderError(c, nil, forbiddenf("คำขอออกจากระบบมาจากเว็บไซต์อื่น จึงถูกปฏิเสธ (cross-origin sign-out refused: %v)", err))
		return nil
	}
	s, _ := d.session(c)
	clearCookie(c)
	if d.signedOut(c, s) {
		return nil
	}
	return c.Redirect(http.StatusSeeOther, "/signin?signed_out=1")
}

func clearCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request().TLS != nil})
}

// safeNext keeps a post-sign-in destination on this site: a path, never
// another host ("//evil.example", "/\evil.example" and absolute URLs are
// dropped), so the form cannot be used as an open redirect.
func safeNext(next string) string {
	const home = "/units"
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return home
	}
	if u.Path == "/signin" || u.Path == "/signout" {
		return home
	}
	return u.RequestURI()
}

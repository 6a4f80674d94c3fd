package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

// Single sign-on for the dashboard: "Sign in with <provider>" runs the
// authorization code flow with PKCE, state and nonce (api.OIDC does the
// protocol). Two cookies carry it, both sealed with AES-GCM under a key
// derived from the token key, so that only this ledger (any node sharing
// KPILEDGER_TOKEN_KEY) can read or make them:
//
//   - the flow cookie holds state, nonce, PKCE verifier and the page to
//     return to while the browser is at the provider. It is SameSite=Lax
//     because the provider's redirect back is a cross-site navigation that
//     a Strict cookie would not accompany; it is scoped to the callback's
//     path, lives ten minutes, and is cleared on first use, so a code can
//     be redeemed once per sign-in started in this browser.
//   - the session cookie, as for local tokens (HttpOnly, SameSite=Strict,
//     Secure over TLS, ended by closing the browser), holds the principal
//     the provider's ID token mapped to, the ID token itself as the hint
//     for RP-initiated logout, and an expiry (SessionTTL after sign-in).
//
// A Strict cookie set on the callback would not be sent with a redirect
// that continues the provider's cross-site navigation, so the callback
// answers with a page that moves on by itself: that navigation starts on
// this site and carries the cookie.

const (
	flowCookie = "kpiledger_oidc_flow"
	// sealedPrefix marks a session cookie sealed by the dashboard (a
	// local-token session holds the token itself, which starts "eyJ").
	sealedPrefix = "s1."
	flowTTL      = 10 * time.Minute
	// maxCookie keeps the session cookie, with its name and attributes,
	// under the 4096 bytes every browser stores.
	maxCookie = 3800
)

// sealed is the AEAD the cookies are sealed with.
func sealer(tokenKey []byte) cipher.AEAD {
	m := hmac.New(sha256.New, tokenKey)
	m.Write([]byte("kpiledger/dashboard-cookies/v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// seal encrypts v for the named cookie: the name is the additional data,
// so one cookie's value cannot be replayed as the other's.
func (d *Dashboard) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, d.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(d.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

func (d *Dashboard) unseal(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(value, sealedPrefix))
	if err != nil || len(raw) < d.aead.NonceSize() {
		return errors.New("the cookie is not one this ledger sealed")
	}
	plain, err := d.aead.Open(nil, raw[:d.aead.NonceSize()], raw[d.aead.NonceSize():], []byte(name))
	if err != nil {
		return errors.New("the cookie is not one this ledger sealed (or the token key changed)")
	}
	return json.Unmarshal(plain, v)
}

// ssoSession is the sealed session cookie's content.
type ssoSession struct {
	Subject string      `json:"sub"`
	Issuer  string      `json:"iss"`
	Name    string      `json:"name,omitempty"`
	Role    domain.Role `json:"role"`
	Unit    string      `json:"unit,omitempty"`
	Expires int64       `json:"exp"`
	IDToken string      `json:"idt,omitempty"`
}

// flowState is the flow cookie's content.
type flowState struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Started  int64  `json:"at"`
}

// ssoSessionOf checks a sealed session cookie.
func (d *Dashboard) ssoSessionOf(value string) (*session, error) {
	if d.oidc == nil {
		return nil, errors.New("single sign-on is not configured on this server")
	}
	var s ssoSession
	if err := d.unseal(cookieName, value, &s); err != nil {
		return nil, err
	}
	if s.Issuer != d.oidc.Config().Issuer {
		return nil, fmt.Errorf("the session is from %s, not this server's identity provider", s.Issuer)
	}
	if !d.now().Before(time.Unix(s.Expires, 0)) {
		return nil, errors.New("the session has expired")
	}
	return &session{P: api.Principal{Subject: s.Subject, Issuer: s.Issuer, Name: s.Name, Role: s.Role, Unit: s.Unit}, idToken: s.IDToken}, nil
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (d *Dashboard) flowCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: flowCookie, Value: value, Path: api.CallbackPath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.Request().TLS != nil})
}

// ssoStart: GET /signin/oidc sends the browser to the provider. A GET, as
// any link to a provider is: it changes nothing here but the flow cookie,
// and a sign-in someone else starts in this browser ends at a callback
// whose state this browser does not hold.
func (d *Dashboard) ssoStart(c echo.Context) error {
	setSecurityHeaders(c)
	if d.oidc == nil {
		return d.notFoundPage(c)
	}
	f := flowState{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(c.QueryParam("next")), Started: d.now().Unix()}
	target, err := d.oidc.AuthCodeURL(f.State, f.Nonce, f.Verifier)
	if err != nil {
		d.renderSignin(c, http.StatusServiceUnavailable, f.Next, "ยังติดต่อผู้ให้บริการยืนยันตัวตนไม่ได้ (the identity provider cannot be reached yet)", err.Error())
		return nil
	}
	v, err := d.seal(flowCookie, f)
	if err != nil {
		return err
	}
	d.flowCookie(c, v, int(flowTTL/time.Second))
	return c.Redirect(http.StatusSeeOther, target)
}

// ssoCallback: GET /signin/oidc/callback, where the provider sends the
// browser back with a code (or an error).
func (d *Dashboard) ssoCallback(c echo.Context) error {
	setSecurityHeaders(c)
	if d.oidc == nil {
		return d.notFoundPage(c)
	}
	q := c.QueryParams()
	ck, err := c.Cookie(flowCookie)
	// The flow is used once, whatever happens next.
	d.flowCookie(c, "", -1)
	if e := q.Get("error"); e != "" {
		d.renderSignin(c, http.StatusUnauthorized, "", "ผู้ให้บริการยืนยันตัวตนไม่อนุญาตให้เข้าสู่ระบบ (the identity provider did not sign you in)",
			strings.TrimSpace(e+": "+q.Get("error_description")))
		return nil
	}
	var f flowState
	if err != nil || ck.Value == "" || d.unseal(flowCookie, ck.Value, &f) != nil {
		d.renderSignin(c, http.StatusBadRequest, "", "ไม่พบการเข้าสู่ระบบที่เริ่มไว้ในเบราว์เซอร์นี้ กรุณาเริ่มใหม่ (no sign-in was started in this browser; start again)",
			"the callback came without this browser's sign-in state: it was already used, took longer than 10 minutes, or the link came from elsewhere")
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		d.renderSignin(c, http.StatusBadRequest, f.Next, "การเข้าสู่ระบบไม่ตรงกับที่เริ่มไว้ กรุณาเริ่มใหม่ (the sign-in did not match the one started here; start again)",
			"the state parameter does not match this browser's sign-in (a forged or crossed callback)")
		return nil
	}
	if d.now().Sub(time.Unix(f.Started, 0)) > flowTTL {
		d.renderSignin(c, http.StatusBadRequest, f.Next, "การเข้าสู่ระบบใช้เวลานานเกินไป กรุณาเริ่มใหม่ (the sign-in took too long; start again)",
			"more than 10 minutes passed between starting the sign-in and the provider's answer")
		return nil
	}
	login, err := d.oidc.Exchange(c.Request().Context(), q.Get("code"), f.Verifier, f.Nonce)
	var (
		re *api.RoleError
		xe *api.ExchangeError
	)
	switch {
	case errors.As(err, &re):
		who := re.Name
		if who == "" {
			who = re.Subject
		}
		d.log.Info("dashboard sign-in refused: no kpiledger role", "sub", re.Subject, "iss", d.oidc.Config().Issuer, "reason", re.Reason)
		d.renderSignin(c, http.StatusForbidden, f.Next, fmt.Sprintf("บัญชี %s ยืนยันตัวตนแล้ว แต่ยังไม่มีสิทธิ์ใช้งาน kpiledger (signed in at the identity provider, but this account has no kpiledger role)", who),
			re.Reason)
		return nil
	case errors.As(err, &xe):
		d.renderSignin(c, http.StatusBadRequest, f.Next, "รหัสเข้าสู่ระบบหมดอายุหรือถูกใช้ไปแล้ว กรุณาเริ่มใหม่ (the sign-in code expired or was already used; start again)", err.Error())
		return nil
	case errors.Is(err, api.ErrProviderUnavailable):
		d.renderSignin(c, http.StatusServiceUnavailable, f.Next, "ยังติดต่อผู้ให้บริการยืนยันตัวตนไม่ได้ (the identity provider cannot be reached yet)", err.Error())
		return nil
	case err != nil:
		d.log.Warn("dashboard sign-in failed", "err", err)
		d.renderSignin(c, http.StatusBadGateway, f.Next, "เข้าสู่ระบบไม่สำเร็จ (signing in failed)", err.Error())
		return nil
	}
	p := login.Principal
	sess := ssoSession{Subject: p.Subject, Issuer: p.Issuer, Name: p.Name, Role: p.Role, Unit: p.Unit,
		Expires: d.now().Add(d.sessionTTL).Unix(), IDToken: login.IDToken}
	v, err := d.seal(cookieName, sess)
	if err == nil && len(v) > maxCookie {
		// An ID token with many groups can outgrow a cookie (browsers keep
		// about 4 KB); the session does without it, and the provider's
		// logout is then asked with the client id alone.
		sess.IDToken = ""
		v, err = d.seal(cookieName, sess)
	}
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: cookieName, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request().TLS != nil})
	d.log.Info("dashboard sign-in", "sub", p.Subject, "iss", p.Issuer, "name", p.Name, "role", p.Role, "unit", p.Unit)
	d.render(c, http.StatusOK, "signedin", signedinPage{layout: newLayout(&session{P: p}, "เข้าสู่ระบบแล้ว", ""), Next: f.Next})
	return nil
}

type signedinPage struct {
	layout
	Next string
}

type signedoutPage struct {
	layout
	Provider string
	Logout   string
}

// signedOut answers a sign-out of a single sign-on session: the local
// session is over; the provider's own session may be ended too when it
// advertises RP-initiated logout.
func (d *Dashboard) signedOut(c echo.Context, s *session) bool {
	if s == nil || s.P.Issuer == "" || d.oidc == nil {
		return false
	}
	back := ""
	if u, err := url.Parse(d.oidc.Config().RedirectURL); err == nil {
		back = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/signin", RawQuery: "signed_out=1"}).String()
	}
	logout := d.oidc.EndSessionURL(s.idToken, back)
	if logout == "" {
		return false
	}
	d.render(c, http.StatusOK, "signedout", signedoutPage{layout: newLayout(nil, "ออกจากระบบแล้ว", ""),
		Provider: d.oidc.Config().Name, Logout: logout})
	return true
}

func (d *Dashboard) notFoundPage(c echo.Context) error {
	d.renderError(c, nil, notFoundf("ไม่พบหน้านี้ (page not found)"))
	return nil
}

package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/oidctest"
	"github.com/opdc/kpiledger/domain"
)

// These tests sign in through a real OpenID Connect provider (zitadel's
// example OP, package oidctest), its own login form posted by an HTTP
// client; browser_test.go does the same in Chromium.

func dashboardClient(base string) oidctest.Client {
	return oidctest.Client{ID: "kpiledger-dashboard", Secret: "dashboard-secret", RedirectURIs: []string{base + api.CallbackPath},
		PostLogout: []string{base + "/signin?signed_out=1"}}
}

// newSSOLedger is a ledger whose dashboard signs people in through a
// provider on the loopback host named (127.0.0.1 or localhost).
func newSSOLedger(t *testing.T, host string, noLocal bool) (*ledger, *oidctest.Provider) {
	t.Helper()
	return newSSOLedgerFor(t, host, noLocal, oidctest.People)
}

// newSSOLedgerFor is newSSOLedger with the provider's people given.
func newSSOLedgerFor(t *testing.T, host string, noLocal bool, people []oidctest.User) (*ledger, *oidctest.Provider) {
	t.Helper()
	var op *oidctest.Provider
	l := newLedgerWith(t, func(base string, now func() time.Time) (*api.OIDC, bool) {
		c := dashboardClient(base)
		op = oidctest.Start(t, host, []oidctest.Client{c}, people)
		o, err := api.NewOIDC(api.OIDCConfig{Issuer: op.Issuer, ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURIs[0],
			Name: "ThaiID", Now: now, RetryMax: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); o.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return o, noLocal
	})
	select {
	case <-l.oidc.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("provider not discovered: %v", l.oidc.Status())
	}
	return l, op
}

// visitor is one browser: a cookie jar, redirects seen rather than
// followed.
type visitor struct {
	t   *testing.T
	l   *ledger
	jar *cookiejar.Jar
	hc  *http.Client
}

func newVisitor(t *testing.T, l *ledger) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, l: l, jar: jar, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (v *visitor) get(rawURL string) page {
	v.t.Helper()
	res, err := v.hc.Get(rawURL)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(strings.NewReader(p.Body)); err != nil {
			v.t.Fatal(err)
		}
	}
	return p
}

// startSignIn presses "Sign in with …" and returns the provider's address.
func (v *visitor) startSignIn(next string) string {
	v.t.Helper()
	p := v.get(v.l.url + "/signin/oidc?next=" + url.QueryEscape(next))
	loc := p.Header.Get("Location")
	if p.Status != http.StatusSeeOther || !strings.Contains(loc, "code_challenge_method=S256") || !strings.Contains(loc, "nonce=") ||
		!strings.Contains(loc, "state=") {
		v.t.Fatalf("sign-in start: %d to %q", p.Status, loc)
	}
	return loc
}

// atProvider signs in on the provider's login form and returns the
// callback address the provider sends the browser back to.
func (v *visitor) atProvider(op *oidctest.Provider, authURL, username string) string {
	v.t.Helper()
	// Every test person's password is "pw-" and the name before the @.
	name, _, _ := strings.Cut(username, "@")
	cb, err := op.FollowLogin(authURL, username, "pw-"+name)
	if err != nil {
		v.t.Fatal(err)
	}
	if !strings.HasPrefix(cb, v.l.url+api.CallbackPath+"?") {
		v.t.Fatalf("the provider sent the browser to %s", cb)
	}
	return cb
}

func (v *visitor) cookie(name, path string) *http.Cookie {
	u, _ := url.Parse(v.l.url + path)
	for _, c := range v.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn runs the whole flow and returns the session cookie's value.
func (v *visitor) signIn(op *oidctest.Provider, username, next string) string {
	v.t.Helper()
	p := v.get(v.atProvider(op, v.startSignIn(next), username))
	if p.Status != http.StatusOK || p.byID("signedin") == nil {
		v.t.Fatalf("callback: %d\n%s", p.Status, excerpt(p.Body))
	}
	ck := v.cookie("kpiledger_session", "/")
	if ck == nil || !strings.HasPrefix(ck.Value, "s1.") {
		v.t.Fatalf("no sealed session cookie after signing in: %v", ck)
	}
	return ck.Value
}

// TestSSOSignIn: an officer of TH-50 signs in through the provider, sees
// TH-50 and not TH-57, under the name the provider gave; the cookies have
// the attributes the design needs.
func TestSSOSignIn(t *testing.T) {
	l, op := newSSOLedger(t, "127.0.0.1", false)
	form := l.mustPage(200, "/signin?next=%2Funits%2FTH-50", "")
	btn := form.byID("signin-sso")
	if btn == nil || !strings.Contains(textOf(btn), "Sign in with ThaiID") || attr(btn, "href") != "/signin/oidc?next=%2Funits%2FTH-50" {
		t.Fatalf("sign-in button: %v", btn)
	}
	if form.byID("signin-form") == nil {
		t.Error("the token form is gone while local tokens are on")
	}

	v := newVisitor(t, l)
	start := v.get(v.l.url + "/signin/oidc?next=%2Funits%2FTH-50")
	flow := start.Header.Get("Set-Cookie")
	for _, want := range []string{"kpiledger_oidc_flow=s1.", "Path=" + api.CallbackPath, "HttpOnly", "SameSite=Lax", "Max-Age=600"} {
		if !strings.Contains(flow, want) {
			t.Errorf("flow cookie %q lacks %s", flow, want)
		}
	}
	cb := v.get(v.atProvider(op, start.Header.Get("Location"), "somchai@chiangmai.go.th"))
	if cb.Status != 200 || !strings.Contains(cb.text(t, "signedin"), "สมชาย ใจดี <somchai@chiangmai.go.th>") {
		t.Fatalf("callback: %d %s", cb.Status, excerpt(cb.Body))
	}
	if refresh := find(cb.doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "http-equiv") == "refresh" }); refresh == nil ||
		attr(refresh, "content") != "0; url=/units/TH-50" {
		t.Errorf("the callback page does not move on to /units/TH-50: %v", refresh)
	}
	var session string
	for _, sc := range cb.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "kpiledger_session=") {
			session = sc
		}
	}
	for _, want := range []string{"kpiledger_session=s1.", "Path=/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(session, want) {
			t.Errorf("session cookie %q lacks %s", session, want)
		}
	}
	if strings.Contains(session, "Max-Age") || strings.Contains(session, "Expires") {
		t.Errorf("the session cookie outlives the browser: %q", session)
	}
	if v.cookie("kpiledger_oidc_flow", api.CallbackPath) != nil {
		t.Error("the flow cookie survived the callback")
	}

	ck := v.cookie("kpiledger_session", "/").Value
	unit := l.mustPage(200, "/units/TH-50", ck)
	if who := unit.text(t, "who"); !strings.Contains(who, "สมชาย ใจดี") || !strings.Contains(who, "TH-50") {
		t.Errorf("header: %q", who)
	}
	l.mustPage(403, "/units/TH-57", ck)
	// A sealed cookie altered by one character is no session.
	forged := ck[:len(ck)-2] + "AA"
	if r := l.get("/units/TH-50", forged); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "reason=expired") {
		t.Errorf("forged session: %d %s", r.Status, r.Header.Get("Location"))
	}
	// The session ends after --session-ttl (8 h by default).
	l.clock.hold(time.Now().Add(8*time.Hour + time.Minute))
	if r := l.get("/units/TH-50", ck); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "reason=expired") {
		t.Errorf("session after 8 hours: %d %s", r.Status, r.Header.Get("Location"))
	}
}

// TestSSORefusals: each way a sign-in can go wrong gets its own page, no
// session, and nothing appended.
func TestSSORefusals(t *testing.T) {
	l, op := newSSOLedger(t, "127.0.0.1", false)
	before := l.lastSeq()
	noSession := func(v *visitor, what string) {
		t.Helper()
		if ck := v.cookie("kpiledger_session", "/"); ck != nil {
			t.Errorf("%s: a session cookie was set", what)
		}
	}
	refused := func(p page, status int, want, what string) {
		t.Helper()
		if p.Status != status || !strings.Contains(p.text(t, "signin-error"), want) {
			t.Errorf("%s: %d, want %d with %q\n%s", what, p.Status, status, want, excerpt(p.Body))
		}
	}

	t.Run("no mapped role", func(t *testing.T) {
		v := newVisitor(t, l)
		p := v.get(v.atProvider(op, v.startSignIn("/units"), "nobody@example.go.th"))
		refused(p, 403, "this account has no kpiledger role", "no role")
		refused(p, 403, "kpiledger:opdc, kpiledger:auditor or kpiledger:unit:<unit code>", "no role")
		noSession(v, "no role")
	})
	t.Run("two units", func(t *testing.T) {
		v := newVisitor(t, l)
		p := v.get(v.atProvider(op, v.startSignIn("/units"), "twice@example.go.th"))
		refused(p, 403, "maps to 2 units (TH-50, TH-57)", "two units")
		noSession(v, "two units")
	})
	t.Run("mismatched state", func(t *testing.T) {
		v := newVisitor(t, l)
		cb := v.atProvider(op, v.startSignIn("/units"), "pranee@opdc.go.th")
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", "forged-state")
		u.RawQuery = q.Encode()
		refused(v.get(u.String()), 400, "the sign-in did not match", "mismatched state")
		noSession(v, "mismatched state")
	})
	t.Run("callback without a sign-in in this browser", func(t *testing.T) {
		v := newVisitor(t, l)
		cb := v.atProvider(op, v.startSignIn("/units"), "pranee@opdc.go.th")
		other := newVisitor(t, l) // another browser: login CSRF
		refused(other.get(cb), 400, "no sign-in was started in this browser", "foreign callback")
		noSession(other, "foreign callback")
	})
	t.Run("replayed code", func(t *testing.T) {
		v := newVisitor(t, l)
		cb := v.atProvider(op, v.startSignIn("/units"), "pranee@opdc.go.th")
		flow := v.cookie("kpiledger_oidc_flow", api.CallbackPath)
		if p := v.get(cb); p.Status != 200 {
			t.Fatalf("first use of the code: %d %s", p.Status, excerpt(p.Body))
		}
		// The same code again, with the flow cookie put back as an
		// attacker holding both would: the provider refuses the code.
		w := newVisitor(t, l)
		u, _ := url.Parse(l.url + api.CallbackPath)
		w.jar.SetCookies(u, []*http.Cookie{flow})
		refused(w.get(cb), 400, "the sign-in code expired or was already used", "replayed code")
		noSession(w, "replayed code")
	})
	t.Run("provider error", func(t *testing.T) {
		v := newVisitor(t, l)
		v.startSignIn("/units")
		refused(v.get(l.url+api.CallbackPath+"?error=access_denied&error_description=user+cancelled"), 401,
			"did not sign you in", "provider error")
	})
	t.Run("sign-in took too long", func(t *testing.T) {
		v := newVisitor(t, l)
		cb := v.atProvider(op, v.startSignIn("/units"), "pranee@opdc.go.th")
		l.clock.hold(time.Now().Add(11 * time.Minute))
		defer l.clock.hold(time.Time{})
		refused(v.get(cb), 400, "the sign-in took too long", "slow sign-in")
		noSession(v, "slow sign-in")
	})
	if l.lastSeq() != before {
		t.Error("a refused sign-in appended events")
	}
}

// TestSSOSignOut: sign-out ends the session here and offers the provider's
// logout, which the provider honours and which returns to the sign-in page.
func TestSSOSignOut(t *testing.T) {
	l, op := newSSOLedger(t, "127.0.0.1", false)
	v := newVisitor(t, l)
	ck := v.signIn(op, "wichai@oag.go.th", "/units")
	out := l.postForm("/signout", ck, nil)
	if out.Status != 200 || !strings.Contains(out.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign-out: %d %q", out.Status, out.Header.Get("Set-Cookie"))
	}
	link := out.byID("provider-logout")
	if link == nil {
		t.Fatalf("no provider logout offered:\n%s", excerpt(out.Body))
	}
	logout, err := url.Parse(attr(link, "href"))
	if err != nil || !strings.HasPrefix(logout.String(), op.Issuer) || logout.Query().Get("id_token_hint") == "" ||
		logout.Query().Get("post_logout_redirect_uri") != l.url+"/signin?signed_out=1" {
		t.Fatalf("logout link: %v", logout)
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(logout.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode/100 != 3 || loc != l.url+"/signin?signed_out=1" {
		t.Errorf("the provider's logout answered %d to %q", res.StatusCode, loc)
	}
}

// TestSSOLocalTokensOff: with --local-tokens=false the token form is gone,
// a pasted or saved local token is refused, and the provider still works.
func TestSSOLocalTokensOff(t *testing.T) {
	l, op := newSSOLedger(t, "127.0.0.1", true)
	form := l.mustPage(200, "/signin", "")
	if form.byID("signin-form") != nil || form.byID("signin-sso") == nil {
		t.Fatalf("sign-in page with local tokens off:\n%s", excerpt(form.Body))
	}
	tok := l.token(domain.RoleOPDC, "", "local-admin")
	if r := l.postForm("/signin", "", url.Values{"token": {tok}}); r.Status != http.StatusForbidden || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("pasted local token: %d", r.Status)
	}
	if r := l.get("/units", tok); r.Status != http.StatusSeeOther {
		t.Errorf("saved local token: %d", r.Status)
	}
	v := newVisitor(t, l)
	l.mustPage(200, "/units", v.signIn(op, "pranee@opdc.go.th", "/units"))
}

// TestSSOProviderDown: with the provider unreachable the sign-in button
// answers with a page saying so, and local tokens still sign in.
func TestSSOProviderDown(t *testing.T) {
	l, op := newSSOLedger(t, "127.0.0.1", false)
	v := newVisitor(t, l)
	ck := v.signIn(op, "pranee@opdc.go.th", "/units")
	op.Stop()
	// A session already made stands: it does not need the provider.
	l.mustPage(200, "/units", ck)
	v2 := newVisitor(t, l)
	cb := v2.get(l.url + "/signin/oidc")
	if cb.Status != http.StatusSeeOther {
		t.Fatalf("start: %d", cb.Status)
	}
	// The exchange cannot reach the provider: a page, not a session.
	p := v2.get(l.url + api.CallbackPath + "?code=x&state=" + url.QueryEscape(stateOf(cb.Header.Get("Location"))))
	if p.Status != http.StatusBadGateway || !strings.Contains(p.text(t, "signin-error"), "signing in failed") {
		t.Errorf("callback with the provider down: %d %s", p.Status, excerpt(p.Body))
	}
	l.mustPage(200, "/units", l.opdc())
}

func stateOf(authURL string) string {
	u, _ := url.Parse(authURL)
	return u.Query().Get("state")
}

// lastSeq is the stream's last sequence.
func (l *ledger) lastSeq() uint64 {
	l.t.Helper()
	s, err := l.store.LastSequence(context.Background())
	if err != nil {
		l.t.Fatal(err)
	}
	return s
}

// TestSSOProviderDownAtStart: a dashboard whose provider has never been
// reached still shows the button; pressing it explains, and local tokens
// sign in as ever.
func TestSSOProviderDownAtStart(t *testing.T) {
	l := newLedgerWith(t, func(base string, now func() time.Time) (*api.OIDC, bool) {
		op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{dashboardClient(base)}, oidctest.People)
		op.Stop()
		c := dashboardClient(base)
		o, err := api.NewOIDC(api.OIDCConfig{Issuer: op.Issuer, ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURIs[0], Now: now})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); o.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return o, false
	})
	form := l.mustPage(200, "/signin", "")
	if form.byID("signin-sso") == nil || form.byID("signin-form") == nil {
		t.Fatalf("sign-in page:\n%s", excerpt(form.Body))
	}
	p := newVisitor(t, l).get(l.url + "/signin/oidc")
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.text(t, "signin-error"), "cannot be reached yet") {
		t.Errorf("sign-in with the provider down: %d %s", p.Status, excerpt(p.Body))
	}
	if r := l.postForm("/signin", "", url.Values{"token": {l.opdc()}, "next": {"/units"}}); r.Status != http.StatusSeeOther {
		t.Errorf("local token sign-in: %d", r.Status)
	}
}

// TestSSOManyGroups: a person in hundreds of groups has an ID token too big
// for a cookie; the session still fits, and sign-out still offers the
// provider's logout (by client id, without the token as a hint).
func TestSSOManyGroups(t *testing.T) {
	groups := []string{"kpiledger:auditor"}
	for i := range 300 {
		groups = append(groups, fmt.Sprintf("department-of-everything/team-%03d", i))
	}
	people := []oidctest.User{{ID: "many-1", Username: "many@example.go.th", Password: "pw-many", Name: "หลาย กลุ่ม", Email: "many@example.go.th", Groups: groups}}
	l, op := newSSOLedgerFor(t, "127.0.0.1", false, people)
	v := newVisitor(t, l)
	cb := v.atProvider(op, v.startSignIn("/units"), "many@example.go.th")
	p := v.get(cb)
	var set string
	for _, sc := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "kpiledger_session=") {
			set = sc
		}
	}
	if p.Status != 200 || set == "" || len(set) > 4096 {
		t.Fatalf("callback: %d, Set-Cookie of %d bytes", p.Status, len(set))
	}
	ck := v.cookie("kpiledger_session", "/").Value
	l.mustPage(200, "/units/TH-50/years/2563/audit", ck)
	out := l.postForm("/signout", ck, nil)
	link := out.byID("provider-logout")
	if link == nil {
		t.Fatalf("no provider logout:\n%s", excerpt(out.Body))
	}
	logout, _ := url.Parse(attr(link, "href"))
	if logout.Query().Get("id_token_hint") != "" || logout.Query().Get("client_id") != "kpiledger-dashboard" {
		t.Errorf("logout link: %s", logout)
	}
}

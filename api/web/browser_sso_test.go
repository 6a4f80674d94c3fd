package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/opdc/kpiledger/api/oidctest"
)

// TestBrowserSSO signs in through the identity provider's own login page in
// Chromium. The provider is on localhost and the dashboard on 127.0.0.1:
// two sites, as in a deployment, so the provider's redirect back is a
// cross-site navigation and the cookies' SameSite settings are exercised
// for real. A Chiang Mai officer sees only TH-50 and signs out (through the
// provider too); an auditor then signs in and reads the audit trail, where
// the officer's own write shows under the name the provider gave.
func TestBrowserSSO(t *testing.T) {
	browser := newBrowser(t)
	start := time.Now()
	l, op := newSSOLedger(t, "localhost", false)
	seed(l)
	l.clock.hold(time.Time{}) // back to real time: the provider's tokens are checked against it
	somchai := oidctest.Person("somchai@chiangmai.go.th")
	// The officer's write through the API with the provider's access token.
	tok := op.SignIn(t, dashboardClient(l.url), somchai.Username, somchai.Password).Access
	l.api(201, "POST", "/v1/units/TH-50/years/2563/innovations", tok,
		map[string]any{"title_th": "ระบบจองคิวออนไลน์ของศูนย์ดำรงธรรม", "agency": "สำนักงานจังหวัดเชียงใหม่", "kind": "service"}, 0)

	// atProvider fills the provider's login form and waits for the page
	// the dashboard shows next.
	atProvider := func(t *testing.T, ctx context.Context, username, waitFor string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
			t.Fatal(err)
		}
		if loc := must(t, ctx, chromedp.Location()); !strings.HasPrefix(loc, op.Issuer+"/login/") {
			t.Fatalf("the login page is at %s, not the provider's", loc)
		}
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("username"), username),
			chromedp.SetValue(chromedp.ID("password"), oidctest.Person(username).Password),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.ID(waitFor)),
		); err != nil {
			t.Fatal(err)
		}
	}

	ctx := newTab(t, browser)
	t.Run("a Chiang Mai officer sees only TH-50", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/units"), chromedp.WaitVisible(chromedp.ID("signin-sso"))); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signin-sso"))); err != nil {
			t.Fatal(err)
		}
		atProvider(t, ctx, somchai.Username, "who")
		if loc := must(t, ctx, chromedp.Location()); loc != l.url+"/units" {
			t.Errorf("after signing in the browser is at %s", loc)
		}
		if who := text(t, ctx, "who"); !strings.Contains(who, "สมชาย ใจดี") || !strings.Contains(who, "TH-50") {
			t.Errorf("header: %q", who)
		}
		rows := must(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('tr[id^="unit-"]')].map(r => r.id)`))
		if !slices.Equal(rows, []string{"unit-TH-50"}) {
			t.Errorf("the officer's unit list: %v, want only TH-50", rows)
		}
		screenshot(t, ctx, "sso-officer-units", "")
	})

	t.Run("sign out here and at the provider", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
			chromedp.WaitVisible(chromedp.ID("provider-logout"))); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("provider-logout")), chromedp.WaitVisible(chromedp.ID("signin-notice"))); err != nil {
			t.Fatal(err)
		}
		if loc := must(t, ctx, chromedp.Location()); loc != l.url+"/signin?signed_out=1" {
			t.Errorf("the provider's logout returned to %s", loc)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/units"), chromedp.WaitVisible(chromedp.ID("signin-sso"))); err != nil {
			t.Fatal(err)
		}
		if loc := must(t, ctx, chromedp.Location()); !strings.Contains(loc, "/signin") {
			t.Errorf("after signing out, /units went to %s", loc)
		}
	})

	t.Run("an auditor reads the audit trail", func(t *testing.T) {
		auditor := oidctest.Person("wichai@oag.go.th")
		if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/units/TH-50/years/2563/audit"), chromedp.WaitVisible(chromedp.ID("signin-sso")),
			chromedp.Click(chromedp.ID("signin-sso"))); err != nil {
			t.Fatal(err)
		}
		atProvider(t, ctx, auditor.Username, "timeline")
		if loc := must(t, ctx, chromedp.Location()); loc != l.url+"/units/TH-50/years/2563/audit" {
			t.Errorf("after signing in the auditor is at %s", loc)
		}
		if got := text(t, ctx, "chain-status"); !strings.Contains(got, "ครบถ้วน") {
			t.Errorf("chain status %q", got)
		}
		timeline := text(t, ctx, "timeline")
		if !strings.Contains(timeline, "สมชาย ใจดี <somchai@chiangmai.go.th>") || !strings.Contains(timeline, somchai.ID+" @ "+op.Issuer) {
			t.Errorf("the timeline does not show the officer as the provider named him")
		}
		if !strings.Contains(timeline, "reviewer.nattaya@opdc.go.th") {
			t.Errorf("the timeline lacks the local-token reviewer")
		}
		if who := text(t, ctx, "who"); !strings.Contains(who, "วิชัย ตรวจดี") {
			t.Errorf("header: %q", who)
		}
		screenshot(t, ctx, "sso-auditor-audit", "")
	})
	t.Logf("single sign-on browser test took %v", time.Since(start).Round(time.Millisecond))
}

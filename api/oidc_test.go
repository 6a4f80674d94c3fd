package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/oidctest"
	"github.com/opdc/kpiledger/projections"
)

// These tests run a real OpenID Connect provider (zitadel's example OP,
// package oidctest) and call the API with the access tokens it issues.

var ssoClient = oidctest.Client{ID: "kpiledger", Secret: "kpiledger-secret", RedirectURIs: []string{"http://127.0.0.1:1/signin/oidc/callback"}}

// otherApp is another application at the same provider: its tokens are
// for another audience.
var otherApp = oidctest.Client{ID: "payroll", Secret: "payroll-secret", RedirectURIs: []string{"http://127.0.0.1:1/payroll/callback"}}

// ssoHarness is a ledger whose API accepts op's tokens, with a clock the
// test can move (offset) to check expiry.
type ssoHarness struct {
	*harness
	op     *oidctest.Provider
	oidc   *api.OIDC
	offset *atomic.Int64
}

func newSSOHarness(t *testing.T, op *oidctest.Provider, issuer string, noLocal bool) *ssoHarness {
	t.Helper()
	offset := &atomic.Int64{}
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	o, err := api.NewOIDC(api.OIDCConfig{Issuer: issuer, ClientID: ssoClient.ID, ClientSecret: ssoClient.Secret,
		RedirectURL: ssoClient.RedirectURIs[0], Now: now, RetryMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	h := newHarnessWith(t, func(c *api.Config) { c.OIDC, c.NoLocalTokens, c.Now = o, noLocal, now })
	return &ssoHarness{harness: h, op: op, oidc: o, offset: offset}
}

func waitReady(t *testing.T, o *api.OIDC) {
	t.Helper()
	select {
	case <-o.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("the provider was not discovered: %v", o.Status())
	}
}

func (h *ssoHarness) tokenOf(username string) string {
	h.t.Helper()
	u := oidctest.Person(username)
	return h.op.SignIn(h.t, ssoClient, u.Username, u.Password).Access
}

// TestRoleMatrixOIDC: the role matrix with the provider's access tokens,
// roles and units taken from the groups claim.
func TestRoleMatrixOIDC(t *testing.T) {
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, oidctest.People)
	h := newSSOHarness(t, op, op.Issuer, false)
	waitReady(t, h.oidc)
	roleMatrix(t, h.harness, h.tokenOf("pranee@opdc.go.th"), h.tokenOf("somchai@chiangmai.go.th"),
		h.tokenOf("malee@chiangrai.go.th"), h.tokenOf("wichai@oag.go.th"))
	// An ID token issued to the same client passes the same checks (see
	// oidc.go for why the API does not try to tell the two apart).
	u := oidctest.Person("wichai@oag.go.th")
	h.must(200, "GET", "/v1/events", op.SignIn(t, ssoClient, u.Username, u.Password).ID, nil)
}

// TestOIDCActorInEvents: an event written with a provider token records
// the provider's subject and issuer, and the display name beside them.
func TestOIDCActorInEvents(t *testing.T) {
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, oidctest.People)
	h := newSSOHarness(t, op, op.Issuer, false)
	waitReady(t, h.oidc)
	h.must(201, "POST", "/v1/frameworks", h.tokenOf("pranee@opdc.go.th"), fy2563Province)
	evs := h.must(200, "GET", "/v1/events", h.tokenOf("wichai@oag.go.th"), nil)["events"].([]any)
	actor := evs[len(evs)-1].(map[string]any)["actor"].(map[string]any)
	want := map[string]any{"sub": "8f1c2a7e-0001", "iss": op.Issuer, "role": "opdc", "name": "ปราณี ศรีสุข <pranee@opdc.go.th>"}
	for k, v := range want {
		if actor[k] != v {
			t.Errorf("actor %s = %v, want %v (actor %v)", k, actor[k], v, actor)
		}
	}
	// A local token's events look as they always did: no issuer, no name.
	h.must(201, "POST", "/v1/units", h.opdc(), map[string]any{"code": "cdd", "kind": "department", "name_th": "กรมการพัฒนาชุมชน", "name_en": "Community Development Department"})
	evs = h.must(200, "GET", "/v1/events", h.auditor(), nil)["events"].([]any)
	actor = evs[len(evs)-1].(map[string]any)["actor"].(map[string]any)
	if _, ok := actor["iss"]; ok || actor["sub"] != "opdc-reviewer" {
		t.Errorf("local token's actor: %v", actor)
	}
}

// refused checks that a write with tok is answered with status and a
// detail containing want, and that nothing is appended.
func (h *ssoHarness) refused(tok string, status int, want string) {
	h.t.Helper()
	before := h.lastSeq()
	r := h.do("POST", "/v1/frameworks", tok, fy2563Province)
	if r.Status != status || !strings.Contains(string(r.Body), want) {
		h.t.Errorf("status %d, want %d with %q: %s", r.Status, status, want, r.Body)
	}
	if h.lastSeq() != before {
		h.t.Error("a refused token appended an event")
	}
}

// TestOIDCRefusals: every way a provider token can be wrong gets its own
// clear answer, and nothing is appended.
func TestOIDCRefusals(t *testing.T) {
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient, otherApp}, oidctest.People)
	elsewhere := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, oidctest.People)
	h := newSSOHarness(t, op, op.Issuer, false)
	waitReady(t, h.oidc)

	t.Run("no mapped role", func(t *testing.T) {
		h.t = t
		h.refused(h.tokenOf("nobody@example.go.th"), 403, "has no kpiledger role")
	})
	t.Run("two units", func(t *testing.T) {
		h.t = t
		h.refused(h.tokenOf("twice@example.go.th"), 403, "maps to 2 units (TH-50, TH-57)")
	})
	t.Run("another issuer", func(t *testing.T) {
		h.t = t
		u := oidctest.Person("pranee@opdc.go.th")
		tok := elsewhere.SignIn(t, ssoClient, u.Username, u.Password).Access
		h.refused(tok, 401, "issued by \\\""+elsewhere.Issuer)
	})
	t.Run("another audience", func(t *testing.T) {
		h.t = t
		u := oidctest.Person("pranee@opdc.go.th")
		tok := op.SignIn(t, otherApp, u.Username, u.Password).Access
		h.refused(tok, 401, "audience")
	})
	t.Run("not a JWT", func(t *testing.T) {
		h.t = t
		h.refused("not-a-token", 401, "token is malformed")
	})
	t.Run("forged signature", func(t *testing.T) {
		h.t = t
		tok := h.tokenOf("pranee@opdc.go.th")
		h.refused(tok[:len(tok)-6]+"AAAAAA", 401, "signature")
	})
	t.Run("expiry with clock skew", func(t *testing.T) {
		h.t = t
		tok := h.tokenOf("pranee@opdc.go.th")
		exp := time.Unix(int64(oidctest.Claims(tok)["exp"].(float64)), 0)
		// 30 s past expiry by our clock: inside the one-minute tolerance.
		h.offset.Store(int64(time.Until(exp) + 30*time.Second))
		h.must(200, "GET", "/v1/frameworks", tok, nil)
		// Two minutes past: expired.
		h.offset.Store(int64(time.Until(exp) + 2*time.Minute))
		h.refused(tok, 401, "expired")
		h.offset.Store(0)
	})
}

// TestOIDCKeyRotation: the provider rolls its signing key mid-run; tokens
// under the new key verify without a restart, and once the old key leaves
// the JWKS its tokens no longer do.
func TestOIDCKeyRotation(t *testing.T) {
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, oidctest.People)
	h := newSSOHarness(t, op, op.Issuer, false)
	waitReady(t, h.oidc)
	first := h.tokenOf("wichai@oag.go.th")
	h.must(200, "GET", "/v1/events", first, nil)

	op.RotateKey(t, false) // rollover: both keys published
	second := h.tokenOf("wichai@oag.go.th")
	if oidctest.Kid(second) == oidctest.Kid(first) {
		t.Fatal("the provider did not change keys")
	}
	h.must(200, "GET", "/v1/events", second, nil)
	h.must(200, "GET", "/v1/events", first, nil)

	op.RotateKey(t, true) // the earlier keys retired
	third := h.tokenOf("wichai@oag.go.th")
	h.must(200, "GET", "/v1/events", third, nil)
	r := h.do("GET", "/v1/events", first, nil)
	if r.Status != 401 {
		t.Errorf("a token under a retired key: %d %s", r.Status, r.Body)
	}
}

// TestOIDCProviderUnreachable: a provider down when the ledger starts
// leaves local tokens working, shows in /readyz, refuses its own tokens
// with 503 (nothing appended), and is discovered once it comes back.
func TestOIDCProviderUnreachable(t *testing.T) {
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, oidctest.People)
	u := oidctest.Person("pranee@opdc.go.th")
	tok := op.SignIn(t, ssoClient, u.Username, u.Password).Access
	op.Stop()

	h := newSSOHarness(t, op, op.Issuer, false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ready := h.must(200, "GET", "/readyz", "", nil)
		st := ready["oidc"].(map[string]any)
		if st["status"] == "unreachable" {
			if ready["status"] != "ready" || !strings.Contains(st["error"].(string), "connect") {
				t.Fatalf("readyz: %v", ready)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never reported the provider unreachable: %v", ready)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.must(200, "GET", "/v1/frameworks", h.opdc(), nil)
	h.refused(tok, 503, "identity provider has not been reached yet")

	op.Restart(t)
	waitReady(t, h.oidc)
	if st := h.must(200, "GET", "/readyz", "", nil)["oidc"].(map[string]any); st["status"] != "ready" {
		t.Errorf("readyz after the provider came back: %v", st)
	}
	h.must(201, "POST", "/v1/frameworks", tok, fy2563Province)
}

// TestLocalTokensOff: with --local-tokens=false only the provider's tokens
// are accepted, and /readyz is red while the provider cannot be reached,
// since then nobody could be served.
func TestLocalTokensOff(t *testing.T) {
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, oidctest.People)
	op.Stop()
	h := newSSOHarness(t, op, op.Issuer, true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := h.do("GET", "/readyz", "", nil)
		if r.Status == http.StatusServiceUnavailable && strings.Contains(string(r.Body), "identity provider unreachable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz with the provider down and local tokens off: %d %s", r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	op.Restart(t)
	waitReady(t, h.oidc)
	h.must(200, "GET", "/readyz", "", nil)
	h.refused(h.opdc(), 401, "local tokens (kpiledger token) are switched off")
	h.refused("not-a-token", 401, "the token is not a JWT issued by "+op.Issuer)
	h.must(201, "POST", "/v1/frameworks", h.tokenOf("pranee@opdc.go.th"), fy2563Province)
}

// TestOIDCClaimMapping covers the claim shapes providers send, through a
// provider whose users carry them.
func TestOIDCClaimMapping(t *testing.T) {
	people := []oidctest.User{
		{ID: "a", Username: "a", Password: "a", Name: "A", Groups: []string{"kpiledger:auditor", "kpiledger:auditor"}},
		{ID: "b", Username: "b", Password: "b", Name: "B", Groups: []string{"kpiledger:opdc", "kpiledger:auditor"}},
		{ID: "c", Username: "c", Password: "c", Name: "C", Groups: []string{"kpiledger:unit:not a unit"}},
		{ID: "d", Username: "d", Password: "d", Name: "D", Groups: []string{"kpiledger:unit:TH-57", "other:opdc"}},
		{ID: "e", Username: "e", Password: "e", Name: "E", Groups: []string{"kpiledger:unit:nosuchdept"}},
	}
	op := oidctest.Start(t, "127.0.0.1", []oidctest.Client{ssoClient}, people)
	h := newSSOHarness(t, op, op.Issuer, false)
	waitReady(t, h.oidc)
	for _, c := range []struct {
		user   string
		status int
		want   string
	}{
		{"a", 200, ""},
		{"b", 403, "more than one kpiledger role (auditor, opdc)"},
		{"c", 403, "does not name a unit"},
		{"d", 403, "reads TH-57 only, not TH-50"}, // prefixes other than kpiledger: are ignored
		// A unit the ledger does not know is refused, as for local tokens.
		{"e", 401, `nosuchdept\" is not known to this ledger`},
	} {
		tok := op.SignIn(t, ssoClient, c.user, c.user).Access
		r := h.do("GET", "/v1/units/TH-50/years/2563/indicators", tok, nil)
		if r.Status != c.status || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("user %s: %d %s, want %d %q", c.user, r.Status, r.Body, c.status, c.want)
		}
	}
}

// TestOpenAPISecuritySchemes: the document describes both kinds of token,
// and only the provider's once local tokens are off.
func TestOpenAPISecuritySchemes(t *testing.T) {
	o, err := api.NewOIDC(api.OIDCConfig{Issuer: "https://sso.example.go.th/realms/opdc", ClientID: "kpiledger",
		RedirectURL: "https://kpi.example.go.th/signin/oidc/callback"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  api.Config
		want []string
	}{
		{api.Config{}, []string{"bearerAuth"}},
		{api.Config{OIDC: o}, []string{"bearerAuth", "oidc"}},
		{api.Config{OIDC: o, NoLocalTokens: true}, []string{"oidc"}},
	} {
		c.cfg.Model = projections.NewModel()
		doc := api.New(c.cfg).OpenAPI()
		schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
		sec := doc["paths"].(map[string]map[string]any)["/v1/events"]["get"].(map[string]any)["security"].([]map[string][]string)
		if len(schemes) != len(c.want) || len(sec) != len(c.want) {
			t.Errorf("schemes %v, security %v, want %v", schemes, sec, c.want)
			continue
		}
		for i, name := range c.want {
			if _, ok := schemes[name]; !ok || sec[i][name] == nil {
				t.Errorf("scheme %s missing: %v %v", name, schemes, sec)
			}
		}
		if oi, ok := schemes["oidc"].(map[string]any); ok {
			if oi["type"] != "openIdConnect" || oi["openIdConnectUrl"] != "https://sso.example.go.th/realms/opdc/.well-known/openid-configuration" {
				t.Errorf("oidc scheme: %v", oi)
			}
		}
	}
}

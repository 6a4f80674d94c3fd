package api_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

// TestHostileTokens: expired, wrong signature, alg none, another
// algorithm, and incoherent role claims are all refused with 401, and
// nothing is appended.
func TestHostileTokens(t *testing.T) {
	h := newHarness(t)
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	valid := func(extra map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "x", "role": "opdc", "iss": "kpiledger", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	expired, err := api.IssueToken(h.key, api.Principal{Subject: "x", Role: domain.RoleOPDC}, time.Minute, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// alg none: header {"alg":"none"} and an empty signature.
	none := b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(`{"sub":"x","role":"opdc","iss":"kpiledger","exp":`+strconv.FormatInt(now.Add(time.Hour).Unix(), 10)+`}`) + "."
	cases := map[string]string{
		"expired":              expired,
		"wrong signature":      sign(jwt.SigningMethodHS256, []byte("another-key-0123456789-0123456789-0123"), valid(nil)),
		"alg none":             none,
		"HS512 not HS256":      sign(jwt.SigningMethodHS512, h.key, valid(nil)),
		"no expiry":            sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"exp": nil})),
		"unknown role":         sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"role": "admin"})),
		"unit role, no unit":   sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"role": "unit"})),
		"unit role, bad unit":  sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"role": "unit", "unit": "kpi.>"})),
		"opdc bound to a unit": sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"unit": "TH-50"})),
		"wrong issuer":         sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"iss": "someone"})),
		"no subject":           sign(jwt.SigningMethodHS256, h.key, valid(map[string]any{"sub": nil})),
		"garbage":              "not.a.token",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			before := h.lastSeq()
			r := h.do("POST", "/v1/frameworks", tok, fy2563Province)
			problemOf(t, r, 401, "")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without WWW-Authenticate: Bearer")
			}
			if h.lastSeq() != before {
				t.Fatal("appended with a refused token")
			}
		})
	}
	// The genuine token works.
	h.must(201, "POST", "/v1/frameworks", sign(jwt.SigningMethodHS256, h.key, valid(nil)), fy2563Province)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestVerifiedTokenStillExpires: a server remembers the local tokens it
// has verified (a second request with a token costs a lookup), and a
// remembered token is still refused once it expires, and not accepted
// before its not-before, as a token verified afresh would be.
func TestVerifiedTokenStillExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(at time.Time) { mu.Lock(); now = at; mu.Unlock() }
	h := newHarnessWith(t, func(c *api.Config) { c.Now = clock })
	start := clock()
	tok, err := api.IssueToken(h.key, api.Principal{Subject: "auditor-1", Role: domain.RoleAuditor}, time.Hour, start)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.must(200, "GET", "/v1/units", tok, nil)
	}
	set(start.Add(time.Hour + time.Second))
	if r := h.do("GET", "/v1/units", tok, nil); r.Status != 401 || !strings.Contains(string(r.Body), "expired") {
		t.Fatalf("a remembered token past its expiry: %d %s", r.Status, r.Body)
	}
	// Not yet valid: refused, then accepted once its time comes, then
	// refused again if the clock is set back before it.
	set(start)
	later := jwt.MapClaims{"sub": "auditor-2", "role": "auditor", "iss": "kpiledger", "iat": start.Unix(),
		"nbf": start.Add(10 * time.Minute).Unix(), "exp": start.Add(time.Hour).Unix()}
	nbf, err := jwt.NewWithClaims(jwt.SigningMethodHS256, later).SignedString(h.key)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/v1/units", nbf, nil); r.Status != 401 {
		t.Fatalf("a token before its not-before: %d %s", r.Status, r.Body)
	}
	set(start.Add(11 * time.Minute))
	h.must(200, "GET", "/v1/units", nbf, nil)
	set(start.Add(5 * time.Minute))
	if r := h.do("GET", "/v1/units", nbf, nil); r.Status != 401 {
		t.Fatalf("a remembered token with the clock set back before its not-before: %d %s", r.Status, r.Body)
	}
}

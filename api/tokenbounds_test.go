package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

// TestTokenBounds: tokens for units the ledger does not know, tokens that
// live for centuries, and oversized claims are refused — when minted and
// when presented — and nothing is appended.
func TestTokenBounds(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	now := time.Now()
	sign := func(claims jwt.MapClaims) string {
		base := jwt.MapClaims{"sub": "x", "role": "opdc", "iss": "kpiledger", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range claims {
			base[k] = v
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, base).SignedString(h.key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// Minting.
	for name, mint := range map[string]func() error{
		"ttl 1000000h": func() error {
			_, err := api.IssueToken(h.key, api.Principal{Subject: "x", Role: domain.RoleOPDC}, 1000000*time.Hour, now)
			return err
		},
		"20,000-character sub": func() error {
			_, err := api.IssueToken(h.key, api.Principal{Subject: strings.Repeat("ก", 20000), Role: domain.RoleOPDC}, time.Hour, now)
			return err
		},
		"sub with a line break": func() error {
			_, err := api.IssueToken(h.key, api.Principal{Subject: "a\nb", Role: domain.RoleOPDC}, time.Hour, now)
			return err
		},
	} {
		if mint() == nil {
			t.Errorf("%s: minted", name)
		}
	}
	if _, err := api.IssueTokenWithin(h.key, api.Principal{Subject: "x", Role: domain.RoleOPDC}, 90*24*time.Hour, 365*24*time.Hour, now); err != nil {
		t.Errorf("a configured longer bound: %v", err)
	}

	// Presenting.
	before := h.lastSeq()
	body := indicatorBody("function", "ก", 1, 1, 2, 3)
	for name, tok := range map[string]string{
		"exp in 5138":          sign(jwt.MapClaims{"exp": time.Date(5138, 1, 1, 0, 0, 0, 0, time.UTC).Unix()}),
		"31 days":              sign(jwt.MapClaims{"exp": now.Add(31 * 24 * time.Hour).Unix()}),
		"no iat":               sign(jwt.MapClaims{"iat": nil}),
		"20,000-character sub": sign(jwt.MapClaims{"sub": strings.Repeat("a", 20000)}),
		"unit TH-99":           sign(jwt.MapClaims{"role": "unit", "unit": "TH-99"}),
		"unit nosuchdept":      sign(jwt.MapClaims{"role": "unit", "unit": "nosuchdept"}),
	} {
		r := h.do("POST", "/v1/units/TH-50/years/2563/indicators", tok, body)
		if r.Status != 401 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if h.lastSeq() != before {
		t.Fatal("a refused token wrote")
	}
	// A department's token works once the department is registered.
	dept := sign(jwt.MapClaims{"role": "unit", "unit": "dopa", "sub": "officer@dopa"})
	if r := h.do("GET", "/v1/units/dopa/series", dept, nil); r.Status != 401 {
		t.Errorf("token of an unregistered department: %d", r.Status)
	}
	h.must(201, "POST", "/v1/units", h.opdc(), map[string]any{"code": "dopa", "kind": "department", "name_th": "กรมการปกครอง", "name_en": "Department of Provincial Administration"})
	h.must(200, "GET", "/v1/units/dopa/series", dept, nil)
}

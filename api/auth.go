package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// Principal is the authenticated caller.
type Principal struct {
	Subject string
	Role    domain.Role
	Unit    string // for role unit: the one unit it may write for
	// Issuer and Name are set for a person signed in through the identity
	// provider (oidc.go): its issuer URL, and the display name or e-mail.
	Issuer string
	Name   string
}

// Actor is how the principal appears in events.
func (p Principal) Actor() domain.Actor {
	return domain.Actor{Subject: p.Subject, Issuer: p.Issuer, Role: p.Role, Unit: p.Unit, Name: p.Name}
}

// claims are a token's JWT claims.
type claims struct {
	Role string `json:"role"`
	Unit string `json:"unit,omitempty"`
	jwt.RegisteredClaims
}

const tokenIssuer = "kpiledger"

// Token bounds. A token lives at most DefaultMaxTokenTTL unless the server
// is configured otherwise (serve --token-max-ttl); its subject is a name,
// not a document, since it is copied into every event the caller writes;
// and the whole token is a few hundred bytes, so 4 KiB is generous.
const (
	DefaultMaxTokenTTL = 30 * 24 * time.Hour
	MaxSubjectLen      = 128 // characters
	maxTokenLen        = 4096
)

// IssueToken signs a bearer token (HS256) for the principal, living at
// most DefaultMaxTokenTTL.
func IssueToken(key []byte, p Principal, ttl time.Duration, now time.Time) (string, error) {
	return IssueTokenWithin(key, p, ttl, DefaultMaxTokenTTL, now)
}

// IssueTokenWithin is IssueToken with another bound on the time to live.
func IssueTokenWithin(key []byte, p Principal, ttl, maxTTL time.Duration, now time.Time) (string, error) {
	if err := checkPrincipal(p); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", errors.New("the token's time to live must be positive")
	}
	if ttl > maxTTL {
		return "", fmt.Errorf("a token may live at most %s (--ttl %s asked for more; the server's bound is --token-max-ttl)", maxTTL, ttl)
	}
	c := claims{Role: string(p.Role), Unit: p.Unit, RegisteredClaims: jwt.RegisteredClaims{
		Subject: p.Subject, Issuer: tokenIssuer,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
}

func checkPrincipal(p Principal) error {
	if strings.TrimSpace(p.Subject) == "" {
		return errors.New("the token needs a subject (--sub)")
	}
	if n := utf8.RuneCountInString(p.Subject); n > MaxSubjectLen {
		return fmt.Errorf("the token's subject has %d characters; at most %d", n, MaxSubjectLen)
	}
	if msg := textProblem(p.Subject, false); msg != "" {
		return errors.New("the token's subject " + msg)
	}
	switch p.Role {
	case domain.RoleOPDC, domain.RoleAuditor:
		if p.Unit != "" {
			return fmt.Errorf("role %s is not bound to a unit", p.Role)
		}
	case domain.RoleUnit:
		if !domain.IsUnitCode(p.Unit) {
			return errors.New("role unit needs the unit it writes for (--unit TH-50, or a department code)")
		}
	default:
		return fmt.Errorf("unknown role %q (opdc, unit or auditor)", p.Role)
	}
	return nil
}

// ParseToken verifies a bearer token: HS256 with the server's key only
// (alg none and every other algorithm refused), unexpired, and with
// coherent role claims.
func ParseToken(key []byte, token string, now time.Time) (Principal, error) {
	return ParseTokenWithin(key, token, DefaultMaxTokenTTL, now)
}

// ParseTokenWithin is ParseToken with another bound on a token's life: a
// token whose expiry lies further than maxTTL after its issue, or after
// now, is refused however validly signed (an "exp" in the year 5138).
func ParseTokenWithin(key []byte, token string, maxTTL time.Duration, now time.Time) (Principal, error) {
	p, _, err := parseLocalToken(key, token, maxTTL, now)
	return p, err
}

// validity is the span of instants at which a verified token is accepted:
// from its not-before (or the latest of its issue time less the 5 minutes
// of skew allowed, and its expiry less the longest life a token may have)
// up to, not including, its expiry. Every check ParseTokenWithin makes
// that depends on the time holds exactly within it.
type validity struct{ from, until time.Time }

func (v validity) holds(now time.Time) bool { return !now.Before(v.from) && now.Before(v.until) }

// parseLocalToken is ParseTokenWithin, also returning the token's validity.
func parseLocalToken(key []byte, token string, maxTTL time.Duration, now time.Time) (Principal, validity, error) {
	if len(token) > maxTokenLen {
		return Principal{}, validity{}, fmt.Errorf("the token has %d bytes; at most %d", len(token), maxTokenLen)
	}
	var c claims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithIssuer(tokenIssuer), jwt.WithTimeFunc(func() time.Time { return now }))
	if _, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		return Principal{}, validity{}, err
	}
	if c.IssuedAt == nil {
		return Principal{}, validity{}, errors.New("the token has no issue time (iat)")
	}
	if c.ExpiresAt.Sub(c.IssuedAt.Time) > maxTTL || c.ExpiresAt.Sub(now) > maxTTL {
		return Principal{}, validity{}, fmt.Errorf("the token is valid until %s, longer than the %s a token may live", c.ExpiresAt.UTC().Format(time.RFC3339), maxTTL)
	}
	if c.IssuedAt.After(now.Add(5 * time.Minute)) {
		return Principal{}, validity{}, errors.New("the token is issued in the future")
	}
	p := Principal{Subject: c.Subject, Role: domain.Role(c.Role), Unit: c.Unit}
	if err := checkPrincipal(p); err != nil {
		return Principal{}, validity{}, err
	}
	v := validity{from: c.IssuedAt.Add(-5 * time.Minute), until: c.ExpiresAt.Time}
	if earliest := c.ExpiresAt.Add(-maxTTL); earliest.After(v.from) {
		v.from = earliest
	}
	if c.NotBefore != nil && c.NotBefore.After(v.from) {
		v.from = c.NotBefore.Time
	}
	return p, v, nil
}

// tokenCache remembers the local tokens a server has verified, with their
// validity, so that a client's next request with the same token costs a
// map lookup instead of a base64 and JSON decode and an HMAC (a twentieth
// of a write's CPU). Only local tokens: their key never changes while the
// server runs, where a provider's keys rotate.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	p Principal
	v validity
}

// maxCachedTokens bounds the cache; past it, arbitrary entries make room.
const maxCachedTokens = 4096

func (c *tokenCache) get(raw string, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[raw]
	if !ok {
		return Principal{}, false
	}
	if !t.v.holds(now) {
		if !now.Before(t.v.until) {
			delete(c.m, raw)
		}
		return Principal{}, false
	}
	return t.p, true
}

func (c *tokenCache) put(raw string, p Principal, v validity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedToken{}
	}
	for k := range c.m {
		if len(c.m) < maxCachedTokens {
			break
		}
		delete(c.m, k)
	}
	c.m[raw] = cachedToken{p: p, v: v}
}

// TokenKeyFile is the key's file name inside the data directory.
const TokenKeyFile = "token.key"

// LoadTokenKey returns the HMAC key tokens are signed with: the
// KPILEDGER_TOKEN_KEY value when set (every node of a cluster must share
// it), else the key in the data directory, created on first use.
func LoadTokenKey(dataDir string, getenv func(string) string) ([]byte, error) {
	if k := getenv("KPILEDGER_TOKEN_KEY"); k != "" {
		if len(k) < 32 {
			return nil, errors.New("KPILEDGER_TOKEN_KEY must be at least 32 characters")
		}
		if bits := estimatedBits(k); bits < minKeyBits {
			return nil, fmt.Errorf("KPILEDGER_TOKEN_KEY looks guessable (about %d bits judged by how varied its characters are; at least %d needed): use random bytes, e.g. head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'", bits, minKeyBits)
		}
		return []byte(k), nil
	}
	if dataDir == "" {
		return nil, errors.New("no token key: set KPILEDGER_TOKEN_KEY or give a data directory")
	}
	path := filepath.Join(dataDir, TokenKeyFile)
	if err := CheckKeyFile(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s is not a hex key of 32 bytes or more", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: if another process created the key meanwhile, use its key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadTokenKey(dataDir, getenv)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, err
	}
	return key, f.Sync()
}

// minKeyBits is the least estimated entropy of a key given in the
// environment: 32 random hex digits (128 bits) estimate at about 118.
const minKeyBits = 96

// estimatedBits estimates a key's entropy from its characters' frequencies
// (length × Shannon entropy per character): 32 a's are 0 bits.
func estimatedBits(k string) int {
	counts := map[byte]int{}
	for i := 0; i < len(k); i++ {
		counts[k[i]]++
	}
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(len(k))
		h -= p * math.Log2(p)
	}
	return int(h * float64(len(k)))
}

// CheckKeyFile refuses a key file (or the directory holding it) that other
// users may read or replace: anyone who reads token.key can sign any
// token, and checkpoint.key any checkpoint. A missing file is fine (it
// will be created 0600).
func CheckKeyFile(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the data directory %s is writable by other users (mode %04o), who could replace its keys: chmod go-w %s", dir, fi.Mode().Perm(), dir)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("the key file %s can be read by other users (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

const principalKey = "kpiledger.principal"

// authenticate is the /v1 middleware: every call needs a valid token.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return errUnauthenticated
		}
		// Local HS256 token or the identity provider's: see oidc.go.
		p, err := s.bearer(c.Request().Context(), strings.TrimSpace(tok))
		if err != nil {
			return bearerProblem(err)
		}
		if p.Role == domain.RoleUnit {
			// A token for a unit the ledger does not know is refused, so
			// it cannot be held until someone registers that unit; the
			// same holds for a unit the identity provider's groups name.
			known := false
			s.model.Read(func(st *projections.State) { _, known = st.Unit(p.Unit) })
			if !known {
				return problem(401, "invalid-token", "Invalid token", fmt.Sprintf("the bearer token was refused: its unit %q is not known to this ledger", p.Unit))
			}
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func principal(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// requireRole allows only the given roles.
func requireRole(c echo.Context, roles ...domain.Role) error {
	p := principal(c)
	for _, r := range roles {
		if p.Role == r {
			return nil
		}
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return forbidden(fmt.Sprintf("role %s may not do this (allowed: %s)", p.Role, strings.Join(names, ", ")))
}

// requireOwner allows only an officer of the given unit.
func requireOwner(c echo.Context, unit string) error {
	p := principal(c)
	if p.Role != domain.RoleUnit {
		return forbidden(fmt.Sprintf("only an officer of %s may do this (role %s)", unit, p.Role))
	}
	if p.Unit != unit {
		return forbidden(fmt.Sprintf("this token writes for %s, not %s", p.Unit, unit))
	}
	return nil
}

// CanRead reports whether p may read a unit's data: OPDC, auditors, and
// officers of the unit itself. The API and the dashboard both decide by it.
func CanRead(p Principal, unit string) bool {
	return p.Role != domain.RoleUnit || p.Unit == unit
}

// CanAudit reports whether p may read audit trails, the event feed and
// export bundles: OPDC and auditors.
func CanAudit(p Principal) bool {
	return p.Role == domain.RoleOPDC || p.Role == domain.RoleAuditor
}

// requireReader allows OPDC, auditors, and officers of the unit itself.
func requireReader(c echo.Context, unit string) error {
	p := principal(c)
	if !CanRead(p, unit) {
		return forbidden(fmt.Sprintf("this token reads %s only, not %s", p.Unit, unit))
	}
	return nil
}

// requireAuditor allows OPDC and auditors.
func requireAuditor(c echo.Context) error {
	if !CanAudit(principal(c)) {
		return forbidden(fmt.Sprintf("role %s may not read audit data (allowed: opdc, auditor)", principal(c).Role))
	}
	return nil
}

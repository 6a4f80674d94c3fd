package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/opdc/kpiledger/domain"
)

// Single sign-on: people sign in through their organisation's OpenID
// Connect provider (Keycloak, Microsoft Entra ID, Google Workspace, a
// national digital ID) and programs call the API with that provider's
// access tokens. Roles and units come from one claim of the provider's
// tokens, by default "groups", whose values name them:
//
//	kpiledger:opdc          role opdc
//	kpiledger:auditor       role auditor
//	kpiledger:unit:TH-50    role unit, writing for TH-50
//
// The API takes the provider's JWT access tokens, not its ID tokens: an
// access token is what a provider issues for calling an API, for an
// audience the deployment chooses (--oidc-audience, by default the client
// id), and what automation obtains through the client-credentials or
// device flows; an ID token is a statement to the dashboard that a person
// signed in. Both are JWTs signed with the issuer's keys, and nothing in
// every provider's tokens tells them apart reliably (RFC 9068's "at+jwt"
// type is not universal), so an ID token whose audience is the configured
// one passes the same checks: issuer, audience, signature against the
// issuer's published keys (fetched again when a token names a key not yet
// seen, so keys rotate without a restart), expiry and not-before, with
// ClockSkew of tolerance either way.

// OIDCConfig configures single sign-on.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document and tokens give it (a trailing slash matters); the document
	// is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret are the dashboard's registration at the
	// provider (a confidential client using the authorization code flow).
	ClientID     string
	ClientSecret string
	// RedirectURL is the dashboard's callback as registered at the
	// provider: https://<host>/signin/oidc/callback.
	RedirectURL string
	// Scopes requested at sign-in (default openid, profile, email).
	Scopes []string
	// Audience an access token must name (default ClientID).
	Audience string
	// Claim holds the role values: a claim name, or a dotted path into
	// nested objects such as realm_access.roles (default "groups").
	Claim string
	// Prefix starts every value that means something here (default
	// "kpiledger:"); other values of the claim are ignored.
	Prefix string
	// ClockSkew is how far the provider's clock may differ from ours
	// when expiry is checked (default 1 minute).
	ClockSkew time.Duration
	// Name labels the sign-in button (default the issuer's host).
	Name string
	// HTTPClient talks to the provider (default: 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock tokens are checked against (default time.Now).
	Now func() time.Time
	Log *slog.Logger
	// RetryMax caps the wait between discovery attempts while the provider
	// cannot be reached (default 30 s; the first retries are sooner).
	RetryMax time.Duration
}

// OIDC is a configured provider. It discovers the provider's endpoints and
// keys in the background (Run) and, until that succeeds, refuses what needs
// them with ErrProviderUnavailable while local tokens keep working.
type OIDC struct {
	cfg OIDCConfig

	mu      sync.RWMutex
	d       *discovered // nil until discovery succeeds
	lastErr error
	tries   int
	readyCh chan struct{}
}

// discovered is what the provider's discovery document gives.
type discovered struct {
	provider   *oidc.Provider
	access     *oidc.IDTokenVerifier // API bearer tokens: aud = Audience
	id         *oidc.IDTokenVerifier // the dashboard's ID tokens: aud = ClientID
	oauth      oauth2.Config
	endSession string // RP-initiated logout, "" when not advertised
}

// ErrProviderUnavailable: the provider's discovery document has not been
// fetched yet (the provider was unreachable at start and still is).
var ErrProviderUnavailable = errors.New("the identity provider has not been reached yet")

// RoleError is an identity the provider vouched for whose claims do not
// give exactly one kpiledger role: none at all, two roles, two units.
type RoleError struct {
	Subject string
	Name    string
	Reason  string
}

func (e *RoleError) Error() string { return e.Reason }

// NewOIDC checks the configuration; it does not contact the provider.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the OIDC issuer must be an http(s) URL, not %q", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("single sign-on needs the client id registered at the provider")
	}
	if r, err := url.Parse(cfg.RedirectURL); err != nil || (r.Scheme != "https" && r.Scheme != "http") || r.Host == "" {
		return nil, fmt.Errorf("single sign-on needs the dashboard's callback URL as registered at the provider (https://<host>%s), not %q", CallbackPath, cfg.RedirectURL)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.ClientID
	}
	if cfg.Claim == "" {
		cfg.Claim = "groups"
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "kpiledger:"
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = time.Minute
	}
	if cfg.ClockSkew < 0 {
		return nil, errors.New("the clock skew tolerance cannot be negative")
	}
	if cfg.Name == "" {
		cfg.Name = u.Host
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	return &OIDC{cfg: cfg, readyCh: make(chan struct{})}, nil
}

// CallbackPath is where the dashboard receives the provider's answer.
const CallbackPath = "/signin/oidc/callback"

// Config returns the configuration with its defaults filled in.
func (o *OIDC) Config() OIDCConfig { return o.cfg }

// Run fetches the discovery document, retrying with backoff while the
// provider cannot be reached, until it succeeds or ctx ends.
func (o *OIDC) Run(ctx context.Context) {
	wait := 500 * time.Millisecond
	for {
		err := o.Discover(ctx)
		if err == nil {
			return
		}
		o.cfg.Log.Warn("identity provider unreachable; local tokens still work, retrying", "issuer", o.cfg.Issuer, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, o.cfg.RetryMax)
	}
}

// Discover makes one attempt at fetching the discovery document.
func (o *OIDC) Discover(ctx context.Context) error {
	if o.discovered() != nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(cctx, o.cfg.HTTPClient), o.cfg.Issuer)
	if err == nil {
		var extra struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err = p.Claims(&extra); err == nil {
			// Verifiers take the clock set back by the tolerance: a token
			// that expired less than ClockSkew ago by our clock is still
			// inside its life by a provider's clock that lags ours.
			now := func() time.Time { return o.cfg.Now().Add(-o.cfg.ClockSkew) }
			d := &discovered{provider: p, endSession: extra.EndSession,
				access: p.Verifier(&oidc.Config{ClientID: o.cfg.Audience, Now: now}),
				id:     p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: now}),
				oauth: oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
					Endpoint: p.Endpoint(), Scopes: o.cfg.Scopes}}
			o.mu.Lock()
			if o.d == nil {
				o.d, o.lastErr = d, nil
				close(o.readyCh)
			}
			o.mu.Unlock()
			o.cfg.Log.Info("identity provider discovered", "issuer", o.cfg.Issuer, "end_session", extra.EndSession != "")
			return nil
		}
	}
	o.mu.Lock()
	o.lastErr, o.tries = err, o.tries+1
	o.mu.Unlock()
	return err
}

func (o *OIDC) discovered() *discovered {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.d
}

// Ready is closed once the provider has been discovered.
func (o *OIDC) Ready() <-chan struct{} { return o.readyCh }

// Status is the provider's part of /readyz.
func (o *OIDC) Status() map[string]any {
	o.mu.RLock()
	defer o.mu.RUnlock()
	st := map[string]any{"issuer": o.cfg.Issuer}
	switch {
	case o.d != nil:
		st["status"] = "ready"
	case o.lastErr != nil:
		st["status"], st["error"], st["attempts"] = "unreachable", o.lastErr.Error(), o.tries
	default:
		st["status"] = "discovering"
	}
	return st
}

// EndSessionURL is the provider's RP-initiated logout for a session that
// signed in with idToken, returning to postLogout; "" when the provider
// advertises no end_session_endpoint.
func (o *OIDC) EndSessionURL(idToken, postLogout string) string {
	d := o.discovered()
	if d == nil || d.endSession == "" {
		return ""
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", o.cfg.ClientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	if postLogout != "" {
		q.Set("post_logout_redirect_uri", postLogout)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// AuthCodeURL is where the dashboard sends a browser to sign in: the
// authorization code flow with state, nonce and PKCE (S256) over verifier.
func (o *OIDC) AuthCodeURL(state, nonce, verifier string) (string, error) {
	d := o.discovered()
	if d == nil {
		return "", o.unavailable()
	}
	return d.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

func (o *OIDC) unavailable() error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.lastErr != nil {
		return fmt.Errorf("%w (%s): %v", ErrProviderUnavailable, o.cfg.Issuer, o.lastErr)
	}
	return fmt.Errorf("%w (%s)", ErrProviderUnavailable, o.cfg.Issuer)
}

// Login is a completed sign-in.
type Login struct {
	Principal Principal
	IDToken   string    // the raw ID token: the hint for RP-initiated logout
	Expiry    time.Time // the ID token's expiry
}

// ExchangeError is the provider refusing a code at its token endpoint
// (expired, already used, issued to another client).
type ExchangeError struct{ Err error }

func (e *ExchangeError) Error() string {
	return "the provider refused the sign-in code: " + e.Err.Error()
}
func (e *ExchangeError) Unwrap() error { return e.Err }

// Exchange redeems an authorization code with its PKCE verifier, checks
// the ID token (signature, issuer, audience, expiry, and that its nonce is
// the one this browser's sign-in started with) and maps its claims, asking
// the userinfo endpoint when the role claim is not in the ID token.
func (o *OIDC) Exchange(ctx context.Context, code, verifier, nonce string) (Login, error) {
	d := o.discovered()
	if d == nil {
		return Login{}, o.unavailable()
	}
	ctx = oidc.ClientContext(ctx, o.cfg.HTTPClient)
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Login{}, &ExchangeError{Err: err}
		}
		return Login{}, fmt.Errorf("the identity provider could not be reached to finish signing in: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Login{}, &ExchangeError{Err: errors.New("the token response has no id_token")}
	}
	idt, err := d.id.Verify(ctx, raw)
	if err != nil {
		return Login{}, fmt.Errorf("the provider's ID token was refused: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return Login{}, errors.New("the ID token's nonce is not the one this sign-in started with (a replayed or injected token)")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Login{}, err
	}
	if _, ok := lookupClaim(claims, o.cfg.Claim); !ok && d.provider.UserInfoEndpoint() != "" {
		ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Login{}, fmt.Errorf("the provider's userinfo endpoint failed: %w", err)
		}
		if ui.Subject != idt.Subject {
			return Login{}, errors.New("the userinfo endpoint answered for another subject")
		}
		extra := map[string]any{}
		if err := ui.Claims(&extra); err != nil {
			return Login{}, err
		}
		for k, v := range extra {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	p, err := o.principal(claims)
	if err != nil {
		return Login{}, err
	}
	return Login{Principal: p, IDToken: raw, Expiry: idt.Expiry}, nil
}

// VerifyAccessToken checks a bearer token from the provider and maps it to
// a principal.
func (o *OIDC) VerifyAccessToken(ctx context.Context, raw string) (Principal, error) {
	d := o.discovered()
	if d == nil {
		return Principal{}, o.unavailable()
	}
	t, err := d.access.Verify(oidc.ClientContext(ctx, o.cfg.HTTPClient), raw)
	if err != nil {
		return Principal{}, err
	}
	claims := map[string]any{}
	if err := t.Claims(&claims); err != nil {
		return Principal{}, err
	}
	return o.principal(claims)
}

// principal maps verified claims to a kpiledger principal: exactly one
// role among the claim's values with the prefix, and for role unit exactly
// one unit.
func (o *OIDC) principal(claims map[string]any) (Principal, error) {
	sub, _ := claims["sub"].(string)
	iss, _ := claims["iss"].(string)
	if strings.TrimSpace(sub) == "" {
		return Principal{}, errors.New("the token has no subject")
	}
	p := Principal{Subject: sub, Issuer: iss, Name: displayName(claims)}
	roles, units := map[domain.Role]bool{}, map[string]bool{}
	v, _ := lookupClaim(claims, o.cfg.Claim)
	for _, val := range claimStrings(v) {
		rest, ok := strings.CutPrefix(val, o.cfg.Prefix)
		if !ok {
			continue
		}
		switch {
		case rest == string(domain.RoleOPDC):
			roles[domain.RoleOPDC] = true
		case rest == string(domain.RoleAuditor):
			roles[domain.RoleAuditor] = true
		case strings.HasPrefix(rest, "unit:"):
			unit := strings.TrimPrefix(rest, "unit:")
			if !domain.IsUnitCode(unit) {
				return Principal{}, &RoleError{Subject: sub, Name: p.Name,
					Reason: fmt.Sprintf("%s%s does not name a unit (a province's ISO code such as TH-50, or a department's code)", o.cfg.Prefix, rest)}
			}
			roles[domain.RoleUnit], units[unit] = true, true
		}
	}
	who := sub
	if p.Name != "" {
		who = p.Name
	}
	switch {
	case len(units) > 1:
		return Principal{}, &RoleError{Subject: sub, Name: p.Name, Reason: fmt.Sprintf(
			"%s's %q claim maps to %d units (%s); an officer writes for one unit, so the identity provider must give exactly one %sunit:<code>",
			who, o.cfg.Claim, len(units), strings.Join(sortedKeys(units), ", "), o.cfg.Prefix)}
	case len(roles) > 1:
		names := make([]string, 0, len(roles))
		for r := range roles {
			names = append(names, string(r))
		}
		sort.Strings(names)
		return Principal{}, &RoleError{Subject: sub, Name: p.Name, Reason: fmt.Sprintf(
			"%s's %q claim gives more than one kpiledger role (%s); the identity provider must give exactly one", who, o.cfg.Claim, strings.Join(names, ", "))}
	case len(roles) == 0:
		return Principal{}, &RoleError{Subject: sub, Name: p.Name, Reason: fmt.Sprintf(
			"%s has no kpiledger role: the %q claim holds none of %sopdc, %sauditor or %sunit:<unit code>; ask the identity provider's administrator to add one",
			who, o.cfg.Claim, o.cfg.Prefix, o.cfg.Prefix, o.cfg.Prefix)}
	}
	for r := range roles {
		p.Role = r
	}
	for u := range units {
		p.Unit = u
	}
	return p, nil
}

// displayName is what an audit trail shows beside the subject.
func displayName(claims map[string]any) string {
	name, _ := claims["name"].(string)
	email, _ := claims["email"].(string)
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case name != "":
		return name
	case email != "":
		return email
	}
	user, _ := claims["preferred_username"].(string)
	return user
}

// lookupClaim follows a dotted path (realm_access.roles) into nested
// objects; a claim whose own name has a dot is found first.
func lookupClaim(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// claimStrings reads a claim holding a list of strings, or one string with
// the values separated by spaces or commas (as some providers send roles).
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var errLocalOff = errors.New("local tokens (kpiledger token) are switched off on this server (--local-tokens=false); use the identity provider's access token")

// bearerProblem is the answer to a refused bearer token: 503 while the
// provider has not been reached (the token may be fine), 403 for a person
// the provider vouched for who has no single kpiledger role, else 401.
func bearerProblem(err error) *Problem {
	var re *RoleError
	switch {
	case errors.Is(err, ErrProviderUnavailable):
		return problem(http.StatusServiceUnavailable, "identity-provider-unavailable", "Identity provider unavailable",
			err.Error()+"; local tokens are still accepted, and GET /readyz shows the provider's state")
	case errors.As(err, &re):
		return forbidden(re.Reason)
	}
	return problem(http.StatusUnauthorized, "invalid-token", "Invalid token", "the bearer token was refused: "+err.Error())
}

// tokenIssuerOf reads a bearer token's iss claim without verifying it, to
// pick the verifier: the ledger's own HS256 key, or the provider's keys.
func tokenIssuerOf(raw string) string {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		return ""
	}
	return c.Issuer
}

// bearer verifies a bearer token of either kind. It is the authenticate
// middleware's one call, and the dashboard's for a pasted token.
func (s *Server) bearer(ctx context.Context, raw string) (Principal, error) {
	now := s.now()
	if s.noLocalTokens {
		return verifyBearer(ctx, raw, s.key, s.tokenMaxTTL, s.oidc, false, now)
	}
	if p, ok := s.tokens.get(raw, now); ok {
		return p, nil
	}
	if iss := tokenIssuerOf(raw); iss == tokenIssuer || s.oidc == nil {
		p, v, err := parseLocalToken(s.key, raw, s.tokenMaxTTL, now)
		if err == nil {
			s.tokens.put(raw, p, v)
		}
		return p, err
	}
	return verifyBearer(ctx, raw, s.key, s.tokenMaxTTL, s.oidc, true, now)
}

// verifyBearer checks a bearer token: a local token (issuer kpiledger,
// HS256 with key) when local tokens are on, or the provider's access token
// when o is configured. A token from any other issuer is refused by name.
func verifyBearer(ctx context.Context, raw string, key []byte, maxTTL time.Duration, o *OIDC, local bool, now time.Time) (Principal, error) {
	iss := tokenIssuerOf(raw)
	switch {
	case o != nil && iss == o.cfg.Issuer:
		return o.VerifyAccessToken(ctx, raw)
	case iss == tokenIssuer || o == nil:
		if !local {
			return Principal{}, errLocalOff
		}
		return ParseTokenWithin(key, raw, maxTTL, now)
	case iss == "":
		// Not a JWT at all, or one without an issuer: the local parser
		// says what is wrong with it, or the provider is named.
		if local {
			return ParseTokenWithin(key, raw, maxTTL, now)
		}
		return Principal{}, fmt.Errorf("the token is not a JWT issued by %s", o.cfg.Issuer)
	}
	accepted := o.cfg.Issuer
	if local {
		accepted = tokenIssuer + " (local tokens) or " + accepted
	}
	return Principal{}, fmt.Errorf("the token was issued by %q; this server accepts tokens from %s", iss, accepted)
}

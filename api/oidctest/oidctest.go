// Package oidctest runs a real OpenID Connect provider for tests: zitadel's
// example OP (github.com/zitadel/oidc/v3/example/server), in-process on a
// random loopback port, with its own login page, discovery, JWKS, token,
// userinfo and end-session endpoints. Only the users and clients are
// kpiledger's: each user carries a "groups" claim (in ID tokens, JWT access
// tokens and userinfo), clients get JWT access tokens, and the signing key
// can be rotated mid-test.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// User is a person at the provider.
type User struct {
	ID       string // the stable subject
	Username string
	Password string
	Name     string
	Email    string
	Groups   []string
}

// Client is an application registered at the provider.
type Client struct {
	ID, Secret   string
	RedirectURIs []string
	// PostLogout are the addresses RP-initiated logout may return to.
	PostLogout []string
}

// People are a provider's users for kpiledger's tests, one per kind of
// caller, with the groups an administrator would give them. Each password
// is "pw-" + the username's part before the @.
var People = []User{
	{ID: "8f1c2a7e-0001", Username: "pranee@opdc.go.th", Password: "pw-pranee", Name: "ปราณี ศรีสุข", Email: "pranee@opdc.go.th",
		Groups: []string{"staff", "kpiledger:opdc"}},
	{ID: "8f1c2a7e-0002", Username: "wichai@oag.go.th", Password: "pw-wichai", Name: "วิชัย ตรวจดี", Email: "wichai@oag.go.th",
		Groups: []string{"kpiledger:auditor"}},
	{ID: "8f1c2a7e-0003", Username: "somchai@chiangmai.go.th", Password: "pw-somchai", Name: "สมชาย ใจดี", Email: "somchai@chiangmai.go.th",
		Groups: []string{"kpiledger:unit:TH-50", "chiangmai-staff"}},
	{ID: "8f1c2a7e-0004", Username: "malee@chiangrai.go.th", Password: "pw-malee", Name: "มาลี เชียงราย", Email: "malee@chiangrai.go.th",
		Groups: []string{"kpiledger:unit:TH-57"}},
	{ID: "8f1c2a7e-0005", Username: "nobody@example.go.th", Password: "pw-nobody", Name: "ไม่มี สิทธิ์", Email: "nobody@example.go.th",
		Groups: []string{"staff"}},
	{ID: "8f1c2a7e-0006", Username: "twice@example.go.th", Password: "pw-twice", Name: "สอง หน่วย", Email: "twice@example.go.th",
		Groups: []string{"kpiledger:unit:TH-50", "kpiledger:unit:TH-57"}},
}

// Person returns the People entry with the username.
func Person(username string) User {
	for _, u := range People {
		if u.Username == username {
			return u
		}
	}
	panic("oidctest: no person " + username)
}

var quietOnce sync.Once

// Provider is a running OP.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:<port>).
	Issuer  string
	srv     *http.Server
	ln      net.Listener
	handler http.Handler
	store   *store
	users   map[string]User
	mu      sync.Mutex
}

// Start runs a provider until the test ends. host is the loopback name the
// issuer URL uses ("127.0.0.1" or "localhost"): a browser test puts the
// provider on another site than the dashboard by choosing the other one.
func Start(t testing.TB, host string, clients []Client, users []User) *Provider {
	t.Helper()
	p, err := New(host, "127.0.0.1:0", clients, users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// New runs a provider listening on addr, its issuer http://host:<port>,
// until Stop.
func New(host, addr string, clients []Client, users []User) (*Provider, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	issuer := fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port)
	p := &Provider{Issuer: issuer, ln: ln, users: map[string]User{}}
	us := userStore{byID: map[string]*storage.User{}}
	for _, u := range users {
		p.users[u.ID] = u
		first, last, _ := strings.Cut(u.Name, " ")
		us.byID[u.ID] = &storage.User{ID: u.ID, Username: u.Username, Password: u.Password, FirstName: first, LastName: last,
			Email: u.Email, EmailVerified: true, PreferredLanguage: language.Thai}
	}
	registered := map[string]*storage.Client{}
	wrapped := map[string]op.Client{}
	for _, c := range clients {
		registered[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
		wrapped[c.ID] = client{Client: registered[c.ID], postLogout: c.PostLogout}
	}
	p.store = &store{Storage: storage.NewStorageWithClients(us, registered), users: p.users, clients: wrapped}
	k, err := newKey()
	if err != nil {
		ln.Close()
		return nil, err
	}
	p.store.keys = []signingKey{k}
	// The example OP logs every request through slog's default logger;
	// test output would drown in it.
	quietOnce.Do(func() { slog.SetDefault(slog.New(slog.DiscardHandler)) })
	p.handler = exampleop.SetupServer(issuer, p.store, nil, false)
	p.serve(ln)
	return p, nil
}

func (p *Provider) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln = ln
	p.srv = &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server) { _ = srv.Serve(ln) }(p.srv)
}

// Stop shuts the provider down (a test of an unreachable provider calls it
// early; it is safe to call twice).
func (p *Provider) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}

// Restart serves again on the same address after Stop, with the same keys,
// users and sessions: the provider coming back.
func (p *Provider) Restart(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// RotateKey starts signing with a new key. With retire, the JWKS lists only
// the new key afterwards (tokens signed with the old one stop verifying);
// without, it lists both, as a provider does during a rollover.
func (p *Provider) RotateKey(t testing.TB, retire bool) {
	k, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	if retire {
		p.store.keys = []signingKey{k}
	} else {
		p.store.keys = append([]signingKey{k}, p.store.keys...)
	}
}

// Tokens are what a sign-in at the token endpoint gives.
type Tokens struct {
	Access, ID string
}

// SignIn runs the authorization code flow without a browser — the
// provider's own login form posted by an HTTP client — and returns the
// tokens client receives for the user.
func (p *Provider) SignIn(t testing.TB, c Client, username, password string) Tokens {
	t.Helper()
	tok, err := p.Login(c, username, password)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Login is SignIn returning its error; it needs only p.Issuer, so it works
// against a provider in another process too.
func (p *Provider) Login(c Client, username, password string) (Tokens, error) {
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {c.RedirectURIs[0]}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {"state-1"}}
	loc, err := p.FollowLogin(p.Issuer+"/auth?"+q.Encode(), username, password)
	if err != nil {
		return Tokens{}, err
	}
	u, err := url.Parse(loc)
	if err != nil {
		return Tokens{}, err
	}
	code := u.Query().Get("code")
	if u.Query().Get("state") != "state-1" || code == "" {
		return Tokens{}, fmt.Errorf("the provider redirected to %s", loc)
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURIs[0],
		Endpoint: oauth2.Endpoint{TokenURL: p.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := conf.Exchange(context.Background(), code)
	if err != nil {
		return Tokens{}, fmt.Errorf("token endpoint: %w", err)
	}
	id, _ := tok.Extra("id_token").(string)
	return Tokens{Access: tok.AccessToken, ID: id}, nil
}

// FollowLogin takes an authorization URL (the provider's, or a relying
// party's sign-in address that redirects there), fills the provider's
// login form, and returns the address the provider finally sends the
// browser to outside itself (the relying party's callback), unfollowed.
func (p *Provider) FollowLogin(start, username, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	var last *url.URL
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), p.Issuer) {
			last = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := hc.Get(start)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if last != nil {
		return "", fmt.Errorf("left the provider before the login page: %s", last)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		return "", fmt.Errorf("no login page: ended at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	resp, err = hc.PostForm(p.Issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if last == nil {
		return "", fmt.Errorf("the provider did not redirect back after the login form (%d at %s)", resp.StatusCode, resp.Request.URL)
	}
	return last.String(), nil
}

// userStore is the example storage's user directory with our users.
type userStore struct{ byID map[string]*storage.User }

func (u userStore) GetUserByID(id string) *storage.User { return u.byID[id] }

func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u userStore) ExampleClientID() string { return storage.ServiceUserID }

// store is the example's in-memory storage with our clients, a groups
// claim, and rotatable signing keys.
type store struct {
	*storage.Storage
	users   map[string]User
	clients map[string]op.Client
	mu      sync.Mutex
	keys    []signingKey // keys[0] signs
}

// client gives the example's web client JWT access tokens, userinfo claims
// in the ID token, and post-logout addresses.
type client struct {
	*storage.Client
	postLogout []string
}

func (c client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) PostLogoutRedirectURIs() []string     { return c.postLogout }

func (s *store) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return nil, errors.New("client not found")
}

func (s *store) groups(userID string) []string { return s.users[userID].Groups }

func (s *store) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	ui.AppendClaims("groups", s.groups(token.GetSubject()))
	return nil
}

func (s *store) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	ui.AppendClaims("groups", s.groups(subject))
	return nil
}

// GetPrivateClaimsFromScopes adds to JWT access tokens what an API needs
// to know of the person: groups, name and e-mail (Keycloak, for one, puts
// the same in its access tokens).
func (s *store) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	u := s.users[userID]
	claims["groups"], claims["name"], claims["email"] = u.Groups, u.Name, u.Email
	return claims, nil
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func newKey() (signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{id: uuid.NewString(), key: k}, nil
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *store) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[0], nil
}

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *store) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]op.Key, len(s.keys))
	for i, k := range s.keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

// Claims decodes a JWT's payload without verifying it (for test messages).
func Claims(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil
	}
	out := map[string]any{}
	_ = json.Unmarshal(b.UnsafePayloadWithoutVerification(), &out)
	return out
}

// Kid is the key id in a JWT's header.
func Kid(jwt string) string {
	b, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(b.Signatures) == 0 {
		return ""
	}
	return b.Signatures[0].Header.KeyID
}

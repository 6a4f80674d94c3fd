package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/openapitest"
	"github.com/opdc/kpiledger/api/web"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
	"github.com/opdc/kpiledger/projections"
)

// ledger is a real kpiledger, as api/harness_test.go builds one — an
// embedded nats-server with JetStream in a temp dir, the store, the read
// model kept current by its runner — serving the API and the dashboard on
// one Echo instance, exactly as `kpiledger serve` wires them. Its store
// records events at the instants the test sets, so that as-of views have a
// history to look back on.
type ledger struct {
	t     testing.TB
	url   string
	store *events.Store
	model *projections.Model
	key   []byte
	clock *heldClock
	oidc  *api.OIDC // nil without single sign-on
}

// heldClock is the ledger's clock: real time until held at an instant.
type heldClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *heldClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

func (c *heldClock) hold(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

func newLedger(t testing.TB) *ledger { t.Helper(); return newLedgerWith(t, nil) }

// ssoSetup builds single sign-on for a ledger about to serve at base, with
// the ledger's clock; it returns the provider and whether local tokens are
// off.
type ssoSetup func(base string, now func() time.Time) (*api.OIDC, bool)

// newLedgerWith is newLedger with single sign-on (sso.go) when sso is set.
func newLedgerWith(t testing.TB, sso ssoSetup) *ledger {
	t.Helper()
	clk := &heldClock{}
	store := eventstest.NewStore(t, events.WithClock(clk.Now))
	model := projections.NewModel()
	ctx, cancel := context.WithCancel(context.Background())
	runner := &projections.Runner{Store: store, Model: model}
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	key := []byte("test-key-0123456789-0123456789-0123456789")
	signer, err := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// The address is known before the server is built: the provider's
	// redirect URL names it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wc := web.Config{Store: store, Model: model, TokenKey: key}
	var o *api.OIDC
	noLocal := false
	if sso != nil {
		o, noLocal = sso("http://"+ln.Addr().String(), clk.Now)
		wc.OIDC, wc.NoLocalTokens, wc.Now = o, noLocal, clk.Now
	}
	// WriteRate -1: the demo data is loaded through this server, thousands
	// of writes per principal, as serve --demo loads with the limit lifted.
	// The API's exchanges are checked against /openapi.json; the
	// dashboard's pages pass through.
	srv := httptest.NewUnstartedServer(openapitest.Handler(t, api.New(api.Config{Store: store, Model: model, TokenKey: key, Signer: signer, WriteRate: -1,
		OIDC: o, NoLocalTokens: noLocal, Extra: web.Mount(wc)}).Handler()))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	l := &ledger{t: t, url: srv.URL, store: store, model: model, key: key, clock: clk, oidc: o}
	deadline := time.Now().Add(10 * time.Second)
	for !model.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("read model never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return l
}

func (l *ledger) token(role domain.Role, unit, sub string) string {
	l.t.Helper()
	tok, err := api.IssueToken(l.key, api.Principal{Subject: sub, Role: role, Unit: unit}, time.Hour, time.Now())
	if err != nil {
		l.t.Fatal(err)
	}
	return tok
}

func (l *ledger) opdc() string    { return l.token(domain.RoleOPDC, "", "reviewer.nattaya@opdc.go.th") }
func (l *ledger) auditor() string { return l.token(domain.RoleAuditor, "", "auditor.somsri@oag.go.th") }
func (l *ledger) officer(unit string) string {
	return l.token(domain.RoleUnit, unit, "officer@"+unit)
}

// at holds the ledger's clock at an instant written in Thai time.
func (l *ledger) at(when string) {
	l.t.Helper()
	t, err := time.Parse(time.RFC3339, when)
	if err != nil {
		l.t.Fatal(err)
	}
	l.clock.hold(t)
}

// api calls the JSON API with a bearer token and decodes the answer.
func (l *ledger) api(status int, method, path, token string, body any, ifMatch uint64) map[string]any {
	l.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			l.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, l.url+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch > 0 {
		req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, ifMatch))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		l.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, status, b)
	}
	var m map[string]any
	// Numbers stay json.Number, the exact text the API wrote, so that
	// comparing them with the page compares text with text.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if len(b) > 0 && dec.Decode(&m) != nil {
		l.t.Fatalf("%s %s: not a JSON object: %s", method, path, b)
	}
	return m
}

// apiStatus is the status the API answers a GET with.
func (l *ledger) apiStatus(path, token string) int {
	l.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, l.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// page is a dashboard answer.
type page struct {
	Status int
	Header http.Header
	Body   string
	doc    *html.Node
}

// noRedirects lets a test see a redirect rather than follow it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches a dashboard page the way a browser with the session cookie
// would ("" for no cookie).
func (l *ledger) get(path, token string) page {
	l.t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.url+path, nil)
	if err != nil {
		l.t.Fatal(err)
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "kpiledger_session", Value: token})
	}
	return l.send(req)
}

// postForm posts a form the way a browser on the dashboard's own page does.
func (l *ledger) postForm(path, token string, form url.Values, headers ...string) page {
	l.t.Helper()
	req, err := http.NewRequest(http.MethodPost, l.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "kpiledger_session", Value: token})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return l.send(req)
}

func (l *ledger) send(req *http.Request) page {
	l.t.Helper()
	res, err := noRedirects.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		doc, err := html.Parse(strings.NewReader(p.Body))
		if err != nil {
			l.t.Fatalf("%s: not HTML: %v", req.URL, err)
		}
		p.doc = doc
	}
	return p
}

// mustPage fetches a page and fails unless it answers with the status.
func (l *ledger) mustPage(status int, path, token string) page {
	l.t.Helper()
	p := l.get(path, token)
	if p.Status != status {
		l.t.Fatalf("GET %s: status %d, want %d\n%s", path, p.Status, status, excerpt(p.Body))
	}
	if p.doc == nil {
		l.t.Fatalf("GET %s: %s is not HTML", path, p.Header.Get("Content-Type"))
	}
	return p
}

func excerpt(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// HTML helpers: enough of a DOM to assert on what a reader sees.

// byID finds the element with an id, or nil.
func (p page) byID(id string) *html.Node {
	return find(p.doc, func(n *html.Node) bool { return attr(n, "id") == id })
}

// text is the text of the element with an id, whitespace collapsed; the
// test fails when there is no such element.
func (p page) text(t testing.TB, id string) string {
	t.Helper()
	n := p.byID(id)
	if n == nil {
		t.Fatalf("no element #%s in the page:\n%s", id, excerpt(p.Body))
	}
	return textOf(n)
}

// all returns every element that matches.
func (p page) all(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.doc)
	return out
}

func find(root *html.Node, match func(*html.Node) bool) *html.Node {
	if root == nil {
		return nil
	}
	if root.Type == html.ElementNode && match(root) {
		return root
	}
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if n := find(c, match); n != nil {
			return n
		}
	}
	return nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// cellByClass is the text of the first descendant of n with the class.
func cellByClass(t testing.TB, n *html.Node, class string) string {
	t.Helper()
	c := find(n, func(m *html.Node) bool { return hasClass(m, class) })
	if c == nil {
		t.Fatalf("no .%s in %s", class, textOf(n))
	}
	return textOf(c)
}

// str renders a decoded JSON value the way the API wrote it.
func str(v any) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprint(v)
}

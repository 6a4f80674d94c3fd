package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/web"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
	"github.com/opdc/kpiledger/projections"
)

// newServedHarness is newHarness served the way `serve` serves: the API's
// own http.Server on its wrapped listener, with the dashboard mounted, and
// cfg adjusting the configuration (short body deadlines, a low write rate).
func newServedHarness(t *testing.T, adjust func(*api.Config)) *harness {
	t.Helper()
	store := eventstest.NewStore(t)
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
	cfg := api.Config{Store: store, Model: model, TokenKey: key, Signer: signer,
		Extra: web.Mount(web.Config{Store: store, Model: model, TokenKey: key})}
	if adjust != nil {
		adjust(&cfg)
	}
	srv := api.New(cfg).HTTPServer()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(api.Listener(l)) }()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	h := &harness{t: t, url: "http://" + l.Addr().String(), store: store, model: model, key: key, signer: signer}
	deadline := time.Now().Add(10 * time.Second)
	for !model.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("read model never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h
}

func (h *harness) dial() net.Conn {
	h.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads until the server closes the connection, failing the
// test if it is still open after d. It returns what the server sent.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s (received %q)", d, b)
	}
	return string(b)
}

// TestSlowBodies: a body that does not arrive, or trickles in below the
// minimum rate, is cut off at its deadline — on the API and on the
// dashboard's sign-in alike — where before only the headers had one.
func TestSlowBodies(t *testing.T) {
	h := newServedHarness(t, func(c *api.Config) { c.BodyTimeout, c.MinBodyRate = 300*time.Millisecond, 10000 })
	tok := h.officer("TH-50")
	// Declared and never sent: sign-in (unauthenticated) and the API.
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		c := h.dial()
		fmt.Fprintf(c, "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n")
		conns = append(conns, c)
	}
	stalled := h.dial()
	fmt.Fprintf(stalled, "POST /v1/units/TH-50/years/2563/indicators HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", tok)
	// 300 ms + 10,000 bytes at 10,000 B/s: all closed well within 30 s.
	for _, c := range conns {
		closedWithin(t, c, 30*time.Second)
	}
	if got := closedWithin(t, stalled, 30*time.Second); !strings.Contains(got, " 408 ") || !strings.Contains(got, "slow-body") {
		t.Errorf("API answer to a stalled body: %q", got)
	}

	// One byte a second against a deadline of 300 ms + 100 bytes at
	// 10,000 B/s = 0.31 s: cut off after a byte, not after 100 s.
	slow := h.dial()
	fmt.Fprintf(slow, "POST /v1/units/TH-50/years/2563/indicators HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", tok)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			if _, err := slow.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	}()
	closedWithin(t, slow, 30*time.Second)
	slow.Close()
	wg.Wait()

	// A body at a sane rate is served.
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
}

// TestContentLengthWithTransferEncoding: a request with both headers is
// refused and its connection closed, so the request pipelined behind it
// is never read (RFC 9112 §6.1). Raw socket: Go's client never sends both.
func TestContentLengthWithTransferEncoding(t *testing.T) {
	h := newServedHarness(t, nil)
	c := h.dial()
	fmt.Fprintf(c, "POST /v1/frameworks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", h.opdc())
	got := closedWithin(t, c, 10*time.Second)
	res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
	if err != nil {
		t.Fatalf("%v: %q", err, got)
	}
	if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" || !res.Close {
		t.Errorf("answer: %d %v close=%v", res.StatusCode, res.Header, res.Close)
	}
	if strings.Count(got, "HTTP/1.1 ") != 1 {
		t.Errorf("the pipelined request was served: %q", got)
	}
	// Chunked alone, lower-case header names, header padding: served.
	body := `{"fiscal_year": 2563}`
	c = h.dial()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("p", 6000))
	fmt.Fprintf(c, "POST /v1/frameworks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer %s\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", h.opdc(), len(body), body)
	got = closedWithin(t, c, 10*time.Second)
	if !strings.HasPrefix(got, "HTTP/1.1 200 ") || !strings.Contains(got, "HTTP/1.1 400 ") || strings.Contains(got, "Content-Length: must not") {
		t.Errorf("chunked request: %q", got)
	}
	// Both headers, hidden behind a long header block: still refused.
	c = h.dial()
	fmt.Fprintf(c, "POST /v1/frameworks HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\ncontent-length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", strings.Repeat("p", 30000))
	if got := closedWithin(t, c, 10*time.Second); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
		t.Errorf("padded: %q", got)
	}
	// A declared body over the limit is refused before it is read.
	c = h.dial()
	fmt.Fprintf(c, "POST /v1/frameworks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100000000\r\n\r\n", h.opdc())
	if got := closedWithin(t, c, 10*time.Second); !strings.HasPrefix(got, "HTTP/1.1 413 ") {
		t.Errorf("oversized: %q", got)
	}
}

// TestNoStoreHeaders: authenticated API answers — data, errors, exports —
// say not to cache or sniff them.
func TestNoStoreHeaders(t *testing.T) {
	h := newServedHarness(t, nil)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	for _, r := range []resp{
		h.do("GET", "/v1/frameworks/2563/province", h.opdc(), nil),
		h.do("GET", "/v1/export?unit=TH-50&fiscal_year=2563", h.auditor(), nil),
		h.do("GET", "/v1/units/TH-57/years/2563/scorecard", h.officer("TH-50"), nil),
		h.do("GET", "/v1/frameworks/2563/province", "", nil),
	} {
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("status %d: Cache-Control %q, X-Content-Type-Options %q", r.Status, r.Header.Get("Cache-Control"), r.Header.Get("X-Content-Type-Options"))
		}
	}
}

// TestWriteRateLimit: a principal writing beyond its allowance gets 429
// problem+json with Retry-After; nothing is appended, other principals
// and reads are unaffected.
func TestWriteRateLimit(t *testing.T) {
	h := newServedHarness(t, func(c *api.Config) { c.WriteRate, c.WriteBurst = 0.2, 3 })
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	for i := 0; i < 3; i++ {
		h.must(201, "POST", th50Indicators, cm, indicatorBody("function", fmt.Sprintf("ก%d", i), 1, 1, 2, 3))
	}
	before := h.lastSeq()
	r := h.do("POST", th50Indicators, cm, indicatorBody("function", "ข", 1, 1, 2, 3))
	p := problemOf(t, r, 429, "")
	if !strings.HasSuffix(fmt.Sprint(p["type"]), "/rate-limited") {
		t.Errorf("type %v", p["type"])
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 5 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if h.lastSeq() != before {
		t.Fatal("a limited write was appended")
	}
	h.must(200, "GET", "/v1/units/TH-50/years/2563/indicators", cm, nil)
	h.must(201, "POST", "/v1/units/TH-57/years/2563/indicators", h.officer("TH-57"), indicatorBody("function", "ค", 1, 1, 2, 3))
}

// TestMinSequenceBeyondLog: a min_sequence the log has not reached is
// refused at once with the log's last sequence, instead of parking the
// request and then claiming an append that never happened.
func TestMinSequenceBeyondLog(t *testing.T) {
	h := newServedHarness(t, nil)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	last := h.lastSeq()
	before := h.lastSeq()
	p := problemOf(t, h.do("POST", th50Indicators, h.officer("TH-50"), indicatorBody("function", "ก", 1, 1, 2, 3), "X-Min-Sequence", "99999999"), 400, "min_sequence")
	if p["sequence"] != float64(last) {
		t.Errorf("problem does not give the last sequence %d: %v", last, p)
	}
	if strings.Contains(fmt.Sprint(p["detail"]), "appended") {
		t.Errorf("claims an append: %v", p["detail"])
	}
	problemOf(t, h.do("GET", "/v1/frameworks/2563/province?min_sequence=99999999", h.opdc(), nil), 400, "min_sequence")
	if h.lastSeq() != before {
		t.Fatal("appended")
	}
	h.must(200, "GET", "/v1/frameworks/2563/province?min_sequence="+strconv.FormatUint(last, 10), h.opdc(), nil)
}

// TestEventFeedAfterBeyondLog: after=MaxUint64 (and anything else past
// the log's end) is a 400, not a 500 from after+1 wrapping to 0.
func TestEventFeedAfterBeyondLog(t *testing.T) {
	h := newServedHarness(t, nil)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	problemOf(t, h.do("GET", "/v1/events?after="+strconv.FormatUint(math.MaxUint64, 10), h.auditor(), nil), 400, "after")
	problemOf(t, h.do("GET", fmt.Sprintf("/v1/events?after=%d", h.lastSeq()+1), h.auditor(), nil), 400, "after")
	page := h.must(200, "GET", fmt.Sprintf("/v1/events?after=%d", h.lastSeq()), h.auditor(), nil)
	if len(page["events"].([]any)) != 0 {
		t.Errorf("page after the last event: %v", page)
	}
}

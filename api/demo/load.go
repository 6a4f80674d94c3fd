package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
)

// Loader sends a plan through a kpiledger HTTP API.
type Loader struct {
	// Client sends the requests: an ordinary client for a ledger over the
	// network, or HandlerClient for one in this process.
	Client *http.Client
	// BaseURL is the ledger's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// TokenKey is the server's token key: the loader mints a token for
	// each actor of the plan, as `kpiledger token` would.
	TokenKey []byte
	// Hold, when set, is called with each step's instant before the step
	// is sent: `serve --demo` holds the ledger's clock there (Clock.Hold).
	Hold func(time.Time)
	// Progress, when set, is called after every step with how many steps
	// are done out of how many.
	Progress func(done, total int)
	// Now is the clock tokens are issued by (time.Now when nil).
	Now func() time.Time
	// Resend sends every step, even those the ledger's event feed shows
	// it already holds, and lets the Idempotency-Keys keep them once.
	Resend bool
}

// Result is what a load did.
type Result struct {
	Steps    int // steps in the plan
	Appended int // steps sent that appended their event
	// Present counts steps the ledger already held, found in its event
	// feed before loading and not sent again.
	Present int
	// Replayed counts steps sent that the ledger answered from its log
	// (same Idempotency-Key): it held them but the feed scan did not show it.
	Replayed int
	Elapsed  time.Duration
}

// StepError says which step of a plan the ledger refused, and why.
type StepError struct {
	Index  int
	Step   Step
	Status int
	Body   string // the answer, usually an application/problem+json document
	Err    error  // a transport error, when there was no answer
}

// Error names the step, the request and the ledger's answer.
func (e *StepError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("demo step %d (%s: %s %s): %v", e.Index+1, e.Step.Name, e.Step.Method, e.Step.Path, e.Err)
	}
	return fmt.Sprintf("demo step %d (%s: %s %s): status %d, want %d: %s", e.Index+1, e.Step.Name, e.Step.Method, e.Step.Path,
		e.Status, e.Step.Status, strings.TrimSpace(e.Body))
}

// Unwrap returns the transport error, if there was one.
func (e *StepError) Unwrap() error { return e.Err }

// tokenTTL outlives the slowest load over a network.
const tokenTTL = 6 * time.Hour

// maxAttempts bounds retries of a step whose answer was lost or that the
// ledger could not take just then (503). Retrying is safe: the step's
// Idempotency-Key makes the ledger keep it once.
const maxAttempts = 5

// Load sends the plan's steps in order and stops at the first one the
// ledger refuses.
//
// It first reads the ledger's event feed for the plan's correlation ids:
// steps the ledger already holds (a second run, or the part of an
// interrupted one that got through) are not sent again, and the ids they
// created are taken from the feed. Every step that is sent carries its
// Idempotency-Key, so a step the scan missed is still appended only once.
// The scan is also what makes a second run cheap: repeating a request
// whose aggregate has moved on makes the ledger rebuild the old answer
// from the log, thousands of reads in a row.
func (l *Loader) Load(ctx context.Context, p *Plan) (Result, error) {
	start := time.Now()
	res := Result{Steps: len(p.Steps)}
	now := l.Now
	if now == nil {
		now = time.Now
	}
	tokens := map[api.Principal]string{}
	token := func(who api.Principal) (string, error) {
		if tok, ok := tokens[who]; ok {
			return tok, nil
		}
		tok, err := api.IssueToken(l.TokenKey, who, tokenTTL, now())
		if err != nil {
			return "", fmt.Errorf("token for %s: %w", who.Subject, err)
		}
		tokens[who] = tok
		return tok, nil
	}
	present := map[string]held{}
	if !l.Resend {
		tok, err := token(opdcAdmin)
		if err != nil {
			return res, err
		}
		if present, err = l.scan(ctx, p, tok); err != nil {
			return res, err
		}
	}
	ids := map[string]string{}
	fill := func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string { return ids[m[2:len(m)-1]] })
	}
	for i, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if h, ok := present[p.CorrelationID(s)]; ok && h.version >= s.Version {
			if s.Saves != "" {
				ids[s.Saves] = h.id
			}
			res.Present++
			if l.Progress != nil {
				l.Progress(i+1, len(p.Steps))
			}
			continue
		}
		tok, err := token(s.Actor)
		if err != nil {
			return res, err
		}
		body, replayed, err := l.send(ctx, i, s, fill(s.Path), []byte(fill(string(s.Body))), tok, p.IdempotencyKey(s), p.CorrelationID(s))
		if err != nil {
			return res, err
		}
		var answer struct {
			ID      string `json:"id"`
			Version uint64 `json:"version"`
		}
		if err := json.Unmarshal(body, &answer); err != nil {
			return res, &StepError{Index: i, Step: s, Status: s.Status, Body: string(body), Err: fmt.Errorf("answer is not JSON: %w", err)}
		}
		if answer.Version != s.Version {
			// The ledger's aggregate is not where the plan expects it:
			// something else wrote to it. Later steps would be refused.
			return res, &StepError{Index: i, Step: s, Status: s.Status, Body: string(body),
				Err: fmt.Errorf("the answer reports version %d, the plan expects %d (was the ledger written to by something else?)", answer.Version, s.Version)}
		}
		if s.Saves != "" {
			if answer.ID == "" {
				return res, &StepError{Index: i, Step: s, Status: s.Status, Body: string(body), Err: errors.New("the answer has no id")}
			}
			ids[s.Saves] = answer.ID
		}
		if replayed {
			res.Replayed++
		} else {
			res.Appended++
		}
		if l.Progress != nil {
			l.Progress(i+1, len(p.Steps))
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// held is where the ledger's copy of one of the plan's aggregates stands.
type held struct {
	id      string // the aggregate's id in the ledger
	version uint64 // its highest version written by the plan
}

// scan reads the whole event feed (GET /v1/events, a thousand events a
// page) and returns, by correlation id, the plan's aggregates the ledger
// already holds.
func (l *Loader) scan(ctx context.Context, p *Plan, token string) (map[string]held, error) {
	out := map[string]held{}
	prefix := fmt.Sprintf("demo-%d.", p.Seed)
	after := uint64(0)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/events?after=%d&limit=1000", strings.TrimRight(l.BaseURL, "/"), after), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := l.Client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reading the ledger's event feed: %w", err)
		}
		var page struct {
			Events []struct {
				AggregateID      string `json:"aggregate_id"`
				AggregateVersion uint64 `json:"aggregate_version"`
				CorrelationID    string `json:"correlation_id"`
			} `json:"events"`
			Next uint64 `json:"next"`
			More bool   `json:"more"`
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
		}
		if err == nil {
			err = json.Unmarshal(b, &page)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the ledger's event feed: %w", err)
		}
		for _, e := range page.Events {
			if strings.HasPrefix(e.CorrelationID, prefix) && e.AggregateVersion >= out[e.CorrelationID].version {
				out[e.CorrelationID] = held{id: e.AggregateID, version: e.AggregateVersion}
			}
		}
		if !page.More || page.Next == after {
			return out, nil
		}
		after = page.Next
	}
}

// send sends one step, retrying a lost answer or a 503, and returns the
// answer's body and whether the ledger replayed an earlier answer.
func (l *Loader) send(ctx context.Context, i int, s Step, path string, body []byte, token, key, correlation string) ([]byte, bool, error) {
	var last error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return nil, false, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, s.Method, strings.TrimRight(l.BaseURL, "/")+path, bytes.NewReader(body))
		if err != nil {
			return nil, false, &StepError{Index: i, Step: s, Err: err}
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("X-Correlation-ID", correlation)
		req.Header.Set("X-Occurred-At", s.At.Format(time.RFC3339))
		if s.IfMatch > 0 {
			req.Header.Set("If-Match", strconv.Quote(strconv.FormatUint(s.IfMatch, 10)))
		}
		if l.Hold != nil {
			l.Hold(s.At)
		}
		res, err := l.Client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			last = &StepError{Index: i, Step: s, Err: err}
			continue
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			last = &StepError{Index: i, Step: s, Err: err}
			continue
		}
		if res.StatusCode == http.StatusTooManyRequests {
			// The ledger limits each principal's write rate: wait as told,
			// without spending an attempt.
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			select {
			case <-ctx.Done():
				return nil, false, ctx.Err()
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			}
			attempt--
			continue
		}
		if res.StatusCode == http.StatusServiceUnavailable {
			last = &StepError{Index: i, Step: s, Status: res.StatusCode, Body: string(b)}
			continue
		}
		if res.StatusCode != s.Status {
			return nil, false, &StepError{Index: i, Step: s, Status: res.StatusCode, Body: string(b)}
		}
		return b, res.Header.Get("Idempotent-Replayed") == "true", nil
	}
	return nil, false, last
}

// HandlerClient is an http.Client whose requests go straight to h in this
// process, with no network: `serve --demo` loads through the server's own
// handler before it starts listening, by exactly the requests `demo --url`
// sends over HTTP.
func HandlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: handlerTransport{h}}
}

type handlerTransport struct{ h http.Handler }

// RoundTrip serves the request with the handler and returns its answer.
func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A server sees a request with RequestURI and RemoteAddr set, and a
	// body it may read to the end; give the handler the same.
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	sr.RemoteAddr = "127.0.0.1:0"
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sr)
	return rec.Result(), nil
}

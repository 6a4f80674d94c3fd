package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// This file holds the three-node cluster test that runs everywhere, and
// the HTTP scenario pieces docker_test.go reuses against containers.

// clusterKeys are the secrets every node of a cluster shares: tokens
// signed by one node must be accepted by all, and checkpoints signed by
// any node verify against one key.
type clusterKeys struct {
	Token      string // KPILEDGER_TOKEN_KEY
	Checkpoint string // KPILEDGER_CHECKPOINT_KEY
	Secret     string // KPILEDGER_CLUSTER_SECRET: the routes' password
	// NATSUsers is a directory holding the two NATS users' keys, copied
	// into every node's data dir before its first start, so that one
	// reader key works on every node.
	NATSUsers string
}

// newClusterKeys makes a fresh pair, the checkpoint key generated the way
// the server generates its own.
func newClusterKeys(t testing.TB) clusterKeys {
	t.Helper()
	dir := t.TempDir()
	if _, err := events.LoadSigningKey(dir, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, events.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := events.NewRouteSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.LoadCredentials(dir); err != nil {
		t.Fatal(err)
	}
	return clusterKeys{Token: fmt.Sprintf("cluster-test-token-key-%d-0123456789abcdef", time.Now().UnixNano()), Checkpoint: strings.TrimSpace(string(b)),
		Secret: secret, NATSUsers: dir}
}

// seedNATSUsers copies the shared NATS user keys into a node's data dir.
func (k clusterKeys) seedNATSUsers(t testing.TB, dataDir string) {
	t.Helper()
	for _, f := range []string{events.ServiceKeyFile, events.ReaderKeyFile} {
		b, err := os.ReadFile(filepath.Join(k.NATSUsers, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// reader connects to the nodes' NATS as the read-only operator user.
func (k clusterKeys) reader(t testing.TB) nats.Option {
	t.Helper()
	o, err := nats.NkeyOptionFromSeed(filepath.Join(k.NATSUsers, events.ReaderKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (k clusterKeys) getenv(name string) string {
	switch name {
	case "KPILEDGER_TOKEN_KEY":
		return k.Token
	case "KPILEDGER_CHECKPOINT_KEY":
		return k.Checkpoint
	case "KPILEDGER_CLUSTER_SECRET":
		return k.Secret
	}
	return ""
}

// ledgerAPI talks to kpiledger nodes over HTTP with tokens signed by the
// cluster's shared key, as a client behind a load balancer would.
type ledgerAPI struct {
	t      testing.TB
	client *http.Client
	key    []byte
	opdc   string
	mu     sync.Mutex
	units  map[string]string // unit → its officer's token
}

func newLedgerAPI(t testing.TB, tokenKey string) *ledgerAPI {
	a := &ledgerAPI{t: t, client: &http.Client{Timeout: 20 * time.Second}, key: []byte(tokenKey), units: map[string]string{}}
	a.opdc = a.token(api.Principal{Subject: "opdc-reviewer", Role: domain.RoleOPDC})
	return a
}

func (a *ledgerAPI) token(p api.Principal) string {
	s, err := api.IssueToken(a.key, p, 2*time.Hour, time.Now())
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}

func (a *ledgerAPI) unitToken(unit string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if tok, ok := a.units[unit]; ok {
		return tok
	}
	tok := a.token(api.Principal{Subject: "officer@" + unit, Role: domain.RoleUnit, Unit: unit})
	a.units[unit] = tok
	return tok
}

// reply is one HTTP answer, or the transport error instead.
type reply struct {
	Code   int
	Header http.Header
	Body   []byte
	Err    error
}

func (r reply) String() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return fmt.Sprintf("%d %s", r.Code, r.Body)
}

// sequence is the stream sequence a write answered with.
func (r reply) sequence() uint64 {
	var v struct {
		Sequence uint64 `json:"sequence"`
	}
	_ = json.Unmarshal(r.Body, &v)
	return v.Sequence
}

func (a *ledgerAPI) do(method, url, token string, body any, headers ...string) reply {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := a.client.Do(req)
	if err != nil {
		return reply{Err: err}
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return reply{Code: res.StatusCode, Header: res.Header, Body: out, Err: err}
}

// must sends a request once and fails the test unless it gets want.
func (a *ledgerAPI) must(want int, method, url, token string, body any, headers ...string) reply {
	a.t.Helper()
	r := a.do(method, url, token, body, headers...)
	if r.Err != nil || r.Code != want {
		a.t.Fatalf("%s %s: want %d, got %s", method, url, want, r)
	}
	return r
}

// failure names a failed answer: its problem type, or the transport error.
func failure(r reply) string {
	if r.Err != nil {
		if _, after, ok := strings.Cut(r.Err.Error(), ": "); ok {
			return after
		}
		return r.Err.Error()
	}
	var p struct{ Type string }
	_ = json.Unmarshal(r.Body, &p)
	return fmt.Sprintf("%d %s", r.Code, strings.TrimPrefix(p.Type, "https://kpiledger.opdc.go.th/problems/"))
}

// write sends a keyed write and repeats it, with the same Idempotency-Key,
// while it gets no answer or a 503 (a node catching up, an election), as
// a client should; it fails the test unless it ends with want.
func (a *ledgerAPI) write(want int, method, url, token string, body any, key string, headers ...string) reply {
	a.t.Helper()
	headers = append([]string{"Idempotency-Key", key, "X-Correlation-ID", key}, headers...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := a.do(method, url, token, body, headers...)
		if r.Err == nil && r.Code == want {
			return r
		}
		if !retryable(r) || time.Now().After(deadline) {
			a.t.Fatalf("%s %s (key %s): want %d, got %s", method, url, key, want, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probeNoQuorum proposes indicators on a node that has lost its quorum
// until it has refused n of them for want of quorum (added to refused).
// A write in flight while the node finds out may instead time out, 503
// not confirmed: those are returned, key → unit, to be repeated later.
func probeNoQuorum(t *testing.T, a *ledgerAPI, base, prefix string, units []string, n int, refused map[string]string) map[string]string {
	t.Helper()
	unconfirmed := map[string]string{}
	deadline := time.Now().Add(90 * time.Second)
	for i, got := 0, 0; got < n; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%s never refused a write for want of quorum in 90 s (unconfirmed: %v)", base, unconfirmed)
		}
		key := fmt.Sprintf("%s-%d", prefix, i)
		unit := units[i%len(units)]
		r := a.do("POST", base+"/v1/units/"+unit+"/years/2565/indicators", a.unitToken(unit), proposal(key),
			"Idempotency-Key", key, "X-Correlation-ID", key)
		switch {
		case noQuorum(r):
			refused[key] = string(r.Body)
			got++
		case retryable(r):
			unconfirmed[key] = unit
		default:
			t.Fatalf("write on %s without quorum: want 503, got %s", base, r)
		}
	}
	return unconfirmed
}

// repeatWrites repeats unconfirmed writes with their keys until each is
// acknowledged, and records them; it returns the highest sequence.
func repeatWrites(a *ledgerAPI, base string, unconfirmed map[string]string, acked map[string]ack) uint64 {
	var last uint64
	for key, unit := range unconfirmed {
		r := a.write(201, "POST", base+"/v1/units/"+unit+"/years/2565/indicators", a.unitToken(unit), proposal(key), key)
		acked[key] = ack{Unit: unit, Sequence: r.sequence()}
		last = max(last, r.sequence())
	}
	return last
}

// noQuorum is the answer of a node that refused a write for want of a
// quorum, before it reached the log.
func noQuorum(r reply) bool {
	var p struct{ Type, Detail string }
	return r.Err == nil && r.Code == http.StatusServiceUnavailable && json.Unmarshal(r.Body, &p) == nil &&
		strings.HasSuffix(p.Type, "/no-quorum") && strings.Contains(p.Detail, "no quorum") && strings.Contains(p.Detail, "nothing was appended")
}

// retryable is an answer a client should repeat with the same
// Idempotency-Key, perhaps on another node: no answer at all, or a 503.
// retryable is what the README's problem types say a client repeats with
// the same Idempotency-Key: a 503, and the two 409s that mean "try again"
// (the resource kept changing; the same request is still in progress).
func retryable(r reply) bool {
	if r.Err != nil || r.Code == http.StatusServiceUnavailable {
		return true
	}
	return r.Code == http.StatusConflict &&
		(bytes.Contains(r.Body, []byte("/problems/concurrent-write")) || bytes.Contains(r.Body, []byte("/problems/request-in-progress")))
}

// provinceFramework and departmentFramework are FY2565 frameworks with
// room for many indicators per unit-year.
func provinceFramework() map[string]any {
	var fw map[string]any
	if err := json.Unmarshal([]byte(crashFramework), &fw); err != nil {
		panic(err)
	}
	return fw
}

func departmentFramework() map[string]any {
	fw := provinceFramework()
	fw["unit_kind"] = "department"
	return fw
}

// proposal is the body of a test indicator; its title carries the
// client's key so that the log can be searched for it.
func proposal(key string) map[string]any {
	return map[string]any{"component": "performance", "title_th": "ตัวชี้วัดทดสอบคลัสเตอร์ " + key,
		"measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []int{1, 2, 3}}
}

// ack is an acknowledged write.
type ack struct {
	Unit, ID string
	Sequence uint64
	Node     int // which node answered 2xx
}

// writers propose indicators through HTTP from a few goroutines, spread
// over whichever nodes are up, as clients behind a load balancer would:
// a write that gets no answer or a 503 is repeated with the same
// Idempotency-Key on the next node until it is acknowledged.
type writers struct {
	api     *ledgerAPI
	nodes   func() []string // base URLs, "" for a node that is down
	units   []string
	prefix  string
	mu      sync.Mutex
	acked   map[string]ack // key → where it landed
	lost    []string       // keys never acknowledged before the deadline
	fails   map[string]int // why a try was repeated, for the log
	started atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

// maxWrites bounds one writers run: the 77 units hold 50 indicators
// each in FY2565, and a test starts up to three runs.
const maxWrites = 1000

// writePace is each writer's pause between writes: three writers make at
// most about 30 writes a second, so a run's budget lasts over half a
// minute.
const writePace = 100 * time.Millisecond

func startWriters(a *ledgerAPI, n int, prefix string, units []string, nodes func() []string) *writers {
	w := &writers{api: a, nodes: nodes, units: units, prefix: prefix, acked: map[string]ack{}, fails: map[string]int{}, stop: make(chan struct{})}
	for g := range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-w.stop:
					return
				default:
				}
				if w.started.Add(1) > maxWrites {
					<-w.stop // enough for any phase; don't outgrow the unit-year limit
					return
				}
				key := fmt.Sprintf("%s-w%d-%04d", prefix, g, i)
				unit := units[(i*n+g)%len(units)]
				w.write(key, unit, g+i)
				// A steady trickle, not a flood: a unit-year holds at most
				// domain.MaxIndicatorsPerUnitYear indicators, so a run has
				// maxWrites to spend, and it must last through a node's
				// stop and restart (tens of seconds in docker).
				time.Sleep(writePace)
			}
		}()
	}
	return w
}

// write keeps trying one key until it is acknowledged or 60 s pass.
func (w *writers) write(key, unit string, spread int) {
	deadline := time.Now().Add(60 * time.Second)
	for attempt := 0; ; attempt++ {
		urls := w.nodes()
		node := (spread + attempt) % len(urls)
		if urls[node] == "" {
			if time.Now().After(deadline) {
				w.mu.Lock()
				w.lost = append(w.lost, key+": no node up")
				w.mu.Unlock()
				return
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		r := w.api.do("POST", urls[node]+"/v1/units/"+unit+"/years/2565/indicators", w.api.unitToken(unit), proposal(key),
			"Idempotency-Key", key, "X-Correlation-ID", key)
		if r.Err == nil && r.Code == http.StatusCreated {
			var v struct{ ID string }
			_ = json.Unmarshal(r.Body, &v)
			w.mu.Lock()
			w.acked[key] = ack{Unit: unit, ID: v.ID, Sequence: r.sequence(), Node: node}
			w.mu.Unlock()
			return
		}
		if !retryable(r) || time.Now().After(deadline) {
			w.mu.Lock()
			w.lost = append(w.lost, key+": "+r.String())
			w.mu.Unlock()
			return
		}
		w.mu.Lock()
		w.fails[failure(r)]++
		w.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *writers) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// waitFor blocks until n writes are acknowledged in all.
func (w *writers) waitFor(t testing.TB, n int, why string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for w.count() < n {
		if time.Now().After(deadline) {
			w.mu.Lock()
			lost := w.lost
			w.mu.Unlock()
			spent := ""
			if w.started.Load() > maxWrites {
				spent = fmt.Sprintf(" (the writers spent their budget of %d writes: the phase took too long for the pace)", maxWrites)
			}
			t.Fatalf("%s: only %d of %d writes acknowledged after 60 s%s; failed: %v", why, w.count(), n, spent, lost)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// finish stops the writers and fails the test if any write was given up.
func (w *writers) finish(t testing.TB) (map[string]ack, uint64) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	if len(w.lost) > 0 {
		t.Fatalf("%d writes were never acknowledged: %v", len(w.lost), w.lost)
	}
	var last uint64
	for _, a := range w.acked {
		last = max(last, a.Sequence)
	}
	return w.acked, last
}

// views are the JSON documents compared byte for byte across nodes.
func clusterViews(units []string) []string {
	v := []string{"/v1/frameworks", "/v1/units", "/v1/checkpoints"}
	for _, u := range units {
		v = append(v, "/v1/units/"+u, "/v1/units/"+u+"/years/2565/scorecard", "/v1/units/"+u+"/years/2565/indicators")
	}
	// The comparable views rank every unit of the year and re-score
	// results (score_under): each node must compute them to the same bytes.
	v = append(v, "/v1/frameworks/compare?from=2565&to=2565&kind=province&score_under=2565",
		"/v1/units/"+units[0]+"/years/2565/scorecard?score_under=2565&revision=1",
		"/v1/units/"+units[0]+"/comparison?from=2565&to=2565&score_under=2565")
	return append(v, "/v1/units/"+units[0]+"/years/2565/audit")
}

// readViews reads every view from one node once its read model includes
// sequence seq (X-Min-Sequence: the node waits for it), and the whole
// event feed page by page.
func (a *ledgerAPI) readViews(t testing.TB, base string, seq uint64, views []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	min := fmt.Sprint(seq)
	get := func(path string) []byte {
		deadline := time.Now().Add(60 * time.Second)
		for {
			r := a.do("GET", base+path, a.opdc, nil, "X-Min-Sequence", min)
			if r.Err == nil && r.Code == http.StatusOK {
				return r.Body
			}
			if !retryable(r) || time.Now().After(deadline) {
				t.Fatalf("GET %s%s (min sequence %d): %s", base, path, seq, r)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, v := range views {
		out[v] = string(get(v))
	}
	for after := uint64(0); ; {
		path := fmt.Sprintf("/v1/events?after=%d&limit=1000", after)
		b := get(path)
		out[path] = string(b)
		var page struct {
			Next uint64 `json:"next"`
			More bool   `json:"more"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !page.More {
			break
		}
		after = page.Next
	}
	return out
}

// sameViews fails unless every node answers every view identically.
func sameViews(t testing.TB, names []string, got []map[string]string) {
	t.Helper()
	var paths []string
	for p := range got[0] {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for i := 1; i < len(got); i++ {
		if len(got[i]) != len(got[0]) {
			t.Errorf("%s has %d views/pages, %s has %d", names[i], len(got[i]), names[0], len(got[0]))
		}
		for _, p := range paths {
			if a, b := got[i][p], got[0][p]; a != b {
				at := 0
				for at < len(a) && at < len(b) && a[at] == b[at] {
					at++
				}
				from := max(0, at-200)
				t.Errorf("GET %s differs from byte %d (lengths %d and %d):\n%s: …%.400s\n%s: …%.400s", p, at, len(b), len(a), names[0], b[from:], names[i], a[from:])
			}
		}
	}
}

// logEvents decodes the event feed pages that readViews collected.
func logEvents(t testing.TB, views map[string]string) []events.Envelope {
	t.Helper()
	var all []events.Envelope
	var paths []string
	for p := range views {
		if strings.HasPrefix(p, "/v1/events?") {
			paths = append(paths, p)
		}
	}
	for _, p := range paths {
		var page struct {
			Events []events.Envelope `json:"events"`
		}
		if err := json.Unmarshal([]byte(views[p]), &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Events...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Sequence < all[j].Sequence })
	return all
}

// checkExactlyOnce: every acknowledged write is in the log exactly once,
// at the sequence it was acknowledged with, and no refused write is there
// at all. Test writes are recognised by their correlation id (the key).
func checkExactlyOnce(t testing.TB, log []events.Envelope, acked map[string]ack, refused map[string]string) {
	t.Helper()
	seen := map[string][]uint64{}
	for _, e := range log {
		if e.Type == "indicator.proposed" {
			seen[e.CorrelationID] = append(seen[e.CorrelationID], e.Sequence)
		}
		for key := range refused {
			// The key ends the title, so it is followed by the closing quote.
			if e.CorrelationID == key || bytes.Contains(e.Data, []byte(key+`"`)) {
				t.Errorf("refused write %s (answered %s) appeared in the log at sequence %d", key, refused[key], e.Sequence)
			}
		}
	}
	for key, a := range acked {
		switch s := seen[key]; {
		case len(s) != 1:
			t.Errorf("acknowledged write %s is in the log %d times (%v)", key, len(s), s)
		case s[0] != a.Sequence:
			t.Errorf("acknowledged write %s answered sequence %d but is stored at %d", key, a.Sequence, s[0])
		}
	}
	proposals := 0
	for _, s := range seen {
		proposals += len(s)
	}
	if proposals != len(acked) {
		t.Errorf("the log holds %d proposals, %d were acknowledged", proposals, len(acked))
	}
}

// clusterNode is one `kpiledger serve` of an in-process cluster, run
// through run() exactly as main runs it, on fixed ports so that a
// restart comes back at the same addresses with the same data dir.
type clusterNode struct {
	name    string
	dataDir string
	args    []string
	env     func(string) string
	url     string
	natsURL string
	mu      sync.Mutex
	up      bool
	cancel  context.CancelFunc
	done    chan error
	stderr  *syncBuffer
}

func (n *clusterNode) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"serve"}, n.args...), n.env, pw, stderr)
		pw.Close()
		done <- err
	}()
	listening := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on ") {
				once.Do(func() { close(listening) })
			}
		}
	}()
	select {
	case <-listening:
	case err := <-done:
		cancel()
		return fmt.Errorf("%s exited while starting: %v\n%s", n.name, err, stderr.String())
	case <-time.After(90 * time.Second):
		cancel()
		return fmt.Errorf("%s did not start in 90 s\n%s", n.name, stderr.String())
	}
	n.mu.Lock()
	n.up, n.cancel, n.done, n.stderr = true, cancel, done, stderr
	n.mu.Unlock()
	return nil
}

// stop is SIGTERM: HTTP drains, the read model is checkpointed, NATS stops.
func (n *clusterNode) stop(t testing.TB) {
	t.Helper()
	n.mu.Lock()
	if !n.up {
		n.mu.Unlock()
		return
	}
	n.up = false
	cancel, done := n.cancel, n.done
	n.mu.Unlock()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s stopped with %v", n.name, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not stop in 60 s\n%s", n.name, n.stderr.String())
	}
}

func (n *clusterNode) base() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.up {
		return ""
	}
	return n.url
}

// startNodes starts nodes concurrently: a cluster node waits for its
// peers before it opens the stream, so one at a time would never finish.
func startNodes(t *testing.T, nodes ...*clusterNode) {
	t.Helper()
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.start() }()
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		waitReady(t, n.url)
	}
}

// stopNodes stops nodes one after the other, as an operator would.
func stopNodes(t testing.TB, nodes ...*clusterNode) {
	for _, n := range nodes {
		n.stop(t)
	}
}

// streamLeader asks JetStream, through a node's client port, which node
// leads the event stream.
func streamLeader(t testing.TB, natsURL string, user nats.Option) string {
	t.Helper()
	nc, err := nats.Connect(natsURL, user)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := js.Stream(ctx, events.DefaultStream)
		var info *jetstream.StreamInfo
		if err == nil {
			info, err = s.Info(ctx)
		}
		cancel()
		if err == nil && info.Cluster != nil && info.Cluster.Leader != "" {
			return info.Cluster.Leader
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream leader known after 30 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func appliedSequence(t *testing.T, base string) uint64 {
	t.Helper()
	_, body := getJSON(t, base+"/readyz")
	f, _ := body["applied_sequence"].(float64)
	return uint64(f)
}

// TestClusterThreeNodes runs three full kpiledger nodes in this process,
// each through run() as main runs `kpiledger serve` with cluster flags,
// and drives them over HTTP like clients behind a load balancer: writes
// on any node, reads on the others after waiting for the sequence; a node
// stopped during writes and restarted catches up to the same bytes; with
// two nodes down the one left (the stream leader, where a write taken
// without quorum could later surface) refuses writes with 503 and nothing
// is appended, not even once the others return; a node on an empty disk
// starts from the shared snapshot; and every acknowledged write is in the
// log exactly once.
func TestClusterThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("three kpiledger nodes in one process: skipped in -short")
	}
	began := time.Now()
	phase := func(format string, args ...any) {
		t.Logf("[%5.1fs] %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	keys := newClusterKeys(t)
	ports := eventstest.FreePorts(t, 9) // cluster, NATS client and HTTP port of each node
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i]))
	}
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		name := fmt.Sprintf("kpi%d", i+1)
		n := &clusterNode{name: name, env: keys.getenv, dataDir: t.TempDir(),
			url:     fmt.Sprintf("http://127.0.0.1:%d", ports[6+i]),
			natsURL: fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i])}
		keys.seedNATSUsers(t, n.dataDir)
		n.args = []string{"--data-dir", n.dataDir, "--name", name, "--http-addr", fmt.Sprintf("127.0.0.1:%d", ports[6+i]),
			"--cluster-name", "kpi-test", "--cluster-addr", fmt.Sprintf("127.0.0.1:%d", ports[i]),
			"--routes", strings.Join(routes, ","), "--checkpoint-every", "0"}
		if i < 2 {
			// kpi3 has no NATS client port, as in docker-compose.yml; the
			// test asks the others who leads the stream.
			n.args = append(n.args, "--nats-addr", fmt.Sprintf("127.0.0.1:%d", ports[3+i]))
		} else {
			n.natsURL = ""
		}
		nodes[i] = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range nodes {
				if n.stderr != nil {
					t.Logf("%s's log:\n%s", n.name, n.stderr.String())
				}
			}
		}
		stopNodes(t, nodes...)
	})
	urls := func() []string {
		out := make([]string, len(nodes))
		for i, n := range nodes {
			out[i] = n.base()
		}
		return out
	}
	names := []string{"kpi1", "kpi2", "kpi3"}
	startNodes(t, nodes...)
	phase("three nodes up; stream leader %s", streamLeader(t, nodes[0].natsURL, keys.reader(t)))

	a := newLedgerAPI(t, keys.Token)
	n1, n2, n3 := nodes[0].url, nodes[1].url, nodes[2].url

	// Writes from any node; each node waits for the sequence the client
	// saw (X-Min-Sequence) before it decides or answers.
	// Test writes carry their key as correlation id, so the log can be
	// checked for each of them at the end.
	acked := map[string]ack{}
	after := func(seq uint64) []string { return []string{"X-Min-Sequence", fmt.Sprint(seq)} }
	seq := a.write(201, "POST", n1+"/v1/frameworks", a.opdc, provinceFramework(), "setup-fw-province").sequence()
	seq = a.write(201, "POST", n2+"/v1/units", a.opdc, map[string]any{"code": "cdd", "kind": "department",
		"name_th": "กรมการพัฒนาชุมชน", "name_en": "Community Development Department"}, "setup-cdd", after(seq)...).sequence()
	seq = a.write(201, "POST", n3+"/v1/frameworks", a.opdc, departmentFramework(), "setup-fw-department", after(seq)...).sequence()
	cm := a.unitToken("TH-50")
	ind := a.write(201, "POST", n1+"/v1/units/TH-50/years/2565/indicators", cm, proposal("setup-th50"), "setup-th50", after(seq)...)
	var iv struct{ ID string }
	_ = json.Unmarshal(ind.Body, &iv)
	acked["setup-th50"] = ack{Unit: "TH-50", ID: iv.ID, Sequence: ind.sequence()}
	seq = a.write(200, "POST", n2+"/v1/indicators/"+iv.ID+"/review", a.opdc, map[string]any{"decision": "approve"},
		"setup-approve", append(after(ind.sequence()), "If-Match", `"1"`)...).sequence()
	seq = a.write(201, "POST", n3+"/v1/indicators/"+iv.ID+"/results", cm, map[string]any{"round": 12, "actual": 2.5, "obstacles": "ภัยแล้ง"},
		"setup-result", after(seq)...).sequence()
	seq = a.write(200, "POST", n1+"/v1/indicators/"+iv.ID+"/results/12/verification", a.opdc, map[string]any{"decision": "accept"},
		"setup-verify", append(after(seq), "If-Match", `"3"`)...).sequence()
	seq = a.write(201, "POST", n2+"/v1/units/cdd/years/2565/indicators", a.unitToken("cdd"), proposal("setup-cdd-1"),
		"setup-cdd-1", after(seq)...).sequence()
	acked["setup-cdd-1"] = ack{Unit: "cdd", Sequence: seq}
	first, etags := map[string]string{}, map[string]string{}
	scorecard := "/v1/units/TH-50/years/2565/scorecard?min_sequence=" + fmt.Sprint(seq)
	for i, n := range nodes {
		r := a.must(200, "GET", n.url+scorecard, a.opdc, nil)
		first[names[i]], etags[names[i]] = string(r.Body), r.Header.Get("ETag")
		if !strings.Contains(first[names[i]], `"last_sequence"`) || first[names[i]] != first["kpi1"] {
			t.Fatalf("scorecard on %s after min_sequence %d differs from kpi1's:\n%s\n%s", names[i], seq, first[names[i]], first["kpi1"])
		}
		// Each node encodes and caches its own answer; the ETag is the
		// answer's hash, so it is the same on every node.
		if etags[names[i]] == "" || etags[names[i]] != etags["kpi1"] {
			t.Fatalf("scorecard ETag on %s %q, on kpi1 %q", names[i], etags[names[i]], etags["kpi1"])
		}
	}
	// A client that read through kpi1 revalidates on kpi3.
	a.must(http.StatusNotModified, "GET", n3+scorecard, a.opdc, nil, "If-None-Match", etags["kpi1"])
	phase("writes on every node, read back on the others after min_sequence=%d", seq)
	natsLocked(t, nodes[1].natsURL, keys.reader(t))
	phase("NATS: anonymous clients refused, the reader cannot delete or purge the stream")

	// A keyed retry that re-serialises its JSON (keys in another order),
	// sent to another node, is the same request: every node computes the
	// same canonical fingerprint. The same key on another route is 422.
	// A min_sequence beyond the log's end is refused by every node at
	// once, the stream's followers included.
	reordered := json.RawMessage(`{"obstacles":"ภัยแล้ง","actual":2.5,"round":12}`)
	if r := a.must(201, "POST", n1+"/v1/indicators/"+iv.ID+"/results", cm, reordered,
		append(after(seq), "Idempotency-Key", "setup-result")...); !strings.Contains(string(r.Body), iv.ID) {
		t.Fatalf("re-serialised retry on kpi1: %s", r)
	}
	a.must(422, "POST", n2+"/v1/units/TH-50/years/2565/indicators", cm, proposal("reused-key"), append(after(seq), "Idempotency-Key", "setup-result")...)
	for _, n := range nodes {
		a.must(400, "GET", n.url+"/v1/units/TH-50/years/2565/scorecard?min_sequence="+fmt.Sprint(seq+1000000), a.opdc, nil)
	}

	// Node 3 stops in the middle of a stream of writes and comes back.
	var provinces []string
	for _, p := range domain.Provinces() {
		provinces = append(provinces, p.Code)
	}
	units := append([]string{"cdd"}, provinces...)
	w := startWriters(a, 3, "run", units, urls)
	w.waitFor(t, 30, "before stopping kpi3")
	nodes[2].stop(t)
	down := w.count()
	phase("kpi3 stopped after %d acknowledged writes", down)
	w.waitFor(t, down+40, "with kpi3 down")
	phase("%d writes acknowledged by kpi1 and kpi2 while kpi3 was down", w.count()-down)
	startNodes(t, nodes[2])
	if !strings.Contains(nodes[2].stderr.String(), "read models loaded from checkpoint") {
		t.Errorf("kpi3 did not start from the snapshot in the shared object store:\n%s", nodes[2].stderr.String())
	}
	phase("kpi3 restarted on its data dir")
	w.waitFor(t, w.count()+30, "after kpi3 returned")
	run, last := w.finish(t)
	for k, v := range run {
		acked[k] = v
	}
	phase("writers stopped: %d acknowledged, tries repeated on another node after %v; last sequence %d", len(run), w.fails, last)

	views := clusterViews(units[:8])
	got := make([]map[string]string, 3)
	for i, n := range nodes {
		got[i] = a.readViews(t, n.url, last, views)
	}
	sameViews(t, names, got)
	checkExactlyOnce(t, logEvents(t, got[0]), acked, nil)
	phase("kpi3 caught up: %d views and event pages equal byte for byte on all three", len(got[0]))

	// Two nodes stop. The one left is the stream leader, the case where a
	// write accepted without quorum would sit in its RAFT log and could
	// be committed when the others return.
	leader := streamLeader(t, nodes[0].natsURL+","+nodes[1].natsURL, keys.reader(t))
	survivor := -1
	for i, n := range nodes {
		if n.name == leader {
			survivor = i
		}
	}
	if survivor < 0 {
		t.Fatalf("stream leader %q is not one of the nodes", leader)
	}
	s := nodes[survivor]
	for i, n := range nodes {
		if i != survivor {
			n.stop(t)
		}
	}
	// A write in flight while the node finds its peers gone may time out
	// instead (503, not confirmed); it is repeated with its key later and
	// must then be stored once. A no-quorum 503 promises nothing was
	// appended: those must never appear.
	before := appliedSequence(t, s.url)
	refused := map[string]string{}
	unconfirmed := probeNoQuorum(t, a, s.url, "noquorum", provinces, 5, refused)
	for _, body := range refused {
		phase("%s alone answers a write: %s", s.name, body)
		break
	}
	if after := appliedSequence(t, s.url); after != before && len(unconfirmed) == 0 {
		t.Errorf("%s's read model moved from %d to %d while it had no quorum", s.name, before, after)
	}
	// Reads still come from the survivor's own read model.
	a.must(200, "GET", s.url+"/v1/units/TH-50/years/2565/scorecard", a.opdc, nil)
	phase("%s (stream leader) alone: %d writes refused with 503 no quorum, %d unconfirmed; reads still served", s.name, len(refused), len(unconfirmed))

	var back []*clusterNode
	for i, n := range nodes {
		if i != survivor {
			back = append(back, n)
		}
	}
	startNodes(t, back...)
	phase("the two nodes are back")
	w2 := startWriters(a, 2, "after", units, urls)
	w2.waitFor(t, 20, "after quorum returned")
	acked2, last2 := w2.finish(t)
	for k, v := range acked2 {
		acked[k] = v
	}
	last2 = max(last2, repeatWrites(a, s.url, unconfirmed, acked))
	phase("writes resumed: %d more acknowledged (and %d unconfirmed ones repeated), last sequence %d", len(acked2), len(unconfirmed), last2)

	for i, n := range nodes {
		got[i] = a.readViews(t, n.url, last2, views)
	}
	sameViews(t, names, got)
	log := logEvents(t, got[0])
	checkExactlyOnce(t, log, acked, refused)
	phase("converged: %d events, %d acknowledged writes each stored once, none of the %d refused writes stored", len(log), len(acked), len(refused))

	// kpi3's disk is replaced: with nothing of its own, it starts from
	// the snapshot the others left in the replicated object store and
	// catches up from the stream's other replicas.
	nodes[2].stop(t)
	if err := os.RemoveAll(nodes[2].dataDir); err != nil {
		t.Fatal(err)
	}
	startNodes(t, nodes[2])
	if !strings.Contains(nodes[2].stderr.String(), "read models loaded from checkpoint") {
		t.Errorf("kpi3 on an empty disk did not start from the shared snapshot:\n%s", nodes[2].stderr.String())
	}
	fresh := a.readViews(t, nodes[2].url, last2, views)
	sameViews(t, []string{"kpi1", "kpi3 (new disk)"}, []map[string]string{got[0], fresh})
	phase("kpi3 on an empty disk started from the shared snapshot and answers the same bytes")
}

// TestServeOnExternalCluster: with --nats-url, kpiledger embeds no server
// and keeps its stream (replicas 3) on an existing NATS cluster; two nodes
// on it share the log, and the second answers the first one's write once
// it has read that far.
func TestServeOnExternalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node NATS cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	var urls []string
	for _, s := range c.Servers {
		urls = append(urls, s.ClientURL())
	}
	keys := newClusterKeys(t)
	ports := eventstest.FreePorts(t, 2)
	seed := serviceSeedFile(t, c.Credentials)
	nodes := make([]*clusterNode, 2)
	for i := range nodes {
		nodes[i] = &clusterNode{name: fmt.Sprintf("app%d", i+1), env: keys.getenv, dataDir: t.TempDir(),
			url: fmt.Sprintf("http://127.0.0.1:%d", ports[i])}
		nodes[i].args = []string{"--data-dir", nodes[i].dataDir, "--http-addr", fmt.Sprintf("127.0.0.1:%d", ports[i]),
			"--nats-url", strings.Join(urls, ","), "--nats-nkey", seed, "--checkpoint-every", "0"}
	}
	t.Cleanup(func() { stopNodes(t, nodes...) })
	startNodes(t, nodes...)

	a := newLedgerAPI(t, keys.Token)
	seq := a.write(201, "POST", nodes[0].url+"/v1/frameworks", a.opdc, provinceFramework(), "ext-fw").sequence()
	r := a.must(200, "GET", nodes[1].url+"/v1/frameworks?min_sequence="+fmt.Sprint(seq), a.opdc, nil)
	if !strings.Contains(string(r.Body), `"fiscal_year":2565`) {
		t.Fatalf("the second node does not show the first one's framework: %s", r.Body)
	}
	_, js := eventstest.Connect(t, c.Servers...)
	s, err := js.Stream(context.Background(), events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Replicas; got != 3 {
		t.Errorf("the stream on the external cluster has %d replicas, want 3", got)
	}
}

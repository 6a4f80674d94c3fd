package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/history"
	"github.com/opdc/kpiledger/projections"
)

// benchRawStream is the second stream of the raw append figure: the same
// configuration as the ledger's, under its own subjects.
const benchRawStream = "BENCHRAW"

// pickTargets lists the approved indicators of the views' unit-years, in
// a seeded order.
func (e *benchEnv) pickTargets() []*benchTarget {
	var out []*benchTarget
	uys := e.unitYears()
	e.model.Read(func(st *projections.State) {
		for _, uy := range uys {
			u, _ := st.Unit(uy.Unit)
			fw := st.Framework(uy.FiscalYear, u.Kind)
			if fw == nil {
				continue
			}
			f := &fw.Framework
			for _, ind := range st.UnitIndicators(uy.Unit, uy.FiscalYear) {
				if ind.Status != domain.StatusApproved {
					continue
				}
				out = append(out, &benchTarget{id: ind.ID, unit: uy.Unit, fy: uy.FiscalYear, kind: u.Kind,
					lastRound: f.Rounds[len(f.Rounds)-1], levels: len(f.Scheme.Levels), component: f.Components[0].Code,
					officer: ind.Proposed.Actor})
			}
		}
	})
	rng := rand.New(rand.NewPCG(e.cfg.Seed, 7))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

var benchOPDC = domain.Actor{Subject: "bench.reviewer@opdc.go.th", Role: domain.RoleOPDC}

// command runs the target's next write through the API's executor
// (api.Server.Execute, what every handler calls): verify the last round's
// pending report as OPDC, else report it as the unit's officer. The
// decision is the handlers' (the domain's Verify and Report on the read
// model); the executor appends it with the expected version and returns
// once the read model has applied it. It returns the event's sequence.
func (e *benchEnv) command(ctx context.Context, t *benchTarget) (uint64, error) {
	pending := false
	e.model.Read(func(st *projections.State) {
		r := st.Indicators[t.id].Round(t.lastRound)
		pending = r != nil && r.Verification == nil
	})
	cmd := api.Command{Principal: api.Principal{Subject: t.officer.Subject, Role: domain.RoleUnit, Unit: t.unit}}
	if pending {
		cmd.Principal = api.Principal{Subject: benchOPDC.Subject, Role: domain.RoleOPDC}
	}
	w, err := e.srv.Execute(ctx, cmd, func(st *projections.State) (domain.Event, events.Aggregate, error) {
		ind := st.Indicators[t.id]
		h := st.Heads[projections.AggregateKey(events.KindIndicator, t.id)]
		agg := events.Aggregate{Kind: events.KindIndicator, ID: t.id, Unit: t.unit, FiscalYear: t.fy, Version: h.Version, LastHash: h.Hash, LastSeq: h.Seq}
		if pending {
			ev, err := ind.Verify(t.lastRound, domain.VerifyAccept, "", "")
			return ev, agg, err
		}
		var fw *domain.Framework
		if r := st.Framework(t.fy, t.kind); r != nil {
			fw = &r.Framework
		}
		ev, err := ind.Report(domain.ResultReported{Round: t.lastRound, Actual: "81.25",
			Evidence: []string{history.Evidence[0], history.Evidence[3]}, Obstacles: history.Obstacles[0]}, fw)
		return ev, agg, err
	})
	return w.Sequence, err
}

// appends measures the command path against raw checked publishes.
func (e *benchEnv) appends(ctx context.Context) error {
	if err := e.ensureRawStream(ctx); err != nil {
		return err
	}
	cmds := 1000
	if e.cfg.Quick {
		cmds = 300
	}
	cmds = min(cmds, len(e.targets))
	if cmds == 0 {
		return errors.New("no approved indicator to write to")
	}
	for _, writers := range []int{1, 8} {
		var ours, raw []benchRoundResult
		for round := 1; round <= e.cfg.Rounds; round++ {
			o, r, err := e.appendRound(ctx, writers, e.targets[:cmds])
			if err != nil {
				return err
			}
			ours, raw = append(ours, o), append(raw, r)
			e.progress("append round %d/%d, %d writers: %.0f/s (p50 %.2f ms, p99 %.2f ms); raw %.0f/s (p50 %.2f ms, p99 %.2f ms)",
				round, e.cfg.Rounds, writers, o.Rate, o.P50Ms, o.P99Ms, r.Rate, r.P50Ms, r.P99Ms)
		}
		f := &benchFigure{Key: fmt.Sprintf("append_%d", writers), Title: fmt.Sprintf("command (api.Server.Execute: decide, append, read model applied), %d writer%s", writers, benchPlural(writers)), show: "rate",
			Result: benchMedian(ours), Rounds: ours,
			Raw:     &benchRaw{Title: "JetStream publish of the same bytes to the same subjects of a second stream, same headers (message id, expected stream, expected last subject sequence), same writers", Result: benchMedian(raw), Rounds: raw},
			RatioOf: "rate", Target: "≥ 0.70× raw"}
		f.Ratio = f.Result.Rate / f.Raw.Result.Rate
		f.Met = benchMet(f.Ratio >= 0.7)
		e.report.Figures = append(e.report.Figures, f)
	}
	return nil
}

// ensureRawStream creates the stream raw publishes go to.
func (e *benchEnv) ensureRawStream(ctx context.Context) error {
	cfg := events.StreamConfig(events.Config{Stream: benchRawStream})
	cfg.Subjects = []string{"benchraw.>"}
	_, err := e.js.CreateOrUpdateStream(ctx, cfg)
	return err
}

// appendRound times one command per target through the executor, spread
// over the writers; then the same bytes published raw.
func (e *benchEnv) appendRound(ctx context.Context, writers int, targets []*benchTarget) (benchRoundResult, benchRoundResult, error) {
	seqs := make([]uint64, len(targets))
	ours, err := timeStrided(writers, len(targets), func(i int) error {
		seq, err := e.command(ctx, targets[i])
		if err != nil {
			return fmt.Errorf("command on %s: %w", targets[i].id, err)
		}
		seqs[i] = seq
		return nil
	})
	if err != nil {
		return benchRoundResult{}, benchRoundResult{}, err
	}

	// The bytes the store published: the envelope as sealed, without the
	// sequence the acknowledgement added.
	type payload struct {
		subject, id string
		data        []byte
	}
	payloads := make([]payload, len(seqs))
	for i, seq := range seqs {
		env, err := e.store.Get(ctx, seq)
		if err != nil {
			return benchRoundResult{}, benchRoundResult{}, err
		}
		env.Sequence = 0
		subject, err := env.Subject()
		if err != nil {
			return benchRoundResult{}, benchRoundResult{}, err
		}
		data, err := json.Marshal(env)
		if err != nil {
			return benchRoundResult{}, benchRoundResult{}, err
		}
		payloads[i] = payload{subject: "benchraw." + subject, id: env.CommandID, data: data}
	}
	rs, err := timeStrided(writers, len(targets), func(i int) error {
		msg := nats.NewMsg(payloads[i].subject)
		msg.Data = payloads[i].data
		msg.Header.Set(jetstream.MsgIDHeader, payloads[i].id)
		ack, err := e.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(benchRawStream),
			jetstream.WithExpectLastSequencePerSubject(targets[i].rawSeq))
		if err != nil {
			return fmt.Errorf("raw publish: %w", err)
		}
		targets[i].rawSeq = ack.Sequence
		return nil
	})
	if err != nil {
		return benchRoundResult{}, benchRoundResult{}, err
	}
	return ours.result(), rs.result(), nil
}

// timeStrided runs op(0..n-1) on writers goroutines, writer w taking
// w, w+writers, ..., and times each call; the first error stops its writer
// and is returned once all have finished.
func timeStrided(writers, n int, op func(i int) error) (*benchSample, error) {
	var s benchSample
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, n/writers+1)
			defer func() { s.merge(lat, 0) }()
			for i := w; i < n; i += writers {
				t := time.Now()
				if err := op(i); err != nil {
					errs <- err
					return
				}
				lat = append(lat, time.Since(t))
			}
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return &s, nil
}

// benchClient is one HTTP client of the write and view figures.
type benchClient struct {
	e      *benchEnv
	hc     *http.Client
	tokens map[string]string // unit → its officer's token
	opdc   string
	buf    []byte
}

func (e *benchEnv) newHTTPClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute, DisableCompression: true}}
}

func (e *benchEnv) token(p api.Principal) (string, error) {
	return api.IssueToken(e.key, p, 24*time.Hour, time.Now())
}

// benchHTTPError is an answer other than the one expected.
type benchHTTPError struct {
	op     string
	status int
	body   string
}

func (b *benchHTTPError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", b.op, b.status, b.body)
}

// do sends one request and returns the answer's headers; the body is read
// and dropped (versions come from ETag, new ids from Location), so that the
// clients spend as little as possible of the CPU the server needs.
func (c *benchClient) do(op, method, path, token string, body []byte, ifMatch string, want int) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, c.e.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &benchHTTPError{op: op, status: resp.StatusCode, body: string(b)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.Header, err
}

func etagVersion(h http.Header) uint64 {
	v, _ := strconv.ParseUint(strings.Trim(h.Get("ETag"), `"`), 10, 64)
	return v
}

// write sends the target's next write: report, verify, report, verify,
// propose a new indicator, withdraw it.
func (c *benchClient) write(t *benchTarget) error {
	tok := c.tokens[t.unit]
	var h http.Header
	var err error
	if st := t.step % 6; (st == 0 || st == 2) && t.reports >= domain.MaxReportsPerRound {
		// The round holds all the reports it may: write a proposal and
		// its withdrawal instead of another report.
		t.step += 4 - st
	}
	switch t.step % 6 {
	case 0, 2:
		b := c.buf[:0]
		b = append(b, `{"round":`...)
		b = strconv.AppendInt(b, int64(t.lastRound), 10)
		b = append(b, `,"actual":81.25,"evidence":["`...)
		b = append(b, history.Evidence[0]...)
		b = append(b, `","`...)
		b = append(b, history.Evidence[3]...)
		b = append(b, `"],"obstacles":"`...)
		b = append(b, history.Obstacles[t.step%len(history.Obstacles)]...)
		b = append(b, `"}`...)
		c.buf = b
		h, err = c.do("report", http.MethodPost, "/v1/indicators/"+t.id+"/results", tok, b, "", http.StatusCreated)
		if err == nil {
			t.reports++
		}
	case 1, 3:
		h, err = c.do("verify", http.MethodPost, "/v1/indicators/"+t.id+"/results/"+strconv.Itoa(t.lastRound)+"/verification",
			c.opdc, []byte(`{"decision":"accept"}`), strconv.Quote(strconv.FormatUint(t.version, 10)), http.StatusOK)
	case 4:
		b := c.buf[:0]
		b = append(b, `{"component":"`...)
		b = append(b, t.component...)
		b = append(b, `","title_th":"`...)
		b = append(b, history.Titles[t.step%len(history.Titles)]...)
		b = append(b, `","measure":"ร้อยละ","direction":"up","weight":10,"targets":[`...)
		for l := range t.levels {
			if l > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(60+10*l), 10)
		}
		b = append(b, `],"rationale":"`...)
		b = append(b, history.Rationales[0]...)
		b = append(b, `"}`...)
		c.buf = b
		h, err = c.do("propose", http.MethodPost, "/v1/units/"+t.unit+"/years/"+strconv.Itoa(t.fy)+"/indicators", tok, b, "", http.StatusCreated)
		if err == nil {
			t.draft = strings.TrimPrefix(h.Get("Location"), "/v1/indicators/")
		}
	case 5:
		_, err = c.do("withdraw", http.MethodPost, "/v1/indicators/"+t.draft+"/withdraw", tok,
			[]byte(`{"reason":"ซ้ำซ้อนกับตัวชี้วัดของกระทรวง"}`), "", http.StatusOK)
		t.draft = ""
		h = nil
	}
	if err != nil {
		return err
	}
	if h != nil && t.step%6 != 4 {
		t.version = etagVersion(h)
	}
	t.step++
	return nil
}

// syncTarget sets a target's client state from the read model: its version
// and whether its last round waits for a verification.
func (e *benchEnv) syncTarget(t *benchTarget) {
	e.model.Read(func(st *projections.State) {
		ind := st.Indicators[t.id]
		t.version = ind.Version
		r := ind.Round(t.lastRound)
		pending := r != nil && r.Verification == nil
		if t.reports = 0; r != nil {
			t.reports = r.Reports
		}
		switch t.step % 6 {
		case 1, 3:
			if !pending {
				t.step++ // nothing to verify: report (or propose) next
			}
		case 5:
			if t.draft == "" {
				t.step++
			}
		}
	})
}

// httpWrites measures writes over HTTP with 1, 8 and 32 clients.
func (e *benchEnv) httpWrites(ctx context.Context) error {
	for _, clients := range []int{1, 8, 32} {
		var rounds []benchRoundResult
		for round := 1; round <= e.cfg.Rounds; round++ {
			r, err := e.httpWriteRound(ctx, clients)
			if err != nil {
				return err
			}
			rounds = append(rounds, r)
			e.progress("HTTP write round %d/%d, %d clients: %.0f writes/s, p50 %.2f ms, p99 %.2f ms", round, e.cfg.Rounds, clients, r.Rate, r.P50Ms, r.P99Ms)
		}
		f := &benchFigure{Key: fmt.Sprintf("http_write_%d", clients), Title: fmt.Sprintf("HTTP writes, %d client%s", clients, benchPlural(clients)), show: "rate",
			Result: benchMedian(rounds), Rounds: rounds,
			Note: "1/3 result reports, 1/3 verifications (If-Match), 1/6 proposals, 1/6 withdrawals; each answers after the read model includes it"}
		if ex := e.figure("append_8"); clients == 8 && ex != nil {
			// The same executor in process is what HTTP adds its cost to.
			f.Raw = &benchRaw{Title: "the executor in process: " + ex.Title, Result: ex.Result, Rounds: ex.Rounds}
			f.RatioOf, f.Target = "executor", "≥ 0.50× executor"
			f.Ratio = f.Result.Rate / ex.Result.Rate
			f.Met = benchMet(f.Ratio >= 0.5)
		}
		if clients == 32 {
			f.Target = "≥ 5,000/s, p99 < 20 ms"
			f.Met = benchMet(f.Result.Rate >= 5000 && f.Result.P99Ms < 20)
		}
		e.report.Figures = append(e.report.Figures, f)
	}
	return nil
}

const benchTargetsPerClient = 16

func (e *benchEnv) httpWriteRound(ctx context.Context, clients int) (benchRoundResult, error) {
	opdc, err := e.token(api.Principal{Subject: benchOPDC.Subject, Role: domain.RoleOPDC})
	if err != nil {
		return benchRoundResult{}, err
	}
	hc := e.newHTTPClient(clients)
	defer hc.CloseIdleConnections()
	per := max(1, min(benchTargetsPerClient, len(e.targets)/clients))
	cs := make([]*benchClient, clients)
	mine := make([][]*benchTarget, clients)
	for c := range clients {
		cs[c] = &benchClient{e: e, hc: hc, tokens: map[string]string{}, opdc: opdc}
		for j := c; j < clients*per && j < len(e.targets); j += clients {
			t := e.targets[j]
			e.syncTarget(t)
			if _, ok := cs[c].tokens[t.unit]; !ok {
				tok, err := e.token(api.Principal{Subject: t.officer.Subject, Role: domain.RoleUnit, Unit: t.unit})
				if err != nil {
					return benchRoundResult{}, err
				}
				cs[c].tokens[t.unit] = tok
			}
			mine[c] = append(mine[c], t)
		}
	}
	var s benchSample
	var first benchFirstError
	start := e.forClients(ctx, clients, func(c int, more func() bool) {
		var lat []time.Duration
		errs := 0
		for i := 0; more(); i++ {
			t := mine[c][i%len(mine[c])]
			t0 := time.Now()
			if err := cs[c].write(t); err != nil {
				errs++
				first.keep(err)
				e.syncTarget(t)
				continue
			}
			lat = append(lat, time.Since(t0))
		}
		s.merge(lat, errs)
	})
	s.elapsed = time.Since(start)
	r := s.result()
	if first.err != nil {
		e.progress("HTTP write errors: %d (first: %v)", r.Errors, first.err)
	}
	return r, ctx.Err()
}

// forClients runs client(c, more) on clients goroutines and waits for all;
// more reports whether the round (the configured duration) goes on. It
// returns when the round started.
func (e *benchEnv) forClients(ctx context.Context, clients int, client func(c int, more func() bool)) time.Time {
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(e.cfg.Duration)
	more := func() bool { return time.Now().Before(deadline) && ctx.Err() == nil }
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client(c, more)
		}()
	}
	wg.Wait()
	return start
}

// benchFirstError keeps the first error the clients of a round met.
type benchFirstError struct {
	mu  sync.Mutex
	err error
}

func (f *benchFirstError) keep(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// benchFloorPath is the floor's route: behind the same middleware as every
// /v1 route, it answers n bytes of a pre-encoded body.
const benchFloorPath = "/v1/bench-floor/:n"

// floor answers GET /v1/bench-floor/{n} with the first n bytes of a body
// encoded once: an authenticated GET that costs the server nothing but
// HTTP, the middleware and writing n bytes.
func (e *benchEnv) floor(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 0 || n > len(e.floorBody) {
		return c.NoContent(http.StatusBadRequest)
	}
	return c.JSONBlob(http.StatusOK, e.floorBody[:n])
}

var benchViewKinds = []string{"scorecard", "trends", "comparison"}

// viewPaths lists, for each unit-year and view kind, the view's path and
// the size of its answer (encoded in process as the API encodes it): the
// floor answers the same number of bytes.
func (e *benchEnv) viewPaths(uys []*projections.UnitYear) (paths [][3]string, sizes [][3]int, err error) {
	first := e.report.History.FiscalYears[0]
	paths, sizes = make([][3]string, len(uys)), make([][3]int, len(uys))
	e.model.Read(func(st *projections.State) {
		for i, uy := range uys {
			from := uy.FiscalYear - 1
			if from < first {
				from = uy.FiscalYear + 1
			}
			paths[i] = [3]string{fmt.Sprintf("/v1/units/%s/years/%d/scorecard", uy.Unit, uy.FiscalYear),
				"/v1/units/" + uy.Unit + "/trends",
				fmt.Sprintf("/v1/units/%s/comparison?from=%d&to=%d", uy.Unit, from, uy.FiscalYear)}
			sc, serr := projections.BuildScorecard(st, uy.Unit, uy.FiscalYear)
			cmp, cerr := projections.BuildComparison(st, uy.Unit, from, uy.FiscalYear)
			if err = errors.Join(serr, cerr); err != nil {
				return
			}
			trends := projections.BuildTrends(st, uy.Unit)
			if trends == nil {
				trends = []projections.SeriesTrend{}
			}
			for k, v := range []any{sc, map[string]any{"unit": uy.Unit, "trends": trends}, cmp} {
				b, merr := json.Marshal(v)
				if merr != nil {
					err = merr
					return
				}
				sizes[i][k] = len(b) + 1 // and the encoder's newline
			}
		}
	})
	return paths, sizes, err
}

// views measures scorecard, trend and comparison GETs with 32 clients, and
// in each round the floor: the same clients, tokens and draws, each GET
// answered by the floor route with a pre-encoded body of the view's size.
func (e *benchEnv) views(ctx context.Context) error {
	const clients = 32
	uys := e.unitYears()
	if len(uys) == 0 {
		return errors.New("no unit-year to view")
	}
	paths, sizes, err := e.viewPaths(uys)
	if err != nil {
		return err
	}
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s[0], s[1], s[2])
	}
	e.floorBody = []byte(`{"floor":"` + strings.Repeat("x", largest) + `"}`)
	tok, err := e.token(api.Principal{Subject: "bench.auditor@oag.go.th", Role: domain.RoleAuditor})
	if err != nil {
		return err
	}
	var all, floor []benchRoundResult
	per := map[string][]benchRoundResult{}
	for round := 1; round <= e.cfg.Rounds; round++ {
		r, kinds, err := e.viewRound(ctx, round, len(uys), tok, func(i, k int) string { return paths[i][k] })
		if err != nil {
			return err
		}
		all = append(all, r)
		for k, kr := range kinds {
			per[k] = append(per[k], kr)
		}
		f, _, err := e.viewRound(ctx, round, len(uys), tok, func(i, k int) string { return "/v1/bench-floor/" + strconv.Itoa(sizes[i][k]) })
		if err != nil {
			return err
		}
		floor = append(floor, f)
		e.progress("view GET round %d/%d, %d clients: %.0f GETs/s, p50 %.2f ms, p99 %.2f ms; floor %.0f GETs/s, p50 %.2f ms, p99 %.2f ms",
			round, e.cfg.Rounds, clients, r.Rate, r.P50Ms, r.P99Ms, f.Rate, f.P50Ms, f.P99Ms)
	}
	fig := &benchFigure{Key: "views_32", Title: "view GETs, 32 clients", show: "rate",
		Result: benchMedian(all), Rounds: all, Extra: map[string]any{},
		Raw: &benchRaw{Title: "floor: the same server, middleware and authentication, the same clients and draws, answering a pre-encoded body of each view's size",
			Result: benchMedian(floor), Rounds: floor},
		RatioOf: "floor", Target: "≥ 0.50× floor, p99 ≤ 2× floor's"}
	for _, k := range benchViewKinds {
		fig.Extra[k] = benchMedian(per[k])
	}
	fig.Ratio = fig.Result.Rate / fig.Raw.Result.Rate
	fig.P99Ratio = fig.Result.P99Ms / fig.Raw.Result.P99Ms
	fig.Met = benchMet(fig.Ratio >= 0.5 && fig.P99Ratio <= 2)
	e.report.Figures = append(e.report.Figures, fig)
	return nil
}

// viewRound runs the view clients for the configured duration; path gives
// the address of unit-year i's view k (of n unit-years). It returns the
// round's result and each kind's.
func (e *benchEnv) viewRound(ctx context.Context, round, n int, tok string, path func(i, k int) string) (benchRoundResult, map[string]benchRoundResult, error) {
	const clients = 32
	hc := e.newHTTPClient(clients)
	defer hc.CloseIdleConnections()
	samples := map[string]*benchSample{}
	for _, k := range append([]string{"all"}, benchViewKinds...) {
		samples[k] = &benchSample{}
	}
	var first benchFirstError
	start := e.forClients(ctx, clients, func(c int, more func() bool) {
		rng := rand.New(rand.NewPCG(uint64(c), uint64(round)))
		cl := &benchClient{e: e, hc: hc}
		lat := map[string][]time.Duration{}
		errs := 0
		for more() {
			i, k := rng.IntN(n), rng.IntN(len(benchViewKinds))
			kind := benchViewKinds[k]
			t := time.Now()
			if _, err := cl.do(kind, http.MethodGet, path(i, k), tok, nil, "", http.StatusOK); err != nil {
				errs++
				first.keep(err)
				continue
			}
			d := time.Since(t)
			lat[kind] = append(lat[kind], d)
			lat["all"] = append(lat["all"], d)
		}
		for k, l := range lat {
			samples[k].merge(l, 0)
		}
		samples["all"].merge(nil, errs)
	})
	for _, s := range samples {
		s.elapsed = time.Since(start)
	}
	if first.err != nil {
		e.progress("view GET errors: %d (first: %v)", samples["all"].errors, first.err)
	}
	kinds := map[string]benchRoundResult{}
	for _, k := range benchViewKinds {
		kinds[k] = samples[k].result()
	}
	return samples["all"].result(), kinds, ctx.Err()
}

func benchPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

package main

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

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
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

// command decides on the read model what the API would for the next write
// to the target (verify the last round's pending report, else report it)
// and appends it with the expected version: the command path without HTTP
// and without waiting for the read model.
func (e *benchEnv) command(ctx context.Context, t *benchTarget) (*events.Envelope, error) {
	var (
		ev    domain.Event
		agg   events.Aggregate
		actor domain.Actor
		err   error
	)
	e.model.Read(func(st *projections.State) {
		ind := st.Indicators[t.id]
		h := st.Heads[projections.AggregateKey(events.KindIndicator, t.id)]
		agg = events.Aggregate{Kind: events.KindIndicator, ID: t.id, Unit: t.unit, FiscalYear: t.fy, Version: h.Version, LastHash: h.Hash, LastSeq: h.Seq}
		if r := ind.Round(t.lastRound); r != nil && r.Verification == nil {
			ev, err = ind.Verify(t.lastRound, domain.VerifyAccept, "", "")
			actor = benchOPDC
			return
		}
		var fw *domain.Framework
		if r := st.Framework(t.fy, t.kind); r != nil {
			fw = &r.Framework
		}
		ev, err = ind.Report(domain.ResultReported{Round: t.lastRound, Actual: "81.25",
			Evidence: []string{benchEvidence[0], benchEvidence[3]}, Obstacles: benchObstacles[0]}, fw)
		actor = t.officer
	})
	if err != nil {
		return nil, err
	}
	env, err := events.NewEnvelope(ev, agg)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	env.Actor, env.CommandID, env.CorrelationID = actor, id.String(), id.String()
	if _, err := e.store.Append(ctx, env, agg.LastSeq); err != nil {
		return nil, err
	}
	return env, nil
}

// appends measures the command path against raw checked publishes.
func (e *benchEnv) appends(ctx context.Context) error {
	e.targets = e.pickTargets()
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
		f := &benchFigure{Key: fmt.Sprintf("append_%d", writers), Title: fmt.Sprintf("command append (decide + Store.Append), %d writer%s", writers, benchPlural(writers)), show: "rate",
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

// appendRound times one command per target, spread over the writers, with
// the read model paused; then the same bytes published raw.
func (e *benchEnv) appendRound(ctx context.Context, writers int, targets []*benchTarget) (benchRoundResult, benchRoundResult, error) {
	last, err := e.store.LastSequence(ctx)
	if err != nil {
		return benchRoundResult{}, benchRoundResult{}, err
	}
	if err := e.model.WaitFor(ctx, last); err != nil {
		return benchRoundResult{}, benchRoundResult{}, err
	}
	if err := e.runner.stop(); err != nil {
		return benchRoundResult{}, benchRoundResult{}, err
	}
	defer e.runner.start()

	envs := make([]*events.Envelope, len(targets))
	ours, err := timeStrided(writers, len(targets), func(i int) error {
		env, err := e.command(ctx, targets[i])
		if err != nil {
			return fmt.Errorf("command on %s: %w", targets[i].id, err)
		}
		envs[i] = env
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
	payloads := make([]payload, len(envs))
	for i, env := range envs {
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
	switch t.step % 6 {
	case 0, 2:
		b := c.buf[:0]
		b = append(b, `{"round":`...)
		b = strconv.AppendInt(b, int64(t.lastRound), 10)
		b = append(b, `,"actual":81.25,"evidence":["`...)
		b = append(b, benchEvidence[0]...)
		b = append(b, `","`...)
		b = append(b, benchEvidence[3]...)
		b = append(b, `"],"obstacles":"`...)
		b = append(b, benchObstacles[t.step%len(benchObstacles)]...)
		b = append(b, `"}`...)
		c.buf = b
		h, err = c.do("report", http.MethodPost, "/v1/indicators/"+t.id+"/results", tok, b, "", http.StatusCreated)
	case 1, 3:
		h, err = c.do("verify", http.MethodPost, "/v1/indicators/"+t.id+"/results/"+strconv.Itoa(t.lastRound)+"/verification",
			c.opdc, []byte(`{"decision":"accept"}`), strconv.Quote(strconv.FormatUint(t.version, 10)), http.StatusOK)
	case 4:
		b := c.buf[:0]
		b = append(b, `{"component":"`...)
		b = append(b, t.component...)
		b = append(b, `","title_th":"`...)
		b = append(b, benchTitles[t.step%len(benchTitles)]...)
		b = append(b, `","measure":"ร้อยละ","direction":"up","weight":10,"targets":[`...)
		for l := range t.levels {
			if l > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(60+10*l), 10)
		}
		b = append(b, `],"rationale":"`...)
		b = append(b, benchRationales[0]...)
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
	var first error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(e.cfg.Duration)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t := mine[c][i%len(mine[c])]
				t0 := time.Now()
				if err := cs[c].write(t); err != nil {
					errs++
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					e.syncTarget(t)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			s.merge(lat, errs)
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	r := s.result()
	if first != nil {
		e.progress("HTTP write errors: %d (first: %v)", r.Errors, first)
	}
	return r, ctx.Err()
}

// views measures scorecard, trend and comparison GETs with 32 clients.
func (e *benchEnv) views(ctx context.Context) error {
	const clients = 32
	uys := e.unitYears()
	if len(uys) == 0 {
		return errors.New("no unit-year to view")
	}
	first := e.report.History.FiscalYears[0]
	tok, err := e.token(api.Principal{Subject: "bench.auditor@oag.go.th", Role: domain.RoleAuditor})
	if err != nil {
		return err
	}
	kinds := []string{"scorecard", "trends", "comparison"}
	var all []benchRoundResult
	per := map[string][]benchRoundResult{}
	for round := 1; round <= e.cfg.Rounds; round++ {
		hc := e.newHTTPClient(clients)
		samples := map[string]*benchSample{}
		for _, k := range append([]string{"all"}, kinds...) {
			samples[k] = &benchSample{}
		}
		var firstErr error
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(e.cfg.Duration)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(c), uint64(round)))
				cl := &benchClient{e: e, hc: hc}
				lat := map[string][]time.Duration{}
				errs := 0
				for time.Now().Before(deadline) && ctx.Err() == nil {
					uy := uys[rng.IntN(len(uys))]
					k := kinds[rng.IntN(len(kinds))]
					var path string
					switch k {
					case "scorecard":
						path = fmt.Sprintf("/v1/units/%s/years/%d/scorecard", uy.Unit, uy.FiscalYear)
					case "trends":
						path = "/v1/units/" + uy.Unit + "/trends"
					case "comparison":
						from := uy.FiscalYear - 1
						if from < first {
							from = uy.FiscalYear + 1
						}
						path = fmt.Sprintf("/v1/units/%s/comparison?from=%d&to=%d", uy.Unit, from, uy.FiscalYear)
					}
					t := time.Now()
					if _, err := cl.do(k, http.MethodGet, path, tok, nil, "", http.StatusOK); err != nil {
						errs++
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						continue
					}
					d := time.Since(t)
					lat[k] = append(lat[k], d)
					lat["all"] = append(lat["all"], d)
				}
				for k, l := range lat {
					samples[k].merge(l, 0)
				}
				samples["all"].merge(nil, errs)
			}()
		}
		wg.Wait()
		hc.CloseIdleConnections()
		for _, s := range samples {
			s.elapsed = time.Since(start)
		}
		if firstErr != nil {
			e.progress("view GET errors: %d (first: %v)", samples["all"].errors, firstErr)
		}
		r := samples["all"].result()
		all = append(all, r)
		for _, k := range kinds {
			per[k] = append(per[k], samples[k].result())
		}
		e.progress("view GET round %d/%d, %d clients: %.0f GETs/s, p50 %.2f ms, p99 %.2f ms", round, e.cfg.Rounds, clients, r.Rate, r.P50Ms, r.P99Ms)
	}
	f := &benchFigure{Key: "views_32", Title: "view GETs, 32 clients", show: "rate",
		Result: benchMedian(all), Rounds: all, Target: "p99 < 5 ms", Extra: map[string]any{}}
	for _, k := range kinds {
		f.Extra[k] = benchMedian(per[k])
	}
	f.Met = benchMet(f.Result.P99Ms < 5)
	e.report.Figures = append(e.report.Figures, f)
	return nil
}

func benchPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/history"
	"github.com/opdc/kpiledger/projections"
)

// benchLoader publishes the generated history pipelined: each message
// carries the expected last subject sequence the generator predicted, and
// every acknowledgement is checked, in order, against the sequence
// predicted for it. At most `window` publishes are unacknowledged.
type benchLoader struct {
	js     jetstream.JetStream
	stream string
	next   uint64
	acks   chan benchPending
	done   chan struct{}
	failed atomic.Pointer[error]
}

type benchPending struct {
	f    jetstream.PubAckFuture
	want uint64
}

func newBenchLoader(nc *nats.Conn, stream string, base uint64, window int) (*benchLoader, error) {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*window))
	if err != nil {
		return nil, err
	}
	l := &benchLoader{js: js, stream: stream, next: base, acks: make(chan benchPending, window), done: make(chan struct{})}
	go l.check()
	return l, nil
}

func (l *benchLoader) check() {
	defer close(l.done)
	for p := range l.acks {
		if l.failed.Load() != nil {
			continue
		}
		var err error
		select {
		case ack := <-p.f.Ok():
			if ack.Sequence != p.want {
				err = fmt.Errorf("event predicted at sequence %d was stored at %d", p.want, ack.Sequence)
			}
		case err = <-p.f.Err():
			err = fmt.Errorf("publish of the event predicted at sequence %d: %w", p.want, err)
		}
		if err != nil {
			l.failed.Store(&err)
		}
	}
}

func (l *benchLoader) publish(subject string, data []byte, expectedLast uint64) error {
	if f := l.failed.Load(); f != nil {
		return *f
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	f, err := l.js.PublishMsgAsync(msg, jetstream.WithExpectStream(l.stream), jetstream.WithExpectLastSequencePerSubject(expectedLast))
	if err != nil {
		return err
	}
	l.next++
	l.acks <- benchPending{f: f, want: l.next}
	return nil
}

// finish waits for every acknowledgement.
func (l *benchLoader) finish() error {
	close(l.acks)
	<-l.done
	if f := l.failed.Load(); f != nil {
		return *f
	}
	return nil
}

// load generates the history and publishes it.
func (e *benchEnv) load(ctx context.Context) error {
	loader, err := newBenchLoader(e.nc, e.store.Name(), 0, 4096)
	if err != nil {
		return err
	}
	n := e.cfg.Events
	var published atomic.Int64
	g := history.New(history.Config{Seed: e.cfg.Seed, Events: n}, func(subject string, data []byte, expectedLast uint64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		published.Add(1)
		return loader.publish(subject, data, expectedLast)
	})
	provinces, departments, laos := g.UnitCounts()
	units := provinces + departments + laos
	e.progress("loading %d events: %d units, from FY%d (pipelined JetStream publish of sealed envelopes, bypassing HTTP)", n, units, history.FirstYear)
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p := published.Load()
				e.progress("loading: %d/%d events (%.0f%%), %.0f events/s", p, n, 100*float64(p)/float64(n), float64(p)/time.Since(start).Seconds())
			}
		}
	}()
	genErr := g.Run()
	finErr := loader.finish()
	close(stop)
	wg.Wait()
	if err := errors.Join(genErr, finErr); err != nil {
		return err
	}
	if g.Refused > 0 {
		return fmt.Errorf("the domain refused %d generated decisions (first: %v)", g.Refused, g.FirstRefusal)
	}
	d := time.Since(start)
	if e.last, err = e.store.LastSequence(ctx); err != nil {
		return err
	}
	if e.last != uint64(n) {
		return fmt.Errorf("loaded %d events but the stream ends at %d", n, e.last)
	}
	h := benchHistory{Events: n, Bytes: g.Bytes, BytesPerEvent: g.Bytes / int64(n), Units: units,
		FiscalYears: g.Years, CompleteYears: g.Complete, Types: g.Types, LoadSeconds: d.Seconds(), LoadRate: float64(n) / d.Seconds(),
		LoadedBy: "generated through the domain's decide functions, sealed as events.Store.Append seals, published pipelined to JetStream with expected-last-subject-sequence (no HTTP, no Store.Append)"}
	h.Provinces, h.Departments, h.LAOs = g.UnitCounts()
	e.report.History = h
	e.progress("loaded %d events (%d MB, %d bytes each on average) in %.1fs: %.0f events/s; fiscal years %v", n, g.Bytes>>20, h.BytesPerEvent, d.Seconds(), h.LoadRate, g.Years)
	return nil
}

// rawDrain reads the whole stream with an ordered consumer, as
// events.Store.Subscribe does, and decodes each envelope's JSON.
func (e *benchEnv) rawDrain(ctx context.Context, decode bool) (time.Duration, error) {
	stream, err := e.js.Stream(ctx, e.store.Name())
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			return 0, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return 0, err
		}
		if decode {
			var env events.Envelope
			if err := json.Unmarshal(msg.Data(), &env); err != nil {
				return 0, err
			}
		}
		if md.Sequence.Stream >= e.last {
			return time.Since(start), nil
		}
	}
}

// rebuildOnce folds every event into a fresh model with the runner the
// server uses, until it has applied the last one. Polling Applied (rather
// than WaitFor) keeps a waiter from being woken on every event.
func (e *benchEnv) rebuildOnce(ctx context.Context) (time.Duration, *projections.Model, error) {
	m := projections.NewModel()
	r := &benchRunner{store: e.store, model: m}
	start := time.Now()
	r.start()
	for m.Applied() < e.last {
		if f := m.Failure(); f != nil {
			_ = r.stop()
			return 0, nil, f
		}
		if err := ctx.Err(); err != nil {
			_ = r.stop()
			return 0, nil, err
		}
		time.Sleep(time.Millisecond)
	}
	d := time.Since(start)
	return d, m, r.stop()
}

func benchHeap() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// rebuild measures the raw drain and the rebuild, alternately, and the
// memory the rebuilt model holds: the live heap with a model minus the
// live heap just after dropping it, two GCs apart and with nothing else
// running, so that the embedded server's own caches (which come and go with
// reads) are the same in both.
func (e *benchEnv) rebuild(ctx context.Context) error {
	var raw, ours []benchRoundResult
	var heapBytes []float64
	var lastBefore runtime.MemStats
	for round := 1; round <= e.cfg.Rounds; round++ {
		if e.model != nil {
			with := benchHeap()
			e.model = nil
			without := benchHeap()
			heapBytes = append(heapBytes, float64(with.HeapAlloc)-float64(without.HeapAlloc))
		}
		d, err := e.rawDrain(ctx, true)
		if err != nil {
			return fmt.Errorf("raw drain: %w", err)
		}
		raw = append(raw, benchRoundResult{Ops: int(e.last), Seconds: d.Seconds(), Rate: float64(e.last) / d.Seconds()})
		lastBefore = benchHeap()
		d, m, err := e.rebuildOnce(ctx)
		if err != nil {
			return err
		}
		e.model = m
		ours = append(ours, benchRoundResult{Ops: int(e.last), Seconds: d.Seconds(), Rate: float64(e.last) / d.Seconds()})
		e.progress("rebuild round %d/%d: raw drain+decode %.2fs (%.0f/s), rebuild %.2fs (%.0f/s)",
			round, e.cfg.Rounds, raw[len(raw)-1].Seconds, raw[len(raw)-1].Rate, d.Seconds(), ours[len(ours)-1].Rate)
	}
	if len(heapBytes) == 0 {
		// One round: the heap after the rebuild minus before it.
		heapBytes = append(heapBytes, float64(benchHeap().HeapAlloc)-float64(lastBefore.HeapAlloc))
	}
	// The transport alone, once: the ceiling of any reader of the stream.
	transport, err := e.rawDrain(ctx, false)
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	n := float64(e.last)
	f := &benchFigure{Key: "rebuild", Title: fmt.Sprintf("rebuild of every read model, %s events", benchCount(float64(e.last))), show: "rebuild",
		Result: benchMedian(ours), Rounds: ours,
		Raw:     &benchRaw{Title: "ordered-consumer drain + encoding/json decode of each envelope", Result: benchMedian(raw), Rounds: raw},
		RatioOf: "rate",
		Extra:   map[string]any{"drain_without_decode": benchRoundResult{Ops: int(e.last), Seconds: transport.Seconds(), Rate: n / transport.Seconds()}},
		Note:    "the raw drain decodes with encoding/json; the rebuild decodes with events' own envelope and payload decoders"}
	f.Ratio = f.Result.Rate / f.Raw.Result.Rate
	ok := f.Ratio >= 0.5
	if n >= 10_000_000 {
		f.Target = "≥ 0.50× raw; 10M events in < 60 s"
		ok = ok && f.Result.Seconds*1e7/n < 60
	} else {
		f.Target = "≥ 0.50× raw; 1M events in < 10 s (≥ 100,000/s)"
		ok = ok && f.Result.Rate >= 100_000
	}
	f.Met = benchMet(ok)
	e.report.Figures = append(e.report.Figures, f)

	slices.Sort(heapBytes)
	heap := heapBytes[len(heapBytes)/2]
	ms := benchHeap()
	rss := benchProcField("/proc/self/status", "VmRSS") << 10
	hwm := benchProcField("/proc/self/status", "VmHWM") << 10
	mem := &benchFigure{Key: "memory", Title: "memory after rebuild", show: "memory",
		Result: benchRoundResult{Ops: int(e.last)},
		Extra: map[string]any{
			"model_heap_bytes": int64(heap), "bytes_per_event": heap / n,
			"process_heap_bytes": ms.HeapAlloc, "process_rss_bytes": rss, "process_peak_rss_bytes": hwm,
			"projected_10m_model_bytes": int64(heap / n * 1e7),
		},
		Note: "model heap: runtime.MemStats.HeapAlloc after GC with a rebuilt model minus just after dropping it (median of rounds); RSS: /proc/self/status VmRSS of the whole process, embedded nats-server included"}
	if n >= 10_000_000 {
		mem.Target = "10M events fit in 4 GiB (process RSS)"
		mem.Met = benchMet(rss < 4<<30)
	} else {
		mem.Target = "10M events fit in 4 GiB (model heap projected to 10M)"
		mem.Met = benchMet(heap/n*1e7 < 4<<30)
	}
	e.report.Figures = append(e.report.Figures, mem)
	if e.cfg.Pprof != "" {
		f, err := os.Create(filepath.Join(e.cfg.Pprof, "model.heap.pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.WriteHeapProfile(f)
	}
	return nil
}

// benchTarget is an approved indicator the write figures act on.
type benchTarget struct {
	id, unit  string
	fy        int
	kind      domain.UnitKind
	lastRound int
	levels    int
	component string
	officer   domain.Actor
	// HTTP client state, carried across rounds; a target belongs to one
	// client at a time.
	step    int
	version uint64
	reports int // reports in its last round (domain.MaxReportsPerRound)
	draft   string
	// rawSeq is the last sequence of the target's subject in the raw stream.
	rawSeq uint64
}

// unitYears lists the unit-years of complete fiscal years with at least
// three approved indicators with a verified value: those the views show
// (with fewer, in a history too short to have them, any scored unit-year).
func (e *benchEnv) unitYears() []*projections.UnitYear {
	complete := map[int]bool{}
	for _, fy := range e.report.History.CompleteYears {
		complete[fy] = true
	}
	var best, some []*projections.UnitYear
	e.model.Read(func(st *projections.State) {
		for _, k := range projections.SortedKeys(st.UnitYears) {
			uy := st.UnitYears[k]
			if len(complete) > 0 && !complete[uy.FiscalYear] {
				continue
			}
			scored := 0
			for _, ind := range st.UnitIndicators(uy.Unit, uy.FiscalYear) {
				if ind.Status == domain.StatusApproved && ind.Final() != nil {
					scored++
				}
			}
			if scored >= 3 {
				best = append(best, uy)
			} else if scored > 0 {
				some = append(some, uy)
			}
		}
	})
	if len(best) == 0 {
		return some
	}
	return best
}

// asOf measures ScorecardAsOf against the live scorecard.
func (e *benchEnv) asOf(ctx context.Context) error {
	uys := e.unitYears()
	if len(uys) == 0 {
		return errors.New("no unit-year has a verified result yet: generate more events (--events)")
	}
	// Spread the picks over the history.
	var picks []*projections.UnitYear
	for i := 0; i < 16 && i < len(uys); i++ {
		picks = append(picks, uys[i*len(uys)/min(16, len(uys))])
	}
	calls := 200
	if e.cfg.Quick {
		calls = 60
	}
	// The as-of fold is given the unit, as the handler gives it.
	units := make([]domain.Unit, len(picks))
	e.model.Read(func(live *projections.State) {
		for i, uy := range picks {
			units[i], _ = live.Unit(uy.Unit)
		}
	})
	// A check that the figure measures the right thing: as of the end of
	// the year, the scorecard is the live one.
	for i, uy := range picks {
		end := history.FYStart(uy.FiscalYear + 1).Add(-time.Second)
		sc, err := projections.ScorecardAsOf(ctx, e.store, units[i], uy.FiscalYear, end)
		if err != nil {
			return err
		}
		var live projections.Scorecard
		e.model.Read(func(st *projections.State) { live, err = projections.BuildScorecard(st, uy.Unit, uy.FiscalYear) })
		if err != nil {
			return err
		}
		sc.AsOf = ""
		a, _ := json.Marshal(sc)
		b, _ := json.Marshal(live)
		if string(a) != string(b) {
			return fmt.Errorf("the as_of scorecard of %s FY%d at the end of the year differs from the live one", uy.Unit, uy.FiscalYear)
		}
	}
	var asof, live []benchRoundResult
	for round := 1; round <= e.cfg.Rounds; round++ {
		var sa, sl benchSample
		start := time.Now()
		for i := range calls {
			k := i % len(picks)
			uy := picks[k]
			// Alternate the end of the year and the middle of it (after the
			// first round's verification), where the cut-off matters.
			at := history.FYStart(uy.FiscalYear + 1).Add(-time.Second)
			if i%2 == 1 {
				at = history.FYStart(uy.FiscalYear).AddDate(0, 0, 200)
			}
			t := time.Now()
			if _, err := projections.ScorecardAsOf(ctx, e.store, units[k], uy.FiscalYear, at); err != nil {
				return err
			}
			sa.add(time.Since(t))
		}
		sa.elapsed = time.Since(start)
		start = time.Now()
		for i := range calls {
			uy := picks[i%len(picks)]
			t := time.Now()
			var err error
			e.model.Read(func(st *projections.State) { _, err = projections.BuildScorecard(st, uy.Unit, uy.FiscalYear) })
			if err != nil {
				return err
			}
			sl.add(time.Since(t))
		}
		sl.elapsed = time.Since(start)
		asof, live = append(asof, sa.result()), append(live, sl.result())
		e.progress("as_of round %d/%d: p50 %.2f ms p99 %.2f ms; live scorecard p50 %.3f ms p99 %.3f ms",
			round, e.cfg.Rounds, asof[round-1].P50Ms, asof[round-1].P99Ms, live[round-1].P50Ms, live[round-1].P99Ms)
	}
	f := &benchFigure{Key: "as_of", Title: fmt.Sprintf("as_of scorecard, one unit-year of %s events", benchCount(float64(e.last))), show: "latency",
		Result: benchMedian(asof), Rounds: asof,
		Raw:     &benchRaw{Title: "the same scorecard from the live read model (projections.BuildScorecard)", Result: benchMedian(live), Rounds: live},
		RatioOf: "p50 latency", Target: "p99 < 20 ms"}
	if f.Raw.Result.P50Ms > 0 {
		f.Ratio = f.Result.P50Ms / f.Raw.Result.P50Ms
	}
	f.Met = benchMet(f.Result.P99Ms < 20)
	e.report.Figures = append(e.report.Figures, f)
	return nil
}

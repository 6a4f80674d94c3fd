// Package bench is `kpiledger bench`: it generates a history shaped like
// real fiscal years, loads it into an embedded JetStream, and measures the
// ledger against JetStream's own figures and HTTP floors in the same run.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

const benchSynopsis = `Measures kpiledger against JetStream's own figures from the same run, on an
embedded NATS server with JetStream in a temporary directory. Each figure is
the median of --rounds rounds; where it has a raw counterpart, the ratio to it
is printed beside it. The table goes to stdout, progress to stderr, and every
figure (with each round's values) to the JSON file --out.

The history: --events events generated through the domain's own decide
functions, shaped like real evaluation years FY2561 onwards (frameworks,
long-term series, 3-7 indicators per unit proposed, reviewed, revised,
withdrawn or rejected, innovation outlines, framework corrections, results
reported each round with evidence and obstacles, verified, rejected and
reported again) for the 76 provinces, 69 departments and as many local
administrative organisations as the size needs. It is loaded by a pipelined
JetStream publish of the sealed envelopes with expected-last-subject-sequence,
bypassing HTTP and events.Store.Append (which waits for each acknowledgement).

Figures:
  append          commands through the API's executor, api.Server.Execute (what
                  every handler calls, without HTTP): decide on the read model,
                  events.Store.Append with the expected version, and wait until
                  the read model has applied the event; with 1 and 8 concurrent
                  writers. Raw: JetStream publish of the same bytes to the same
                  subjects of a second stream, with the same headers (message id,
                  expected stream, expected last subject sequence), same writers.
  http write      writes over loopback HTTP to a real api.New server with real
                  tokens, with 1, 8 and 32 clients, each on its own indicators:
                  result reports, verifications (If-Match), proposals and
                  withdrawals. A write answers after this node's read model
                  includes it (read-your-writes), so this is the whole path.
                  At 8 clients, compared with the append figure's 8 writers: the
                  same executor in process.
  rebuild         every read model folded from all events: projections.Runner
                  from sequence 0 until caught up (events/s and seconds). Raw: an
                  ordered-consumer drain of the same stream with a JSON decode of
                  each envelope.
  as_of           projections.ScorecardAsOf of one unit-year (it reads only that
                  unit-year's and its framework's subjects) with all events in the
                  stream, p50/p99. Beside it: the same scorecard from the live
                  read model (projections.BuildScorecard).
  view GET        scorecard, trends and year-over-year comparison GETs over HTTP
                  with 32 clients, p50/p99 (also per view in the JSON). Floor:
                  in each round, the same clients, tokens and draws against a
                  route behind the same middleware and authentication
                  (api.Server.Middleware) answering a pre-encoded body of each
                  view's size: the cost of an authenticated GET on this machine.
  proofs          inclusion proofs of random events and consistency proofs from
                  random sizes, both at the full size, made by tlog from the
                  tiles (built first over the whole history; their build time
                  is in the JSON), p50/p99. Then command appends (1 writer)
                  with a tiles follower catching up every 50 ms, as a ratio to
                  the same appends without it, rounds alternating.
  import          result reports uploaded as spreadsheets (CSV, one file a
                  unit-year, POST .../results/import, up to 1,000 rows a round,
                  1 client): rows appended per second. Beside it: the same
                  number of reports as JSON requests, one at a time.
  memory          the rebuilt read model's live heap: runtime HeapAlloc after GC
                  with the model minus before it, in total and per event; and the
                  process's resident set (VmRSS, which includes the embedded
                  nats-server).

Ratios: for rates, ours ÷ raw (1 = as fast as JetStream alone); for as_of, its
latency ÷ the live scorecard's; for view GETs, rate and p99 ÷ the floor's; for
HTTP writes at 8 clients, rate ÷ the executor's in process.`

// benchConfig is what `kpiledger bench` was asked to do.
type benchConfig struct {
	Quick    bool          `json:"quick"`
	Events   int           `json:"events"`
	Rounds   int           `json:"rounds"`
	Duration time.Duration `json:"-"`
	Seed     uint64        `json:"seed"`
	Out      string        `json:"-"`
	Dir      string        `json:"-"`
	Keep     bool          `json:"-"`
	Pprof    string        `json:"-"`
	Only     string        `json:"only,omitempty"`
	// DurationText is Duration for the JSON file.
	DurationText string `json:"round_duration"`
}

func parseBench(args []string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kpiledger bench [--quick] [--events N] [--out FILE.json]\n\n%s\n\nFlags:\n", benchSynopsis)
		fs.PrintDefaults()
	}
	fs.BoolVar(&c.Quick, "quick", false, "a run for CI, under a minute: 20,000 events, 3 rounds, short rounds (flags given explicitly still win)")
	fs.IntVar(&c.Events, "events", 1_000_000, "events in the stream for the rebuild, as_of, memory and view figures")
	fs.IntVar(&c.Rounds, "rounds", 5, "rounds per figure; each figure is the median")
	fs.DurationVar(&c.Duration, "duration", 3*time.Second, "length of one round of the HTTP write and view GET figures")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the generated history")
	fs.StringVar(&c.Out, "out", "", "write the figures as JSON to this file (default: a new file in the temp directory)")
	fs.StringVar(&c.Dir, "dir", "", "put the embedded server's data here instead of a new temp directory")
	fs.BoolVar(&c.Keep, "keep", false, "keep the data directory afterwards")
	fs.StringVar(&c.Only, "only", "", "run only these phases after loading, comma-separated (rebuild, asof, serve, append, proofs, http-write, views, import), and the phases they need (serve needs rebuild; append, http-write, views and import need serve)")
	fs.StringVar(&c.Pprof, "pprof", "", "write a CPU profile of each phase and a heap profile after the rebuild into this directory")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("bench takes no arguments (got %q)", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Quick {
		if !set["events"] {
			c.Events = 20_000
		}
		if !set["rounds"] {
			c.Rounds = 3
		}
		if !set["duration"] {
			c.Duration = 500 * time.Millisecond
		}
	}
	if c.Events < 5000 {
		// Fewer events do not reach the first year's verified results,
		// which the as_of and view figures read.
		return c, errors.New("--events must be at least 5,000")
	}
	if c.Rounds < 1 {
		return c, errors.New("--rounds must be at least 1")
	}
	c.DurationText = c.Duration.String()
	return c, nil
}

// benchReport is the JSON file.
type benchReport struct {
	Format  int            `json:"format"` // bump when the file's shape changes
	Started time.Time      `json:"started"`
	Machine benchMachine   `json:"machine"`
	Config  benchConfig    `json:"config"`
	History benchHistory   `json:"history"`
	Figures []*benchFigure `json:"figures"`
}

type benchMachine struct {
	CPUs        int    `json:"cpus"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	CPU         string `json:"cpu"`
	MemoryBytes uint64 `json:"memory_bytes"`
	Go          string `json:"go"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15 minute load
	// averages: other work on the machine shows in every figure.
	LoadStart string `json:"load_average_start"`
	LoadEnd   string `json:"load_average_end"`
	// GOGC and GOMEMLIMIT as the environment set them ("" for the
	// defaults): the garbage collector's pace shows in every figure.
	GOGC       string `json:"gogc"`
	GOMEMLIMIT string `json:"gomemlimit"`
}

type benchHistory struct {
	Events        int            `json:"events"`
	Bytes         int64          `json:"bytes"`
	BytesPerEvent int64          `json:"bytes_per_event"`
	Units         int            `json:"units"`
	Provinces     int            `json:"provinces"`
	Departments   int            `json:"departments"`
	LAOs          int            `json:"local_administrative_organisations"`
	FiscalYears   []int          `json:"fiscal_years"`
	CompleteYears []int          `json:"complete_fiscal_years"`
	Types         map[string]int `json:"types"`
	LoadSeconds   float64        `json:"load_seconds"`
	LoadRate      float64        `json:"load_rate"`
	LoadedBy      string         `json:"loaded_by"`
}

// benchFigure is one line of the table.
type benchFigure struct {
	Key    string             `json:"key"`
	Title  string             `json:"title"`
	Result benchRoundResult   `json:"result"` // median of the rounds (ops: total)
	Rounds []benchRoundResult `json:"rounds"`
	Raw    *benchRaw          `json:"raw,omitempty"`
	// Ratio is ours ÷ raw for rates, ours ÷ reference for latencies.
	Ratio float64 `json:"ratio,omitempty"`
	// P99Ratio is ours ÷ the floor's p99, for the view GETs.
	P99Ratio float64        `json:"p99_ratio,omitempty"`
	RatioOf  string         `json:"ratio_of,omitempty"`
	Target   string         `json:"target,omitempty"`
	Met      *bool          `json:"met,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
	Note     string         `json:"note,omitempty"`
	// show says how the table renders Result: "rate", "latency", "rebuild", "memory".
	show string
}

// benchRaw is a figure's counterpart measured in the same run.
type benchRaw struct {
	Title  string             `json:"title"`
	Result benchRoundResult   `json:"result"`
	Rounds []benchRoundResult `json:"rounds"`
}

func benchMet(ok bool) *bool { return &ok }

// figure returns the figure measured under key, or nil.
func (e *benchEnv) figure(key string) *benchFigure {
	for _, f := range e.report.Figures {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// benchEnv is the running benchmark: an embedded server, the store, the
// read model, the HTTP API, and what the history holds.
type benchEnv struct {
	cfg    benchConfig
	stdout io.Writer
	stderr io.Writer
	start  time.Time
	dir    string
	ns     *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	store  *events.Store
	model  *projections.Model
	runner *benchRunner
	srv    *api.Server // the API the HTTP figures call, and its executor
	// floorBody is what the floor route answers a prefix of.
	floorBody []byte
	key       []byte
	base      string // http://host:port of the API
	http      *http.Server
	report    benchReport
	targets   []*benchTarget
	last      uint64 // the stream's last sequence after loading
}

// Run is `kpiledger bench`: args are its flags (see --help); it prints the
// table on stdout, progress on stderr, and writes the figures as JSON.
func Run(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	e := &benchEnv{cfg: cfg, stdout: stdout, stderr: stderr, start: time.Now()}
	e.report = benchReport{Format: 1, Started: e.start.UTC(), Machine: benchMachineInfo(), Config: cfg}
	defer e.close()
	if err := e.setup(ctx); err != nil {
		return err
	}
	phases := []struct {
		name  string
		run   func(context.Context) error
		needs string // the phase before it that sets up what it uses
	}{
		{"load", e.load, ""},
		{"rebuild", e.rebuild, "load"}, // the read model
		{"asof", e.asOf, "rebuild"},
		{"serve", e.serve, "rebuild"}, // the API server and its runner
		{"append", e.appends, "serve"},
		{"proofs", e.proofs, "load"}, // its append half runs only after serve
		{"http-write", e.httpWrites, "serve"},
		{"views", e.views, "serve"},
		{"import", e.imports, "serve"},
	}
	run := map[string]bool{"load": true}
	if cfg.Only != "" {
		for _, name := range strings.Split(cfg.Only, ",") {
			name = strings.TrimSpace(name)
			known := false
			for _, p := range phases {
				known = known || p.name == name
			}
			if !known {
				return fmt.Errorf("--only: no phase %q (rebuild, asof, serve, append, proofs, http-write, views, import)", name)
			}
			run[name] = true
		}
		// What a chosen phase needs runs too, and says so.
		for i := len(phases) - 1; i >= 0; i-- {
			if p := phases[i]; run[p.name] && p.needs != "" && !run[p.needs] {
				run[p.needs] = true
				e.progress("--only %s: also running %s, which it needs", p.name, p.needs)
			}
		}
	}
	for _, p := range phases {
		if err := ctx.Err(); err != nil {
			return err
		}
		if cfg.Only != "" && !run[p.name] {
			continue
		}
		if err := e.profiled(p.name, func() error { return p.run(ctx) }); err != nil {
			return fmt.Errorf("bench %s: %w", p.name, err)
		}
	}
	e.report.Machine.LoadEnd = benchLoadAverage()
	e.printTable()
	return e.writeJSON()
}

// progress prints a line on stderr, prefixed with the time since start.
func (e *benchEnv) progress(format string, args ...any) {
	fmt.Fprintf(e.stderr, "bench %6.1fs  %s\n", time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
}

// profiled runs a phase under a CPU profile when --pprof is set.
func (e *benchEnv) profiled(name string, fn func() error) error {
	if e.cfg.Pprof == "" {
		return fn()
	}
	if err := os.MkdirAll(e.cfg.Pprof, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(e.cfg.Pprof, name+".cpu.pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

func (e *benchEnv) setup(ctx context.Context) error {
	e.dir = e.cfg.Dir
	if e.dir == "" {
		d, err := os.MkdirTemp("", "kpiledger-bench-*")
		if err != nil {
			return err
		}
		e.dir = d
	}
	var err error
	// Port 0: no listener; the benchmark connects in process, as serve does.
	if e.ns, err = events.StartServer(events.ServerConfig{StoreDir: filepath.Join(e.dir, "nats")}); err != nil {
		return err
	}
	if e.nc, err = nats.Connect("", nats.Name("kpiledger-bench"), nats.InProcessServer(e.ns)); err != nil {
		return err
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		return err
	}
	if e.store, err = events.Open(ctx, e.js, events.Config{}); err != nil {
		return err
	}
	if last, err := e.store.LastSequence(ctx); err != nil || last != 0 {
		return fmt.Errorf("the data directory %s must hold no events (it holds %d; %v)", e.dir, last, err)
	}
	e.key = make([]byte, 32)
	_, err = rand.Read(e.key)
	e.progress("embedded NATS JetStream in %s; %d CPUs, GOMAXPROCS %d", e.dir, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	return err
}

func (e *benchEnv) close() {
	if e.runner != nil {
		_ = e.runner.stop()
	}
	if e.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.http.Shutdown(ctx)
		cancel()
	}
	if e.nc != nil {
		e.nc.Close()
	}
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns.WaitForShutdown()
	}
	if e.dir != "" && e.cfg.Dir == "" && !e.cfg.Keep {
		_ = os.RemoveAll(e.dir)
	}
}

// benchRunner runs a projections.Runner that can be paused and resumed.
type benchRunner struct {
	store  *events.Store
	model  *projections.Model
	cancel context.CancelFunc
	done   chan error
}

func (r *benchRunner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	run := &projections.Runner{Store: r.store, Model: r.model}
	go func() { r.done <- run.Run(ctx) }()
}

func (r *benchRunner) stop() error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	return <-r.done
}

// serve starts the live read model's runner and the HTTP API on loopback,
// and picks the indicators every writing phase after it writes to.
func (e *benchEnv) serve(ctx context.Context) error {
	if e.targets = e.pickTargets(); len(e.targets) == 0 {
		return fmt.Errorf("the history has no approved indicator to write to")
	}
	e.runner = &benchRunner{store: e.store, model: e.model}
	e.runner.start()
	signer, err := events.LoadSigningKey(e.dir, func(string) string { return "" })
	if err != nil {
		return err
	}
	// WriteRate -1: the bench measures the command path, and its writers
	// would otherwise meet the per-principal write limit within a second.
	srv := api.New(api.Config{Store: e.store, Model: e.model, TokenKey: e.key, Signer: signer, Log: slog.New(slog.DiscardHandler), WriteRate: -1})
	e.srv = srv
	srv.Echo().GET(benchFloorPath, e.floor, srv.Middleware()...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.http.Serve(l) }()
	e.base = "http://" + l.Addr().String()
	e.progress("HTTP API on %s", e.base)
	return e.model.WaitFor(ctx, e.last)
}

func benchLoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func benchMachineInfo() benchMachine {
	m := benchMachine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		LoadStart: benchLoadAverage(), GOGC: os.Getenv("GOGC"), GOMEMLIMIT: os.Getenv("GOMEMLIMIT")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if kb := benchProcField("/proc/meminfo", "MemTotal"); kb > 0 {
		m.MemoryBytes = kb << 10
	}
	return m
}

// benchProcField reads a "Name:   123 kB" line of a /proc file, in kB.
func benchProcField(path, name string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func (e *benchEnv) writeJSON() error {
	path := e.cfg.Out
	if path == "" {
		path = filepath.Join(os.TempDir(), "kpiledger-bench-"+e.start.UTC().Format("20060102T150405Z")+".json")
	}
	b, err := json.MarshalIndent(e.report, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nfigures written to %s\n", path)
	return nil
}

// printTable writes the figures as a table on stdout, each raw
// counterpart named in a note under it.
func (e *benchEnv) printTable() {
	h := e.report.History
	m := e.report.Machine
	fmt.Fprintf(e.stdout, "\nkpiledger bench: %s events, FY%d-FY%d (%d complete), %d units (%d provinces, %d departments, %d local administrative organisations), %d bytes per event\n",
		benchCount(float64(h.Events)), h.FiscalYears[0], h.FiscalYears[len(h.FiscalYears)-1], len(h.CompleteYears), h.Units, h.Provinces, h.Departments, h.LAOs, h.BytesPerEvent)
	fmt.Fprintf(e.stdout, "machine: %d CPUs (%s), GOMAXPROCS %d, %.1f GiB, %s %s/%s, GOGC=%s GOMEMLIMIT=%s; load average %s at start, %s at end\n",
		m.CPUs, m.CPU, m.GOMAXPROCS, float64(m.MemoryBytes)/(1<<30), m.Go, m.OS, m.Arch, benchOr(m.GOGC, "100"), benchOr(m.GOMEMLIMIT, "none"), m.LoadStart, m.LoadEnd)
	fmt.Fprintf(e.stdout, "history loaded in %.1f s (%s events/s), bypassing HTTP: %s\n", h.LoadSeconds, benchCount(h.LoadRate), h.LoadedBy)
	fmt.Fprintf(e.stdout, "each figure: the median of %d rounds\n\n", e.cfg.Rounds)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tRESULT\tP50 ms\tP99 ms\tCOUNTERPART\tRATIO\tTARGET")
	var notes []string
	marks := map[string]string{}
	for _, f := range e.report.Figures {
		res, p50, p99 := benchCells(f.show, f.Result, f)
		if f.Result.Errors > 0 {
			res += fmt.Sprintf(" (%d errors)", f.Result.Errors)
		}
		raw, ratio := "", ""
		if f.Raw != nil {
			mark, seen := marks[f.Raw.Title]
			if !seen {
				mark = string(rune('a' + len(notes)))
				marks[f.Raw.Title] = mark
				notes = append(notes, fmt.Sprintf("(%s) %s", mark, f.Raw.Title))
			}
			r := f.Raw.Result
			switch f.show {
			case "rebuild":
				raw = fmt.Sprintf("%.2f s, %s/s", r.Seconds, benchCount(r.Rate))
			case "latency":
				raw = fmt.Sprintf("p50 %s, p99 %s", benchMsCell(r.P50Ms), benchMsCell(r.P99Ms))
			default:
				raw = fmt.Sprintf("%s/s, p99 %s", benchCount(r.Rate), benchMsCell(r.P99Ms))
			}
			raw += " (" + mark + ")"
		}
		switch f.RatioOf {
		case "rate":
			ratio = fmt.Sprintf("%.2f× raw", f.Ratio)
		case "p50 latency":
			ratio = fmt.Sprintf("%.0f× live", f.Ratio)
		case "floor":
			ratio = fmt.Sprintf("%.2f× floor, p99 %.2f×", f.Ratio, f.P99Ratio)
		case "executor":
			ratio = fmt.Sprintf("%.2f× executor", f.Ratio)
		}
		target := f.Target
		if f.Met != nil {
			if *f.Met {
				target += ": met"
			} else {
				target += ": MISSED"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Title, res, p50, p99, raw, ratio, target)
		if _, ok := f.Extra["scorecard"]; ok {
			for _, k := range []string{"scorecard", "trends", "comparison"} {
				r := f.Extra[k].(benchRoundResult)
				fmt.Fprintf(tw, "  %s\t%s/s\t%s\t%s\n", k, benchCount(r.Rate), benchMsCell(r.P50Ms), benchMsCell(r.P99Ms))
			}
		}
		if d, ok := f.Extra["drain_without_decode"].(benchRoundResult); ok {
			fmt.Fprintf(tw, "  stream drain without decode\t%.2f s, %s/s\n", d.Seconds, benchCount(d.Rate))
		}
	}
	tw.Flush()
	fmt.Fprintln(e.stdout)
	for _, n := range notes {
		fmt.Fprintln(e.stdout, n)
	}
}

func benchOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func benchMsCell(v float64) string {
	switch {
	case v == 0:
		return ""
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// benchCells renders a result as the table's value, p50 and p99 cells.
func benchCells(show string, r benchRoundResult, f *benchFigure) (string, string, string) {
	switch show {
	case "rebuild":
		return fmt.Sprintf("%.2f s, %s/s", r.Seconds, benchCount(r.Rate)), "", ""
	case "latency":
		return "", benchMsCell(r.P50Ms), benchMsCell(r.P99Ms)
	case "memory":
		heap, _ := f.Extra["model_heap_bytes"].(int64)
		per, _ := f.Extra["bytes_per_event"].(float64)
		rss, _ := f.Extra["process_rss_bytes"].(uint64)
		return fmt.Sprintf("model heap %s (%.0f B/event); process RSS %s", benchBytes(float64(heap)), per, benchBytes(float64(rss))), "", ""
	}
	return benchCount(r.Rate) + "/s", benchMsCell(r.P50Ms), benchMsCell(r.P99Ms)
}

// benchCount renders 1234567 as "1,234,567".
func benchCount(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func benchBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.0f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", v/(1<<10))
}

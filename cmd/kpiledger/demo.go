package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/demo"
)

const demoSynopsis = `Loads the demo data into a running ledger through its HTTP API: the evaluation
cycles of FY2561-FY2567 for the 76 provinces and five departments, about 11,000
events, with indicators sent back and revised, results late, superseded,
adjusted and rejected, obstacles in Thai, Chiang Mai's FY2561 innovation
outlines and long-term series on track or not. --seed decides the numbers: the
same seed gives the same calls, payloads and totals. (Chiang Mai FY2563,
Chiang Rai FY2564, cdd FY2564 and the series are scripted, the same under any
seed.)

Every call carries an Idempotency-Key and an X-Correlation-ID made from the
seed and the step, and the loader first reads the ledger's event feed: running
it again against the same ledger appends nothing, and an interrupted run
resumes where it stopped. A ledger already holding other data (frameworks of
its own, say) refuses the demo's calls, and the loader stops at the first.

Tokens are signed with the server's key: KPILEDGER_TOKEN_KEY, or token.key in
--data-dir, the server's data directory.

The ledger limits each caller's writes (serve --write-rate, --write-burst) and the
loader writes thousands per caller: it waits out every 429 it gets, so start the
ledger to be loaded with --write-rate -1 (no limit) unless there is time to wait.

Time: every call sends X-Occurred-At, a plausible instant in its fiscal year
(proposals in October-November, reviews in December-January, reports after
each round ends, a few late). recorded_at is the server's own clock, so here it
is the time of loading, and ?as_of= views (which go by recorded_at) cannot step
back through the fiscal years. For a ledger whose recorded_at lies in the
fiscal years, start an empty one with "kpiledger serve --demo": it sends the
same calls in-process before it starts listening, with its clock following them.

Example: kpiledger demo --url http://127.0.0.1:8080 --data-dir ./data`

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("demo --url URL [--seed N] [--data-dir DIR]", demoSynopsis, stderr)
	url := fs.String("url", "", "the running ledger's base URL, e.g. http://127.0.0.1:8080 (required)")
	seed := fs.Int64("seed", demo.DefaultSeed, "the seed the demo data is generated from")
	dataDir := fs.String("data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "the server's data directory, for its token key (env KPILEDGER_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		fs.Usage()
		return errors.New("--url is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo takes no arguments (got %q)", fs.Args())
	}
	// LoadTokenKey would create a fresh key in an empty directory, and
	// every token signed with it would be refused: insist on the server's.
	if getenv("KPILEDGER_TOKEN_KEY") == "" {
		if _, err := os.Stat(filepath.Join(*dataDir, api.TokenKeyFile)); err != nil {
			return fmt.Errorf("no token key: set KPILEDGER_TOKEN_KEY or point --data-dir at the server's data directory (%w)", err)
		}
	}
	key, err := api.LoadTokenKey(*dataDir, getenv)
	if err != nil {
		return err
	}
	plan, err := demo.Generate(*seed)
	if err != nil {
		return err
	}
	base := strings.TrimRight(*url, "/")
	client := &http.Client{Timeout: time.Minute}
	if err := awaitLedger(ctx, client, base); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loading the demo data (seed %d, %d events) into %s\n", *seed, len(plan.Steps), base)
	l := &demo.Loader{Client: client, BaseURL: base, TokenKey: key, Progress: progressPrinter(stdout)}
	res, err := l.Load(ctx, plan)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo data loaded in %.1fs: %d events appended, %d already in the ledger\n",
		res.Elapsed.Seconds(), res.Appended, res.Present+res.Replayed)
	return nil
}

// awaitLedger waits a little for /readyz, so that a ledger still catching up
// is told apart from a wrong URL.
func awaitLedger(ctx context.Context, client *http.Client, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("--url: %w", err)
		}
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = fmt.Errorf("/readyz answers %s", res.Status)
			}
			return fmt.Errorf("the ledger at %s is not ready: %w", base, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// progressPrinter prints a line each time another tenth of the plan is
// done.
func progressPrinter(w io.Writer) func(done, total int) {
	last := 0
	return func(done, total int) {
		if tenth := done * 10 / total; tenth > last {
			last = tenth
			fmt.Fprintf(w, "  %d/%d events\n", done, total)
		}
	}
}

// demoOnStart is `serve --demo`: it loads the demo into an empty ledger,
// in-process through the API's own handler, before HTTP serves anything,
// with the store's clock held at each step's instant so that recorded_at
// lies in the fiscal years; then real time resumes. A ledger that already
// holds events is left alone.
func demoOnStart(ctx context.Context, n *node, stdout io.Writer) error {
	for !n.model.Ready() {
		if f := n.model.Failure(); f != nil {
			return fmt.Errorf("--demo: the read model stopped: %w", f)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	last, err := n.store.LastSequence(ctx)
	if err != nil {
		return fmt.Errorf("--demo: %w", err)
	}
	if last > 0 {
		fmt.Fprintf(stdout, "--demo: the ledger already holds %d events; the demo data is loaded only into an empty ledger, so it was not loaded again\n", last)
		return nil
	}
	plan, err := demo.Generate(demo.DefaultSeed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loading the demo data (FY2561-FY2567, %d events) before serving HTTP\n", len(plan.Steps))
	l := &demo.Loader{Client: demo.HandlerClient(n.api.Handler()), BaseURL: "http://kpiledger.local", TokenKey: n.key,
		Hold: n.clock.Hold, Progress: progressPrinter(stdout)}
	// The loader writes a few thousand events per principal before HTTP
	// opens: the per-principal write limit is for callers, not for it.
	restore := n.api.LiftWriteLimit()
	res, err := l.Load(ctx, plan)
	restore()
	n.clock.Release()
	if err != nil {
		return fmt.Errorf("--demo: %w", err)
	}
	fmt.Fprintf(stdout, "demo data loaded: %d events in %.1fs\n", res.Appended, res.Elapsed.Seconds())
	return nil
}

// printDemoWelcome prints, once `serve --demo` listens, a token for each
// role and three requests to try.
func printDemoWelcome(w io.Writer, addr net.Addr, key []byte) error {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	const ttl = 24 * time.Hour
	tokens := make([]string, 3)
	for i, p := range []api.Principal{demo.ShowcaseOPDC, demo.ShowcaseAuditor, demo.ShowcaseUnit} {
		tok, err := api.IssueToken(key, p, ttl, time.Now())
		if err != nil {
			return err
		}
		tokens[i] = tok
	}
	fmt.Fprintf(w, `
Tokens for the demo (valid 24 hours; "kpiledger token" makes more):

  export KPI=http://%s
  export OPDC=%s
  export AUDITOR=%s
  export CM=%s

  OPDC is %s (role opdc), AUDITOR %s (role auditor),
  CM %s (role unit, Chiang Mai TH-50).

Try:

  curl -s -H "Authorization: Bearer $CM" "$KPI/v1/units/TH-50/years/2563/scorecard?pretty"
  curl -s -H "Authorization: Bearer $AUDITOR" "$KPI/v1/units/TH-50/years/2563/audit?pretty"
  curl -s -H "Authorization: Bearer $OPDC" "$KPI/v1/frameworks/compare?from=2562&to=2563&kind=province&pretty"

Or open the dashboard at http://%s/ and sign in by pasting one of the tokens.

`, host, tokens[0], tokens[1], tokens[2], demo.ShowcaseOPDC.Subject, demo.ShowcaseAuditor.Subject, demo.ShowcaseUnit.Subject, host)
	return nil
}

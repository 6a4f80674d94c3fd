package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runVerify(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("verify --file BUNDLE [--trust KEY]... [--witness KEY... --quorum N] [--since CHECKPOINT] | verify --key [--data-dir DIR]",
		"Checks an export bundle (GET /v1/export) offline, with no server: the checkpoint it was\ncut at (the ledger's signature, a quorum of witness cosignatures, consistency with a\ncheckpoint trusted earlier), every event's hash, every aggregate's chain, stream order,\nevery event's inclusion proof, every unit-year complete against the checkpoint's group\ntree, embedded checkpoints and the signed trailer. Exit 0 with a one-line summary when\nintact; exit 1 naming what is wrong.\n\n--key prints this server's verifier key (also served at GET /v1/verify/key);\ngive it to auditors, who pin it with --trust.", stderr)
	file := fs.String("file", "", "the bundle to check ('-' for standard input)")
	var trust multiFlag
	fs.Var(&trust, "trust", "a verifier key to trust (repeatable); without it the bundle's own key is used and the summary says so")
	var witnesses multiFlag
	fs.Var(&witnesses, "witness", "a witness's verifier key (repeatable): its cosignature on the bundle's checkpoint counts toward --quorum")
	quorum := fs.Int("quorum", 0, "how many --witness cosignatures the bundle's checkpoint must carry (default: all given)")
	since := fs.String("since", "", "a checkpoint trusted earlier (a signed note, e.g. saved from GET /v1/checkpoints/latest): the bundle's must extend it")
	recompute := fs.Bool("recompute", false, "re-fold a unit-year bundle's events with the domain's scoring and compare every indicator score, component score, total and band with the bundle's signed results statement; print the derivation of each difference and exit 1")
	printKey := fs.Bool("key", false, "print the checkpoint verifier key of the data directory and exit")
	dataDir := fs.String("data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "data directory holding the key (env KPILEDGER_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *printKey {
		if getenv("KPILEDGER_CHECKPOINT_KEY") == "" {
			if _, err := os.Stat(*dataDir); err != nil {
				return fmt.Errorf("no data directory %s (run kpiledger serve first, or pass --data-dir)", *dataDir)
			}
		}
		key, err := events.LoadSigningKey(*dataDir, getenv)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key.VerifierKey())
		return nil
	}
	if *file == "" {
		fs.Usage()
		return errors.New("--file or --key is required")
	}
	var in io.Reader = os.Stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	o := events.VerifyOptions{Trusted: trust, Witnesses: witnesses, Quorum: *quorum, KeepEvents: *recompute}
	if len(witnesses) > 0 && o.Quorum == 0 {
		o.Quorum = len(witnesses)
	}
	if *since != "" {
		b, err := os.ReadFile(*since)
		if err != nil {
			return err
		}
		o.Since = string(b)
	}
	rep, err := events.VerifyBundleWith(in, o)
	var be *events.BundleError
	if errors.As(err, &be) {
		fmt.Fprintf(stdout, "NOT INTACT: %v\n", be)
		return exitCode(1)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.Summary())
	if *recompute {
		return recomputeScores(rep, trust, stdout)
	}
	return nil
}

// recomputeScores checks the bundle's signed results statement against the
// scores re-folded from its events.
func recomputeScores(rep events.BundleReport, trust []string, stdout io.Writer) error {
	notIntact := func(format string, args ...any) error {
		fmt.Fprintf(stdout, "NOT INTACT: statement: "+format+"\n", args...)
		return exitCode(1)
	}
	if rep.Header.Statement == "" {
		return notIntact("the bundle carries no signed results statement (OPDC signs one with POST /v1/units/{unit}/years/{fy}/statement)")
	}
	if len(trust) == 0 {
		trust = []string{rep.Key}
	}
	text, err := events.OpenNote(rep.Header.Statement, trust...)
	if err != nil {
		return notIntact("%v", err)
	}
	stmt, err := projections.ParseStatement(text)
	if err != nil {
		return notIntact("%v", err)
	}
	if stmt.Unit != rep.Scope.Unit || stmt.FiscalYear != rep.Scope.FiscalYear {
		return notIntact("it is of %s FY%d, the bundle of %s FY%d", stmt.Unit, stmt.FiscalYear, rep.Scope.Unit, rep.Scope.FiscalYear)
	}
	if err := projections.CheckStatementAt(stmt, rep.Checkpoint, rep.Header.StatementConsistency); err != nil {
		return notIntact("%v", err)
	}
	diffs, sc, err := projections.Recompute(stmt, rep.EventList)
	if err != nil {
		return notIntact("%v", err)
	}
	if len(diffs) > 0 {
		fmt.Fprintf(stdout, "NOT INTACT: %d published figure(s) of %s FY%d differ from the scores recomputed from the events up to checkpoint %d:\n", len(diffs), stmt.Unit, stmt.FiscalYear, stmt.Size)
		for _, d := range diffs {
			fmt.Fprintln(stdout, "  "+d)
		}
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "recomputed: %d indicator scores, %d component scores, total %s and band %s of %s FY%d match the signed statement at checkpoint %d\n",
		len(sc.Indicators), len(sc.Components), sc.Total, sc.Band, stmt.Unit, stmt.FiscalYear, stmt.Size)
	return nil
}

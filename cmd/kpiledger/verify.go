package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opdc/kpiledger/events"
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
	o := events.VerifyOptions{Trusted: trust, Witnesses: witnesses, Quorum: *quorum}
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
	return nil
}

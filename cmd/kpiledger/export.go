package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("export --url URL [--unit U] [--fiscal-year FY] [--out FILE] [--token T | --data-dir DIR]",
		"Downloads an export bundle (GET /v1/export) from a running ledger: every selected event\nwith its hashes and a signed trailer, to check offline with `kpiledger verify --file`.\nWithout --unit and --fiscal-year it exports the whole ledger. The token is --token,\nor an auditor token minted with the key of --data-dir (or KPILEDGER_TOKEN_KEY).", stderr)
	base := fs.String("url", envOr(getenv, "KPILEDGER_URL", "http://127.0.0.1:8080"), "the ledger's base URL (env KPILEDGER_URL)")
	unit := fs.String("unit", "", "only this unit (e.g. TH-50 or cdd)")
	fy := fs.Int("fiscal-year", 0, "only this fiscal year (B.E., e.g. 2563)")
	out := fs.String("out", "", "write the bundle here (default: standard output)")
	since := fs.String("since", "", "a checkpoint trusted earlier (signed note file): the bundle then carries the proof that the log only grew from it")
	token := fs.String("token", getenv("KPILEDGER_TOKEN"), "bearer token (env KPILEDGER_TOKEN)")
	dataDir := fs.String("data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "data directory whose key mints an auditor token when --token is not given")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		key, err := api.LoadTokenKey(*dataDir, getenv)
		if err != nil {
			return fmt.Errorf("no --token, and no key to mint one: %w", err)
		}
		if *token, err = api.IssueToken(key, api.Principal{Subject: "kpiledger-export", Role: domain.RoleAuditor}, 10*time.Minute, time.Now()); err != nil {
			return err
		}
	}
	q := url.Values{}
	if *unit != "" {
		q.Set("unit", *unit)
	}
	if *fy != 0 {
		q.Set("fiscal_year", strconv.Itoa(*fy))
	}
	if *since != "" {
		b, err := os.ReadFile(*since)
		if err != nil {
			return err
		}
		body, _, ok := strings.Cut(string(b), "\n\n")
		if !ok {
			return fmt.Errorf("%s is not a signed checkpoint", *since)
		}
		cp, err := events.ParseCheckpoint(body + "\n")
		if err != nil {
			return fmt.Errorf("%s: %w", *since, err)
		}
		q.Set("since", strconv.FormatUint(cp.Size, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *base+"/v1/export?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("export: %s: %s", res.Status, b)
	}
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := io.Copy(w, res.Body)
	if err != nil {
		return fmt.Errorf("export interrupted after %d bytes: %w", n, err)
	}
	if f != nil {
		fmt.Fprintf(stderr, "wrote %d bytes to %s; check it with: kpiledger verify --file %s\n", n, *out, *out)
		return f.Sync()
	}
	return nil
}

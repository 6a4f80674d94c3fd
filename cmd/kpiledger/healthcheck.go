package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck asks a running kpiledger whether it is ready. It exists
// for container healthchecks: the image is FROM scratch, with no shell or
// curl to run one.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck [--url URL] [--timeout D]", "Exits 0 when GET URL answers 200 (by default this host's /readyz: the read models have\ncaught up with the log), 1 otherwise, printing why. For container healthchecks.", stderr)
	url := fs.String("url", envOr(getenv, "KPILEDGER_HEALTHCHECK_URL", "http://127.0.0.1:8080/readyz"), "the URL to check (env KPILEDGER_HEALTHCHECK_URL)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck takes no arguments (got %q)", fs.Args())
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "unhealthy:", err)
		return exitCode(1)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "unhealthy: %s: %d %s\n", *url, res.StatusCode, strings.TrimSpace(string(body)))
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "healthy: %s\n", strings.TrimSpace(string(body)))
	return nil
}

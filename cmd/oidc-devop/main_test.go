package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api/oidctest"
)

// TestDevProvider runs oidc-devop as the README does and signs a person in
// with its token subcommand.
func TestDevProvider(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard); pw.Close() }()
	defer func() { cancel(); <-done }()
	lines := bufio.NewScanner(pr)
	var issuer string
	deadline := time.AfterFunc(10*time.Second, func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	defer deadline.Stop()
	var out []string
	for lines.Scan() {
		out = append(out, lines.Text())
		if rest, ok := strings.CutPrefix(lines.Text(), "test identity provider at "); ok {
			issuer, _, _ = strings.Cut(rest, " ")
		}
		if strings.Contains(lines.Text(), "somchai@chiangmai.go.th / pw-somchai: kpiledger:unit:TH-50") {
			break
		}
	}
	if issuer == "" {
		t.Fatalf("no issuer printed: %q", out)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var tok strings.Builder
	if err := run(context.Background(), []string{"token", "--issuer", issuer, "somchai@chiangmai.go.th"}, &tok, io.Discard); err != nil {
		t.Fatal(err)
	}
	claims := oidctest.Claims(strings.TrimSpace(tok.String()))
	if claims["iss"] != issuer || claims["sub"] != "8f1c2a7e-0003" || !strings.Contains(strings.Join(toStrings(claims["groups"]), ","), "kpiledger:unit:TH-50") {
		t.Errorf("token claims: %v", claims)
	}
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			s, _ := e.(string)
			out = append(out, s)
		}
	}
	return out
}

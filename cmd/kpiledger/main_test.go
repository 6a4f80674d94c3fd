package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun runs `kpiledger serve` through run(), as main does, on a random
// port and returns its base URL, a stop function and the error channel.
func startRun(t *testing.T, dataDir string, extra ...string) (string, func() error) {
	t.Helper()
	url, stop, _ := startRunLog(t, dataDir, extra...)
	return url, stop
}

// startRunLog is startRun that also returns the server's log (stderr).
func startRunLog(t *testing.T, dataDir string, extra ...string) (string, func() error, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	env := func(k string) string { return "" }
	done := make(chan error, 1)
	args := append([]string{"serve", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0"}, extra...)
	go func() {
		err := run(ctx, args, env, pw, stderr)
		pw.Close()
		done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				urlc <- strings.Fields(rest)[0]
			}
		}
	}()
	var url string
	select {
	case url = <-urlc:
	case err := <-done:
		t.Fatalf("serve exited early: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start\n%s", stderr.String())
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatalf("serve did not stop\n%s", stderr.String())
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return url, stop, stderr
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// waitReady polls /readyz until it is green.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := getJSON(t, base+"/readyz")
		if code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not green: %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeAnswersHealthAndReady(t *testing.T) {
	base, stop := startRun(t, t.TempDir())
	code, body := getJSON(t, base+"/healthz")
	if code != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz: %d %v", code, body)
	}
	waitReady(t, base)
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"kpiledger_appends_total", "kpiledger_append_duration_seconds_bucket", "kpiledger_stream_last_sequence"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

func TestHelpAndUnknownCommand(t *testing.T) {
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"serve", "token"} {
		if !strings.Contains(out.String(), c) {
			t.Errorf("help does not list %s", c)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errb); err == nil {
		t.Error("unknown command accepted")
	}
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is one ```sh block of README.md and the ```text block that
// follows it, if any: the output the README shows, abridged, where "…"
// stands for anything.
type readmeBlock struct {
	section string
	script  string
	want    []string
}

// readmeBlocks returns the shell blocks of one "## " section of the README.
func readmeBlocks(t *testing.T, readme, heading string) []readmeBlock {
	t.Helper()
	start := strings.Index(readme, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	body := readme[start+len(heading)+2:]
	if end := strings.Index(body, "\n## "); end >= 0 {
		body = body[:end]
	}
	var (
		out   []readmeBlock
		fence string
		lines []string
	)
	for _, line := range strings.Split(body, "\n") {
		switch {
		case fence == "" && strings.HasPrefix(line, "```"):
			fence, lines = strings.TrimPrefix(line, "```"), nil
		case fence != "" && line == "```":
			switch fence {
			case "sh":
				out = append(out, readmeBlock{section: heading, script: strings.Join(lines, "\n")})
			case "text":
				if len(out) == 0 || out[len(out)-1].want != nil {
					t.Fatalf("%s: a ```text block follows no ```sh block: %q", heading, lines)
				}
				out[len(out)-1].want = lines
			default:
				t.Fatalf("%s: a ```%s block; the README test knows sh (commands) and text (their output)", heading, fence)
			}
			fence = ""
		case fence != "":
			lines = append(lines, line)
		}
	}
	return out
}

// matchOutput checks that every shown line appears in the real output, in
// order; "…" in a shown line matches anything, a line of only "…" stands
// for lines left out.
func matchOutput(got string, want []string) error {
	lines := strings.Split(got, "\n")
	i := 0
	for _, w := range want {
		w = strings.TrimSpace(w)
		if w == "" || w == "…" {
			continue
		}
		parts := strings.Split(w, "…")
		for k := range parts {
			parts[k] = regexp.QuoteMeta(parts[k])
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
		for i < len(lines) && !re.MatchString(strings.TrimSpace(lines[i])) {
			i++
		}
		if i == len(lines) {
			return fmt.Errorf("the README shows %q, which the real output lacks (or has earlier)", w)
		}
		i++
	}
	return nil
}

// readmeServer is the kpiledger binary running a README serve command.
type readmeServer struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	addr string
	done chan error
}

// startReadmeServer runs a README `serve` command with the built binary in
// dir, on a port of the system's choosing, and waits until it listens.
func startReadmeServer(t *testing.T, bash, dir, command string) *readmeServer {
	t.Helper()
	cmd := exec.Command(bash, "-c", "exec "+command)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "KPILEDGER_HTTP_ADDR=127.0.0.1:0")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &readmeServer{cmd: cmd, out: &syncBuffer{}, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.out.Write([]byte(sc.Text() + "\n"))
			if _, rest, ok := strings.Cut(sc.Text(), "listening on http://"); ok {
				addrc <- strings.Fields(rest)[0]
			}
		}
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.addr = <-addrc:
	case err := <-s.done:
		t.Fatalf("%s exited early: %v\n%s\n%s", command, err, s.out.String(), stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not start listening\n%s\n%s", command, s.out.String(), stderr.String())
	}
	return s
}

// stop sends SIGINT, as Ctrl-C would, and expects a clean exit.
func (s *readmeServer) stop(t *testing.T) {
	if s.cmd.ProcessState != nil || s.done == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-s.done:
		s.done = nil
		if err != nil {
			t.Errorf("the server did not stop cleanly on Ctrl-C: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Error("the server did not stop within 30 s of Ctrl-C")
	}
}

// cleanEnv is this process's environment without KPILEDGER_ settings, so
// the README's commands meet the defaults a new user has.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KPILEDGER_") {
			env = append(env, kv)
		}
	}
	return env
}

var serveCommand = regexp.MustCompile(`^go run \./cmd/kpiledger serve\b`)

// TestReadme runs the README's quick start and walkthrough. It builds the
// binary, replaces `go run ./cmd/kpiledger` with it, starts each `serve`
// command as a server (the walkthrough's loads the demo: the long step,
// some seconds), runs the other blocks in one bash session with the base
// URL pointing at that server, and checks each block's shown output.
func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and loads the demo data")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the README's commands")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl to run the README's commands")
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	bin := filepath.Join(t.TempDir(), "kpiledger")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The commands run from the repository root in the README; here they
	// run in a fresh directory, with the binary for `go run ./cmd/kpiledger`.
	program := func(s string) string { return strings.ReplaceAll(s, "go run ./cmd/kpiledger", strconv.Quote(bin)) }

	t.Run("quick start", func(t *testing.T) {
		blocks := readmeBlocks(t, readme, "## Quick start")
		ran := 0
		for _, b := range blocks {
			cmd := strings.TrimSpace(b.script)
			switch {
			case serveCommand.MatchString(cmd):
				s := startReadmeServer(t, bash, t.TempDir(), program(cmd))
				res, err := http.Get("http://" + s.addr + "/healthz")
				if err != nil || res.StatusCode != http.StatusOK {
					t.Fatalf("%s: /healthz: %v %v", cmd, err, res)
				}
				res.Body.Close()
				s.stop(t) // "Ctrl-C stops it cleanly"
				ran++
			case cmd == "go test ./...":
				// This test is part of that suite: running it from here
				// would recurse. CI runs it.
				ran++
			default:
				t.Errorf("the quick start's block %q is not exercised: teach TestReadme to run it", cmd)
			}
		}
		if ran != 2 {
			t.Errorf("%d quick-start blocks exercised, want the 2 the README has", ran)
		}
	})

	t.Run("walkthrough", func(t *testing.T) {
		blocks := readmeBlocks(t, readme, "## Walkthrough")
		if len(blocks) < 8 {
			t.Fatalf("the walkthrough has %d shell blocks; the parser or the README lost some", len(blocks))
		}
		first := strings.TrimSpace(blocks[0].script)
		if !serveCommand.MatchString(first) || !strings.Contains(first, "--demo") {
			t.Fatalf("the walkthrough should start the demo server first, not %q", first)
		}
		dir := t.TempDir()
		start := time.Now()
		s := startReadmeServer(t, bash, dir, program(first))
		t.Logf("serve --demo listening after %s", time.Since(start).Round(time.Millisecond))
		local := func(x string) string { return strings.ReplaceAll(x, "127.0.0.1:8080", s.addr) }
		// The tokens and examples are printed just after the listening line.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.out.String(), "kind=province&pretty") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		want := make([]string, len(blocks[0].want))
		for i, w := range blocks[0].want {
			want[i] = local(w)
		}
		if err := matchOutput(s.out.String(), want); err != nil {
			t.Errorf("%s: %v\nits output:\n%s", first, err, s.out.String())
		}

		// One bash session, as in the reader's second terminal: variables
		// set by one block are there for the next. A marker line before
		// each block splits the output.
		var script strings.Builder
		script.WriteString("set -euo pipefail\n")
		for i, b := range blocks[1:] {
			fmt.Fprintf(&script, "printf '\\n@@block %d@@\\n'\n%s\n", i+1, local(program(b.script)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bash, "-c", script.String())
		cmd.Dir = dir
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		parts := regexp.MustCompile(`\n@@block (\d+)@@\n`).Split(string(out), -1)
		if err != nil {
			failed := len(parts) - 1 // the last block that started
			t.Fatalf("the walkthrough's block %d failed (%v):\n%s\noutput:\n%s", failed, err, blocks[failed].script, parts[len(parts)-1])
		}
		if len(parts) != len(blocks) {
			t.Fatalf("%d blocks ran, want %d", len(parts)-1, len(blocks)-1)
		}
		for i, b := range blocks[1:] {
			want := make([]string, len(b.want))
			for k, w := range b.want {
				want[k] = local(w)
			}
			if err := matchOutput(parts[i+1], want); err != nil {
				t.Errorf("block %d:\n%s\n%v\nits output:\n%s", i+1, b.script, err, parts[i+1])
			}
		}
	})
}

// TestMatchOutput pins the README matcher's rules: in order, "…" as a
// wildcard, elided lines skipped.
func TestMatchOutput(t *testing.T) {
	got := "{\n  \"a\": 1,\n  \"id\": \"0193-x\",\n  \"total\": 65.5\n}"
	for _, c := range []struct {
		want []string
		ok   bool
	}{
		{[]string{"{", "…", `"total": 65.5`, "}"}, true},
		{[]string{`"id": "…",`, `"total": 65.5`}, true},
		{[]string{`"total": 65.5`, `"a": 1,`}, false}, // out of order
		{[]string{`"total": 65`}, false},              // whole lines only
	} {
		if err := matchOutput(got, c.want); (err == nil) != c.ok {
			t.Errorf("matchOutput(%q): %v", c.want, err)
		}
	}
}

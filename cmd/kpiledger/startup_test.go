package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeyFilesAndEnvKeys: key files others may read, a data directory
// others may write, and a guessable key in the environment are refused at
// start with a message saying how to fix them.
func TestKeyFilesAndEnvKeys(t *testing.T) {
	serve := func(dir string, env func(string) string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var out, errb bytes.Buffer
		return run(ctx, []string{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0"}, env, &out, &errb)
	}
	none := func(string) string { return "" }
	// A first start creates both keys, 0600.
	dir := t.TempDir()
	base, stop := startRun(t, dir)
	waitReady(t, base)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"token.key", "checkpoint.key"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	for _, c := range []struct {
		file string
		mode os.FileMode
		want string
	}{
		{"token.key", 0o666, "chmod 600"},
		{"checkpoint.key", 0o644, "chmod 600"},
		{".", 0o777, "chmod go-w"},
	} {
		path := filepath.Join(dir, c.file)
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		err := serve(dir, none)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s at %04o: %v", c.file, c.mode, err)
		}
		restore := os.FileMode(0o600)
		if c.file == "." {
			restore = 0o700
		}
		if err := os.Chmod(path, restore); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{strings.Repeat("a", 32), strings.Repeat("ab", 20), "0000000000000000000000000000000000000001"} {
		env := func(k string) string {
			if k == "KPILEDGER_TOKEN_KEY" {
				return key
			}
			return ""
		}
		if err := serve(t.TempDir(), env); err == nil || !strings.Contains(err.Error(), "guessable") {
			t.Errorf("KPILEDGER_TOKEN_KEY=%s: %v", key, err)
		}
	}
}

// sharedBinary copies the built binary where another user can run it.
func sharedBinary(t *testing.T) (bin, dir string) {
	t.Helper()
	built, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir, err = os.MkdirTemp("", "kpiledger-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "kpiledger")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

// asOtherUser makes cmd run as nobody when the test runs as root (root
// writes anywhere, so a permission problem needs another user).
func asOtherUser(cmd *exec.Cmd) {
	if os.Getuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}

// TestUnwritableDataDirNamedAtOnce: a data directory the process cannot
// write is named with the fix at once, where nats-server failed 30 s
// later with "did not become ready".
func TestUnwritableDataDirNamedAtOnce(t *testing.T) {
	bin, shared := sharedBinary(t)
	data := filepath.Join(shared, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		if err := os.Chmod(data, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--http-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "KPILEDGER_TOKEN_KEY=unwritable-test-key-"+strings.Repeat("0123456789abcdef", 2), "KPILEDGER_CHECKPOINT_KEY=", "HOME=/")
	asOtherUser(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err == nil || !strings.Contains(stderr.String(), "cannot be written") || !strings.Contains(stderr.String(), data) {
			t.Errorf("exit %v: %s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still starting after 15 s: %s", stderr.String())
	}
}

// TestSIGTERMDuringStartUp: a signal while a part of the start that does
// not watch for it is stuck (here nats-server recovering a stream whose
// metadata file never yields its content: a FIFO) stops the process
// promptly, where it used to wait 30 s for nats-server to give up.
func TestSIGTERMDuringStartUp(t *testing.T) {
	dir := t.TempDir()
	base, stop := startRun(t, dir)
	waitReady(t, base)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(dir, "nats", "jetstream", "$G", "streams", "KPILEDGER", "meta.inf")
	if err := os.Remove(meta); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(meta, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "KPILEDGER_TOKEN_KEY=", "KPILEDGER_CHECKPOINT_KEY=")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	time.Sleep(2 * time.Second) // into nats-server's start, stuck on the FIFO
	select {
	case err := <-exited:
		t.Fatalf("exited before the signal: %v\n%s", err, stderr.String())
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if !strings.Contains(stderr.String(), "stopped during start-up") {
			t.Errorf("stderr: %s", stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM (nats-server gives up only after 30 s)\n%s", stderr.String())
	}
}

// TestDiskFullAtStartServesReads: a node whose disk is full at start
// starts anyway, serves what the log holds, refuses writes with 503
// read-only, and says why on /readyz — where it retried for 60 s and
// exited. The disk is a 8 MiB tmpfs filled to the last byte.
func TestDiskFullAtStartServesReads(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	dir := filepath.Join(mnt, "data")
	base, stop := startRun(t, dir)
	waitReady(t, base)
	opdc := mintToken(t, dir, "opdc")
	if code := postJSON(t, base+"/v1/frameworks", opdc, frameworkFY2563); code != 201 {
		t.Fatalf("publish: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Fill the disk.
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	for n := 4096; n > 0; n /= 2 {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()

	base, stop = startRun(t, dir)
	deadline := time.Now().Add(30 * time.Second)
	var ready map[string]any
	for {
		code, body := getJSON(t, base+"/readyz")
		if code == 503 && body["status"] == "read-only" {
			ready = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never said read-only: %d %v", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(ready["reason"].(string), "no space left") {
		t.Errorf("readyz reason: %v", ready)
	}
	req, _ := http.NewRequest("GET", base+"/v1/frameworks/2563/province", nil)
	req.Header.Set("Authorization", "Bearer "+opdc)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("read while full: %d", res.StatusCode)
	}
	if code := postJSON(t, base+"/v1/checkpoints", opdc, "{}"); code != 503 {
		t.Errorf("write while full: %d", code)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// frameworkFY2563 is a valid FY2563 province framework.
const frameworkFY2563 = `{"fiscal_year": 2563, "unit_kind": "province",
 "components": [{"code": "function", "name_th": "การประเมินตามภารกิจหลัก", "min_indicators": 1, "max_indicators": 5}],
 "scheme": {"levels": [{"label": "ขั้นต้น", "score": 50}, {"label": "มาตรฐาน", "score": 75}, {"label": "ขั้นสูง", "score": 100}], "below_first": 0},
 "rollup": "component_mean",
 "bands": [{"label": "ดี", "min": 75}, {"label": "ต้องปรับปรุง", "min": 0}],
 "rounds": [12]}`

func mintToken(t *testing.T, dir, role string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"token", "--role", role, "--data-dir", dir}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatalf("token: %v %s", err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func postJSON(t *testing.T, url, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

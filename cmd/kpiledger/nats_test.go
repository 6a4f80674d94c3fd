package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// serviceSeedFile writes the ledger user's seed where --nats-nkey can
// read it, as an operator of an external NATS would.
func serviceSeedFile(t testing.TB, c *events.Credentials) string {
	t.Helper()
	seed, err := c.Service.Seed()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kpiledger.nk")
	if err := os.WriteFile(path, append(seed, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeOnExternalSingleServer: --nats-url at a NATS server that is
// not part of a cluster. Without --replicas the ledger keeps one replica
// and says so; with --replicas 3 it fails at once, naming the flag,
// instead of retrying for a minute.
func TestServeOnExternalSingleServer(t *testing.T) {
	s := eventstest.StartServer(t)
	seed := serviceSeedFile(t, eventstest.Credentials(t, s))
	keys := newClusterKeys(t)
	dir := t.TempDir()
	base := []string{"--data-dir", dir, "--nats-url", s.ClientURL(), "--nats-nkey", seed, "--checkpoint-every", "0"}

	began := time.Now()
	var stderr strings.Builder
	err := run(context.Background(), append([]string{"serve", "--replicas", "3", "--http-addr", "127.0.0.1:0"}, base...), keys.getenv, &strings.Builder{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--replicas 1") {
		t.Fatalf("serve --replicas 3 on a single server: err = %v, want one naming --replicas 1\n%s", err, stderr.String())
	}
	if d := time.Since(began); d > 20*time.Second {
		t.Errorf("failing took %v; it should not wait for JetStream", d)
	}

	ports := eventstest.FreePorts(t, 1)
	n := &clusterNode{name: "single", env: keys.getenv, dataDir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", ports[0])}
	n.args = append([]string{"--http-addr", fmt.Sprintf("127.0.0.1:%d", ports[0])}, base...)
	t.Cleanup(func() { stopNodes(t, n) })
	startNodes(t, n)
	if !strings.Contains(n.stderr.String(), "not part of a cluster") {
		t.Errorf("the node did not say why it keeps one replica:\n%s", n.stderr.String())
	}
	_, js := eventstest.Connect(t, s)
	st, err := js.Stream(context.Background(), events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.Replicas; got != 1 {
		t.Errorf("the stream has %d replicas, want 1", got)
	}
	a := newLedgerAPI(t, keys.Token)
	a.write(201, "POST", n.url+"/v1/frameworks", a.opdc, provinceFramework(), "single-fw")
}

// TestServeLogMissing: a node whose stream is deleted under it (by
// someone holding the maintenance key: nothing in the data dir can) turns
// /readyz red, refuses writes with log-missing, says so in its log and
// creates no new stream, neither while running nor when restarted, with
// or without the identity file in its data dir. Its NATS port refuses
// anonymous clients; the reader in the data dir may look but not delete.
func TestServeLogMissing(t *testing.T) {
	admin, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	adminPub, _ := admin.PublicKey()
	keys := newClusterKeys(t)
	ports := eventstest.FreePorts(t, 2)
	n := &clusterNode{name: "solo", env: keys.getenv, dataDir: t.TempDir(),
		url: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), natsURL: fmt.Sprintf("nats://127.0.0.1:%d", ports[1])}
	n.args = []string{"--data-dir", n.dataDir, "--http-addr", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--nats-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]), "--nats-admin-key", adminPub, "--checkpoint-every", "0"}
	t.Cleanup(func() { stopNodes(t, n) })
	startNodes(t, n)
	a := newLedgerAPI(t, keys.Token)
	a.write(201, "POST", n.url+"/v1/frameworks", a.opdc, provinceFramework(), "fw-before")

	reader, err := nats.NkeyOptionFromSeed(filepath.Join(n.dataDir, events.ReaderKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	natsLocked(t, n.natsURL, reader)
	ctx := context.Background()

	anc, err := nats.Connect(n.natsURL, events.UserOption(admin))
	if err != nil {
		t.Fatal(err)
	}
	defer anc.Close()
	ajs, _ := jetstream.New(anc)
	if err := ajs.DeleteStream(ctx, events.DefaultStream); err != nil {
		t.Fatal(err)
	}

	code, body := getJSON(t, n.url+"/readyz")
	if code != 503 || body["status"] != "log missing" {
		t.Errorf("/readyz after the stream was deleted: %d %v", code, body)
	}
	r := a.do("POST", n.url+"/v1/frameworks", a.opdc, departmentFramework(), "Idempotency-Key", "fw-after")
	if r.Code != 503 || !strings.Contains(string(r.Body), "/problems/log-missing") {
		t.Errorf("a write after the stream was deleted: %s", r)
	}
	if r := a.do("GET", n.url+"/v1/verify", a.opdc, nil); !strings.Contains(string(r.Body), "/problems/log-missing") {
		t.Errorf("/v1/verify after the stream was deleted: %s", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.stderr.String(), "THE EVENT LOG IS MISSING") {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not log the missing stream:\n%s", n.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := ajs.Stream(ctx, events.DefaultStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("a stream exists again: %v", err)
	}
	anc.Close()

	// Restarted: the identity file, and without it the snapshot written
	// at shutdown, say the ledger held events: no new empty stream.
	n.stop(t)
	for _, drop := range []string{"", events.IdentityFile} {
		if drop != "" {
			if err := os.Remove(filepath.Join(n.dataDir, drop)); err != nil {
				t.Fatal(err)
			}
		}
		var stderr strings.Builder
		err := run(ctx, append([]string{"serve"}, n.args...), keys.getenv, &strings.Builder{}, &stderr)
		if !errors.Is(err, events.ErrLogMissing) {
			t.Fatalf("restart without %q: %v, want ErrLogMissing\n%s", drop, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "THE EVENT LOG IS MISSING") {
			t.Errorf("restart did not log the missing stream:\n%s", stderr.String())
		}
	}
}

// natsLocked: a node's NATS client port refuses anonymous clients, and
// the read-only operator user sees the stream but cannot delete or purge
// it (the refused requests wait out a short timeout).
func natsLocked(t *testing.T, natsURL string, reader nats.Option) {
	t.Helper()
	if nc, err := nats.Connect(natsURL, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatalf("%s accepted an anonymous client", natsURL)
	}
	quiet := nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})
	nc, err := nats.Connect(natsURL, reader, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	s, err := js.Stream(ctx, events.DefaultStream)
	if err != nil || s.CachedInfo().State.Msgs == 0 {
		t.Fatalf("the reader cannot see the stream: %v", err)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := js.DeleteStream(dctx, events.DefaultStream); err == nil {
		t.Fatal("the reader deleted the stream")
	}
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.Purge(pctx); err == nil {
		t.Fatal("the reader purged the stream")
	}
	if info, err := s.Info(ctx); err != nil || info.State.Msgs != s.CachedInfo().State.Msgs {
		t.Fatalf("the stream changed: %v", err)
	}
}

// TestClusterNeedsSecret: a cluster node without the routes' shared
// secret refuses to start, saying how to give it one.
func TestClusterNeedsSecret(t *testing.T) {
	for _, secret := range []string{"", "short"} {
		getenv := func(k string) string {
			if k == "KPILEDGER_CLUSTER_SECRET" {
				return secret
			}
			return ""
		}
		err := run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--name", "kpi1",
			"--cluster-name", "kpi", "--cluster-addr", "127.0.0.1:0", "--routes", "nats-route://127.0.0.1:1"}, getenv, &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), "openssl rand") {
			t.Errorf("secret %q: %v, want a refusal saying how to make a secret", secret, err)
		}
	}
}

// TestServeLogReplaced: the stream is deleted and created again while the
// ledger is stopped. It does not start on the new one: not with its data
// dir (the recorded creation time differs), and not on a fresh data dir
// either (the shared snapshot's last event is not in the new stream).
func TestServeLogReplaced(t *testing.T) {
	s := eventstest.StartServer(t)
	seed := serviceSeedFile(t, eventstest.Credentials(t, s))
	keys := newClusterKeys(t)
	port := eventstest.FreePorts(t, 1)[0]
	n := &clusterNode{name: "ext", env: keys.getenv, dataDir: t.TempDir(), url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	n.args = []string{"--data-dir", n.dataDir, "--http-addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--nats-url", s.ClientURL(), "--nats-nkey", seed, "--checkpoint-every", "0"}
	t.Cleanup(func() { stopNodes(t, n) })
	startNodes(t, n)
	a := newLedgerAPI(t, keys.Token)
	a.write(201, "POST", n.url+"/v1/frameworks", a.opdc, provinceFramework(), "fw-1")
	a.write(201, "POST", n.url+"/v1/frameworks", a.opdc, departmentFramework(), "fw-2")
	n.stop(t) // saves the snapshot

	ctx := context.Background()
	_, admin := eventstest.ConnectAdmin(t, s)
	if err := admin.DeleteStream(ctx, events.DefaultStream); err != nil {
		t.Fatal(err)
	}
	st, err := events.Open(ctx, admin, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	created := st.Identity().Created

	fresh := t.TempDir()
	for _, dir := range []string{n.dataDir, fresh} {
		args := append([]string{"serve"}, n.args...)
		args[2] = dir // --data-dir's value
		var stderr strings.Builder
		err := run(ctx, args, keys.getenv, &strings.Builder{}, &stderr)
		t.Logf("%s: %v", dir, err)
		if !errors.Is(err, events.ErrLogMissing) || !strings.Contains(stderr.String(), "THE EVENT LOG IS MISSING") {
			t.Fatalf("start on a replaced stream with data dir %s: %v\n%s", dir, err, stderr.String())
		}
	}
	info, err := st.LastSequence(ctx)
	if err != nil || info != 0 {
		t.Fatalf("the new stream holds %d events (%v)", info, err)
	}
	if st2, err := events.Open(ctx, admin, events.Config{}); err != nil || !st2.Identity().Created.Equal(created) {
		t.Fatalf("the stream was replaced again: %v", err)
	}
}

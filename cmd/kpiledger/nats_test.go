package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

package events_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// logMissingScenario: a stream deleted under a store, or deleted and
// created again, is ErrLogMissing for CheckLog (and stays so), and Open
// told what the ledger held refuses to start on a missing or new stream
// and creates none.
func logMissingScenario(t *testing.T, servers []*server.Server, replicas int) {
	ctx := context.Background()
	_, js := eventstest.Connect(t, servers...)
	_, admin := eventstest.ConnectAdmin(t, servers...)
	open := func(opts ...events.Option) (*events.Store, error) {
		return events.Open(ctx, js, events.Config{Replicas: replicas}, opts...)
	}
	var st *events.Store
	if replicas > 1 {
		st = eventstest.OpenStore(t, js)
	} else {
		var err error
		if st, err = open(); err != nil {
			t.Fatal(err)
		}
	}
	agg := indicator("TH-50", 2565, "ind-gone")
	for range 2 {
		if _, err := appendNext(t, st, agg, proposal("ind-gone"), ""); err != nil {
			t.Fatal(err)
		}
	}
	id := st.Identity()
	if id.Stream != events.DefaultStream || id.Created.IsZero() {
		t.Fatalf("identity %+v", id)
	}
	if err := st.CheckLog(ctx, 2); err != nil {
		t.Fatalf("CheckLog on the intact stream: %v", err)
	}
	short, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if err := short.CheckLog(ctx, 3); !errors.Is(err, events.ErrLogMissing) {
		t.Fatalf("a stream shorter than the read model: %v, want ErrLogMissing", err)
	}
	if err := st.CheckLog(ctx, 2); err != nil {
		t.Fatalf("one store's lost log is not another's: %v", err)
	}
	st2, err := open(events.ExpectIdentity(id))
	if err != nil {
		t.Fatalf("reopening the same stream: %v", err)
	}

	// Deleted, by someone holding the maintenance key.
	if err := admin.DeleteStream(ctx, events.DefaultStream); err != nil {
		t.Fatal(err)
	}
	if err := st2.CheckLog(ctx, 2); !errors.Is(err, events.ErrLogMissing) || !strings.Contains(err.Error(), "no longer exists") {
		t.Fatalf("CheckLog after the stream was deleted: %v", err)
	}
	for _, o := range []events.Option{events.ExpectIdentity(id), events.ExpectHistory("a snapshot holds read models")} {
		if _, err := open(o); !errors.Is(err, events.ErrLogMissing) {
			t.Fatalf("Open on a missing stream the ledger had: %v, want ErrLogMissing", err)
		}
	}
	if _, err := js.Stream(ctx, events.DefaultStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("Open created a stream under a ledger that holds history: %v", err)
	}

	// Created again, empty, by a ledger that knew nothing: a store opened
	// on the first stream notices it is another one, and stays red even
	// when the stream holds as many events again.
	st3, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if st3.Identity().Created.Equal(id.Created) {
		t.Fatal("the new stream has the old one's creation time")
	}
	agg = indicator("TH-50", 2565, "ind-new")
	for range 2 {
		if _, err := appendNext(t, st3, agg, proposal("ind-new"), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CheckLog(ctx, 2); !errors.Is(err, events.ErrLogMissing) || !strings.Contains(err.Error(), "deleted and created again") {
		t.Fatalf("CheckLog on a replaced stream: %v", err)
	}
	if err := st2.CheckLog(ctx, 0); !errors.Is(err, events.ErrLogMissing) || st2.LogLost() == nil {
		t.Fatalf("a lost log must stay lost: %v", err)
	}
	if _, err := open(events.ExpectIdentity(id)); !errors.Is(err, events.ErrLogMissing) || !strings.Contains(err.Error(), "created at") {
		t.Fatalf("Open expecting the old stream on a new one: %v", err)
	}
	if err := st3.CheckLog(ctx, 2); err != nil {
		t.Fatalf("the new stream's own store: %v", err)
	}
}

func TestLogMissing(t *testing.T) {
	logMissingScenario(t, []*server.Server{eventstest.StartServer(t)}, 1)
}

func TestLogMissingCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	logMissingScenario(t, eventstest.StartCluster(t, 3).Servers, 3)
}

// TestIdentityFile: the identity round-trips through the data dir, mode
// 0600, and a damaged file is an error rather than "no history".
func TestIdentityFile(t *testing.T) {
	dir := t.TempDir()
	if id, err := events.LoadIdentity(dir); id != nil || err != nil {
		t.Fatalf("empty dir: %v, %v", id, err)
	}
	st := eventstest.NewStore(t)
	if err := events.SaveIdentity(dir, st.Identity()); err != nil {
		t.Fatal(err)
	}
	id, err := events.LoadIdentity(dir)
	if err != nil || id == nil || id.Stream != st.Identity().Stream || !id.Created.Equal(st.Identity().Created) {
		t.Fatalf("loaded %+v (%v), saved %+v", id, err, st.Identity())
	}
	fi, err := os.Stat(filepath.Join(dir, events.IdentityFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v (%v)", fi.Mode(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, events.IdentityFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := events.LoadIdentity(dir); err == nil {
		t.Fatal("a damaged identity file was accepted")
	}
}

// TestCredentialsFiles: the users' seeds are created once, mode 0600,
// and read back the same; a seed others can read is refused.
func TestCredentialsFiles(t *testing.T) {
	dir := t.TempDir()
	c1, err := events.LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := events.LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{events.ServiceKeyFile, events.ReaderKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v (%v)", f, fi.Mode(), err)
		}
	}
	p1, _ := c1.Service.PublicKey()
	p2, _ := c2.Service.PublicKey()
	r1, _ := c1.Reader.PublicKey()
	if p1 == "" || p1 != p2 || p1 == r1 {
		t.Fatalf("service keys %q then %q, reader %q", p1, p2, r1)
	}
	if err := os.Chmod(filepath.Join(dir, events.ReaderKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := events.LoadCredentials(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable seed: %v", err)
	}
}

// TestStartServerNamesATakenPort: a cluster or client port another process
// holds is an error naming the port at once; nats-server itself only logs
// it and never becomes ready, so StartServer waited 30 s and said nothing
// of why.
func TestStartServerNamesATakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	secret, err := events.NewRouteSecret()
	if err != nil {
		t.Fatal(err)
	}
	for what, cfg := range map[string]events.ServerConfig{
		"cluster": {StoreDir: t.TempDir(), Name: "n1", Port: -1, ClusterName: "kpi", ClusterHost: "127.0.0.1", ClusterPort: taken,
			Routes: []string{fmt.Sprintf("nats-route://127.0.0.1:%d", taken)}, RouteSecret: secret, Credentials: eventstest.NewCredentials(t)},
		"client": {StoreDir: t.TempDir(), Port: taken, Credentials: eventstest.NewCredentials(t)},
	} {
		s, err := events.StartServer(cfg)
		if err == nil {
			s.Shutdown()
			t.Fatalf("%s port taken: the server started", what)
		}
		if want := fmt.Sprintf("NATS %s port 127.0.0.1:%d", what, taken); !strings.Contains(err.Error(), want) {
			t.Errorf("%s port taken: %v, want an error naming %q", what, err, want)
		}
	}
}

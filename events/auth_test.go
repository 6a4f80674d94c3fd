package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// violations records the subjects a connection was refused publishing
// to: nats-server answers a publish it does not permit with an -ERR that
// nats.go hands to the error handler, while the request itself gets no
// answer.
type violations struct {
	mu   sync.Mutex
	subj map[string]bool
}

func (v *violations) handler() nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if !errors.Is(err, nats.ErrPermissionViolation) {
			return
		}
		_, rest, ok := strings.Cut(err.Error(), `Publish to "`)
		if !ok {
			return
		}
		subj, _, _ := strings.Cut(rest, `"`)
		v.mu.Lock()
		v.subj[subj] = true
		v.mu.Unlock()
	})
}

func (v *violations) saw(subject string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.subj[subject]
}

// connectWatched connects as user (nil: anonymous) and watches for
// permission violations.
func connectWatched(t *testing.T, servers []*server.Server, user nats.Option) (*nats.Conn, jetstream.JetStream, *violations) {
	t.Helper()
	v := &violations{subj: map[string]bool{}}
	nc, js := eventstest.ConnectAs(t, servers, user, v.handler())
	return nc, js, v
}

// op is one of the nats CLI's commands, done the way the CLI does it: one
// JetStream API request.
type op struct {
	cli     string // the CLI command
	subject string // the API subject it publishes to
	do      func(ctx context.Context) error
}

// destructive are the CLI commands that would lose the log or change it.
func destructive(nc *nats.Conn, js jetstream.JetStream, stream, consumer string) []op {
	s := events.DefaultStream
	return []op{
		{"nats stream rm KPILEDGER -f", "$JS.API.STREAM.DELETE." + s, func(ctx context.Context) error { return js.DeleteStream(ctx, s) }},
		{"nats stream purge KPILEDGER -f", "$JS.API.STREAM.PURGE." + s, func(ctx context.Context) error {
			st, err := js.Stream(ctx, s)
			if err != nil {
				return err
			}
			return st.Purge(ctx)
		}},
		{"nats stream edit KPILEDGER --deny-delete=false", "$JS.API.STREAM.UPDATE." + s, func(ctx context.Context) error {
			cfg := events.StreamConfig(events.Config{})
			cfg.DenyDelete, cfg.DenyPurge = false, false
			_, err := js.UpdateStream(ctx, cfg)
			return err
		}},
		{"nats stream rmm KPILEDGER 1 -f", "$JS.API.STREAM.MSG.DELETE." + s, func(ctx context.Context) error {
			st, err := js.Stream(ctx, s)
			if err != nil {
				return err
			}
			return st.SecureDeleteMsg(ctx, 1)
		}},
		{"nats stream restore KPILEDGER backup/", "$JS.API.STREAM.RESTORE." + s, func(ctx context.Context) error {
			_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.RESTORE."+s, []byte(`{"config":{"name":"KPILEDGER"}}`))
			return err
		}},
		{"nats consumer rm KPILEDGER " + consumer + " -f", "$JS.API.CONSUMER.DELETE." + s + "." + consumer, func(ctx context.Context) error {
			return js.DeleteConsumer(ctx, s, consumer)
		}},
	}
}

// refuse runs the ops at once (a refused request waits out its timeout)
// and requires each to fail with a permission violation on its subject.
func refuse(t *testing.T, who string, v *violations, ops []op) {
	t.Helper()
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i, o := range ops {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			errs[i] = o.do(ctx)
		})
	}
	wg.Wait()
	for i, o := range ops {
		if errs[i] == nil {
			t.Errorf("%s: %q succeeded", who, o.cli)
			continue
		}
		if !v.saw(o.subject) {
			t.Errorf("%s: %q failed with %v, but not for want of permission on %s", who, o.cli, errs[i], o.subject)
		}
	}
}

func subject(t *testing.T, id string) string {
	t.Helper()
	s, err := events.AggregateSubject(events.KindIndicator, id, "TH-50", 2565)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// permissionScenario appends an event and keeps a snapshot object as the
// ledger does, then plays the nats CLI against the stream as the ledger's
// user, the read-only operator user and an anonymous client.
func permissionScenario(t *testing.T, servers []*server.Server, replicas int) {
	ctx := context.Background()
	creds := eventstest.Credentials(t, servers[0])

	// Everything the ledger does is allowed to its user: create the
	// stream, append, read (ordered consumers, deleted after each read),
	// direct gets, and keep an object store that it overwrites.
	svcNC, svcJS, svcV := connectWatched(t, servers, creds.ServiceOption())
	var st *events.Store
	if replicas > 1 {
		st = eventstest.OpenStore(t, svcJS)
	} else {
		var err error
		if st, err = events.Open(ctx, svcJS, events.Config{}); err != nil {
			t.Fatal(err)
		}
	}
	agg := indicator("TH-50", 2565, "ind-perm")
	if _, err := appendNext(t, st, agg, proposal("ind-perm"), "cmd-perm"); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(ctx, subject(t, "ind-perm"))
	if err != nil || len(got) != 1 {
		t.Fatalf("the ledger's user reads %d events (%v), want 1", len(got), err)
	}
	if last, err := st.LastOf(ctx, subject(t, "ind-perm")); err != nil || last == nil {
		t.Fatalf("direct get as the ledger's user: %v", err)
	}
	obs, err := svcJS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "perm-snapshots", Replicas: replicas})
	if err != nil {
		t.Fatalf("the ledger's user cannot keep its snapshot bucket: %v", err)
	}
	for _, body := range []string{"first", "second"} { // the second put purges the first's chunks
		if _, err := obs.PutString(ctx, "projections", body); err != nil {
			t.Fatalf("snapshot put: %v", err)
		}
	}
	if b, err := obs.GetString(ctx, "projections"); err != nil || b != "second" {
		t.Fatalf("snapshot get: %q, %v", b, err)
	}
	if _, err := svcJS.CreateOrUpdateConsumer(ctx, events.DefaultStream, jetstream.ConsumerConfig{Durable: "ops", AckPolicy: jetstream.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	before, err := svcJS.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info0 := before.CachedInfo()

	// The ledger's own user: no delete, purge, update, message delete,
	// restore, nor purge of the whole account. Consumers stay deletable:
	// every read deletes its own (see events.ServicePermissions).
	svcOps := destructive(svcNC, svcJS, events.DefaultStream, "ops")[:5]
	svcOps = append(svcOps, op{"nats account purge", "$JS.API.ACCOUNT.PURGE.$G", func(ctx context.Context) error {
		_, err := svcNC.RequestWithContext(ctx, "$JS.API.ACCOUNT.PURGE.$G", nil)
		return err
	}}, op{"nats stream rm OBJ_perm-snapshots -f", "$JS.API.STREAM.DELETE.OBJ_perm-snapshots", func(ctx context.Context) error {
		return svcJS.DeleteObjectStore(ctx, "perm-snapshots")
	}})
	refuse(t, "the ledger's user", svcV, svcOps)
	// A create with other settings is JetStream's "already in use", not
	// an update in disguise.
	other := events.StreamConfig(events.Config{Replicas: replicas})
	other.DenyDelete, other.DenyPurge = false, false
	if _, err := svcJS.CreateStream(ctx, other); err == nil {
		t.Error("the ledger's user changed the stream by creating it again with other settings")
	}

	// The operators' user reads and changes nothing.
	rdNC, rdJS, rdV := connectWatched(t, servers, creds.ReaderOption())
	rs, err := rdJS.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatalf("nats stream info as the reader: %v", err)
	}
	if m, err := rs.GetMsg(ctx, 1); err != nil || !strings.Contains(string(m.Data), "ร้อยละของครัวเรือน") {
		t.Fatalf("nats stream get KPILEDGER 1 as the reader: %v", err)
	}
	if _, err := rs.GetLastMsgForSubject(ctx, subject(t, "ind-perm")); err != nil {
		t.Fatalf("direct get as the reader: %v", err)
	}
	oc, err := rs.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("nats stream view as the reader: %v", err)
	}
	if batch, err := oc.Fetch(10, jetstream.FetchMaxWait(2*time.Second)); err != nil {
		t.Fatal(err)
	} else {
		n := 0
		for range batch.Messages() {
			n++
		}
		if n != 1 {
			t.Errorf("the reader's consumer delivered %d events, want 1 (%v)", n, batch.Error())
		}
	}
	rdOps := append(destructive(rdNC, rdJS, events.DefaultStream, "ops"),
		op{"nats pub kpi.u.TH-50...", subject(t, "ind-forged"), func(ctx context.Context) error {
			_, err := rdJS.Publish(ctx, subject(t, "ind-forged"), []byte(`{}`))
			return err
		}},
		op{"nats stream add EVIL", "$JS.API.STREAM.CREATE.EVIL", func(ctx context.Context) error {
			_, err := rdJS.CreateStream(ctx, jetstream.StreamConfig{Name: "EVIL", Subjects: []string{"evil.>"}})
			return err
		}})
	refuse(t, "the reader", rdV, rdOps)

	// Nobody gets in without a user.
	anon, err := nats.Connect(servers[0].ClientURL(), nats.MaxReconnects(0))
	if err == nil {
		anon.Close()
		t.Error("an anonymous connection was accepted")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("anonymous connection refused with %v, want an authorization violation", err)
	}

	// And the stream is as it was.
	after, err := svcJS.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatalf("the stream is gone: %v", err)
	}
	info, err := after.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 || !info.Created.Equal(info0.Created) || !info.Config.DenyDelete || !info.Config.DenyPurge {
		t.Errorf("the stream changed: %d events, created %v (was %v), deny delete %v, deny purge %v",
			info.State.Msgs, info.Created, info0.Created, info.Config.DenyDelete, info.Config.DenyPurge)
	}
	if _, err := svcJS.Consumer(ctx, events.DefaultStream, "ops"); err != nil {
		t.Errorf("the reader deleted a consumer: %v", err)
	}
	if err := st.CheckLog(ctx, 1); err != nil {
		t.Errorf("CheckLog on an intact stream: %v", err)
	}
}

// TestNATSPermissions: the nats CLI's destructive commands are refused to
// the ledger's own user, the read-only operator user and anonymous
// clients; everything the ledger does is allowed to its user.
func TestNATSPermissions(t *testing.T) {
	permissionScenario(t, []*server.Server{eventstest.StartServer(t)}, 1)
}

// TestNATSPermissionsCluster is TestNATSPermissions on a three-node
// cluster, and a server that does not know the cluster's route secret
// cannot join it.
func TestNATSPermissionsCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	permissionScenario(t, c.Servers, 3)

	routes := append([]string(nil), c.Configs[0].Routes...)
	port := eventstest.FreePorts(t, 1)[0]
	rogue, err := events.StartServer(events.ServerConfig{StoreDir: t.TempDir(), Name: "rogue", Port: -1,
		ClusterName: c.Configs[0].ClusterName, ClusterHost: "127.0.0.1", ClusterPort: port,
		Routes: append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", port)), RouteSecret: "not-the-cluster-secret-0123456789",
		Credentials: eventstest.NewCredentials(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { rogue.Shutdown(); rogue.WaitForShutdown() }()
	time.Sleep(2 * time.Second) // routes connect at once; give them time to be refused
	if n := rogue.NumRemotes(); n != 0 {
		t.Errorf("a server without the route secret has routes to %d cluster nodes", n)
	}
	for _, s := range c.Servers {
		if n := s.NumRemotes(); n != 2 {
			t.Errorf("%s is routed to %d servers, want its 2 peers only", s.Name(), n)
		}
	}
}

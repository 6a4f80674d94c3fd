// Package eventstest starts real embedded nats-servers with JetStream for
// tests: one server in a temp dir, or a three-node cluster in one process
// built the way nats-server's own tests build theirs (ports chosen first,
// every node given every route). Nothing here mocks JetStream.
package eventstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// creds remembers each test server's users, so that Connect can
// authenticate as the ledger does (a *server.Server → *events.Credentials).
var creds sync.Map

// Credentials are the users of a server started here.
func Credentials(t testing.TB, s *server.Server) *events.Credentials {
	t.Helper()
	c, ok := creds.Load(s)
	if !ok {
		t.Fatal("server not started by eventstest")
	}
	return c.(*events.Credentials)
}

// admin is a user with every right on every test server, for tests that
// play an operator (or an attacker) holding the maintenance key.
var admin = func() nkeys.KeyPair {
	kp, err := nkeys.CreateUser()
	if err != nil {
		panic(err)
	}
	return kp
}()

func adminKey() string {
	pub, err := admin.PublicKey()
	if err != nil {
		panic(err)
	}
	return pub
}

// ConnectAdmin connects to test servers as the all-powerful user.
func ConnectAdmin(t testing.TB, servers ...*server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return ConnectAs(t, servers, events.UserOption(admin))
}

// NewCredentials creates the two users' keys in a temp dir.
func NewCredentials(t testing.TB) *events.Credentials {
	t.Helper()
	c, err := events.LoadCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// StartServer starts one JetStream server storing under a temp dir, shut
// down when the test ends. Its client port requires one of the two users,
// as serve's does (or the admin, see ConnectAdmin).
func StartServer(t testing.TB) *server.Server {
	t.Helper()
	c := NewCredentials(t)
	s, err := events.StartServer(events.ServerConfig{StoreDir: t.TempDir(), Port: -1, Credentials: c, AdminKey: adminKey()})
	if err != nil {
		t.Fatal(err)
	}
	creds.Store(s, c)
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown(); creds.Delete(s) })
	return s
}

// Connect opens a connection (closed at cleanup) to the given servers as
// the ledger's own user.
func Connect(t testing.TB, servers ...*server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return ConnectAs(t, servers, Credentials(t, servers[0]).ServiceOption())
}

// ConnectAs is Connect with other options: another identity (none:
// anonymous), an error handler.
func ConnectAs(t testing.TB, servers []*server.Server, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.ClientURL()
	}
	opts = append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(strings.Join(urls, ","), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// NewStore starts a server and opens the event store on it.
func NewStore(t testing.TB, opts ...events.Option) *events.Store {
	t.Helper()
	_, js := Connect(t, StartServer(t))
	st, err := events.Open(context.Background(), js, events.Config{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// FreePorts finds n distinct loopback TCP ports that are free now and
// releases them. They are chosen at random below the kernel's ephemeral
// range: a port the kernel handed out and took back (Listen on port 0) is
// the next one it gives a client socket's local end, and with other tests
// connecting at the same moment a server started on it then found it
// taken (a cluster node that never became ready, once in a few CI runs).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	low, high := 10000, ephemeralLow()
	if high-low < 1000 {
		low = 1024
	}
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			t.Fatalf("found %d free ports of %d in [%d, %d)", len(ports), n, low, high)
		}
		p := low + rand.IntN(high-low)
		if slices.Contains(ports, p) {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, p)
	}
	return ports
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 1024 {
		return 32768
	}
	return n
}

// Cluster is an in-process JetStream cluster.
type Cluster struct {
	Servers     []*server.Server
	Configs     []events.ServerConfig
	Credentials *events.Credentials // every node's users
	RouteSecret string
}

// StartCluster starts n JetStream nodes clustered by routes, each with its
// own store dir, and waits for a JetStream meta leader.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := FreePorts(t, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	secret, err := events.NewRouteSecret()
	if err != nil {
		t.Fatal(err)
	}
	// Every node has the same two users, so that a client may connect to
	// any of them.
	c := &Cluster{Credentials: NewCredentials(t), RouteSecret: secret}
	for i := 0; i < n; i++ {
		c.Configs = append(c.Configs, events.ServerConfig{
			StoreDir: t.TempDir(), Name: fmt.Sprintf("n%d", i+1), Port: -1,
			ClusterName: "kpi-test", ClusterHost: "127.0.0.1", ClusterPort: ports[i], Routes: routes,
			RouteSecret: secret, Credentials: c.Credentials, AdminKey: adminKey(),
		})
	}
	c.Servers = make([]*server.Server, n)
	errs := make(chan error, n)
	for i := range c.Configs {
		go func(i int) {
			s, err := events.StartServer(c.Configs[i])
			c.Servers[i] = s
			if err == nil {
				creds.Store(s, c.Credentials)
				// Keep the client port so that a restart reuses it.
				c.Configs[i].Port = s.Addr().(*net.TCPAddr).Port
			}
			errs <- err
		}(i)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, s := range c.Servers {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
				creds.Delete(s)
			}
		}
	})
	c.WaitForMetaLeader(t)
	return c
}

// WaitForMetaLeader waits until some running node knows a JetStream meta leader.
func (c *Cluster) WaitForMetaLeader(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.Servers {
			if s != nil && s.Running() && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no JetStream meta leader after 30s")
}

// Stop shuts node i down.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// Restart starts node i again on its own store dir and ports.
func (c *Cluster) Restart(t testing.TB, i int) {
	t.Helper()
	s, err := events.StartServer(c.Configs[i])
	if err != nil {
		t.Fatal(err)
	}
	creds.Store(s, c.Credentials)
	c.Servers[i] = s
}

// Running returns the nodes that are up.
func (c *Cluster) Running() []*server.Server {
	var out []*server.Server
	for _, s := range c.Servers {
		if s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// OpenStore opens the store with replicas 3, retrying while the cluster
// settles (stream placement needs every peer to have joined).
func OpenStore(t testing.TB, js jetstream.JetStream, opts ...events.Option) *events.Store {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := events.Open(ctx, js, events.Config{Replicas: 3}, opts...)
		if err == nil {
			// A new replicated stream answers its first publish only once
			// it has elected a leader.
			var stream jetstream.Stream
			if stream, err = js.Stream(ctx, st.Name()); err == nil {
				var info *jetstream.StreamInfo
				if info, err = stream.Info(ctx); err == nil && (info.Cluster == nil || info.Cluster.Leader == "") {
					err = errors.New("the stream has no leader yet")
				}
			}
		}
		cancel()
		if err == nil {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("open replicated store: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Fill appends n events to the store's stream quickly, for tests that need
// a long log: each is the proposal of a new indicator of unit's fiscal year
// fy (its aggregate's first event, so every chain is valid), sealed as the
// store seals, published pipelined straight to JetStream with the same
// expected-version header an Append sends, every acknowledgement checked.
// It returns the stream's last sequence.
func Fill(t testing.TB, js jetstream.JetStream, stream string, unit string, fy int, n int) uint64 {
	t.Helper()
	const window = 256
	futures := make(chan jetstream.PubAckFuture, window)
	done := make(chan error, 1)
	var last uint64
	go func() {
		var first error
		for f := range futures {
			var err error
			select {
			case ack := <-f.Ok():
				last = max(last, ack.Sequence)
				continue
			case err = <-f.Err():
			case <-time.After(30 * time.Second):
				err = errors.New("no acknowledgement within 30s")
			}
			// A loaded machine can starve a cluster into an election
			// mid-fill: publish again, de-duplicated by the message id.
			ack, rerr := republish(js, f.Msg())
			if rerr != nil {
				if first == nil {
					first = fmt.Errorf("%v, then %w", err, rerr)
				}
				continue
			}
			last = max(last, ack.Sequence)
		}
		done <- first
	}()
	now := time.Now().UTC()
	for i := range n {
		id := fmt.Sprintf("fill-%s-%d-%06d", unit, fy, i)
		ev := domain.IndicatorProposed{ID: id, Unit: unit, FiscalYear: fy, Spec: domain.IndicatorSpec{
			Component: "function", TitleTH: "ตัวชี้วัดที่ " + fmt.Sprint(i), Measure: "ร้อยละ",
			Direction: domain.DirectionUp, Weight: "1", Targets: []domain.Number{"1", "2", "3"}}}
		env, err := events.NewEnvelope(ev, events.Aggregate{Kind: events.KindIndicator, ID: id, Unit: unit, FiscalYear: fy})
		if err != nil {
			t.Fatal(err)
		}
		env.ID, env.CommandID = id, id
		env.Actor = domain.Actor{Subject: "fill", Role: domain.RoleUnit, Unit: unit}
		env.RecordedAt, env.OccurredAt = now, now
		env.Seal()
		subject, err := env.Subject()
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg(subject)
		msg.Data = data
		msg.Header.Set(jetstream.MsgIDHeader, env.CommandID)
		f, err := js.PublishMsgAsync(msg, jetstream.WithExpectStream(stream), jetstream.WithExpectLastSequencePerSubject(0))
		if err != nil {
			close(futures)
			<-done
			t.Fatal(err)
		}
		futures <- f
	}
	close(futures)
	if err := <-done; err != nil {
		t.Fatalf("fill: %v", err)
	}
	return last
}

// republish publishes m again until it is acknowledged (as a duplicate if
// the first attempt was stored after all), for up to 30 s.
func republish(js jetstream.JetStream, m *nats.Msg) (*jetstream.PubAck, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		retry := nats.NewMsg(m.Subject)
		retry.Data, retry.Header = m.Data, nats.Header{}
		retry.Header.Set(jetstream.MsgIDHeader, m.Header.Get(jetstream.MsgIDHeader))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ack, err := js.PublishMsg(ctx, retry)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return ack, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

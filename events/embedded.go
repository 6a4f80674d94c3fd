package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ServerConfig configures an embedded nats-server with JetStream.
type ServerConfig struct {
	// StoreDir is where JetStream keeps its files (it appends /jetstream).
	StoreDir string
	// Name identifies the server in a cluster.
	Name string
	// Host and Port are the client listener; Port 0 means no listener
	// (in-process connections only; a cluster node gets a random loopback
	// port instead, see StartServer), -1 a random port.
	Host string
	Port int
	// Cluster settings; empty ClusterName means a single server.
	ClusterName string
	ClusterHost string
	ClusterPort int
	Routes      []string // nats-route://host:port of every node, itself included
	// RouteSecret is the password every node's routes present and
	// require: without it anyone who reaches a cluster port could join as
	// a server and act with a route's unlimited rights. Required with
	// ClusterName.
	RouteSecret string
	// Credentials are the client users (see LoadCredentials). Required
	// whenever the server listens for clients (Port != 0, or a cluster
	// node): then no connection, not even an in-process one, gets in
	// without one of the two users. Only a server without any listener
	// may run without them.
	Credentials *Credentials
	// AdminKey is the public key (U...) of an optional third user with
	// every right, for maintenance such as restoring the stream. Its seed
	// belongs off this machine: only the public key is configured, so
	// nothing in the data directory can delete the log. Empty: none.
	AdminKey string
	// Stream is the event stream the service user's permissions protect
	// (default DefaultStream).
	Stream string
	// Log receives the server's notices, warnings and errors (nil: discard).
	Log io.Writer
}

// StartServer starts an embedded nats-server with JetStream and waits until
// it accepts connections. It installs no signal handler (the process owns
// SIGINT/SIGTERM and drains HTTP first), and its logger never exits the
// process: a JetStream start failure comes back as an error.
func StartServer(c ServerConfig) (*server.Server, error) {
	if c.StoreDir == "" {
		return nil, errors.New("embedded NATS needs a store directory")
	}
	opts := &server.Options{
		ServerName: c.Name,
		JetStream:  true,
		StoreDir:   c.StoreDir,
		NoSigs:     true,
		NoLog:      c.Log == nil,
		Host:       c.Host,
		Port:       c.Port,
		MaxPayload: 2 << 20,
	}
	if c.Port == 0 {
		if c.ClusterName == "" {
			opts.DontListen = true
		} else {
			// nats-server opens its route listener only after its client
			// listener: with DontListen a cluster node never becomes
			// ready. Listen on a random loopback port nobody is told of.
			opts.Port = -1
		}
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if c.Credentials != nil {
		users, err := c.Credentials.users(c.Stream, c.AdminKey)
		if err != nil {
			return nil, fmt.Errorf("NATS users: %w", err)
		}
		opts.Nkeys = users
	} else if !opts.DontListen {
		return nil, errors.New("an embedded NATS server with a client port needs credentials (events.LoadCredentials)")
	}
	if c.ClusterName != "" {
		if c.RouteSecret == "" {
			return nil, errors.New("an embedded NATS cluster node needs a route secret")
		}
		opts.Cluster.Username, opts.Cluster.Password = routeUser, c.RouteSecret
		opts.Cluster.Name = c.ClusterName
		opts.Cluster.Host = c.ClusterHost
		opts.Cluster.Port = c.ClusterPort
		// Routes ping every 30 s by default and are declared dead after
		// two unanswered pings: a partitioned node would keep its routes,
		// and so pass QuorumGate, for a minute or more. Pinging every 2 s
		// lets it notice within about 6 s.
		opts.Cluster.PingInterval = routePingInterval
		opts.Cluster.MaxPingsOut = routeMaxPingsOut
		for _, r := range c.Routes {
			u, err := routeURL(r, c.RouteSecret)
			if err != nil {
				return nil, err
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	// A port another process holds makes nats-server wait, not fail: its
	// listener error goes to the log and the server never becomes ready.
	// Say which port, at once.
	for _, l := range []struct {
		what, host string
		port       int
	}{{"client", opts.Host, opts.Port}, {"cluster", opts.Cluster.Host, opts.Cluster.Port}} {
		if l.port <= 0 {
			continue
		}
		addr := net.JoinHostPort(l.host, strconv.Itoa(l.port))
		probe, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("NATS %s port %s: %w", l.what, addr, err)
		}
		probe.Close()
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	if c.Log != nil {
		s.SetLoggerV2(&natsLogger{l: log.New(c.Log, "nats: ", log.LstdFlags)}, false, false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, errors.New("nats-server did not become ready in 30s")
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		return nil, errors.New("nats-server started without JetStream (see its log for why)")
	}
	return s, nil
}

const (
	routePingInterval = 2 * time.Second
	routeMaxPingsOut  = 2
)

// ErrNoQuorum means this node could not reach enough of its cluster for a
// write to be committed, so the write was refused before it reached
// JetStream: nothing was appended, now or later.
var ErrNoQuorum = fmt.Errorf("%w: no quorum", ErrUnavailable)

// QuorumGate returns js whose publishes (and object puts) are refused with
// ErrNoQuorum while the embedded server s is connected by routes to fewer
// other servers than a quorum of `replicas` needs (itself counting as one).
//
// Why not let JetStream answer: a stream leader that has lost its followers
// keeps accepting proposals into its RAFT log for up to 10-20 s before it
// steps down. They cannot commit, so the client times out and is told 503;
// but when the other nodes come back, that leader's log is the longest, it
// can win the election and commit them — a write the client was told had
// failed would appear after all. Refusing before the publish makes a
// no-quorum 503 a promise that nothing was appended. (A write already in
// flight when the peers vanish is answered 503 as not confirmed; retrying
// it with the same Idempotency-Key stores it once.)
func QuorumGate(js jetstream.JetStream, s *server.Server, replicas int) jetstream.JetStream {
	return &quorumGate{JetStream: js, s: s, need: replicas / 2}
}

type quorumGate struct {
	jetstream.JetStream
	s    *server.Server
	need int // other servers a quorum needs
}

func (g *quorumGate) check() error {
	// NumRemotes counts distinct servers with a live route, however many
	// pooled connections each has.
	if have := g.s.NumRemotes(); have < g.need {
		return fmt.Errorf("%w: node %s is connected to %d of the %d other nodes a write needs, so the write was refused before reaching the log and nothing was appended; retry when the cluster is back",
			ErrNoQuorum, g.s.Name(), have, g.need)
	}
	return nil
}

// PublishMsg is the one call the store appends with.
func (g *quorumGate) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	return g.JetStream.PublishMsg(ctx, m, opts...)
}

// Publish is gated like PublishMsg, for any other caller.
func (g *quorumGate) Publish(ctx context.Context, subject string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	return g.JetStream.Publish(ctx, subject, data, opts...)
}

// Object stores opened through the gate refuse puts without a quorum too.
// A snapshot is derived data, so nothing is at stake, but a put that can
// never commit would otherwise hold up its caller for its whole timeout:
// the last node of a cluster to shut down would wait to save one.

// CreateOrUpdateObjectStore opens a gated object store.
func (g *quorumGate) CreateOrUpdateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	obs, err := g.JetStream.CreateOrUpdateObjectStore(ctx, cfg)
	return g.objects(obs, err)
}

// CreateObjectStore opens a gated object store.
func (g *quorumGate) CreateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	obs, err := g.JetStream.CreateObjectStore(ctx, cfg)
	return g.objects(obs, err)
}

// UpdateObjectStore opens a gated object store.
func (g *quorumGate) UpdateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	obs, err := g.JetStream.UpdateObjectStore(ctx, cfg)
	return g.objects(obs, err)
}

// ObjectStore opens a gated object store.
func (g *quorumGate) ObjectStore(ctx context.Context, bucket string) (jetstream.ObjectStore, error) {
	obs, err := g.JetStream.ObjectStore(ctx, bucket)
	return g.objects(obs, err)
}

func (g *quorumGate) objects(obs jetstream.ObjectStore, err error) (jetstream.ObjectStore, error) {
	if err != nil {
		return nil, err
	}
	return &gatedObjects{ObjectStore: obs, g: g}, nil
}

type gatedObjects struct {
	jetstream.ObjectStore
	g *quorumGate
}

func (o *gatedObjects) Put(ctx context.Context, meta jetstream.ObjectMeta, r io.Reader) (*jetstream.ObjectInfo, error) {
	if err := o.g.check(); err != nil {
		return nil, err
	}
	return o.ObjectStore.Put(ctx, meta, r)
}

func (o *gatedObjects) PutBytes(ctx context.Context, name string, data []byte) (*jetstream.ObjectInfo, error) {
	if err := o.g.check(); err != nil {
		return nil, err
	}
	return o.ObjectStore.PutBytes(ctx, name, data)
}

func (o *gatedObjects) PutString(ctx context.Context, name string, data string) (*jetstream.ObjectInfo, error) {
	if err := o.g.check(); err != nil {
		return nil, err
	}
	return o.ObjectStore.PutString(ctx, name, data)
}

func (o *gatedObjects) PutFile(ctx context.Context, file string) (*jetstream.ObjectInfo, error) {
	if err := o.g.check(); err != nil {
		return nil, err
	}
	return o.ObjectStore.PutFile(ctx, file)
}

// natsLogger adapts a log.Logger; Fatalf logs and does not exit, so that a
// JetStream start failure is reported by StartServer rather than os.Exit.
type natsLogger struct{ l *log.Logger }

func (n *natsLogger) Noticef(format string, v ...any) { n.l.Printf("[INF] "+format, v...) }
func (n *natsLogger) Warnf(format string, v ...any)   { n.l.Printf("[WRN] "+format, v...) }
func (n *natsLogger) Fatalf(format string, v ...any)  { n.l.Printf("[FTL] "+format, v...) }
func (n *natsLogger) Errorf(format string, v ...any)  { n.l.Printf("[ERR] "+format, v...) }
func (n *natsLogger) Debugf(format string, v ...any)  {}
func (n *natsLogger) Tracef(format string, v ...any)  {}

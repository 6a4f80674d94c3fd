package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/demo"
	"github.com/opdc/kpiledger/api/web"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// serveConfig is everything `serve` needs, from flags and environment.
type serveConfig struct {
	DataDir  string
	HTTPAddr string
	NATSURL  string
	Replicas int
	// Embedded cluster mode.
	Name        string
	NATSAddr    string // client listener of the embedded server ("" none)
	ClusterName string
	ClusterAddr string
	Routes      string
	Demo        bool
	// CheckpointEvery is the period of signed checkpoints (0: only on demand).
	CheckpointEvery time.Duration
	Trusted         string // further trusted verifier keys, comma-separated
	Witnesses       string // witness verifier keys, comma-separated
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := newFlags("serve [flags]", "Runs the ledger: an embedded NATS server with JetStream storing under --data-dir\n(or an existing NATS cluster with --nats-url), and the HTTP API on --http-addr.\nSIGINT/SIGTERM drain HTTP, checkpoint the read models and stop NATS cleanly.", stderr)
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "data directory: JetStream files, token key, checkpoint key (env KPILEDGER_DATA_DIR)")
	fs.StringVar(&c.HTTPAddr, "http-addr", envOr(getenv, "KPILEDGER_HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address (env KPILEDGER_HTTP_ADDR)")
	fs.StringVar(&c.NATSURL, "nats-url", envOr(getenv, "KPILEDGER_NATS_URL", ""), "connect to this NATS cluster instead of embedding a server (env KPILEDGER_NATS_URL)")
	fs.IntVar(&c.Replicas, "replicas", envInt(getenv, "KPILEDGER_REPLICAS", 0), "stream replicas (default 1 embedded, 3 with --cluster-name or --nats-url) (env KPILEDGER_REPLICAS)")
	fs.StringVar(&c.Name, "name", envOr(getenv, "KPILEDGER_NAME", ""), "this node's name in a cluster (env KPILEDGER_NAME)")
	fs.StringVar(&c.NATSAddr, "nats-addr", envOr(getenv, "KPILEDGER_NATS_ADDR", ""), "let NATS clients connect to the embedded server at host:port (env KPILEDGER_NATS_ADDR)")
	fs.StringVar(&c.ClusterName, "cluster-name", envOr(getenv, "KPILEDGER_CLUSTER_NAME", ""), "form a JetStream cluster of embedded servers with this name (env KPILEDGER_CLUSTER_NAME)")
	fs.StringVar(&c.ClusterAddr, "cluster-addr", envOr(getenv, "KPILEDGER_CLUSTER_ADDR", "0.0.0.0:6222"), "cluster route listen address (env KPILEDGER_CLUSTER_ADDR)")
	fs.StringVar(&c.Routes, "routes", envOr(getenv, "KPILEDGER_ROUTES", ""), "comma-separated routes of every node, e.g. nats-route://kpi1:6222,nats-route://kpi2:6222 (env KPILEDGER_ROUTES)")
	fs.BoolVar(&c.Demo, "demo", false, "load the demo data (FY2561-FY2567) into an empty ledger")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", envDuration(getenv, "KPILEDGER_CHECKPOINT_EVERY", 5*time.Minute), "sign a checkpoint this often when there are new events; 0 for on demand only (env KPILEDGER_CHECKPOINT_EVERY)")
	fs.StringVar(&c.Trusted, "trusted-keys", envOr(getenv, "KPILEDGER_TRUSTED_KEYS", ""), "further checkpoint verifier keys to trust, comma-separated: earlier keys, other nodes' keys (env KPILEDGER_TRUSTED_KEYS)")
	fs.StringVar(&c.Witnesses, "witness-keys", envOr(getenv, "KPILEDGER_WITNESS_KEYS", ""), "collect and serve cosignatures only from witnesses with these verifier keys, comma-separated; unset, any witness whose cosignature verifies (env KPILEDGER_WITNESS_KEYS)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments (got %q)", fs.Args())
	}
	if c.Replicas == 0 {
		c.Replicas = 1
		if c.ClusterName != "" || c.NATSURL != "" {
			c.Replicas = 3
		}
	}
	return c, nil
}

func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(strings.TrimSpace(getenv(key))); err == nil {
		return v
	}
	return def
}

func envInt(getenv func(string) string, key string, def int) int {
	if v, err := strconv.Atoi(strings.TrimSpace(getenv(key))); err == nil {
		return v
	}
	return def
}

// node is a running kpiledger: NATS, the store, the read model, HTTP.
type node struct {
	cfg      serveConfig
	log      *slog.Logger
	ns       *server.Server // nil with --nats-url
	nc       *nats.Conn
	js       jetstream.JetStream
	store    *events.Store
	model    *projections.Model
	snaps    *projections.Snapshots
	tiles    *events.Tiles
	runner   *projections.Runner
	api      *api.Server
	http     *http.Server
	listener net.Listener
	key      []byte
	signer   *events.SigningKey
	// clock is the store's clock with --demo, which the demo loader holds
	// at each step's instant (nil otherwise: the store reads time.Now).
	clock *demo.Clock
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n, err := startNode(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer n.close()

	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- n.runner.Run(runCtx) }()

	if cfg.Demo {
		// Loaded before HTTP serves, so nobody sees a half-loaded demo; a
		// Ctrl-C while loading falls through to the ordinary shutdown.
		if err := demoOnStart(ctx, n, stdout); err != nil && ctx.Err() == nil {
			stopRunner()
			return err
		}
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- n.http.Serve(n.listener) }()
	if cfg.CheckpointEvery > 0 {
		go n.checkpointEvery(runCtx, cfg.CheckpointEvery)
	}
	go n.followTiles(runCtx)
	fmt.Fprintf(stdout, "kpiledger listening on http://%s (data dir %s)\n", n.listener.Addr(), cfg.DataDir)
	if cfg.Demo {
		if err := printDemoWelcome(stdout, n.listener.Addr(), n.key); err != nil {
			log.Warn("demo tokens", "err", err)
		}
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining HTTP")
	case err := <-httpDone:
		serveErr = fmt.Errorf("http: %w", err)
	case err := <-runnerDone:
		// The read model stopped on an event it cannot apply: keep serving
		// /readyz and /healthz (it reports the sequence) until told to stop.
		log.Error("read model stopped; the node stays up to report it", "err", err)
		<-ctx.Done()
		runnerDone <- nil
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := n.http.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopRunner()
	select {
	case <-runnerDone:
	case <-shutdownCtx.Done():
	}
	log.Info("stopped")
	return serveErr
}

// startNode brings up everything but the HTTP loop and the runner.
func startNode(ctx context.Context, cfg serveConfig, getenv func(string) string, log *slog.Logger) (_ *node, err error) {
	n := &node{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if n.key, err = api.LoadTokenKey(cfg.DataDir, getenv); err != nil {
		return nil, err
	}
	if n.signer, err = events.LoadSigningKey(cfg.DataDir, getenv); err != nil {
		return nil, err
	}
	if cfg.NATSURL != "" {
		n.nc, err = nats.Connect(cfg.NATSURL, nats.Name("kpiledger"), nats.MaxReconnects(-1))
	} else {
		sc, serr := embeddedConfig(cfg)
		if serr != nil {
			return nil, serr
		}
		if n.ns, err = events.StartServer(sc); err != nil {
			return nil, err
		}
		opts := []nats.Option{nats.Name("kpiledger"), nats.MaxReconnects(-1), nats.InProcessServer(n.ns)}
		n.nc, err = nats.Connect("", opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	if n.js, err = jetstream.New(n.nc); err != nil {
		return nil, err
	}
	if n.ns != nil && cfg.ClusterName != "" {
		// A node cut off from its cluster refuses writes up front (503,
		// nothing appended) rather than leave them pending in a RAFT log
		// that could still commit them later: see events.QuorumGate.
		n.js = events.QuorumGate(n.js, n.ns, cfg.Replicas)
	}
	metrics := &events.Metrics{}
	storeOpts := []events.Option{events.WithMetrics(metrics)}
	if cfg.Demo {
		n.clock = demo.NewClock(time.Now)
		storeOpts = append(storeOpts, events.WithClock(n.clock.Now))
	}
	n.store, err = openStoreRetrying(ctx, n.js, events.Config{Replicas: cfg.Replicas}, log, storeOpts...)
	if err != nil {
		return nil, err
	}
	// The bucket is replicated like the stream, and on a cluster that is
	// still forming its creation can time out just as the stream's can.
	err = untilJetStream(ctx, log, func(ctx context.Context) (err error) {
		n.snaps, err = projections.OpenSnapshots(ctx, n.js, n.store, cfg.Replicas)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = untilJetStream(ctx, log, func(ctx context.Context) (err error) {
		n.tiles, err = events.OpenTiles(ctx, n.js, n.store, cfg.Replicas)
		return err
	})
	if err != nil {
		return nil, err
	}
	if n.ns != nil && cfg.ClusterName != "" {
		if err := waitReplicasCurrent(ctx, n.ns, log, n.store.Name(), "OBJ_"+projections.SnapshotBucket, "KV_"+events.TilesBucket); err != nil {
			return nil, err
		}
	}
	n.model = projections.NewModel()
	if st, err := n.snaps.Load(ctx); err == nil {
		n.model = projections.NewModelFrom(st)
		log.Info("read models loaded from checkpoint", "sequence", st.Sequence)
	} else {
		log.Info("read models rebuilt from the log", "reason", err)
	}
	n.runner = &projections.Runner{Store: n.store, Model: n.model, Snapshots: n.snaps, Log: log,
		Progress: func(applied, target uint64) {
			log.Info("rebuilding read models", "applied", applied, "of", target)
		}}
	var trusted []string
	for _, k := range strings.Split(cfg.Trusted, ",") {
		if k = strings.TrimSpace(k); k != "" {
			trusted = append(trusted, k)
		}
	}
	var witnesses []string
	for _, k := range strings.Split(cfg.Witnesses, ",") {
		if k = strings.TrimSpace(k); k != "" {
			if _, err := events.NewCosignVerifier(k); err != nil {
				return nil, err
			}
			witnesses = append(witnesses, k)
		}
	}
	// The dashboard (package web) is served by the same Echo instance under /.
	n.api = api.New(api.Config{Store: n.store, Model: n.model, TokenKey: n.key, Log: log, Signer: n.signer, Trusted: trusted,
		Tiles: n.tiles, Witnesses: witnesses,
		Extra: web.Mount(web.Config{Store: n.store, Model: n.model, TokenKey: n.key, Log: log})})
	n.http = &http.Server{Handler: n.api.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if n.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	return n, nil
}

// openStoreRetrying opens the stream, waiting while a cluster elects its
// meta leader (a fresh cluster needs a few seconds).
func openStoreRetrying(ctx context.Context, js jetstream.JetStream, c events.Config, log *slog.Logger, opts ...events.Option) (st *events.Store, err error) {
	err = untilJetStream(ctx, log, func(ctx context.Context) (err error) {
		st, err = events.Open(ctx, js, c, opts...)
		return err
	})
	return st, err
}

// untilJetStream retries f for up to a minute: the time a cluster of nodes
// started together needs to elect a leader for each new stream. Tries are
// short (3 s) because while a new replicated stream elects its first
// leader (4-9 s in nats-server) requests about it go unanswered; a fresh
// try right after the election answers at once, where one long try would
// wait out its whole timeout.
func untilJetStream(ctx context.Context, log *slog.Logger, f func(context.Context) error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		octx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := f(octx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		log.Info("waiting for JetStream", "err", err)
		time.Sleep(500 * time.Millisecond)
	}
}

// waitReplicasCurrent waits until this node's replicas of the streams
// have caught up with their leaders. JetStream places the ephemeral
// consumers that read the log — the read model's, the event feed's, the
// audit's, this node's or any other's — on any replica, and one on a
// replica still catching up (a restarted node, a new disk) delivers a
// shorter log as if it were all.
func waitReplicasCurrent(ctx context.Context, ns *server.Server, log *slog.Logger, streams ...string) error {
	deadline, said := time.Now().Add(5*time.Minute), time.Now()
	for _, stream := range streams {
		for !ns.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			if time.Now().After(deadline) {
				return fmt.Errorf("this node's replica of stream %s did not catch up in 5 minutes", stream)
			}
			if time.Since(said) > 5*time.Second {
				log.Info("waiting for this node's replica to catch up", "stream", stream)
				said = time.Now()
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func embeddedConfig(cfg serveConfig) (events.ServerConfig, error) {
	sc := events.ServerConfig{StoreDir: filepath.Join(cfg.DataDir, "nats"), Name: cfg.Name, Log: nil}
	if cfg.NATSAddr != "" {
		host, port, err := splitHostPort(cfg.NATSAddr)
		if err != nil {
			return sc, fmt.Errorf("--nats-addr: %w", err)
		}
		sc.Host, sc.Port = host, port
	}
	if cfg.ClusterName != "" {
		host, port, err := splitHostPort(cfg.ClusterAddr)
		if err != nil {
			return sc, fmt.Errorf("--cluster-addr: %w", err)
		}
		if cfg.Name == "" {
			return sc, errors.New("a cluster node needs --name")
		}
		sc.ClusterName, sc.ClusterHost, sc.ClusterPort = cfg.ClusterName, host, port
		for _, r := range strings.Split(cfg.Routes, ",") {
			if r = strings.TrimSpace(r); r != "" {
				sc.Routes = append(sc.Routes, r)
			}
		}
		if len(sc.Routes) == 0 {
			return sc, errors.New("a cluster node needs --routes")
		}
	}
	return sc, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return host, port, nil
}

// checkpointEvery signs a checkpoint periodically while there are new
// events; a node that is not ready yet, or loses a race to another node,
// simply tries again next time.
func (n *node) checkpointEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !n.model.Ready() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cp, created, err := n.api.Checkpoint(cctx)
		cancel()
		switch {
		case err != nil && !errors.Is(err, domain.ErrConflict):
			n.log.Warn("checkpoint failed", "err", err)
		case created:
			n.log.Info("checkpoint signed", "sequence", cp.Sequence, "events", cp.Count)
		}
	}
}

// followTiles keeps the tree's tiles close behind the log, off the append
// path, so proofs rarely wait for them; a proof for a size the tiles have
// not reached brings them up to it first.
func (n *node) followTiles(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	behind := false // said so already: an outage logs once, not every second
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := n.tiles.Sync(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !behind:
			n.log.Warn("tiles behind the log; proofs catch them up on demand", "err", err)
			behind = true
		case err == nil && behind:
			n.log.Info("tiles caught up with the log", "size", n.tiles.Size())
			behind = false
		}
	}
}

// close releases what startNode acquired, in reverse order.
func (n *node) close() {
	if n.listener != nil {
		n.listener.Close()
	}
	if n.nc != nil {
		_ = n.nc.Drain()
		n.nc.Close()
	}
	if n.ns != nil {
		n.ns.Shutdown()
		n.ns.WaitForShutdown()
	}
}

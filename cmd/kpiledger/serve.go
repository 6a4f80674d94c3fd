package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	NATSNkey string // seed file of the NATS user for --nats-url
	Replicas int
	// ReplicasSet is true when --replicas (or its variable) was given.
	ReplicasSet bool
	// Embedded cluster mode.
	Name     string
	NATSAddr string // client listener of the embedded server ("" none)
	// NATSAdminKey is the public nkey of an optional all-powerful user.
	NATSAdminKey string
	ClusterName  string
	ClusterAddr  string
	Routes       string
	// ClusterSecret is what routes between nodes authenticate with.
	ClusterSecret     string
	ClusterSecretFile string
	Demo              bool
	// CheckpointEvery is the period of signed checkpoints (0: only on demand).
	CheckpointEvery time.Duration
	Trusted         string // further trusted verifier keys, comma-separated
	// TokenMaxTTL bounds the life of tokens the server accepts.
	TokenMaxTTL time.Duration
	// WriteRate and WriteBurst bound each principal's writes.
	WriteRate  float64
	WriteBurst int
	// SSO is single sign-on (README "Single sign-on").
	SSO ssoFlags
	// Witnesses are the witness verifier keys, comma-separated.
	Witnesses string
}

// ssoFlags are the single sign-on settings (README "Single sign-on").
type ssoFlags struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
	Scopes, Audience, Claim, Prefix, Name       string
	ClockSkew, SessionTTL                       time.Duration
	LocalTokens                                 bool
}

// addSSOFlags registers the single sign-on flags, each with its variable.
func addSSOFlags(fs *flag.FlagSet, getenv func(string) string, c *ssoFlags) {
	fs.StringVar(&c.Issuer, "oidc-issuer", envOr(getenv, "KPILEDGER_OIDC_ISSUER", ""), "single sign-on: the OpenID Connect provider's issuer URL, e.g. https://sso.example.go.th/realms/opdc; empty for none (env KPILEDGER_OIDC_ISSUER)")
	fs.StringVar(&c.ClientID, "oidc-client-id", envOr(getenv, "KPILEDGER_OIDC_CLIENT_ID", ""), "single sign-on: the dashboard's client id at the provider (env KPILEDGER_OIDC_CLIENT_ID)")
	fs.StringVar(&c.ClientSecret, "oidc-client-secret", envOr(getenv, "KPILEDGER_OIDC_CLIENT_SECRET", ""), "single sign-on: the client secret; prefer the environment, which ps does not show (env KPILEDGER_OIDC_CLIENT_SECRET)")
	fs.StringVar(&c.RedirectURL, "oidc-redirect-url", envOr(getenv, "KPILEDGER_OIDC_REDIRECT_URL", ""), "single sign-on: the callback registered at the provider, https://<this host>"+api.CallbackPath+" (env KPILEDGER_OIDC_REDIRECT_URL)")
	fs.StringVar(&c.Scopes, "oidc-scopes", envOr(getenv, "KPILEDGER_OIDC_SCOPES", "openid,profile,email"), "single sign-on: scopes asked for at sign-in, comma-separated (env KPILEDGER_OIDC_SCOPES)")
	fs.StringVar(&c.Audience, "oidc-audience", envOr(getenv, "KPILEDGER_OIDC_AUDIENCE", ""), "single sign-on: the audience the provider's access tokens must name for the API; default the client id (env KPILEDGER_OIDC_AUDIENCE)")
	fs.StringVar(&c.Claim, "oidc-role-claim", envOr(getenv, "KPILEDGER_OIDC_ROLE_CLAIM", "groups"), "single sign-on: the claim holding roles and units, or a dotted path such as realm_access.roles (env KPILEDGER_OIDC_ROLE_CLAIM)")
	fs.StringVar(&c.Prefix, "oidc-role-prefix", envOr(getenv, "KPILEDGER_OIDC_ROLE_PREFIX", "kpiledger:"), "single sign-on: the prefix of the claim's values that map to roles: <prefix>opdc, <prefix>auditor, <prefix>unit:TH-50 (env KPILEDGER_OIDC_ROLE_PREFIX)")
	fs.StringVar(&c.Name, "oidc-name", envOr(getenv, "KPILEDGER_OIDC_NAME", ""), "single sign-on: the provider's name on the \"Sign in with …\" button; default the issuer's host (env KPILEDGER_OIDC_NAME)")
	fs.DurationVar(&c.ClockSkew, "oidc-clock-skew", envDuration(getenv, "KPILEDGER_OIDC_CLOCK_SKEW", time.Minute), "single sign-on: how far the provider's clock may be off when token expiry is checked (env KPILEDGER_OIDC_CLOCK_SKEW)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", envDuration(getenv, "KPILEDGER_SESSION_TTL", 8*time.Hour), "single sign-on: how long a dashboard sign-in lasts before the provider is asked again (env KPILEDGER_SESSION_TTL)")
	fs.BoolVar(&c.LocalTokens, "local-tokens", envBool(getenv, "KPILEDGER_LOCAL_TOKENS", true), "accept the ledger's own tokens (kpiledger token) beside the provider's; false needs --oidc-issuer (env KPILEDGER_LOCAL_TOKENS)")
}

func envBool(getenv func(string) string, key string, def bool) bool {
	if v, err := strconv.ParseBool(strings.TrimSpace(getenv(key))); err == nil {
		return v
	}
	return def
}

// oidc builds the provider from the flags; nil when single sign-on is off.
func (c ssoFlags) oidc(log *slog.Logger) (*api.OIDC, error) {
	if c.Issuer == "" {
		if !c.LocalTokens {
			return nil, errors.New("--local-tokens=false needs single sign-on (--oidc-issuer): nobody could sign in")
		}
		return nil, nil
	}
	var scopes []string
	for _, s := range strings.Split(c.Scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	return api.NewOIDC(api.OIDCConfig{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		RedirectURL: c.RedirectURL, Scopes: scopes, Audience: c.Audience, Claim: c.Claim, Prefix: c.Prefix, ClockSkew: c.ClockSkew,
		Name: c.Name, Log: log})
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := newFlags("serve [flags]", "Runs the ledger: an embedded NATS server with JetStream storing under --data-dir\n(or an existing NATS cluster with --nats-url), and the HTTP API on --http-addr.\nSIGINT/SIGTERM drain HTTP, checkpoint the read models and stop NATS cleanly.\n\nThe embedded server admits only two NATS users, nkeys generated into the data\ndirectory (mode 0600): "+events.ServiceKeyFile+", the ledger's own, which cannot delete,\npurge or reconfigure the event stream, and "+events.ReaderKeyFile+", a read-only user for\noperators (nats --server HOST:PORT --nkey DATA-DIR/"+events.ReaderKeyFile+" stream info KPILEDGER).\nAnonymous connections are refused.\n\nSingle sign-on: the --oidc-* flags let people sign in to the dashboard through an\nOpenID Connect provider and programs call the API with its access tokens; roles\nand units come from the --oidc-role-claim (README \"Single sign-on\").", stderr)
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "data directory: JetStream files, token key, checkpoint key, the NATS users' keys (nats-*.nk) and the stream's identity (env KPILEDGER_DATA_DIR)")
	fs.StringVar(&c.HTTPAddr, "http-addr", envOr(getenv, "KPILEDGER_HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address (env KPILEDGER_HTTP_ADDR)")
	fs.StringVar(&c.NATSURL, "nats-url", envOr(getenv, "KPILEDGER_NATS_URL", ""), "connect to this NATS cluster instead of embedding a server (env KPILEDGER_NATS_URL)")
	fs.StringVar(&c.NATSNkey, "nats-nkey", envOr(getenv, "KPILEDGER_NATS_NKEY", ""), "with --nats-url: file holding the nkey seed (SU...) of the NATS user to connect as; a user:password in the URL works too (env KPILEDGER_NATS_NKEY)")
	fs.IntVar(&c.Replicas, "replicas", envInt(getenv, "KPILEDGER_REPLICAS", 0), "stream replicas (default 1 embedded, 3 with --cluster-name or --nats-url at a cluster, 1 at a single server) (env KPILEDGER_REPLICAS)")
	fs.StringVar(&c.Name, "name", envOr(getenv, "KPILEDGER_NAME", ""), "this node's name in a cluster (env KPILEDGER_NAME)")
	fs.StringVar(&c.NATSAddr, "nats-addr", envOr(getenv, "KPILEDGER_NATS_ADDR", ""), "let NATS clients connect to the embedded server at host:port; they must authenticate: nats --nkey DATA-DIR/"+events.ReaderKeyFile+" is the read-only operator user (env KPILEDGER_NATS_ADDR)")
	fs.StringVar(&c.NATSAdminKey, "nats-admin-key", envOr(getenv, "KPILEDGER_NATS_ADMIN_KEY", ""), "public nkey (U...) of a NATS user with every right, for maintenance; keep its seed off this machine (default: no such user) (env KPILEDGER_NATS_ADMIN_KEY)")
	fs.StringVar(&c.ClusterName, "cluster-name", envOr(getenv, "KPILEDGER_CLUSTER_NAME", ""), "form a JetStream cluster of embedded servers with this name (env KPILEDGER_CLUSTER_NAME)")
	fs.StringVar(&c.ClusterAddr, "cluster-addr", envOr(getenv, "KPILEDGER_CLUSTER_ADDR", "0.0.0.0:6222"), "cluster route listen address (env KPILEDGER_CLUSTER_ADDR)")
	fs.StringVar(&c.ClusterSecretFile, "cluster-secret-file", envOr(getenv, "KPILEDGER_CLUSTER_SECRET_FILE", ""), "file holding the secret the routes between cluster nodes authenticate with, the same on every node; or set KPILEDGER_CLUSTER_SECRET (env KPILEDGER_CLUSTER_SECRET_FILE)")
	fs.StringVar(&c.Routes, "routes", envOr(getenv, "KPILEDGER_ROUTES", ""), "comma-separated routes of every node, e.g. nats-route://kpi1:6222,nats-route://kpi2:6222 (env KPILEDGER_ROUTES)")
	fs.BoolVar(&c.Demo, "demo", false, "load the demo data (FY2561-FY2567) into an empty ledger")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", envDuration(getenv, "KPILEDGER_CHECKPOINT_EVERY", 5*time.Minute), "sign a checkpoint this often when there are new events; 0 for on demand only (env KPILEDGER_CHECKPOINT_EVERY)")
	fs.StringVar(&c.Trusted, "trusted-keys", envOr(getenv, "KPILEDGER_TRUSTED_KEYS", ""), "further checkpoint verifier keys to trust, comma-separated: earlier keys, other nodes' keys (env KPILEDGER_TRUSTED_KEYS)")
	fs.DurationVar(&c.TokenMaxTTL, "token-max-ttl", envDuration(getenv, "KPILEDGER_TOKEN_MAX_TTL", api.DefaultMaxTokenTTL), "refuse tokens that live longer than this (env KPILEDGER_TOKEN_MAX_TTL)")
	fs.Float64Var(&c.WriteRate, "write-rate", envFloat(getenv, "KPILEDGER_WRITE_RATE", 1), "each caller's sustained writes a second; beyond it and the burst, 429 (env KPILEDGER_WRITE_RATE; negative: no limit)")
	fs.IntVar(&c.WriteBurst, "write-burst", envInt(getenv, "KPILEDGER_WRITE_BURST", 60), "how many writes a caller may make at once before --write-rate applies (env KPILEDGER_WRITE_BURST)")
	addSSOFlags(fs, getenv, &c.SSO)
	fs.StringVar(&c.Witnesses, "witness-keys", envOr(getenv, "KPILEDGER_WITNESS_KEYS", ""), "collect and serve cosignatures only from witnesses with these verifier keys, comma-separated; unset, any witness whose cosignature verifies (env KPILEDGER_WITNESS_KEYS)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Demo && !c.SSO.LocalTokens {
		return c, errors.New("--demo loads its data with local tokens and prints some: it cannot run with --local-tokens=false")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments (got %q)", fs.Args())
	}
	c.ClusterSecret = getenv("KPILEDGER_CLUSTER_SECRET")
	c.ReplicasSet = c.Replicas != 0
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

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func envFloat(getenv func(string) string, key string, def float64) float64 {
	if v, err := strconv.ParseFloat(strings.TrimSpace(getenv(key)), 64); err == nil {
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
	oidc     *api.OIDC // nil without single sign-on
	// clock is the store's clock with --demo, which the demo loader holds
	// at each step's instant (nil otherwise: the store reads time.Now).
	clock *demo.Clock
	// full is why the data directory took no write at start (disk full),
	// or nil: the node then serves reads only.
	full error
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n, err := startInterruptibly(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer n.close()

	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- n.runner.Run(runCtx) }()
	if n.oidc != nil {
		go n.oidc.Run(runCtx)
	}

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
	if cfg.CheckpointEvery > 0 && n.full == nil {
		go n.checkpointEvery(runCtx, cfg.CheckpointEvery)
	}
	go n.watchLog(runCtx, logCheckEvery)
	if n.tiles != nil {
		go n.followTiles(runCtx)
	}
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

// startInterruptibly runs startNode, but answers a signal at once: parts
// of a start (nats-server recovering its store, waiting for a cluster)
// do not watch ctx, and SIGTERM must not wait for them. A start that does
// finish shortly after the signal is closed cleanly.
func startInterruptibly(ctx context.Context, cfg serveConfig, getenv func(string) string, log *slog.Logger) (*node, error) {
	type started struct {
		n   *node
		err error
	}
	done := make(chan started, 1)
	go func() {
		n, err := startNode(ctx, cfg, getenv, log)
		done <- started{n, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && ctx.Err() != nil {
			r.n.close()
			return nil, errors.New("stopped during start-up")
		}
		return r.n, r.err
	case <-ctx.Done():
	}
	log.Info("signal during start-up: stopping")
	select {
	case r := <-done:
		if r.n != nil {
			r.n.close()
		}
	case <-time.After(2 * time.Second):
		// Whatever is still starting ends with the process.
	}
	return nil, errors.New("stopped during start-up")
}

// checkDataDir names a data directory this process cannot write at once,
// rather than letting nats-server fail to start 30 s later. A directory
// that can be written to but has no room left is not an error: it is
// returned as full, for the node to serve reads.
func checkDataDir(dir string) (full error, err error) {
	for _, d := range []string{dir, filepath.Join(dir, "nats")} {
		if _, serr := os.Stat(d); errors.Is(serr, os.ErrNotExist) {
			continue
		}
		f, cerr := os.CreateTemp(d, ".kpiledger-write-check-")
		if cerr != nil {
			if errors.Is(cerr, syscall.ENOSPC) || errors.Is(cerr, syscall.EDQUOT) {
				return fmt.Errorf("no space left in %s", d), nil
			}
			return nil, fmt.Errorf("the data directory %s cannot be written by this process (uid %d): %w; give it to this user (chown -R) or choose another --data-dir", d, os.Getuid(), cerr)
		}
		_, werr := f.Write(make([]byte, 64<<10))
		if werr == nil {
			werr = f.Sync()
		}
		f.Close()
		os.Remove(f.Name())
		if werr != nil {
			if errors.Is(werr, syscall.ENOSPC) || errors.Is(werr, syscall.EDQUOT) {
				return fmt.Errorf("no space left in %s", d), nil
			}
			return nil, fmt.Errorf("the data directory %s cannot be written: %w", d, werr)
		}
	}
	return nil, nil
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
	full, err := checkDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n.full = full
	if n.key, err = api.LoadTokenKey(cfg.DataDir, getenv); err != nil {
		return nil, err
	}
	if getenv("KPILEDGER_CHECKPOINT_KEY") == "" {
		if err := api.CheckKeyFile(filepath.Join(cfg.DataDir, events.SigningKeyFile)); err != nil {
			return nil, err
		}
	}
	if n.signer, err = events.LoadSigningKey(cfg.DataDir, getenv); err != nil {
		return nil, err
	}
	if cfg.NATSURL != "" {
		opts := []nats.Option{nats.Name("kpiledger"), nats.MaxReconnects(-1)}
		if cfg.NATSNkey != "" {
			o, kerr := nats.NkeyOptionFromSeed(cfg.NATSNkey)
			if kerr != nil {
				return nil, fmt.Errorf("--nats-nkey: %w", kerr)
			}
			opts = append(opts, o)
		}
		n.nc, err = nats.Connect(cfg.NATSURL, opts...)
		if err == nil {
			n.cfg.Replicas, err = externalReplicas(n.nc, cfg, log)
			cfg.Replicas = n.cfg.Replicas
		}
	} else {
		sc, serr := embeddedConfig(cfg)
		if serr != nil {
			return nil, serr
		}
		creds, cerr := events.LoadCredentials(cfg.DataDir)
		if cerr != nil {
			return nil, cerr
		}
		sc.Credentials = creds
		if n.ns, err = events.StartServer(sc); err != nil {
			return nil, err
		}
		// Even in process the ledger is its restricted user: a bug in
		// kpiledger cannot delete the log either.
		opts := []nats.Option{nats.Name("kpiledger"), nats.MaxReconnects(-1), nats.InProcessServer(n.ns), creds.ServiceOption()}
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
	guard, mark, err := expectedLog(ctx, n.js, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	storeOpts = append(storeOpts, guard...)
	if n.full != nil && n.ns != nil {
		// Nothing can be written: open the log as it is, rebuild the read
		// models from it (a checkpoint bucket cannot be opened for
		// writing either), and serve reads.
		log.Error("the data directory has no space left: serving reads only; free space and restart to take writes again", "err", n.full)
		err = untilJetStream(ctx, log, func(ctx context.Context) (err error) {
			n.store, err = events.OpenExisting(ctx, n.js, events.Config{Replicas: cfg.Replicas}, storeOpts...)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%v, and the log cannot be opened as it is: %w", n.full, err)
		}
	} else {
		n.full = nil
		n.store, err = openStoreRetrying(ctx, n.js, events.Config{Replicas: cfg.Replicas}, log, storeOpts...)
		if err != nil {
			if errors.Is(err, events.ErrLogMissing) {
				log.Error("THE EVENT LOG IS MISSING: refusing to start", "err", err)
			}
			return nil, err
		}
		if err := recordLog(cfg.DataDir, n.store.Identity()); err != nil {
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
		// The tree's tiles, for proofs, are replicated the same way.
		err = untilJetStream(ctx, log, func(ctx context.Context) (err error) {
			n.tiles, err = events.OpenTiles(ctx, n.js, n.store, cfg.Replicas)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if n.ns != nil && cfg.ClusterName != "" && n.snaps != nil {
		if err := waitReplicasCurrent(ctx, n.ns, log, n.store.Name(), "OBJ_"+projections.SnapshotBucket, "KV_"+events.TilesBucket); err != nil {
			return nil, err
		}
	}
	if err := sameLog(ctx, n.store, mark); err != nil {
		log.Error("THE EVENT LOG IS MISSING: refusing to start", "err", err)
		return nil, err
	}
	n.model = projections.NewModel()
	if n.snaps == nil {
		log.Info("read models rebuilt from the log", "reason", "no checkpoint bucket while read-only")
	} else if st, err := n.snaps.Load(ctx); err == nil {
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
	// Single sign-on: the provider is discovered in the background (see
	// runServe), so a provider that is down does not keep the ledger down.
	if n.oidc, err = cfg.SSO.oidc(log); err != nil {
		return nil, err
	}
	noLocal := !cfg.SSO.LocalTokens
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
		TokenMaxTTL: cfg.TokenMaxTTL, WriteRate: cfg.WriteRate, WriteBurst: cfg.WriteBurst, ReadOnly: errText(n.full),
		OIDC: n.oidc, NoLocalTokens: noLocal, Tiles: n.tiles, Witnesses: witnesses,
		Extra: web.Mount(web.Config{Store: n.store, Model: n.model, TokenKey: n.key, Log: log,
			OIDC: n.oidc, NoLocalTokens: noLocal, SessionTTL: cfg.SSO.SessionTTL})})
	// The API's own server settings: header, body and idle deadlines, and
	// the listener hook its Content-Length + Transfer-Encoding check needs.
	n.http = n.api.HTTPServer()
	if n.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	n.listener = api.Listener(n.listener)
	return n, nil
}

// expectedLog is what tells Open whether the ledger already holds events,
// so that it never creates a new empty stream under them: the stream
// identity recorded in the data directory, or else a snapshot of read
// models in the shared bucket (a node on a fresh disk joining a cluster).
// It returns the snapshot's mark too (nil: none), for sameLog.
func expectedLog(ctx context.Context, js jetstream.JetStream, dataDir string, log *slog.Logger) ([]events.Option, *projections.SnapshotMark, error) {
	id, err := events.LoadIdentity(dataDir)
	if err != nil {
		return nil, nil, err
	}
	var mark *projections.SnapshotMark
	err = untilJetStream(ctx, log, func(ctx context.Context) (err error) {
		mark, err = projections.LatestSnapshotMark(ctx, js)
		if errors.Is(err, projections.ErrNoSnapshot) {
			// Derived data, rebuilt from the log and saved again: a
			// broken one tells nothing about the log, and is no reason
			// not to start.
			log.Warn("the snapshot of read models is unreadable; it is not used to check the log", "err", err)
			mark, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot bucket: %w", err)
	}
	switch {
	case id != nil:
		return []events.Option{events.ExpectIdentity(*id)}, mark, nil
	case mark != nil && mark.Sequence > 0:
		return []events.Option{events.ExpectHistory(fmt.Sprintf("the snapshot bucket %s holds read models built from its first %d events", projections.SnapshotBucket, mark.Sequence))}, mark, nil
	}
	return nil, mark, nil
}

// sameLog checks the stream against the shared snapshot: the event the
// snapshot ends at must be in it, with the same hash (run once this node's
// replicas are current). A node on a fresh
// disk has no recorded identity; this is what tells it a stream deleted
// and created again (and refilled or not) from the ledger's own.
func sameLog(ctx context.Context, st *events.Store, mark *projections.SnapshotMark) error {
	if mark == nil || mark.Stream != st.Name() || mark.Sequence == 0 {
		return nil
	}
	e, err := st.Get(ctx, mark.Sequence)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		// A direct get may be answered by a replica still catching up;
		// the stream's leader says how long the stream really is.
		if last, lerr := st.LastSequence(ctx); lerr != nil || last >= mark.Sequence {
			return nil // cannot tell; the snapshot is then rebuilt from the log
		}
		return fmt.Errorf("%w: the snapshot of read models ends at event %d, which stream %s does not hold: it is not the stream they were built from", events.ErrLogMissing, mark.Sequence, st.Name())
	}
	if err != nil {
		return fmt.Errorf("check the stream against the snapshot: %w", err)
	}
	if e.Hash != mark.Hash {
		return fmt.Errorf("%w: event %d of stream %s has another hash than when the snapshot of read models was taken: it is not the stream they were built from", events.ErrLogMissing, mark.Sequence, st.Name())
	}
	return nil
}

// recordLog writes the identity of the stream the ledger opened into the
// data directory the first time, so that every later start checks it.
func recordLog(dataDir string, id events.Identity) error {
	old, err := events.LoadIdentity(dataDir)
	if err != nil || old != nil {
		return err
	}
	return events.SaveIdentity(dataDir, id)
}

// externalReplicas is the replica count on an external NATS: a server
// that is not part of a cluster can keep only one, so the default of 3
// becomes 1 there; an explicit --replicas above 1 fails at once.
func externalReplicas(nc *nats.Conn, cfg serveConfig, log *slog.Logger) (int, error) {
	if nc.ConnectedClusterName() != "" || cfg.Replicas <= 1 {
		return cfg.Replicas, nil
	}
	if cfg.ReplicasSet {
		return 0, fmt.Errorf("the NATS server at %s is not part of a cluster and cannot keep %d replicas: pass --replicas 1 (or KPILEDGER_REPLICAS=1), or point --nats-url at a cluster", nc.ConnectedUrlRedacted(), cfg.Replicas)
	}
	log.Warn("the NATS server is not part of a cluster: keeping 1 replica of the stream (pass --replicas to choose)", "server", nc.ConnectedUrlRedacted())
	return 1, nil
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
		// A missing log does not come back by waiting.
		if time.Now().After(deadline) || ctx.Err() != nil || errors.Is(err, events.ErrLogMissing) {
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
	sc := events.ServerConfig{StoreDir: filepath.Join(cfg.DataDir, "nats"), Name: cfg.Name, AdminKey: cfg.NATSAdminKey, Log: nil}
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
		secret, err := events.LoadRouteSecret(cfg.ClusterSecret, cfg.ClusterSecretFile)
		if err != nil {
			return sc, err
		}
		sc.ClusterName, sc.ClusterHost, sc.ClusterPort, sc.RouteSecret = cfg.ClusterName, host, port, secret
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
		if !n.model.Ready() || n.store.LogLost() != nil {
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

// logCheckEvery is how often a node asks JetStream whether its stream is
// still there: one stream info request, cheap next to the writes.
const logCheckEvery = 2 * time.Second

// watchLog checks the stream periodically (see events.Store.CheckLog).
// When it is gone or replaced, writes are refused and /readyz is red from
// then on (the store remembers); this says so in the log, at once and
// every minute after, since nobody may be looking at /readyz.
func (n *node) watchLog(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var said time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := n.store.CheckLog(cctx, n.model.Applied())
		cancel()
		if errors.Is(err, events.ErrLogMissing) && time.Since(said) >= time.Minute {
			n.log.Error("THE EVENT LOG IS MISSING: this node refuses writes and reports not ready; restore the stream from a replica or backup and restart the node. It will not create a new one.",
				"stream", n.store.Name(), "err", err)
			said = time.Now()
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

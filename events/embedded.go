package events

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig configures an embedded nats-server with JetStream.
type ServerConfig struct {
	// StoreDir is where JetStream keeps its files (it appends /jetstream).
	StoreDir string
	// Name identifies the server in a cluster.
	Name string
	// Host and Port are the client listener; Port 0 means no listener
	// (in-process connections only), -1 a random port.
	Host string
	Port int
	// Cluster settings; empty ClusterName means a single server.
	ClusterName string
	ClusterHost string
	ClusterPort int
	Routes      []string // nats-route://host:port of every node, itself included
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
		opts.DontListen = true
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if c.ClusterName != "" {
		opts.Cluster.Name = c.ClusterName
		opts.Cluster.Host = c.ClusterHost
		opts.Cluster.Port = c.ClusterPort
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
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

// natsLogger adapts a log.Logger; Fatalf logs and does not exit, so that a
// JetStream start failure is reported by StartServer rather than os.Exit.
type natsLogger struct{ l *log.Logger }

func (n *natsLogger) Noticef(format string, v ...any) { n.l.Printf("[INF] "+format, v...) }
func (n *natsLogger) Warnf(format string, v ...any)   { n.l.Printf("[WRN] "+format, v...) }
func (n *natsLogger) Fatalf(format string, v ...any)  { n.l.Printf("[FTL] "+format, v...) }
func (n *natsLogger) Errorf(format string, v ...any)  { n.l.Printf("[ERR] "+format, v...) }
func (n *natsLogger) Debugf(format string, v ...any)  {}
func (n *natsLogger) Tracef(format string, v ...any)  {}

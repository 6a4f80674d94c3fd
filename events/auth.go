package events

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// The embedded server knows exactly two NATS users, each an nkey whose
// seed is a file in the data directory (mode 0600): whoever can read the
// file can connect as that user, and nobody else can connect at all.
const (
	// ServiceKeyFile is the ledger's own user: it appends, reads and keeps
	// its snapshots, but cannot delete, purge or reconfigure the event
	// stream (see ServicePermissions).
	ServiceKeyFile = "nats-service.nk"
	// ReaderKeyFile is the operators' user, for the nats CLI
	// (nats --nkey <data-dir>/nats-reader.nk ...): it can look at streams,
	// consumers and events and change nothing (see ReaderPermissions).
	ReaderKeyFile = "nats-reader.nk"
)

// Credentials are the nkeys of the embedded server's two users.
type Credentials struct {
	Service nkeys.KeyPair
	Reader  nkeys.KeyPair
}

// LoadCredentials reads the two user seeds from dir, creating each one
// that does not exist yet. Copying the files to every node of a cluster
// before its first start gives every node the same users; otherwise each
// node has its own.
func LoadCredentials(dir string) (*Credentials, error) {
	svc, err := loadOrCreateUserKey(filepath.Join(dir, ServiceKeyFile))
	if err != nil {
		return nil, err
	}
	rd, err := loadOrCreateUserKey(filepath.Join(dir, ReaderKeyFile))
	if err != nil {
		return nil, err
	}
	return &Credentials{Service: svc, Reader: rd}, nil
}

func loadOrCreateUserKey(path string) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, err
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, err
		}
		// O_EXCL: two processes starting on one data dir must not each
		// write their own key and leave the other holding a stale one.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return loadOrCreateUserKey(path)
		}
		if err != nil {
			return nil, fmt.Errorf("NATS user key: %w", err)
		}
		if _, err := f.Write(append(seed, '\n')); err != nil {
			f.Close()
			return nil, fmt.Errorf("NATS user key %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("NATS user key %s: %w", path, err)
		}
		return kp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("NATS user key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("NATS user key %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	kp, err := nkeys.ParseDecoratedNKey(bytes.TrimSpace(b))
	if err != nil {
		return nil, fmt.Errorf("NATS user key %s: %w", path, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("NATS user key %s does not hold a user seed (SU...)", path)
	}
	return kp, nil
}

// UserOption authenticates a nats.go connection as the nkey user kp.
func UserOption(kp nkeys.KeyPair) nats.Option {
	pub, err := kp.PublicKey()
	if err != nil {
		// Only a wiped key pair has no public key: the connection is
		// then refused by the server, which names the problem.
		pub = ""
	}
	return nats.Nkey(pub, kp.Sign)
}

// ServiceOption authenticates a connection as the ledger's own user.
func (c *Credentials) ServiceOption() nats.Option { return UserOption(c.Service) }

// ReaderOption authenticates a connection as the read-only operator user.
func (c *Credentials) ReaderOption() nats.Option { return UserOption(c.Reader) }

func (c *Credentials) users(stream, admin string) ([]*server.NkeyUser, error) {
	svc, err := c.Service.PublicKey()
	if err != nil {
		return nil, err
	}
	rd, err := c.Reader.PublicKey()
	if err != nil {
		return nil, err
	}
	users := []*server.NkeyUser{
		{Nkey: svc, Permissions: ServicePermissions(stream)},
		{Nkey: rd, Permissions: ReaderPermissions()},
	}
	if admin != "" {
		if !nkeys.IsValidPublicUserKey(admin) {
			return nil, fmt.Errorf("admin key %q is not a public user nkey (U...)", admin)
		}
		users = append(users, &server.NkeyUser{Nkey: admin})
	}
	return users, nil
}

// ServicePermissions are the ledger's own rights: everything it does —
// create the stream on first start, append, read through ordered
// consumers (and delete them when a read ends), direct gets, keep the
// snapshot object store — and none of what would lose the log.
//
// Denied: deleting any stream (the ledger deletes none, and the snapshot
// bucket is what tells a missing log from a new one), purging, updating or
// deleting messages of the event stream, restoring a stream over it,
// removing its peers, and purging the whole account. Creating the stream
// stays allowed: JetStream answers a create for an existing stream with
// another configuration with an error, so it cannot be used to change it.
// Deleting consumers stays allowed too: the read model's live tail is an
// ordered consumer that is deleted when it ends (and recreated by nats.go
// after a missed heartbeat), and nats-server permissions cannot tell it
// from others by name. The ledger keeps no durable consumer, so
// deleting one loses nothing. Operators' durable consumers are theirs.
func ServicePermissions(stream string) *server.Permissions {
	if stream == "" {
		stream = DefaultStream
	}
	return &server.Permissions{
		Publish: &server.SubjectPermission{
			Allow: []string{">"},
			Deny: []string{
				"$JS.API.STREAM.DELETE.>",
				"$JS.API.STREAM.PURGE." + stream,
				"$JS.API.STREAM.UPDATE." + stream,
				"$JS.API.STREAM.MSG.DELETE." + stream,
				"$JS.API.STREAM.RESTORE.>",
				"$JS.API.STREAM.PEER.REMOVE." + stream,
				"$JS.API.ACCOUNT.PURGE.>",
			},
		},
		Subscribe: &server.SubjectPermission{Allow: []string{">"}},
	}
}

// ReaderPermissions let an operator look at everything JetStream holds
// with the nats CLI (stream ls/info/view/get, consumer ls/info, sub to new
// events) and change nothing. Reading a stream creates an ephemeral
// consumer, which JetStream removes once the reader goes away; the reader
// cannot delete consumers, publish events, or call any other API.
func ReaderPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{
			Allow: []string{
				"$JS.API.INFO",
				"$JS.API.STREAM.INFO.>",
				"$JS.API.STREAM.LIST",
				"$JS.API.STREAM.NAMES",
				"$JS.API.STREAM.MSG.GET.>",
				"$JS.API.DIRECT.GET.>",
				"$JS.API.CONSUMER.INFO.>",
				"$JS.API.CONSUMER.LIST.>",
				"$JS.API.CONSUMER.NAMES.>",
				"$JS.API.CONSUMER.CREATE.>",
				"$JS.API.CONSUMER.MSG.NEXT.>",
				"$JS.FC.>",
			},
		},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", AllSubjects}},
	}
}

// routeUser is the name routes between kpiledger nodes authenticate with;
// the password is the cluster's shared secret.
const routeUser = "kpiledger-route"

// routeURL puts the route credentials into a route URL.
func routeURL(raw, secret string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", raw, err)
	}
	if secret != "" {
		u.User = url.UserPassword(routeUser, secret)
	}
	return u, nil
}

// NewRouteSecret returns a random secret for a cluster's routes.
func NewRouteSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// LoadRouteSecret reads a cluster's route secret from the environment
// variable's value or else from file (one of them must be set).
func LoadRouteSecret(value, file string) (string, error) {
	s := strings.TrimSpace(value)
	if s == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("cluster secret: %w", err)
		}
		s = strings.TrimSpace(string(b))
	}
	if s == "" {
		return "", errors.New("a cluster node needs the secret its routes share: set KPILEDGER_CLUSTER_SECRET or --cluster-secret-file to the same value on every node (e.g. openssl rand -base64 32)")
	}
	if len(s) < 16 {
		return "", errors.New("the cluster secret is too short: use at least 16 characters (e.g. openssl rand -base64 32)")
	}
	return s, nil
}

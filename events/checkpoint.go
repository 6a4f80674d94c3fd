package events

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/opdc/kpiledger/domain"
)

// Tree is an append-only Merkle tree over event hashes in stream order,
// hashed as RFC 6962 and Go's checksum database do (tlog.RecordHash for a
// leaf, tlog.NodeHash for a node). It keeps only its frontier: the roots of
// its complete subtrees, largest first, one per set bit of N.
type Tree struct {
	N        uint64      `json:"n"`
	Frontier []tlog.Hash `json:"frontier"`
}

// Add appends an event hash (hex) as the next leaf.
func (t *Tree) Add(eventHash string) error {
	// Decoded into an array rather than with hex.DecodeString: Add runs
	// once per event of every rebuild, and the copy was its only garbage.
	var b [32]byte
	if len(eventHash) != 2*len(b) {
		return fmt.Errorf("event hash %q is not 32 hex-encoded bytes", eventHash)
	}
	for i := range b {
		hi, ok1 := unhex(eventHash[2*i])
		lo, ok2 := unhex(eventHash[2*i+1])
		if !ok1 || !ok2 {
			return fmt.Errorf("event hash %q is not 32 hex-encoded bytes", eventHash)
		}
		b[i] = hi<<4 | lo
	}
	h := tlog.RecordHash(b[:])
	// Merge equal-sized subtrees: one merge per trailing 1 bit of N.
	for n := t.N; n&1 == 1; n >>= 1 {
		last := len(t.Frontier) - 1
		h = tlog.NodeHash(t.Frontier[last], h)
		t.Frontier = t.Frontier[:last]
	}
	t.Frontier = append(t.Frontier, h)
	t.N++
	return nil
}

// unhex is one hex digit's value, either case, as encoding/hex accepts.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Root is the tree hash of the N leaves (all zero for an empty tree).
func (t *Tree) Root() tlog.Hash {
	if len(t.Frontier) == 0 {
		return tlog.Hash{}
	}
	h := t.Frontier[len(t.Frontier)-1]
	for i := len(t.Frontier) - 2; i >= 0; i-- {
		h = tlog.NodeHash(t.Frontier[i], h)
	}
	return h
}

// Clone returns an independent copy.
func (t *Tree) Clone() Tree {
	return Tree{N: t.N, Frontier: append([]tlog.Hash(nil), t.Frontier...)}
}

// Checkpoint is a C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the
// log named Origin held Size events, stream sequences 1..Size, whose
// Merkle tree hash is Root. Every event is a leaf, the leaf at index i
// being the event at stream sequence i+1, so a checkpoint event appended
// right after sequence Size is itself a leaf of the next checkpoint.
// Groups, when set, is the root of the group tree over GroupCount records
// (see GroupRecord): it commits to every unit-year's complete contents.
type Checkpoint struct {
	Origin     string
	Size       uint64
	Root       tlog.Hash
	GroupCount uint64
	Groups     *tlog.Hash
}

// Origin names a stream's log in its checkpoints' first line.
func Origin(stream string) string { return "kpiledger/" + stream }

// groupsExtension starts the extension line carrying the group tree.
const groupsExtension = "kpiledger-groups"

// Text is the checkpoint's note body: origin, size and root hash lines,
// then the group tree as an extension line.
func (c Checkpoint) Text() string {
	s := fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	if c.Groups != nil {
		s += fmt.Sprintf("%s %d %s\n", groupsExtension, c.GroupCount, base64.StdEncoding.EncodeToString(c.Groups[:]))
	}
	return s
}

// ParseCheckpoint reads a checkpoint's note body.
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("checkpoint: the text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || len(lines) > 4 {
		return c, errors.New("checkpoint: not an origin, size and root hash (c2sp.org/tlog-checkpoint)")
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, errors.New("checkpoint: empty origin line")
	}
	var err error
	if c.Size, err = parseDecimal(lines[1]); err != nil {
		return c, fmt.Errorf("checkpoint size: %w", err)
	}
	if c.Root, err = parseHash(lines[2]); err != nil {
		return c, fmt.Errorf("checkpoint root hash: %w", err)
	}
	if len(lines) == 4 {
		f := strings.Split(lines[3], " ")
		if len(f) != 3 || f[0] != groupsExtension {
			return c, fmt.Errorf("checkpoint: unknown extension line %q", lines[3])
		}
		if c.GroupCount, err = parseDecimal(f[1]); err != nil {
			return c, fmt.Errorf("checkpoint group count: %w", err)
		}
		h, err := parseHash(f[2])
		if err != nil {
			return c, fmt.Errorf("checkpoint group root: %w", err)
		}
		c.Groups = &h
	}
	return c, nil
}

// parseDecimal reads an ASCII decimal without sign or leading zeroes, as
// C2SP formats write numbers.
func parseDecimal(s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return strconv.ParseUint(s, 10, 64)
}

// parseHash reads a base64 SHA-256 hash.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%q is not a base64 SHA-256 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

// SigningKey signs checkpoints and export bundles with Ed25519, as a
// golang.org/x/mod/sumdb/note signer.
type SigningKey struct {
	signer   note.Signer
	verifier string
}

// SigningKeyFile is the key's file name inside the data directory.
const SigningKeyFile = "checkpoint.key"

// keyName names the signer inside notes.
const keyName = "kpiledger"

// LoadSigningKey returns the checkpoint signing key: KPILEDGER_CHECKPOINT_KEY
// when set (nodes of a cluster share it), else the key in the data
// directory, created on first use.
func LoadSigningKey(dataDir string, getenv func(string) string) (*SigningKey, error) {
	if k := strings.TrimSpace(getenv("KPILEDGER_CHECKPOINT_KEY")); k != "" {
		return parseSigningKey(k)
	}
	if dataDir == "" {
		return nil, errors.New("no checkpoint key: set KPILEDGER_CHECKPOINT_KEY or give a data directory")
	}
	path := filepath.Join(dataDir, SigningKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return parseSigningKey(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	skey, _, err := note.GenerateKey(rand.Reader, keyName)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadSigningKey(dataDir, getenv)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(skey + "\n"); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	return parseSigningKey(skey)
}

func parseSigningKey(skey string) (*SigningKey, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint key: %w", err)
	}
	vkey, err := verifierKeyOf(skey)
	if err != nil {
		return nil, err
	}
	return &SigningKey{signer: signer, verifier: vkey}, nil
}

// verifierKeyOf derives "name+hash+base64(alg||pub)" from a note signer key
// "PRIVATE+KEY+name+hash+base64(alg||priv-seed)".
func verifierKeyOf(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5) // base64 may contain "+"
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("checkpoint key: not a note signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", errors.New("checkpoint key: not an Ed25519 note key")
	}
	return note.NewEd25519VerifierKey(parts[2], ed25519Public(raw[1:]))
}

// VerifierKey is the public key text to verify signatures with.
func (k *SigningKey) VerifierKey() string { return k.verifier }

// Sign signs text (ending in a newline) as a note.
func (k *SigningKey) Sign(text string) (string, error) {
	b, err := note.Sign(&note.Note{Text: text}, k.signer)
	return string(b), err
}

// OpenNote checks a signed note against trusted verifier keys and returns
// its text.
func OpenNote(signed string, trusted ...string) (string, error) {
	var vs []note.Verifier
	for _, k := range trusted {
		v, err := note.NewVerifier(k)
		if err != nil {
			return "", fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(vs...))
	if err != nil {
		return "", fmt.Errorf("signature: %w", err)
	}
	return n.Text, nil
}

// NewCheckpointEvent signs a checkpoint of the tree (every event up to
// stream sequence tree.N) and its group tree, and wraps it as the ledger
// aggregate's next event; append it with AppendAfter(…, tree.N) so it
// lands right after the events it covers.
func NewCheckpointEvent(key *SigningKey, stream string, tree *Tree, groups *GroupTree, ledger Aggregate) (*Envelope, error) {
	c := Checkpoint{Origin: Origin(stream), Size: tree.N, Root: tree.Root()}
	if groups != nil {
		root := groups.Root()
		c.Groups, c.GroupCount = &root, uint64(groups.Len())
	}
	signed, err := key.Sign(c.Text())
	if err != nil {
		return nil, err
	}
	ledger.Kind, ledger.ID = KindLedger, LedgerID
	return NewEnvelope(domain.CheckpointRecorded{Sequence: c.Size, Count: c.Size,
		Root: base64.StdEncoding.EncodeToString(c.Root[:]), Key: key.VerifierKey(), Note: signed}, ledger)
}

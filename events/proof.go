package events

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// InclusionProof proves the event at stream sequence Sequence (leaf Index
// = Sequence-1) is in the tree of Size events whose hash is Root. When a
// signed checkpoint of that size exists it is attached (with any witness
// cosignatures).
type InclusionProof struct {
	Sequence   uint64      `json:"sequence"`
	Index      uint64      `json:"index"`
	Size       uint64      `json:"size"`
	EventHash  string      `json:"event_hash"`
	Root       tlog.Hash   `json:"root"`
	Hashes     []tlog.Hash `json:"hashes"`
	Checkpoint string      `json:"checkpoint,omitempty"`
	// TlogProof is the same proof with its checkpoint as a
	// c2sp.org/tlog-proof@v1 text, when a checkpoint of the size exists.
	TlogProof string `json:"tlog_proof,omitempty"`
}

// Check verifies the proof against its own root.
func (p InclusionProof) Check() error {
	hb, err := hex.DecodeString(p.EventHash)
	if err != nil || len(hb) != 32 {
		return errors.New("inclusion proof: the event hash is not 32 hex-encoded bytes")
	}
	if p.Index+1 != p.Sequence || p.Index >= p.Size {
		return fmt.Errorf("inclusion proof: leaf %d of sequence %d is not in a tree of %d", p.Index, p.Sequence, p.Size)
	}
	return tlog.CheckRecord(p.Hashes, int64(p.Size), p.Root, int64(p.Index), tlog.RecordHash(hb))
}

// ConsistencyProof proves the tree of From events is a prefix of the tree
// of To events.
type ConsistencyProof struct {
	From     uint64      `json:"from"`
	To       uint64      `json:"to"`
	FromRoot tlog.Hash   `json:"from_root"`
	ToRoot   tlog.Hash   `json:"to_root"`
	Hashes   []tlog.Hash `json:"hashes"`
}

// Check verifies the proof between its own roots.
func (p ConsistencyProof) Check() error {
	if p.From == 0 || p.From > p.To {
		return fmt.Errorf("consistency proof: from %d to %d", p.From, p.To)
	}
	return tlog.CheckTree(p.Hashes, int64(p.To), p.ToRoot, int64(p.From), p.FromRoot)
}

// TlogProof formats an inclusion proof with its checkpoint as a
// c2sp.org/tlog-proof@v1 text.
func TlogProof(index uint64, hashes []tlog.Hash, checkpoint string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nindex %d\n", tlogProofHeader, index)
	for _, h := range hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n" + checkpoint)
	return b.String()
}

const tlogProofHeader = "c2sp.org/tlog-proof@v1"

// ParseTlogProof reads a c2sp.org/tlog-proof@v1 text: the leaf index, the
// inclusion proof and the (signed) checkpoint.
func ParseTlogProof(text string) (index uint64, hashes []tlog.Hash, checkpoint string, err error) {
	head, cp, ok := strings.Cut(text, "\n\n")
	if !ok || cp == "" {
		return 0, nil, "", errors.New("tlog-proof: no checkpoint after the proof")
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 2 || lines[0] != tlogProofHeader {
		return 0, nil, "", errors.New("tlog-proof: not a " + tlogProofHeader + " text")
	}
	i := 1
	if strings.HasPrefix(lines[i], "extra ") {
		i++
	}
	if i >= len(lines) || !strings.HasPrefix(lines[i], "index ") {
		return 0, nil, "", errors.New("tlog-proof: no index line")
	}
	if index, err = parseDecimal(strings.TrimPrefix(lines[i], "index ")); err != nil {
		return 0, nil, "", fmt.Errorf("tlog-proof index: %w", err)
	}
	for _, l := range lines[i+1:] {
		h, err := parseHash(l)
		if err != nil {
			return 0, nil, "", fmt.Errorf("tlog-proof hash: %w", err)
		}
		hashes = append(hashes, h)
	}
	return index, hashes, cp, nil
}

// Cosignatures (c2sp.org/tlog-cosignature, Ed25519 v1): a witness signs
// "cosignature/v1\ntime <t>\n" followed by the checkpoint's note body, and
// its signature is the 8-byte big-endian time followed by the Ed25519
// signature. Its key id hashes the name, a newline, 0x04 and the public key.

const cosignatureAlg = 0x04

func cosignKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{cosignatureAlg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func cosignMessage(t uint64, body []byte) []byte {
	return append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), body...)
}

// GenerateCosignerKey makes a witness key pair: the private key text (keep
// it secret) and the verifier key text auditors pin with --witness.
func GenerateCosignerKey(name string, rnd io.Reader) (skey, vkey string, err error) {
	if !isKeyName(name) {
		return "", "", fmt.Errorf("witness name %q: use letters, digits, dots, dashes and slashes", name)
	}
	pub, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return "", "", err
	}
	hash := fmt.Sprintf("%08x", cosignKeyHash(name, pub))
	skey = "PRIVATE+KEY+" + name + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{cosignatureAlg}, priv.Seed()...))
	vkey = name + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{cosignatureAlg}, pub...))
	return skey, vkey, nil
}

func isKeyName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "+ \t\n") && strings.ToValidUTF8(name, "") == name
}

// Cosigner signs checkpoints as a witness.
type Cosigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
	vkey string
	now  func() time.Time
}

// NewCosigner parses a witness private key text.
func NewCosigner(skey string, now func() time.Time) (*Cosigner, error) {
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" || !isKeyName(parts[2]) {
		return nil, errors.New("witness key: not a PRIVATE+KEY+name+hash+key text")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != cosignatureAlg {
		return nil, errors.New("witness key: not an Ed25519 cosignature/v1 key")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	pub := priv.Public().(ed25519.PublicKey)
	hash := cosignKeyHash(parts[2], pub)
	if fmt.Sprintf("%08x", hash) != parts[3] {
		return nil, errors.New("witness key: the key id does not match the key")
	}
	if now == nil {
		now = time.Now
	}
	return &Cosigner{name: parts[2], hash: hash, priv: priv, now: now,
		vkey: parts[2] + "+" + parts[3] + "+" + base64.StdEncoding.EncodeToString(append([]byte{cosignatureAlg}, pub...))}, nil
}

// Name is the witness's key name.
func (c *Cosigner) Name() string { return c.name }

// KeyHash is the key id.
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// VerifierKey is the public key text.
func (c *Cosigner) VerifierKey() string { return c.vkey }

// Sign signs a note body as a cosignature/v1.
func (c *Cosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(c.now().Unix())
	sig := ed25519.Sign(c.priv, cosignMessage(t, msg))
	return append(binary.BigEndian.AppendUint64(nil, t), sig...), nil
}

// Cosign returns the signed checkpoint with this witness's signature line
// added to the signatures it already carries.
func (c *Cosigner) Cosign(signed string) (string, error) {
	text, sigs, err := splitNote(signed)
	if err != nil {
		return "", err
	}
	mine, err := note.Sign(&note.Note{Text: text}, c)
	if err != nil {
		return "", err
	}
	_, line, _ := splitNote(string(mine))
	var kept []string
	for _, s := range sigs {
		if !strings.HasPrefix(s, "— "+c.name+" ") {
			kept = append(kept, s)
		}
	}
	return joinNote(text, append(kept, line...)), nil
}

// cosignVerifier verifies one witness's cosignatures.
type cosignVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosignVerifier) Name() string    { return v.name }
func (v *cosignVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t >= 1<<63 {
		return false
	}
	return ed25519.Verify(v.pub, cosignMessage(t, msg), sig[8:])
}

// NewCosignVerifier parses a witness verifier key text.
func NewCosignVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 || !isKeyName(parts[0]) {
		return nil, fmt.Errorf("witness key %q: not a name+hash+key text", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != cosignatureAlg {
		return nil, fmt.Errorf("witness key %q: not an Ed25519 cosignature/v1 key", vkey)
	}
	pub := ed25519.PublicKey(raw[1:])
	hash := cosignKeyHash(parts[0], pub)
	if fmt.Sprintf("%08x", hash) != parts[1] {
		return nil, fmt.Errorf("witness key %q: the key id does not match the key", vkey)
	}
	return &cosignVerifier{name: parts[0], hash: hash, pub: pub}, nil
}

// Cosigners returns the names of the witnesses (of the given keys) whose
// cosignatures on the signed checkpoint verify. A signature line of a
// given key that does not verify is an error: someone altered it.
func Cosigners(signed string, witnessKeys []string) ([]string, error) {
	var vs []note.Verifier
	for _, k := range witnessKeys {
		v, err := NewCosignVerifier(k)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(vs...))
	var unverified *note.UnverifiedNoteError
	if errors.As(err, &unverified) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness cosignatures: %w", err)
	}
	var names []string
	for _, s := range n.Sigs {
		names = append(names, s.Name)
	}
	return names, nil
}

// MergeCosignatures adds the signature lines of from (the same checkpoint,
// cosigned) that verify under witnessKeys to into's lines. It fails if the
// texts differ or from carries no valid cosignature of those keys.
func MergeCosignatures(into, from string, witnessKeys []string) (string, error) {
	text, sigs, err := splitNote(into)
	if err != nil {
		return "", err
	}
	ftext, fsigs, err := splitNote(from)
	if err != nil {
		return "", err
	}
	if ftext != text {
		return "", errors.New("the cosigned checkpoint's text differs from the ledger's checkpoint of that size")
	}
	names, err := Cosigners(from, witnessKeys)
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", errors.New("no cosignature of a witness this ledger knows")
	}
	have := map[string]bool{}
	for _, s := range sigs {
		have[s] = true
	}
	for _, s := range fsigs {
		for _, name := range names {
			if strings.HasPrefix(s, "— "+name+" ") && !have[s] {
				sigs = append(sigs, s)
				have[s] = true
			}
		}
	}
	return joinNote(text, sigs), nil
}

// splitNote cuts a signed note into its text and signature lines.
func splitNote(signed string) (string, []string, error) {
	i := strings.LastIndex(signed, "\n\n")
	if i < 0 || !strings.HasSuffix(signed, "\n") {
		return "", nil, errors.New("not a signed note")
	}
	return signed[:i+1], strings.Split(strings.TrimSuffix(signed[i+2:], "\n"), "\n"), nil
}

func joinNote(text string, sigs []string) string {
	return text + "\n" + strings.Join(sigs, "\n") + "\n"
}

// CheckConsistency checks that the tree of checkpoint to extends the tree
// of checkpoint from, with the proof's hashes; the roots are the signed
// checkpoints' own.
func CheckConsistency(hashes []tlog.Hash, from, to Checkpoint) error {
	if from.Size == 0 || from.Size > to.Size {
		return fmt.Errorf("no consistency from %d events to %d", from.Size, to.Size)
	}
	return tlog.CheckTree(hashes, int64(to.Size), to.Root, int64(from.Size), from.Root)
}

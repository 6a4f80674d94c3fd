package events

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// A group is the set of events an export scope selects as a unit: one
// unit-year (kpi.u.<unit>.<fy>), one framework (kpi.fw.<fy>.<kind>), one
// registered department (kpi.reg.<code>) or the ledger's own events. Each
// group has a chain over its events in stream order; a checkpoint commits
// to every group's event count and chain head through the group tree, a
// Merkle tree over the groups' records sorted by name. A bundle of one
// unit-year proves its group's record is in the tree the checkpoint signed,
// so leaving out any event of the unit-year changes the count and the head
// the verifier recomputes.

// GroupOf names the group an event belongs to.
func GroupOf(e *Envelope) (string, error) {
	subject, err := e.Subject()
	if err != nil {
		return "", err
	}
	return GroupOfSubject(subject), nil
}

// GroupOfSubject names the group of an event subject.
func GroupOfSubject(subject string) string {
	tokens := strings.SplitN(subject, ".", 5)
	n := len(tokens)
	if n >= 2 {
		switch tokens[1] {
		case "u", "fw":
			n = min(n, 4)
		case "reg":
			n = min(n, 3)
		default:
			n = 2
		}
	}
	return strings.Join(tokens[:n], ".")
}

// UnitYearGroup is the group of one unit-year's events.
func UnitYearGroup(unit string, fy int) string { return fmt.Sprintf("kpi.u.%s.%d", unit, fy) }

// groupDomain separates group chain hashes from any other SHA-256 use.
const groupDomain = "kpiledger/group/v1\n"

// GroupHead is where a group's chain stands: how many events it holds and
// the hash chained over each one's stream sequence and event hash.
type GroupHead struct {
	Count uint64    `json:"count"`
	Head  tlog.Hash `json:"head"`
}

// Add chains the event at stream sequence seq with hash eventHash (hex).
func (g *GroupHead) Add(seq uint64, eventHash string) error {
	var eh [32]byte
	if len(eventHash) != 64 {
		return fmt.Errorf("event hash %q is not 32 hex-encoded bytes", eventHash)
	}
	for i := range eh {
		hi, ok1 := unhex(eventHash[2*i])
		lo, ok2 := unhex(eventHash[2*i+1])
		if !ok1 || !ok2 {
			return fmt.Errorf("event hash %q is not 32 hex-encoded bytes", eventHash)
		}
		eh[i] = hi<<4 | lo
	}
	var buf [len(groupDomain) + 32 + 8 + 32]byte
	b := append(buf[:0], groupDomain...)
	b = append(b, g.Head[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, eh[:]...)
	g.Head = sha256.Sum256(b)
	g.Count++
	return nil
}

// GroupRecord is one leaf of the group tree: a group's name, count and head.
type GroupRecord struct {
	Name string
	GroupHead
}

// Text is the record as hashed into the group tree's leaf.
func (r GroupRecord) Text() string {
	return fmt.Sprintf("group %s %d %s\n", r.Name, r.Count, base64.StdEncoding.EncodeToString(r.Head[:]))
}

// ParseGroupRecord reads a record's text.
func ParseGroupRecord(text string) (GroupRecord, error) {
	var r GroupRecord
	f := strings.Split(strings.TrimSuffix(text, "\n"), " ")
	if len(f) != 4 || f[0] != "group" || f[1] == "" || !strings.HasSuffix(text, "\n") {
		return r, fmt.Errorf("%q is not a group record", text)
	}
	var err error
	r.Name = f[1]
	if r.Count, err = parseDecimal(f[2]); err != nil {
		return r, fmt.Errorf("group record count: %w", err)
	}
	if r.Head, err = parseHash(f[3]); err != nil {
		return r, fmt.Errorf("group record head: %w", err)
	}
	return r, nil
}

// GroupTree is the Merkle tree (RFC 6962, as tlog hashes it) over every
// group's record, sorted by group name.
type GroupTree struct {
	records []GroupRecord
	hashes  []tlog.Hash // tlog's stored hashes of the tree
}

// NewGroupTree builds the tree over the groups' heads.
func NewGroupTree(groups map[string]GroupHead) (*GroupTree, error) {
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	slices.Sort(names)
	t := &GroupTree{records: make([]GroupRecord, len(names))}
	for i, n := range names {
		t.records[i] = GroupRecord{Name: n, GroupHead: groups[n]}
		hs, err := tlog.StoredHashes(int64(i), []byte(t.records[i].Text()), t)
		if err != nil {
			return nil, err
		}
		t.hashes = append(t.hashes, hs...)
	}
	return t, nil
}

// ReadHashes serves tlog the tree's stored hashes.
func (t *GroupTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("group tree: no stored hash %d", x)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

// Len is the number of groups.
func (t *GroupTree) Len() int { return len(t.records) }

// Root is the tree hash.
func (t *GroupTree) Root() tlog.Hash {
	h, err := tlog.TreeHash(int64(len(t.records)), t)
	if err != nil {
		return tlog.Hash{}
	}
	return h
}

// Records are the leaves in order.
func (t *GroupTree) Records() []GroupRecord { return t.records }

// Prove returns a group's record, its leaf index and its inclusion proof.
func (t *GroupTree) Prove(name string) (GroupRecord, int64, tlog.RecordProof, error) {
	i, ok := slices.BinarySearchFunc(t.records, name, func(r GroupRecord, n string) int { return strings.Compare(r.Name, n) })
	if !ok {
		return GroupRecord{}, 0, nil, fmt.Errorf("no group %s", name)
	}
	p, err := tlog.ProveRecord(int64(len(t.records)), int64(i), t)
	return t.records[i], int64(i), p, err
}

// GroupNeighbour is a record of the group tree with its leaf index and
// inclusion proof: what shows a group is absent.
type GroupNeighbour struct {
	Record string      `json:"record"`
	Index  int64       `json:"index"`
	Proof  []tlog.Hash `json:"proof"`
}

// ProveAbsent shows that a group has no record in the tree: the tree is
// sorted by name, so the records at the two adjacent leaves its name would
// fall between (only the first leaf when it sorts before every record,
// only the last when after) leave no room for it. An empty tree needs no
// record. It fails if the group is in the tree.
func (t *GroupTree) ProveAbsent(name string) ([]GroupNeighbour, error) {
	i, ok := slices.BinarySearchFunc(t.records, name, func(r GroupRecord, n string) int { return strings.Compare(r.Name, n) })
	if ok {
		return nil, fmt.Errorf("group %s is in the tree", name)
	}
	var out []GroupNeighbour
	for _, at := range []int{i - 1, i} {
		if at < 0 || at >= len(t.records) {
			continue
		}
		p, err := tlog.ProveRecord(int64(len(t.records)), int64(at), t)
		if err != nil {
			return nil, err
		}
		out = append(out, GroupNeighbour{Record: t.records[at].Text(), Index: int64(at), Proof: p})
	}
	return out, nil
}

// CheckGroupAbsent checks ProveAbsent's answer against a checkpoint's
// group tree: each neighbour's record is in it, at adjacent leaves whose
// names bracket the group's (or at the first or last leaf, beyond which
// it would sort).
func CheckGroupAbsent(c Checkpoint, name string, neighbours []GroupNeighbour) error {
	if c.Groups == nil {
		return errors.New("the checkpoint commits to no group tree")
	}
	recs := make([]GroupRecord, len(neighbours))
	for k, n := range neighbours {
		r, err := ParseGroupRecord(n.Record)
		if err != nil {
			return err
		}
		if err := CheckGroupRecord(c, r, n.Index, n.Proof); err != nil {
			return fmt.Errorf("the record of group %s is not in the checkpoint's group tree: %w", r.Name, err)
		}
		recs[k] = r
	}
	last := int64(c.GroupCount) - 1
	switch len(recs) {
	case 0:
		if c.GroupCount == 0 {
			return nil
		}
		return fmt.Errorf("the checkpoint's group tree holds %d groups and no neighbour of %s is shown", c.GroupCount, name)
	case 1:
		n, r := neighbours[0], recs[0]
		if (n.Index == 0 && name < r.Name) || (n.Index == last && r.Name < name) {
			return nil
		}
		return fmt.Errorf("group %s at leaf %d of %d does not show that %s sorts outside the tree", r.Name, n.Index, c.GroupCount, name)
	case 2:
		if neighbours[1].Index != neighbours[0].Index+1 {
			return fmt.Errorf("the neighbours of %s are at leaves %d and %d, not adjacent ones", name, neighbours[0].Index, neighbours[1].Index)
		}
		if !(recs[0].Name < name && name < recs[1].Name) {
			return fmt.Errorf("groups %s and %s do not bracket %s", recs[0].Name, recs[1].Name, name)
		}
		return nil
	}
	return fmt.Errorf("%d neighbours shown for %s, at most 2 make sense", len(recs), name)
}

// CheckGroupRecord checks a record's inclusion proof against a checkpoint's
// group tree.
func CheckGroupRecord(c Checkpoint, r GroupRecord, index int64, proof tlog.RecordProof) error {
	if c.Groups == nil {
		return errors.New("the checkpoint commits to no group tree")
	}
	return tlog.CheckRecord(proof, int64(c.GroupCount), *c.Groups, index, tlog.RecordHash([]byte(r.Text())))
}

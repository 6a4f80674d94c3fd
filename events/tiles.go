package events

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of the stored tiles, as c2sp.org/tlog-tiles
// fixes it: a full tile holds 256 hashes of one tree level.
const TileHeight = 8

// TilesBucket is the JetStream key-value bucket holding the log's tree
// hashes as tiles; every node of a cluster shares it, replicated like the
// stream. Tiles are derived data: they can be rebuilt from the log.
const TilesBucket = "kpiledger-tiles"

const (
	tileWidth = 1 << TileHeight
	tileBytes = tileWidth * tlog.HashSize
	stateKey  = "state"
	// cachedTiles bounds the full tiles kept in memory (8 KiB each).
	cachedTiles = 4096
)

// Tiles keeps every hash of the log's Merkle tree, so that an inclusion
// proof for any event at any tree size, and a consistency proof between any
// two sizes, can be produced long after the fact, after a restart and on
// any node. The leaf at index i is tlog.RecordHash of the event hash at
// stream sequence i+1. Full tiles go to the bucket under their tlog-tiles
// path (tile/8/L/NNN); the partial tiles on the right edge live in memory,
// and the partial tiles above level 0 are saved with the leaf count they
// stand for, so a restart replays at most 255 events.
type Tiles struct {
	kv    jetstream.KeyValue
	store *Store

	syncMu sync.Mutex // one Sync at a time

	mu    sync.RWMutex
	size  int64    // leaves added
	edge  [][]byte // per tiling level: the partial tile's hashes
	edgeN []int64  // per tiling level: the partial tile's number

	cacheMu sync.Mutex
	cache   map[string][]byte // full tiles read or written
	pinned  map[string][]byte // full tiles not yet saved: never evicted
}

// tilesState is what the bucket remembers besides the full tiles.
type tilesState struct {
	Stream string   `json:"stream"`
	Leaves int64    `json:"leaves"` // a multiple of 256: no level-0 edge
	Edge   [][]byte `json:"edge"`   // the partial tiles of levels 1 and up
	EdgeN  []int64  `json:"edge_n"`
}

// OpenTiles opens (or creates) the tiles bucket and loads where it stands;
// call Sync to bring it up to the log.
func OpenTiles(ctx context.Context, js jetstream.JetStream, store *Store, replicas int) (*Tiles, error) {
	if replicas == 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      TilesBucket,
		Description: "kpiledger's Merkle tree hashes as c2sp.org/tlog-tiles tiles; derived from the log",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("tiles bucket: %w", err)
	}
	t := &Tiles{kv: kv, store: store, cache: map[string][]byte{}, pinned: map[string][]byte{}}
	entry, err := kv.Get(ctx, stateKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		t.edge, t.edgeN = [][]byte{nil}, []int64{0}
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tiles state: %w", err)
	}
	var st tilesState
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		return nil, fmt.Errorf("tiles state: %w", err)
	}
	if st.Stream != store.Name() || st.Leaves%tileWidth != 0 || len(st.Edge) != len(st.EdgeN) {
		return nil, fmt.Errorf("tiles state: not a state of stream %s", store.Name())
	}
	last, err := store.LastSequence(ctx)
	if err != nil {
		return nil, err
	}
	if uint64(st.Leaves) > last {
		return nil, fmt.Errorf("tiles state: %d leaves but the stream ends at %d", st.Leaves, last)
	}
	t.size = st.Leaves
	t.edge = append([][]byte{nil}, st.Edge...)
	t.edgeN = append([]int64{st.Leaves / tileWidth}, st.EdgeN...)
	return t, nil
}

// Size is the number of leaves the tiles hold: the stream sequence they
// have reached.
func (t *Tiles) Size() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size
}

// Sync adds every event the stream holds beyond the tiles, saving each
// tile that fills.
func (t *Tiles) Sync(ctx context.Context) error {
	last, err := t.store.LastSequence(ctx)
	if err != nil {
		return err
	}
	return t.SyncTo(ctx, last)
}

// SyncTo adds the events up to stream sequence upTo.
func (t *Tiles) SyncTo(ctx context.Context, upTo uint64) error {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	from := uint64(t.Size())
	if upTo <= from {
		return nil
	}
	var filled int
	err := t.store.Read(ctx, ReadOptions{After: from, UpTo: upTo}, func(e *Envelope) error {
		var h [32]byte
		if _, err := hex.Decode(h[:], []byte(e.Hash)); err != nil || len(e.Hash) != 64 {
			return fmt.Errorf("tiles: event %d: hash %q is not 32 hex-encoded bytes", e.Sequence, e.Hash)
		}
		t.mu.Lock()
		if uint64(t.size)+1 != e.Sequence {
			t.mu.Unlock()
			return fmt.Errorf("tiles: event %d follows leaf %d: the stream has a gap", e.Sequence, t.size)
		}
		filled += t.add(0, tlog.RecordHash(h[:]))
		t.size++
		t.mu.Unlock()
		if filled >= 64 {
			filled = 0
			return t.save(ctx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.save(ctx)
}

// add appends a hash to a level's partial tile; when the tile fills it is
// pinned for saving and its root goes up a level. It returns the number of
// tiles filled. The caller holds mu.
func (t *Tiles) add(level int, h tlog.Hash) int {
	if level == len(t.edge) {
		t.edge, t.edgeN = append(t.edge, nil), append(t.edgeN, 0)
	}
	t.edge[level] = append(t.edge[level], h[:]...)
	if len(t.edge[level]) < tileBytes {
		return 0
	}
	tile := tlog.Tile{H: TileHeight, L: level, N: t.edgeN[level], W: tileWidth}
	data := t.edge[level]
	// The tile's root is the node above its two top hashes.
	top := TileHeight*level + TileHeight - 1
	left, _ := tlog.HashFromTile(tile, data, tlog.StoredHashIndex(top, 2*tile.N))
	right, _ := tlog.HashFromTile(tile, data, tlog.StoredHashIndex(top, 2*tile.N+1))
	t.cacheMu.Lock()
	t.pinned[tile.Path()] = data
	t.cacheMu.Unlock()
	t.edge[level] = make([]byte, 0, tileBytes)
	t.edgeN[level]++
	return 1 + t.add(level+1, tlog.NodeHash(left, right))
}

// save writes the pinned tiles, then the state they make whole.
func (t *Tiles) save(ctx context.Context) error {
	t.cacheMu.Lock()
	pinned := make(map[string][]byte, len(t.pinned))
	for k, v := range t.pinned {
		pinned[k] = v
	}
	t.cacheMu.Unlock()
	if len(pinned) == 0 {
		return nil
	}
	for path, data := range pinned {
		if _, err := t.kv.Put(ctx, path, data); err != nil {
			return fmt.Errorf("tiles: save %s: %w", path, err)
		}
	}
	t.mu.RLock()
	st := tilesState{Stream: t.store.Name(), Leaves: t.edgeN[0] * tileWidth}
	for l := 1; l < len(t.edge); l++ {
		st.Edge = append(st.Edge, append([]byte(nil), t.edge[l]...))
		st.EdgeN = append(st.EdgeN, t.edgeN[l])
	}
	t.mu.RUnlock()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if _, err := t.kv.Put(ctx, stateKey, b); err != nil {
		return fmt.Errorf("tiles: save state: %w", err)
	}
	t.cacheMu.Lock()
	for path, data := range pinned {
		delete(t.pinned, path)
		t.remember(path, data)
	}
	t.cacheMu.Unlock()
	return nil
}

// remember caches a full tile, evicting arbitrary others past the bound.
// The caller holds cacheMu.
func (t *Tiles) remember(path string, data []byte) {
	for k := range t.cache {
		if len(t.cache) < cachedTiles {
			break
		}
		delete(t.cache, k)
	}
	t.cache[path] = data
}

// tileData returns the hashes of a tile: the partial edge, or a full tile
// from memory or the bucket. The caller holds mu (read).
func (t *Tiles) tileData(level int, n int64) ([]byte, error) {
	if level < len(t.edge) && n == t.edgeN[level] {
		return t.edge[level], nil
	}
	if level >= len(t.edge) || n > t.edgeN[level] {
		return nil, fmt.Errorf("tiles: tile %d at level %d is beyond the tree", n, level)
	}
	path := tlog.Tile{H: TileHeight, L: level, N: n, W: tileWidth}.Path()
	t.cacheMu.Lock()
	data, ok := t.pinned[path]
	if !ok {
		data, ok = t.cache[path]
	}
	t.cacheMu.Unlock()
	if ok {
		return data, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	entry, err := t.kv.Get(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("tiles: read %s: %w", path, err)
	}
	data = entry.Value()
	if len(data) != tileBytes {
		return nil, fmt.Errorf("tiles: %s holds %d bytes, not a full tile", path, len(data))
	}
	t.cacheMu.Lock()
	t.remember(path, data)
	t.cacheMu.Unlock()
	return data, nil
}

// ReadHashes serves tlog the tree's stored hashes, from the tiles. The
// caller holds mu (read).
func (t *Tiles) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		tile := tlog.TileForIndex(TileHeight, x)
		data, err := t.tileData(tile.L, tile.N)
		if err != nil {
			return nil, err
		}
		if len(data) < tile.W*tlog.HashSize {
			return nil, fmt.Errorf("tiles: hash %d is beyond the tree", x)
		}
		if out[i], err = tlog.HashFromTile(tile, data, x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ErrBeyondTree means a proof was asked for a size the tiles do not reach.
var ErrBeyondTree = errors.New("beyond the tree")

func (t *Tiles) within(sizes ...int64) error {
	for _, s := range sizes {
		if s < 0 || s > t.size {
			return fmt.Errorf("%w: size %d, the tree holds %d events", ErrBeyondTree, s, t.size)
		}
	}
	return nil
}

// TreeHash is the root hash of the tree's first size leaves.
func (t *Tiles) TreeHash(size int64) (tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.within(size); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, t)
}

// ProveInclusion proves that leaf index (the event at stream sequence
// index+1) is in the tree of size leaves.
func (t *Tiles) ProveInclusion(index, size int64) (tlog.RecordProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.within(size); err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, fmt.Errorf("%w: leaf %d is not in a tree of %d", ErrBeyondTree, index, size)
	}
	return tlog.ProveRecord(size, index, t)
}

// ProveConsistency proves that the tree of size from is a prefix of the
// tree of size to.
func (t *Tiles) ProveConsistency(from, to int64) (tlog.TreeProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.within(from, to); err != nil {
		return nil, err
	}
	if from < 1 || from > to {
		return nil, fmt.Errorf("%w: no consistency proof from %d to %d", ErrBeyondTree, from, to)
	}
	return tlog.ProveTree(to, from, t)
}

// OpenTilesFor opens the tiles bucket of a store's stream, replicated as
// the stream is.
func OpenTilesFor(ctx context.Context, store *Store) (*Tiles, error) {
	replicas := 1
	if info := store.stream.CachedInfo(); info != nil && info.Config.Replicas > 0 {
		replicas = info.Config.Replicas
	}
	return OpenTiles(ctx, store.js, store, replicas)
}

// groupsPerPart bounds one key-value entry of a saved group tree: a record
// is about 72 bytes, so a part stays near 600 KB, under the 1 MiB a NATS
// message may carry by default (a ledger of every province, department
// and local administration over a decade has some 30,000 groups).
const groupsPerPart = 8192

// SaveGroups keeps the group tree a checkpoint of size leaves commits to,
// so that bundles cut at it can prove each group's record: its records in
// parts ("groups/<size>/<n>"), then "groups/<size>" saying how many parts
// there are, written last so that its presence means every part is there.
func (t *Tiles) SaveGroups(ctx context.Context, size uint64, g *GroupTree) error {
	key := "groups/" + strconv.FormatUint(size, 10)
	records := g.Records()
	parts := 0
	for from := 0; from < len(records); from += groupsPerPart {
		var b strings.Builder
		for _, r := range records[from:min(from+groupsPerPart, len(records))] {
			b.WriteString(r.Text())
		}
		if _, err := t.kv.Put(ctx, key+"/"+strconv.Itoa(parts), []byte(b.String())); err != nil {
			return err
		}
		parts++
	}
	_, err := t.kv.Put(ctx, key, []byte(groupPartsPrefix+strconv.Itoa(parts)+"\n"))
	return err
}

// groupPartsPrefix starts the index entry of a group tree saved in parts;
// an entry saved before parts holds the records themselves ("group …").
const groupPartsPrefix = "parts "

// Groups loads the group tree saved for a checkpoint size.
func (t *Tiles) Groups(ctx context.Context, size uint64) (*GroupTree, error) {
	key := "groups/" + strconv.FormatUint(size, 10)
	entry, err := t.kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("the group tree of checkpoint %d: %w", size, err)
	}
	texts := []string{string(entry.Value())}
	if n, ok := strings.CutPrefix(texts[0], groupPartsPrefix); ok {
		parts, err := strconv.Atoi(strings.TrimSuffix(n, "\n"))
		if err != nil || parts < 0 {
			return nil, fmt.Errorf("the group tree of checkpoint %d: a malformed index %q", size, texts[0])
		}
		texts = texts[:0]
		for p := range parts {
			part, err := t.kv.Get(ctx, key+"/"+strconv.Itoa(p))
			if err != nil {
				return nil, fmt.Errorf("the group tree of checkpoint %d, part %d of %d: %w", size, p+1, parts, err)
			}
			texts = append(texts, string(part.Value()))
		}
	}
	heads := map[string]GroupHead{}
	for _, text := range texts {
		for _, line := range strings.SplitAfter(text, "\n") {
			if line == "" {
				continue
			}
			r, err := ParseGroupRecord(line)
			if err != nil {
				return nil, err
			}
			heads[r.Name] = r.GroupHead
		}
	}
	return NewGroupTree(heads)
}

// UpdateCosigned changes the checkpoint of a size kept with its witness
// cosignatures (base when none is kept yet) by fn, compare-and-set, so two
// witnesses answering at once both keep their signatures.
func (t *Tiles) UpdateCosigned(ctx context.Context, size uint64, base string, fn func(cur string) (string, error)) (string, error) {
	key := "cosigned/" + strconv.FormatUint(size, 10)
	for attempt := 0; ; attempt++ {
		cur, rev := base, uint64(0)
		entry, err := t.kv.Get(ctx, key)
		switch {
		case err == nil:
			cur, rev = string(entry.Value()), entry.Revision()
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return "", err
		}
		next, err := fn(cur)
		if err != nil {
			return "", err
		}
		if rev == 0 {
			_, err = t.kv.Create(ctx, key, []byte(next))
		} else {
			_, err = t.kv.Update(ctx, key, []byte(next), rev)
		}
		if err == nil {
			return next, nil
		}
		if attempt >= 8 {
			return "", err
		}
	}
}

// Cosigned returns the checkpoint of a size with its collected witness
// cosignatures, if any were collected.
func (t *Tiles) Cosigned(ctx context.Context, size uint64) (string, bool, error) {
	entry, err := t.kv.Get(ctx, "cosigned/"+strconv.FormatUint(size, 10))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(entry.Value()), true, nil
}

// SaveStatement keeps the latest signed results statement of a unit-year.
func (t *Tiles) SaveStatement(ctx context.Context, unit string, fy int, signed string) error {
	_, err := t.kv.Put(ctx, statementKey(unit, fy), []byte(signed))
	return err
}

// Statement returns the latest signed results statement of a unit-year, if any.
func (t *Tiles) Statement(ctx context.Context, unit string, fy int) (string, bool, error) {
	entry, err := t.kv.Get(ctx, statementKey(unit, fy))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(entry.Value()), true, nil
}

func statementKey(unit string, fy int) string { return "statement/" + unit + "/" + strconv.Itoa(fy) }

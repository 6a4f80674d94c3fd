package events_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// TestTilesProveEverySize appends 100,000 events in bulk, keeps their tree
// in tiles, and checks inclusion proofs of random events at random sizes
// and consistency proofs between random sizes against roots computed
// independently (the frontier tree), before and after the tiles are
// reopened from the bucket as a restarted node would.
func TestTilesProveEverySize(t *testing.T) {
	const total = 100_000
	ctx := context.Background()
	srv := eventstest.StartServer(t)
	nc, js := eventstest.Connect(t, srv)
	st, err := events.Open(ctx, js, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Bulk: async publishes of sealed envelopes, as the store would write them.
	roots := map[int64]tlog.Hash{}
	hashes := make([]string, 0, total)
	var tree events.Tree
	sizes := []int64{1, 2, 255, 256, 257, 65535, 65536, 65537, total}
	for range 12 {
		sizes = append(sizes, 1+rand.Int64N(total))
	}
	want := map[int64]bool{}
	for _, s := range sizes {
		want[s] = true
	}
	began := time.Now()
	ajs, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		t.Fatal(err)
	}
	// One sealed envelope is the template; each event differs in its ids
	// (fixed width, replaced in the bytes) and so in its hash, computed
	// for real. Marshalling 100,000 envelopes one by one was most of the
	// test's time under the race detector.
	agg := indicator("TH-50", 2563, "ind-XXXXXX")
	tmpl, err := events.NewEnvelope(domain.IndicatorWithdrawn{Reason: "ซ้ำ"}, *agg)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ID, tmpl.CommandID, tmpl.Actor = "e-XXXXXX", "c-XXXXXX", officer
	tmpl.AggregateVersion, tmpl.PrevHash = 2, strings.Repeat("0", 64)
	tmpl.Hash = strings.Repeat("f", 64)
	raw, _ := json.Marshal(tmpl)
	subject, _ := tmpl.Subject()
	for i := range total {
		n := fmt.Sprintf("%06d", i)
		e := *tmpl
		e.ID, e.CommandID, e.AggregateID = "e-"+n, "c-"+n, "ind-"+n
		e.Hash = e.ComputeHash()
		data := bytes.ReplaceAll(raw, []byte("XXXXXX"), []byte(n))
		data = bytes.Replace(data, []byte(tmpl.Hash), []byte(e.Hash), 1)
		if _, err := ajs.PublishAsync(strings.Replace(subject, "XXXXXX", n, 1), data, jetstream.WithStallWait(time.Minute)); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, e.Hash)
		_ = tree.Add(e.Hash)
		if want[int64(tree.N)] {
			roots[int64(tree.N)] = tree.Root()
		}
	}
	<-ajs.PublishAsyncComplete()
	t.Logf("%d events published in %s", total, time.Since(began).Round(time.Millisecond))
	began = time.Now()
	tiles, err := events.OpenTilesFor(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := tiles.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("tiles built over them in %s", time.Since(began).Round(time.Millisecond))
	if tiles.Size() != total {
		t.Fatalf("tiles hold %d leaves, want %d", tiles.Size(), total)
	}
	check := func(t *testing.T, tiles *events.Tiles) {
		for _, size := range sizes {
			root, err := tiles.TreeHash(size)
			if err != nil || root != roots[size] {
				t.Fatalf("tree hash at %d: %v, differs from the frontier's: %v", size, root, err)
			}
			for range 20 {
				i := rand.Int64N(size)
				p, err := tiles.ProveInclusion(i, size)
				if err != nil {
					t.Fatal(err)
				}
				hb, _ := hex.DecodeString(hashes[i])
				if err := tlog.CheckRecord(p, size, roots[size], i, tlog.RecordHash(hb)); err != nil {
					t.Fatalf("inclusion of leaf %d at size %d: %v", i, size, err)
				}
				// The same proof does not hold for another size.
				if other := sizes[rand.IntN(len(sizes))]; other != size && i < other {
					if tlog.CheckRecord(p, other, roots[other], i, tlog.RecordHash(hb)) == nil {
						t.Fatalf("a proof for size %d verified at size %d", size, other)
					}
				}
			}
			for _, to := range sizes {
				if to < size {
					continue
				}
				p, err := tiles.ProveConsistency(size, to)
				if err != nil {
					t.Fatal(err)
				}
				if err := tlog.CheckTree(p, to, roots[to], size, roots[size]); err != nil {
					t.Fatalf("consistency %d→%d: %v", size, to, err)
				}
			}
		}
	}
	t.Run("live", func(t *testing.T) { check(t, tiles) })
	t.Run("reopened", func(t *testing.T) {
		again, err := events.OpenTilesFor(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if s := again.Size(); s != total-total%256 {
			t.Fatalf("reopened tiles start at %d leaves, want the last full tile's %d", s, total-total%256)
		}
		if err := again.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, again)
	})
	if _, err := tiles.ProveInclusion(1, total+1); err == nil {
		t.Fatal("a proof beyond the tree")
	}
}

// TestGroupTreeSavedInParts: a checkpoint's group tree is kept in parts,
// so a ledger with tens of thousands of unit-years (every province,
// department and local administration over a decade) can still sign
// checkpoints: 40,000 records are 2.7 MB, more than one NATS message may
// carry, and SaveGroups failed on them when the tree was one value. A tree
// saved in one value by an earlier version still loads.
func TestGroupTreeSavedInParts(t *testing.T) {
	ctx := context.Background()
	srv := eventstest.StartServer(t)
	_, js := eventstest.Connect(t, srv)
	st, err := events.Open(ctx, js, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tiles, err := events.OpenTilesFor(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	heads := map[string]events.GroupHead{}
	for i := range 40_000 {
		var h events.GroupHead
		if err := h.Add(uint64(i+1), strings.Repeat(fmt.Sprintf("%02x", i%256), 32)); err != nil {
			t.Fatal(err)
		}
		heads[events.UnitYearGroup(fmt.Sprintf("LAO-%05d", i), 2560+i%10)] = h
	}
	gt, err := events.NewGroupTree(heads)
	if err != nil {
		t.Fatal(err)
	}
	if err := tiles.SaveGroups(ctx, 123_456, gt); err != nil {
		t.Fatalf("saving a group tree of %d groups: %v", gt.Len(), err)
	}
	back, err := tiles.Groups(ctx, 123_456)
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != gt.Len() || back.Root() != gt.Root() {
		t.Fatalf("loaded %d groups with root %x, saved %d with root %x", back.Len(), back.Root(), gt.Len(), gt.Root())
	}

	// The single-value form of earlier versions.
	small, err := events.NewGroupTree(map[string]events.GroupHead{"kpi.u.TH-50.2563": heads[events.UnitYearGroup("LAO-00001", 2561)]})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, events.TilesBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "groups/7", []byte(small.Records()[0].Text())); err != nil {
		t.Fatal(err)
	}
	old, err := tiles.Groups(ctx, 7)
	if err != nil || old.Root() != small.Root() {
		t.Fatalf("a tree saved in one value: %v, root %x want %x", err, old.Root(), small.Root())
	}
	// An index whose part is gone is an error, not a smaller tree.
	if err := kv.Delete(ctx, "groups/123456/2"); err != nil {
		t.Fatal(err)
	}
	if _, err := tiles.Groups(ctx, 123_456); err == nil || !strings.Contains(err.Error(), "part 3 of 5") {
		t.Fatalf("a tree missing a part: %v", err)
	}
}

package projections

import (
	"slices"
	"testing"

	"github.com/opdc/kpiledger/events"
)

// TestDropRedelivered: what an ordered consumer delivers again after a
// reset — before the batch or inside it — is not folded twice.
func TestDropRedelivered(t *testing.T) {
	batch := func(seqs ...uint64) []decoded {
		out := make([]decoded, len(seqs))
		for i, s := range seqs {
			out[i] = decoded{e: &events.Envelope{Sequence: s}}
		}
		return out
	}
	seqs := func(b []decoded) []uint64 {
		var out []uint64
		for _, it := range b {
			out = append(out, it.e.Sequence)
		}
		return out
	}
	for _, c := range []struct {
		in      []uint64
		applied uint64
		want    []uint64
	}{
		{[]uint64{5, 6, 7}, 4, []uint64{5, 6, 7}},
		{[]uint64{3, 4, 5, 6}, 4, []uint64{5, 6}},
		{[]uint64{5, 6, 7, 5, 6, 7, 8}, 4, []uint64{5, 6, 7, 8}},
		{[]uint64{1, 2}, 9, nil},
	} {
		if got := seqs(dropRedelivered(batch(c.in...), c.applied)); !slices.Equal(got, c.want) {
			t.Errorf("%v after %d: kept %v, want %v", c.in, c.applied, got, c.want)
		}
	}
}

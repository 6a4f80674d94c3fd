package api

import (
	"fmt"
	"testing"
)

// TestViewCacheStaysWithinItsSize: answers for ever new parameters do not
// grow the cache past maxViewCacheBytes, the newest answer is kept, and an
// answer is served only for the sequence it was built at.
func TestViewCacheStaysWithinItsSize(t *testing.T) {
	vc := newViewCache()
	body := make([]byte, 64<<10)
	n := 2 * maxViewCacheBytes / len(body)
	for i := range n {
		vc.put(fmt.Sprint("/v1/units/u", i), viewEntry{seq: 7, body: body, etag: `"x"`})
		if vc.bytes > maxViewCacheBytes {
			t.Fatalf("after %d answers the cache holds %d bytes", i+1, vc.bytes)
		}
	}
	total := 0
	for _, e := range vc.entries {
		total += len(e.body)
	}
	if total != vc.bytes {
		t.Fatalf("counted %d bytes, holds %d", vc.bytes, total)
	}
	last := fmt.Sprint("/v1/units/u", n-1)
	if _, ok := vc.get(last, 7); !ok {
		t.Error("the newest answer was dropped")
	}
	if _, ok := vc.get(last, 8); ok {
		t.Error("an answer built at sequence 7 served at 8")
	}
	vc.put(last, viewEntry{seq: 6, body: []byte("old"), etag: `"old"`})
	if e, ok := vc.get(last, 7); !ok || e.etag != `"x"` {
		t.Error("an answer built earlier replaced a later one")
	}
}

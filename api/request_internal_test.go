package api

import "testing"

// TestRequestMatchesLegacyHash: an event stored before canonical hashing
// carries the raw body's hash; it matches a byte-identical retry on its own
// aggregate — on routes with more than one path parameter too — and never
// one on another aggregate.
func TestRequestMatchesLegacyHash(t *testing.T) {
	r := request{hash: "canonical", raw: "raw", target: "id=X;round=12", id: "X"}
	for _, c := range []struct {
		stored, agg string
		want        bool
	}{
		{"canonical", "X", true},
		{"raw", "X", true},
		{"raw", "Y", false},
		{"other", "X", false},
	} {
		if got := r.matches(c.stored, c.agg); got != c.want {
			t.Errorf("matches(%q, %q) = %v", c.stored, c.agg, got)
		}
	}
	// A route without {id} (a proposal) has no aggregate to compare.
	p := request{hash: "canonical", raw: "raw", target: "fy=2563;unit=TH-50"}
	if !p.matches("raw", "any") {
		t.Error("legacy proposal retry refused")
	}
}

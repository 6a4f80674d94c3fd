package domain

import (
	"regexp"
	"testing"
)

// numberPattern is JSON's number grammar, as the decoder checked it before.
var numberPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// FuzzIsJSONNumber holds the hand-written check to the grammar it replaces.
func FuzzIsJSONNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "01", "1.", "1.5", "-1e5", "1E+05", "1e", ".5", "98.87", "", "-", "1.5e-3x", "١٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isJSONNumber([]byte(s)), numberPattern.MatchString(s); got != want {
			t.Fatalf("%q: isJSONNumber %v, pattern %v", s, got, want)
		}
	})
}

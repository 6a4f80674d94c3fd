package projections_test

import (
	"testing"

	"github.com/opdc/kpiledger/projections"
)

// FuzzParseStatement: any text parses or errs, and a parsed statement
// formats back to text that parses to the same statement.
func FuzzParseStatement(f *testing.F) {
	f.Add("kpiledger results v1\ncheckpoint 13 hnVOcauQ8wXE+qfu5XtBuJ5J683wOnRchV7mEeRZcjc=\nunit TH-50 province\nfiscal_year 2565\nframework_revision 1\n" +
		"indicator 01a2 75 25\nindicator 01a3 - 0\ncomponent performance 85.4167\ntotal 85.4167\nband ผ่าน ดี\n")
	f.Add("kpiledger results v1\ncheckpoint 1 x\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := projections.ParseStatement(text)
		if err != nil {
			return
		}
		again, err := projections.ParseStatement(s.Text())
		if err != nil {
			t.Fatalf("%q formatted as %q, which does not parse: %v", text, s.Text(), err)
		}
		if again.Text() != s.Text() {
			t.Fatalf("%q and %q", again.Text(), s.Text())
		}
	})
}

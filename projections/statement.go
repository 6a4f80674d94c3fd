package projections

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// A results statement is the figures the ledger publishes for a unit-year
// (every approved indicator's score and weighted score, every component's
// score, the total and the band), signed with the ledger's key and bound
// to the checkpoint whose events they were computed from. OPDC signs one
// when it closes a round (POST /v1/units/:unit/years/:fy/statement); an
// auditor re-folds the bundle's events up to that checkpoint with the
// domain's own scoring (kpiledger verify --recompute) and compares.

const statementHeader = "kpiledger results v1"

// Statement is a results statement's content.
type Statement struct {
	Size       uint64 // the checkpoint the figures were computed at
	Root       tlog.Hash
	Unit       string
	Kind       domain.UnitKind
	FiscalYear int
	Revision   int
	Indicators []StatementIndicator
	Components []StatementComponent
	Total      domain.Number
	Band       string
}

// StatementIndicator is one approved indicator's published figures.
type StatementIndicator struct {
	ID       string
	Score    domain.Number
	Weighted domain.Number
}

// StatementComponent is one component's published score.
type StatementComponent struct {
	Code  string
	Score domain.Number
}

// NewStatement takes a scorecard's figures, computed at checkpoint cp.
func NewStatement(sc Scorecard, cp events.Checkpoint) Statement {
	s := Statement{Size: cp.Size, Root: cp.Root, Unit: sc.Unit, Kind: sc.UnitKind, FiscalYear: sc.FiscalYear,
		Revision: sc.FrameworkRevision, Total: sc.Total, Band: sc.Band}
	for _, i := range sc.Indicators {
		s.Indicators = append(s.Indicators, StatementIndicator{ID: i.ID, Score: i.Score, Weighted: i.WeightedScore})
	}
	for _, c := range sc.Components {
		s.Components = append(s.Components, StatementComponent{Code: c.Code, Score: c.Score})
	}
	return s
}

func numText(n domain.Number) string {
	if n.IsZero() {
		return "-"
	}
	return string(n)
}

func parseNum(s string) (domain.Number, error) {
	if s == "-" {
		return "", nil
	}
	if _, ok := new(big.Rat).SetString(s); !ok || strings.ContainsAny(s, "/eE") {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	return domain.Number(s), nil
}

// Text is the statement as signed.
func (s Statement) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\ncheckpoint %d %s\nunit %s %s\nfiscal_year %d\nframework_revision %d\n", statementHeader,
		s.Size, s.Root, s.Unit, s.Kind, s.FiscalYear, s.Revision)
	for _, i := range s.Indicators {
		fmt.Fprintf(&b, "indicator %s %s %s\n", i.ID, numText(i.Score), numText(i.Weighted))
	}
	for _, c := range s.Components {
		fmt.Fprintf(&b, "component %s %s\n", c.Code, numText(c.Score))
	}
	fmt.Fprintf(&b, "total %s\nband %s\n", numText(s.Total), s.Band)
	return b.String()
}

// ParseStatement reads a statement's text.
func ParseStatement(text string) (Statement, error) {
	var s Statement
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 7 || lines[0] != statementHeader || !strings.HasSuffix(text, "\n") {
		return s, errors.New("not a kpiledger results statement")
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		key, rest, _ := strings.Cut(l, " ")
		f := strings.Fields(rest)
		var err error
		bad := func() error { return fmt.Errorf("results statement line %q", l) }
		switch key {
		case "checkpoint":
			if len(f) != 2 {
				return s, bad()
			}
			if _, err = fmt.Sscan(f[0], &s.Size); err == nil {
				s.Root, err = tlog.ParseHash(f[1])
			}
		case "unit":
			if len(f) != 2 {
				return s, bad()
			}
			s.Unit, s.Kind = f[0], domain.UnitKind(f[1])
		case "fiscal_year":
			_, err = fmt.Sscan(rest, &s.FiscalYear)
		case "framework_revision":
			_, err = fmt.Sscan(rest, &s.Revision)
		case "indicator":
			if len(f) != 3 {
				return s, bad()
			}
			i := StatementIndicator{ID: f[0]}
			if i.Score, err = parseNum(f[1]); err == nil {
				i.Weighted, err = parseNum(f[2])
			}
			s.Indicators = append(s.Indicators, i)
		case "component":
			if len(f) != 2 {
				return s, bad()
			}
			c := StatementComponent{Code: f[0]}
			c.Score, err = parseNum(f[1])
			s.Components = append(s.Components, c)
		case "total":
			s.Total, err = parseNum(rest)
		case "band":
			s.Band = rest
		default:
			return s, bad()
		}
		if err != nil {
			return s, fmt.Errorf("results statement line %q: %w", l, err)
		}
		seen[key] = true
	}
	for _, k := range []string{"checkpoint", "unit", "fiscal_year", "total", "band"} {
		if !seen[k] {
			return s, fmt.Errorf("results statement: no %s line", k)
		}
	}
	return s, nil
}

// ScoreEvents folds a unit-year's events (and its framework's) into a
// fresh state and scores the unit-year with the domain's own rules, as the
// ledger does: the recomputation an auditor runs on a bundle.
func ScoreEvents(evs []*events.Envelope, u domain.Unit, fy int) (Scorecard, error) {
	st := NewState()
	for _, e := range evs {
		if err := st.Apply(e); err != nil {
			return Scorecard{}, err
		}
	}
	return buildScorecard(st, u, fy)
}

// Recompute scores a unit-year from a bundle's events up to the statement's
// checkpoint and lists every figure that differs from the statement, each
// with the derivation of the recomputed value. No difference: nil.
func Recompute(stmt Statement, evs []*events.Envelope) ([]string, Scorecard, error) {
	var upTo []*events.Envelope
	for _, e := range evs {
		if e.Sequence <= stmt.Size {
			upTo = append(upTo, e)
		}
	}
	u, ok := NewState().Unit(stmt.Unit)
	if !ok {
		u = domain.Unit{Code: stmt.Unit, Kind: stmt.Kind}
	}
	sc, err := ScoreEvents(upTo, u, stmt.FiscalYear)
	if err != nil {
		return nil, sc, fmt.Errorf("recomputing %s FY%d: %w", stmt.Unit, stmt.FiscalYear, err)
	}
	var diffs []string
	differ := func(what string, said, got domain.Number, derivation string) {
		if numText(said) != numText(got) {
			diffs = append(diffs, fmt.Sprintf("%s: the signed statement says %s, recomputed %s\n    derivation: %s", what, numText(said), numText(got), derivation))
		}
	}
	byID := map[string]StatementIndicator{}
	for _, i := range stmt.Indicators {
		byID[i.ID] = i
	}
	for _, i := range sc.Indicators {
		said, ok := byID[i.ID]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("indicator %s (%s) is approved in the events but missing from the signed statement", i.ID, i.TitleTH))
			continue
		}
		delete(byID, i.ID)
		d := indicatorDerivation(i)
		differ(fmt.Sprintf("indicator %s (%s) score", i.ID, i.TitleTH), said.Score, i.Score, d)
		differ(fmt.Sprintf("indicator %s (%s) weighted score", i.ID, i.TitleTH), said.Weighted, i.WeightedScore, d+fmt.Sprintf(", weight %s, rollup %s", numText(i.Weight), sc.Rollup))
	}
	for _, id := range slices.Sorted(mapsKeys(byID)) {
		diffs = append(diffs, fmt.Sprintf("indicator %s is in the signed statement but not approved in the events", id))
	}
	comps := map[string]StatementComponent{}
	for _, c := range stmt.Components {
		comps[c.Code] = c
	}
	for _, c := range sc.Components {
		differ(fmt.Sprintf("component %s (%s) score", c.Code, c.NameTH), comps[c.Code].Score, c.Score,
			fmt.Sprintf("Σ wᵢ·sᵢ / Σ wᵢ over its %d approved indicators (%d awaiting a verified value)", c.Indicators, c.Pending))
	}
	differ("total", stmt.Total, sc.Total, sc.Formula)
	if stmt.Band != sc.Band {
		diffs = append(diffs, fmt.Sprintf("band: the signed statement says %q, recomputed %q\n    derivation: the framework's band for a total of %s", stmt.Band, sc.Band, numText(sc.Total)))
	}
	return diffs, sc, nil
}

func indicatorDerivation(i ScorecardIndicator) string {
	var targets []string
	for _, t := range i.Targets {
		targets = append(targets, fmt.Sprintf("%s=%s", t.Label, numText(t.Target)))
	}
	round := "no verified round"
	if i.Round != nil {
		round = fmt.Sprintf("round %d verified actual %s", *i.Round, numText(i.VerifiedActual))
	}
	level := "below the first level"
	if i.Level != nil {
		level = "level " + *i.Level
	}
	return fmt.Sprintf("direction %s, targets %s, %s → %s, score %s", i.Direction, strings.Join(targets, " "), round, level, numText(i.Score))
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// CheckStatementAt checks that a statement's checkpoint is the bundle's, or
// a tree the bundle's checkpoint extends (proof: the consistency hashes).
func CheckStatementAt(stmt Statement, cp events.Checkpoint, proof *events.ConsistencyProof) error {
	switch {
	case stmt.Size > cp.Size:
		return fmt.Errorf("the statement was computed at %d events, after the bundle's checkpoint of %d", stmt.Size, cp.Size)
	case stmt.Size == cp.Size:
		if stmt.Root != cp.Root {
			return fmt.Errorf("the statement's checkpoint of %d events has another root than the bundle's", stmt.Size)
		}
		return nil
	}
	if proof == nil || proof.From != stmt.Size || proof.To != cp.Size {
		return fmt.Errorf("no consistency proof from the statement's checkpoint (%d events) to the bundle's (%d)", stmt.Size, cp.Size)
	}
	return events.CheckConsistency(proof.Hashes, events.Checkpoint{Size: stmt.Size, Root: stmt.Root}, cp)
}

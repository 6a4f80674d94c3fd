package events

import (
	"fmt"
	"strconv"
	"strings"
)

// The subject tree. Every aggregate has one literal subject; unit
// aggregates also name their unit and fiscal year, so a subject filter can
// read one unit-year (kpi.u.TH-50.2563.>), one unit (kpi.u.TH-50.>), or the
// frameworks (kpi.fw.>) without touching the rest of the stream.
//
//	kpi.fw.<fy>.<unit_kind>                 framework of a year and unit kind
//	kpi.reg.<code>                          a registered department
//	kpi.u.<unit>.<fy>.indicator.<id>        indicator (and its results)
//	kpi.u.<unit>.<fy>.innovation.<id>       innovation proposal
//	kpi.u.<unit>.<start_year>.series.<id>   long-term series
//	kpi.ledger                              signed checkpoints
const (
	SubjectRoot    = "kpi"
	AllSubjects    = "kpi.>"
	LedgerSubject  = "kpi.ledger"
	LedgerID       = "ledger"
	frameworksRoot = "kpi.fw"
)

// FrameworkID is the aggregate id of a framework: "2564-department".
func FrameworkID(fy int, kind string) string { return strconv.Itoa(fy) + "-" + kind }

// FrameworkSubject is the subject of one year's framework for a unit kind.
func FrameworkSubject(fy int, kind string) string {
	return frameworksRoot + "." + strconv.Itoa(fy) + "." + kind
}

// FrameworksFilter matches every framework.
func FrameworksFilter() string { return frameworksRoot + ".>" }

// UnitYearFilter matches every aggregate of one unit-year.
func UnitYearFilter(unit string, fy int) string {
	return "kpi.u." + unit + "." + strconv.Itoa(fy) + ".>"
}

// UnitFilter matches every aggregate of one unit, all years.
func UnitFilter(unit string) string { return "kpi.u." + unit + ".>" }

// Subject returns the literal subject of the envelope's aggregate.
func (e *Envelope) Subject() (string, error) {
	return AggregateSubject(e.AggregateKind, e.AggregateID, e.Unit, e.FiscalYear)
}

// AggregateSubject builds an aggregate's subject from its identity. Tokens
// are checked, so an id with a dot or a wildcard can never widen a subject.
func AggregateSubject(kind, id, unit string, fy int) (string, error) {
	for _, tok := range []string{id, unit} {
		if strings.ContainsAny(tok, ".*> \t\r\n") {
			return "", fmt.Errorf("%q cannot be part of a subject", tok)
		}
	}
	switch kind {
	case KindFramework:
		fyStr, unitKind, ok := strings.Cut(id, "-")
		if !ok || fyStr != strconv.Itoa(fy) {
			return "", fmt.Errorf("framework id %q does not match fiscal year %d", id, fy)
		}
		return frameworksRoot + "." + fyStr + "." + unitKind, nil
	case KindUnit:
		return "kpi.reg." + id, nil
	case KindIndicator, KindInnovation, KindSeries:
		if unit == "" || fy == 0 || id == "" {
			return "", fmt.Errorf("%s %q needs a unit and a fiscal year", kind, id)
		}
		return "kpi.u." + unit + "." + strconv.Itoa(fy) + "." + kind + "." + id, nil
	case KindLedger:
		return LedgerSubject, nil
	}
	return "", fmt.Errorf("unknown aggregate kind %q", kind)
}

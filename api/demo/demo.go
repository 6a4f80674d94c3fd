// Package demo makes kpiledger's demo data: seven fiscal years (FY2561 to
// FY2567) of the public-sector performance evaluation for the 76 provinces
// and a few departments, with the untidy parts of a real cycle — indicators
// sent back and revised, one rejected, one withdrawn, results reported late,
// superseded, adjusted by the reviewer, rejected and reported again,
// obstacles written in Thai, Chiang Mai's FY2561 innovation outlines, and
// long-term series that are on track or not.
//
// Generate turns a seed into a Plan: the exact sequence of HTTP API calls,
// with their bodies, actors, Idempotency-Keys and plausible instants. The
// same seed always gives the same plan. A Loader sends a plan through the
// API, the same command path as real use: in-process for `kpiledger serve
// --demo`, or over HTTP for `kpiledger demo --url`. Because every call
// carries an Idempotency-Key derived from the seed and the step, loading a
// plan again appends nothing.
package demo

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

// DefaultSeed is the seed of `kpiledger serve --demo`, the README and the
// tests. Units featured in the README (TH-50 FY2563, TH-57 FY2564, cdd
// FY2564 and the long-term series) are scripted and read the same under
// any seed; the other units' numbers change with it.
const DefaultSeed = 2563

// Step is one API call of the demo. It appends exactly one event when it is
// new to the ledger and nothing when it is a repeat.
type Step struct {
	// Name identifies the step within the plan, e.g.
	// "TH-50.2563.i1.verify-12"; the Idempotency-Key is derived from it.
	Name string
	// At is when the step happened in the world: it is sent as
	// X-Occurred-At and, under `serve --demo`, it is the ledger's clock.
	At     time.Time
	Actor  api.Principal
	Method string
	// Path and Body may hold ${name} placeholders for the ids the ledger
	// assigns (an indicator's, a series', an innovation's), filled in from
	// the answers of the earlier steps that created them.
	Path string
	Body []byte
	// IfMatch is the aggregate version the step acts on (sent as If-Match);
	// 0 sends none.
	IfMatch uint64
	// Status is the answer's expected status.
	Status int
	// Version is the aggregate version the answer must report.
	Version uint64
	// Saves names the placeholder that the answer's "id" fills; "" for none.
	Saves string
	// Type is the type of the event the step appends.
	Type string
	// Aggregate names the aggregate the step writes to within the plan
	// ("TH-50.2563.i1"); it makes the step's correlation id.
	Aggregate string
}

// Plan is the demo as API calls, in the order they are sent: by instant,
// so that stream order and recorded_at order agree when the ledger's clock
// follows the steps.
type Plan struct {
	Seed  int64
	Steps []Step
	// Expected is every unit-year's scorecard as the plan's own arithmetic
	// predicts it (domain scoring over the values the plan verifies): what
	// a ledger that loaded the plan must show.
	Expected []Expectation
	// Trends is the on-track verdict the plan predicts for each series.
	Trends []TrendExpectation
}

// Expectation is a unit-year's scorecard total and band as predicted.
type Expectation struct {
	Unit       string
	FiscalYear int
	// Approved is how many indicators count toward the total.
	Approved int
	Total    domain.Number // to domain.ScoreDecimals decimals
	Band     string
}

// TrendExpectation is a long-term series' predicted on-track verdict.
type TrendExpectation struct {
	Unit    string
	TitleTH string
	OnTrack bool
}

// IdempotencyKey is the key a step is sent with: the seed and the step's
// name, so a second load of the same plan replays instead of appending.
func (p *Plan) IdempotencyKey(s Step) string {
	return fmt.Sprintf("demo-%d.%s", p.Seed, s.Name)
}

// CorrelationID is the X-Correlation-ID a step is sent with: the seed and
// the aggregate, so that every event of one indicator's (series', …)
// story carries the same correlation id, and a loader can tell from the
// event feed which steps a ledger already holds.
func (p *Plan) CorrelationID(s Step) string {
	return fmt.Sprintf("demo-%d.%s", p.Seed, s.Aggregate)
}

// Expectation returns the predicted scorecard of a unit-year.
func (p *Plan) Expectation(unit string, fy int) (Expectation, bool) {
	for _, e := range p.Expected {
		if e.Unit == unit && e.FiscalYear == fy {
			return e, true
		}
	}
	return Expectation{}, false
}

// Count returns how many steps append an event of the given type.
func (p *Plan) Count(eventType string) int {
	n := 0
	for _, s := range p.Steps {
		if s.Type == eventType {
			n++
		}
	}
	return n
}

// The showcase principals: who `serve --demo` prints tokens for and the
// README uses. They are also actors of the plan.
var (
	// ShowcaseOPDC is the OPDC reviewer of the northern provinces.
	ShowcaseOPDC = api.Principal{Subject: "reviewer.nattaya@opdc.go.th", Role: domain.RoleOPDC}
	// ShowcaseAuditor is an auditor of the Office of the Auditor General.
	ShowcaseAuditor = api.Principal{Subject: "auditor.somsri@oag.go.th", Role: domain.RoleAuditor}
	// ShowcaseUnit is Chiang Mai's evaluation officer.
	ShowcaseUnit = api.Principal{Subject: "somchai.k@chiangmai.go.th", Role: domain.RoleUnit, Unit: "TH-50"}
)

// Generate builds the demo plan of a seed. It is a pure function: no
// clock, no I/O, and the same seed gives byte-identical steps.
func Generate(seed int64) (*Plan, error) {
	g := newGen(seed)
	g.story()
	return g.finish()
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9._-]+)\}`)

// finish orders the steps by instant and checks the plan: every
// placeholder is filled by an earlier step, and names are unique.
func (g *gen) finish() (*Plan, error) {
	if len(g.errs) > 0 {
		return nil, fmt.Errorf("demo plan: %w", g.errs[0])
	}
	steps := slices.Clone(g.steps)
	// Stable: steps at the same instant keep the order they were made in,
	// which for one aggregate is its own order (g.add refuses ties there).
	slices.SortStableFunc(steps, func(a, b Step) int { return a.At.Compare(b.At) })
	saved := map[string]bool{}
	names := map[string]bool{}
	for i, s := range steps {
		if names[s.Name] {
			return nil, fmt.Errorf("demo plan: step name %q used twice", s.Name)
		}
		names[s.Name] = true
		for _, m := range placeholder.FindAllStringSubmatch(s.Path+string(s.Body), -1) {
			if !saved[m[1]] {
				return nil, fmt.Errorf("demo plan: step %d %s uses ${%s} before it exists", i, s.Name, m[1])
			}
		}
		if s.Saves != "" {
			saved[s.Saves] = true
		}
		if len(fmt.Sprintf("demo-%d.%s", g.seed, s.Name)) > 128 || strings.ContainsAny(s.Name, " /") {
			return nil, fmt.Errorf("demo plan: step name %q cannot make an Idempotency-Key", s.Name)
		}
	}
	p := &Plan{Seed: g.seed, Steps: steps}
	p.Expected, p.Trends = g.expectations()
	return p, nil
}

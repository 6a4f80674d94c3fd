package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/projections"
)

// benchImportRows is how many result reports the import figure sends, as
// spreadsheets and as JSON requests (fewer when the history has fewer
// indicators that can take another report).
const benchImportRows = 1000

// benchImportReportsLeft keeps a target's round under the per-round limit
// of superseding reports, with room for both halves of every round.
const benchImportReportsLeft = 2

// imports measures a spreadsheet import of result reports, one CSV file a
// unit-year through POST …/results/import (CSV rather than XLSX keeps the
// files small; both are read into the same rows), beside the same reports sent
// as one JSON request each (POST /v1/indicators/{id}/results), by one
// client: rows appended per second, both ways.
func (e *benchEnv) imports(ctx context.Context) error {
	var viaImport, viaJSON []benchRoundResult
	for round := 1; round <= e.cfg.Rounds; round++ {
		ts := e.importTargets()
		if len(ts) < 2 {
			return fmt.Errorf("import round %d: no indicator can take another result report", round)
		}
		half := len(ts) / 2
		imp, err := e.importRound(ctx, round, ts[:half])
		if err != nil {
			return err
		}
		js, err := e.jsonRound(ctx, round, ts[half:2*half])
		if err != nil {
			return err
		}
		viaImport, viaJSON = append(viaImport, imp), append(viaJSON, js)
		e.progress("import round %d/%d: %d rows in files at %.0f rows/s; the same reports as JSON requests %.0f/s",
			round, e.cfg.Rounds, imp.Ops, imp.Rate, js.Rate)
	}
	f := &benchFigure{Key: "import_results", Title: "spreadsheet import of result reports (CSV, a file a unit-year, 1 client)", show: "rate",
		Result: benchMedian(viaImport), Rounds: viaImport,
		Raw:     &benchRaw{Title: "the same result reports as JSON requests, one at a time (POST /v1/indicators/{id}/results)", Result: benchMedian(viaJSON), Rounds: viaJSON},
		RatioOf: "rate", Note: "rows appended per second: each import decides every row (dry pass), then runs each through the handler"}
	f.Ratio = f.Result.Rate / f.Raw.Result.Rate
	e.report.Figures = append(e.report.Figures, f)
	return nil
}

// importTargets are approved indicators whose last round can take two
// more reports, at most benchImportRows*2 of them, grouped by unit-year.
func (e *benchEnv) importTargets() []*benchTarget {
	var out []*benchTarget
	e.model.Read(func(st *projections.State) {
		for _, t := range e.targets {
			ind := st.Indicators[t.id]
			if ind == nil || ind.Status != domain.StatusApproved {
				continue
			}
			if r := ind.Round(t.lastRound); r != nil && r.Reports > domain.MaxReportsPerRound-benchImportReportsLeft {
				continue
			}
			out = append(out, t)
			if len(out) == 2*benchImportRows {
				return
			}
		}
	})
	return out
}

// benchActual is a result that differs from every earlier report of the
// round, so that no row is "unchanged".
func benchActual(round int, i int) string {
	return strconv.Itoa(50+round) + "." + strconv.Itoa(1000+i)
}

func (e *benchEnv) importRound(ctx context.Context, round int, ts []*benchTarget) (benchRoundResult, error) {
	type unitYear struct {
		unit string
		fy   int
	}
	files := map[unitYear]*bytes.Buffer{}
	var order []unitYear
	for i, t := range ts {
		k := unitYear{t.unit, t.fy}
		b := files[k]
		if b == nil {
			b = bytes.NewBufferString("indicator_id,round,actual,obstacles\r\n")
			files[k] = b
			order = append(order, k)
		}
		fmt.Fprintf(b, "%s,%d,%s,%s\r\n", t.id, t.lastRound, benchActual(round, i), "bench")
	}
	hc := e.newHTTPClient(1)
	defer hc.CloseIdleConnections()
	var s benchSample
	start := time.Now()
	rows := 0
	var lat []time.Duration
	for _, k := range order {
		tok, err := e.token(api.Principal{Subject: "bench-import@" + k.unit, Role: domain.RoleUnit, Unit: k.unit})
		if err != nil {
			return benchRoundResult{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/v1/units/%s/years/%d/results/import", e.base, k.unit, k.fy), bytes.NewReader(files[k].Bytes()))
		if err != nil {
			return benchRoundResult{}, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "text/csv")
		t0 := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			return benchRoundResult{}, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return benchRoundResult{}, &benchHTTPError{op: "import", status: res.StatusCode, body: string(body[:min(len(body), 512)])}
		}
		var rep struct {
			Summary map[string]int `json:"summary"`
		}
		if err := json.Unmarshal(body, &rep); err != nil {
			return benchRoundResult{}, err
		}
		rows += rep.Summary["appended"]
		lat = append(lat, time.Since(t0))
	}
	s.elapsed = time.Since(start)
	s.merge(lat, 0)
	r := s.result()
	// The figure counts rows, not files: a file's latency is its whole import.
	r.Ops = rows
	r.Rate = float64(rows) / s.elapsed.Seconds()
	return r, ctx.Err()
}

func (e *benchEnv) jsonRound(ctx context.Context, round int, ts []*benchTarget) (benchRoundResult, error) {
	hc := e.newHTTPClient(1)
	defer hc.CloseIdleConnections()
	c := &benchClient{e: e, hc: hc, tokens: map[string]string{}}
	var s benchSample
	var lat []time.Duration
	start := time.Now()
	for i, t := range ts {
		tok, ok := c.tokens[t.unit]
		if !ok {
			var err error
			if tok, err = e.token(api.Principal{Subject: "bench-import@" + t.unit, Role: domain.RoleUnit, Unit: t.unit}); err != nil {
				return benchRoundResult{}, err
			}
			c.tokens[t.unit] = tok
		}
		body, _ := json.Marshal(api.ResultBody{Round: t.lastRound, Actual: domain.Number(benchActual(round, i)), Obstacles: "bench"})
		t0 := time.Now()
		if _, err := c.do("report", http.MethodPost, "/v1/indicators/"+t.id+"/results", tok, body, "", http.StatusCreated); err != nil {
			return benchRoundResult{}, err
		}
		lat = append(lat, time.Since(t0))
		if ctx.Err() != nil {
			break
		}
	}
	s.elapsed = time.Since(start)
	s.merge(lat, 0)
	return s.result(), ctx.Err()
}

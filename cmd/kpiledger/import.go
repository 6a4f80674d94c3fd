package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/sheets"
	"github.com/opdc/kpiledger/domain"
)

// importRow is one row of an import report, as the API answers it.
type importRow struct {
	Row         int    `json:"row"`
	Command     string `json:"command"`
	Outcome     string `json:"outcome"`
	IndicatorID string `json:"indicator_id"`
	Round       int    `json:"round"`
	EventType   string `json:"event_type"`
	Errors      []struct {
		Column  string `json:"column"`
		Cell    string `json:"cell"`
		Message string `json:"message"`
	} `json:"errors"`
	Summary map[string]int `json:"summary"` // set on the stream's last line only
}

type importReport struct {
	DryRun   bool           `json:"dry_run"`
	Rows     []importRow    `json:"rows"`
	Summary  map[string]int `json:"summary"`
	Complete bool           `json:"complete"`
	// A refused import is a problem document carrying the report.
	Title  string        `json:"title"`
	Detail string        `json:"detail"`
	Report *importReport `json:"report"`
}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("import --url URL --file F --unit U --fiscal-year FY [--dry-run] [--token T | --data-dir DIR]",
		"Uploads a spreadsheet (XLSX or CSV) to a running ledger: the indicators template of a unit-year\n"+
			"(GET /v1/units/U/years/FY/indicators/template) or its results template (…/results/template),\n"+
			"edited. Each row runs as the JSON command would; --dry-run decides every row and appends nothing.\n"+
			"It prints one line per row (the command, its outcome, and the column of any problem), a progress\n"+
			"line on stderr while a large file runs, and exits 1 when any row was refused. Uploading the\n"+
			"same file again appends nothing. The token is --token, or an officer token of --unit minted\n"+
			"with the key of --data-dir (or KPILEDGER_TOKEN_KEY).", stderr)
	base := fs.String("url", envOr(getenv, "KPILEDGER_URL", "http://127.0.0.1:8080"), "the ledger's base URL (env KPILEDGER_URL)")
	file := fs.String("file", "", "the spreadsheet to upload (.xlsx or .csv)")
	unit := fs.String("unit", "", "the unit whose file it is (e.g. TH-50 or cdd)")
	fy := fs.Int("fiscal-year", 0, "the fiscal year (B.E., e.g. 2563)")
	template := fs.String("template", "", `"indicators" or "results" (default: from the file's columns)`)
	dryRun := fs.Bool("dry-run", false, "decide every row and append nothing")
	token := fs.String("token", getenv("KPILEDGER_TOKEN"), "bearer token of the unit's officer (env KPILEDGER_TOKEN)")
	dataDir := fs.String("data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "data directory whose key mints an officer token when --token is not given")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *unit == "" || *fy == 0 {
		fs.Usage()
		return errors.New("--file, --unit and --fiscal-year are required")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	if *template == "" {
		if *template, err = detectTemplate(data); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	if *template != "indicators" && *template != "results" {
		return fmt.Errorf(`--template must be "indicators" or "results", not %q`, *template)
	}
	if *token == "" {
		key, err := api.LoadTokenKey(*dataDir, getenv)
		if err != nil {
			return fmt.Errorf("no --token, and no key to mint one: %w", err)
		}
		if *token, err = api.IssueToken(key, api.Principal{Subject: "kpiledger-import", Role: domain.RoleUnit, Unit: *unit}, 30*time.Minute, time.Now()); err != nil {
			return err
		}
	}
	u := fmt.Sprintf("%s/v1/units/%s/years/%d/%s/import", strings.TrimRight(*base, "/"), url.PathEscape(*unit), *fy, *template)
	if *dryRun {
		u += "?dry_run=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	req.Header.Set("Content-Type", sheets.MediaXLSX)
	if strings.EqualFold(filepath.Ext(*file), ".csv") {
		req.Header.Set("Content-Type", "text/csv")
	}
	req.Header.Set("Accept", "application/x-ndjson, application/json")
	fmt.Fprintf(stderr, "uploading %s (%d bytes) to %s…\n", *file, len(data), u)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	total := 0
	if g, _, err := sheets.Read(data); err == nil && g != nil {
		total = len(g.Rows)
	}
	var rows []importRow
	var summary map[string]int
	complete := false
	switch ct := res.Header.Get("Content-Type"); {
	case res.StatusCode == http.StatusOK && strings.HasPrefix(ct, "application/x-ndjson"):
		// The rows arrive as they run: show progress as they do.
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		last := time.Now()
		for sc.Scan() {
			var r importRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return fmt.Errorf("the ledger's report: %w", err)
			}
			if r.Summary != nil {
				summary = r.Summary
				continue
			}
			rows = append(rows, r)
			if time.Since(last) > 500*time.Millisecond || len(rows) == total {
				fmt.Fprintf(stderr, "  %d/%d rows\n", len(rows), total)
				last = time.Now()
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("the import was cut off after %d rows (%w); upload the same file again to finish it: nothing is appended twice", len(rows), err)
		}
		if summary == nil {
			return fmt.Errorf("the import was cut off after %d rows; upload the same file again to finish it: nothing is appended twice", len(rows))
		}
		complete = summary["refused"] == 0 && summary["not_attempted"] == 0
	case strings.Contains(ct, "json"):
		var rep importReport
		if err := json.NewDecoder(io.LimitReader(res.Body, 64<<20)).Decode(&rep); err != nil {
			return fmt.Errorf("%s: %w", res.Status, err)
		}
		if rep.Report != nil { // a refused import
			fmt.Fprintf(stderr, "%s: %s\n", rep.Title, rep.Detail)
			rep = *rep.Report
		} else if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s %s", res.Status, rep.Title, rep.Detail)
		}
		rows, summary, complete = rep.Rows, rep.Summary, rep.Complete && res.StatusCode == http.StatusOK
	default:
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("%s: %s", res.Status, b)
	}
	printImport(stdout, rows, summary, *dryRun)
	if !complete {
		return exitCode(1)
	}
	return nil
}

// detectTemplate tells the two templates apart by their columns.
func detectTemplate(data []byte) (string, error) {
	g, errs, err := sheets.Read(data)
	if err != nil {
		return "", err
	}
	if g == nil {
		return "", errs[0]
	}
	if slices.Contains(g.Columns, "indicator_id") && slices.Contains(g.Columns, "actual") {
		return "results", nil
	}
	return "indicators", nil
}

func printImport(w io.Writer, rows []importRow, summary map[string]int, dryRun bool) {
	for _, r := range rows {
		line := fmt.Sprintf("row %-4d %-18s %-13s", r.Row, orDash(r.Command), r.Outcome)
		if r.IndicatorID != "" {
			line += " " + r.IndicatorID
		}
		if r.Round != 0 {
			line += " round " + strconv.Itoa(r.Round)
		}
		if r.EventType != "" {
			line += " → " + r.EventType
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		for _, e := range r.Errors {
			where := e.Column
			if e.Cell != "" {
				where = strings.TrimSpace(e.Cell + " " + e.Column)
			}
			if where != "" {
				where += ": "
			}
			fmt.Fprintf(w, "         %s%s\n", where, e.Message)
		}
	}
	keys := make([]string, 0, len(summary))
	for k := range summary {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", summary[k], strings.ReplaceAll(k, "_", " "))
	}
	verdict := ""
	if dryRun {
		verdict = " (dry run: nothing was appended)"
	}
	fmt.Fprintf(w, "%d rows: %s%s\n", len(rows), strings.Join(parts, ", "), verdict)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

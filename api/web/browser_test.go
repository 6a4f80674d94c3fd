package web_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/chromedp"
)

// The browser tests drive a real headless Chromium (Debian's chromium
// package; .ci/run installs it with fonts-thai-tlwg) through the dashboard
// as a reader would: sign in with the form, open a scorecard, change its
// as-of date, open the audit trail and a trend chart. Each saves a
// screenshot under its temp dir (and under $KPILEDGER_SCREENSHOTS when set,
// to keep them) and asserts on the DOM the browser built.

// chromiumPath finds a Chromium: $KPILEDGER_CHROMIUM, else the usual names
// on PATH.
func chromiumPath() string {
	if p := os.Getenv("KPILEDGER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts headless Chromium for the test, or skips the test when
// there is none.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome or headless-shell on PATH, or $KPILEDGER_CHROMIUM): " +
			"install Debian's chromium and fonts-thai-tlwg (.ci/run does) to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// CI runs as root in a container, where Chromium's sandbox cannot
		// start; the pages loaded are the test's own.
		chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "th-TH"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Do starts the browser; it lives as long as this context.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

// newTab opens a tab in a fresh browser context — its own cookie jar, as a
// different person's browser would have — with a time limit.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	t.Cleanup(func() { cancel(); cancelTab() })
	return ctx
}

// signIn fills in the sign-in form of the dashboard at base and follows
// it to next.
func signIn(t *testing.T, ctx context.Context, base, token, next string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+next),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), token),
	); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("signin-submit")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 {
		t.Fatalf("after sign-in: status %d at %s", res.Status, res.URL)
	}
	loc := must(t, ctx, chromedp.Location())
	if u, _ := url.Parse(loc); u == nil || u.RequestURI() != next {
		t.Fatalf("after sign-in the browser is at %s, want %s", loc, next)
	}
}

func must[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// text is an element's rendered text, whitespace collapsed.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return strings.Join(strings.Fields(must(t, ctx, chromedp.Text(chromedp.ID(id)))), " ")
}

// screenshot saves the whole page, or one element, as PNG.
func screenshot(t *testing.T, ctx context.Context, name, elementID string) {
	t.Helper()
	var png []byte
	if elementID == "" {
		png = must(t, ctx, chromedp.FullScreenshot(100))
	} else {
		png = must(t, ctx, chromedp.Screenshot(chromedp.ID(elementID)))
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("KPILEDGER_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d bytes)", p, len(png))
	}
}

// requireThaiFont checks that the browser drew an element's Thai text
// with a font that has Thai glyphs — without one, Chromium draws boxes and
// the page still "works". It asks Chromium which platform fonts rendered
// the element and fontconfig which families cover Thai.
func requireThaiFont(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	out, err := exec.Command("fc-list", ":lang=th", "family").Output()
	if err != nil {
		t.Logf("fc-list unavailable (%v); not checking which font drew the Thai text", err)
		return
	}
	thai := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		for _, fam := range strings.Split(line, ",") {
			if fam = strings.TrimSpace(fam); fam != "" {
				thai[fam] = true
			}
		}
	}
	if len(thai) == 0 {
		t.Fatal("no font with Thai glyphs is installed, so Thai renders as boxes: install fonts-thai-tlwg")
	}
	ids := must(t, ctx, chromedp.QueryNodeIDs(chromedp.ID(id)))
	if _, err := chromedp.Call(ctx, css.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, f := range res.Fonts {
		used = append(used, f.FamilyName)
		if thai[f.FamilyName] && f.GlyphCount > 0 {
			return
		}
	}
	t.Fatalf("#%s was drawn with %v, none of which has Thai glyphs (fontconfig: %v)", id, used, slices.Sorted(mapsKeys(thai)))
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestBrowser(t *testing.T) {
	browser := newBrowser(t)
	start := time.Now()
	l := newLedger(t)
	fx := seed(l)
	cm, auditor := l.officer("TH-50"), l.auditor()

	t.Run("sign in and open a scorecard", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, cm, "/units/TH-50/years/2563")
		if got := text(t, ctx, "total"); got != "84.375" {
			t.Errorf("total %q, want 84.375", got)
		}
		if got := text(t, ctx, "band"); got != "ระดับมาตรฐานขั้นสูง" {
			t.Errorf("band %q", got)
		}
		h1 := must(t, ctx, chromedp.Text(chromedp.CSS("h1")))
		if !strings.Contains(h1, "เชียงใหม่") {
			t.Errorf("heading %q", h1)
		}
		rows := must(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#indicators tbody tr td.score')].map(td => td.innerText.trim())`))
		if !slices.Equal(rows, []string{"87.5", "81.25"}) {
			t.Errorf("indicator scores %q, want 87.5 and 81.25", rows)
		}
		requireThaiFont(t, ctx, "main")
		screenshot(t, ctx, "scorecard", "")
	})

	t.Run("change the as-of date", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, cm, "/units/TH-50/years/2563")
		want := l.api(200, "GET", "/v1/units/TH-50/years/2563/scorecard?as_of="+url.QueryEscape("2020-06-30T23:59:59.999999999+07:00"), cm, nil, 0)
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("as_of"), "2020-06-30")); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("asof-submit"))); err != nil {
			t.Fatal(err)
		}
		if loc := must(t, ctx, chromedp.Location()); !strings.Contains(loc, "as_of=2020-06-30") {
			t.Errorf("the form went to %s", loc)
		}
		if got := text(t, ctx, "total"); got != str(want["total"]) || got == "84.375" {
			t.Errorf("as-of total %q, API %v", got, want["total"])
		}
		if note := text(t, ctx, "asof-note"); !strings.Contains(note, "30 มิ.ย. 2563") {
			t.Errorf("as-of note %q", note)
		}
		screenshot(t, ctx, "scorecard-as-of", "")
		// Back to the current scorecard by the link, without a date.
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("asof-clear"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "total"); got != "84.375" {
			t.Errorf("current total %q after clearing the date", got)
		}
	})

	t.Run("open the audit trail", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, auditor, "/units/TH-50/years/2563")
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("audit-link"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "chain-status"); !strings.Contains(got, "ครบถ้วน") {
			t.Errorf("chain status %q", got)
		}
		want := l.api(200, "GET", "/v1/units/TH-50/years/2563/audit", auditor, nil, 0)
		n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#timeline tbody tr').length`))
		if n != len(want["events"].([]any)) {
			t.Errorf("%d timeline rows, API %d events", n, len(want["events"].([]any)))
		}
		if got := text(t, ctx, "timeline"); !strings.Contains(got, "reviewer.nattaya@opdc.go.th") || !strings.Contains(got, "ปรับค่าผลการดำเนินงาน") {
			t.Errorf("timeline lacks the reviewer or the adjustment")
		}
		href := must(t, ctx, chromedp.AttributeValue(chromedp.ID("export-link"), "href"))
		if !href.Exists || href.Value != "/units/TH-50/years/2563/export" {
			t.Errorf("export link %+v", href)
		}
		screenshot(t, ctx, "audit", "")
	})

	t.Run("open a trend", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, cm, "/units/TH-50")
		chart := "chart-" + fx.seriesID
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID(chart))); err != nil {
			t.Fatal(err)
		}
		// The lines are really drawn: the browser measures their length.
		lengths := must(t, ctx, chromedp.Evaluate[[]float64](`['target', 'actual', 'projection'].map(c => document.querySelector('#`+chart+` path.' + c).getTotalLength())`))
		for i, n := range lengths {
			if n <= 0 {
				t.Errorf("line %d of the chart has length %v", i, n)
			}
		}
		box := must(t, ctx, chromedp.Evaluate[float64](`document.getElementById('`+chart+`').getBoundingClientRect().width`))
		if box < 400 {
			t.Errorf("the chart is %v px wide", box)
		}
		if got := text(t, ctx, "series-"+fx.seriesID); !strings.Contains(got, "on track") || !strings.Contains(got, "35.5") || !strings.Contains(got, "41") {
			t.Errorf("trend section: %s", got)
		}
		requireThaiFont(t, ctx, chart+"-verdict")
		screenshot(t, ctx, "trend", "series-"+fx.seriesID)
		screenshot(t, ctx, "unit", "")
	})

	t.Run("another unit's pages are refused", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, l.officer("TH-57"), "/units")
		res, err := chromedp.Run(ctx, chromedp.NavigateResponse(l.url+"/units/TH-50/years/2563"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 403 || !strings.Contains(text(t, ctx, "main"), "ไม่มีสิทธิ์") {
			t.Errorf("TH-57 officer on TH-50's scorecard: %d", res.Status)
		}
		// Signing out ends the session: the next page asks to sign in again.
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`))); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/units")); err != nil {
			t.Fatal(err)
		}
		if loc := must(t, ctx, chromedp.Location()); !strings.Contains(loc, "/signin") {
			t.Errorf("after signing out, /units went to %s", loc)
		}
	})
	t.Logf("browser tests took %v", time.Since(start).Round(time.Millisecond))
}

// TestDocsScreenshots makes the README's screenshots from a running ledger
// with the demo data, and runs only when asked:
//
//	kpiledger serve --demo --data-dir /tmp/demo --http-addr 127.0.0.1:8080
//	KPILEDGER_DOCS_URL=http://127.0.0.1:8080 KPILEDGER_DOCS_TOKEN="$CM" \
//	  KPILEDGER_SCREENSHOTS="$PWD/docs" go test -run TestDocsScreenshots ./api/web/
//
// where $CM is the Chiang Mai officer's token `serve --demo` prints. It
// writes scorecard.png (Chiang Mai, FY2563) and trend.png (Chiang Mai's
// first long-term series); with KPILEDGER_DOCS_OPDC_TOKEN="$OPDC" also
// compare.png, the FY2562–FY2563 province comparison with FY2563's
// results shown under FY2562's framework.
func TestDocsScreenshots(t *testing.T) {
	base, tok := os.Getenv("KPILEDGER_DOCS_URL"), os.Getenv("KPILEDGER_DOCS_TOKEN")
	if base == "" || tok == "" || os.Getenv("KPILEDGER_SCREENSHOTS") == "" {
		t.Skip("makes the README's screenshots: set KPILEDGER_DOCS_URL, KPILEDGER_DOCS_TOKEN and KPILEDGER_SCREENSHOTS")
	}
	browser := newBrowser(t)
	ctx := newTab(t, browser)
	signIn(t, ctx, base, tok, "/units/TH-50/years/2563")
	requireThaiFont(t, ctx, "main")
	screenshot(t, ctx, "scorecard", "")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/units/TH-50")); err != nil {
		t.Fatal(err)
	}
	id := must(t, ctx, chromedp.Evaluate[string](`document.querySelector('section.trend').id`))
	screenshot(t, ctx, "trend", id)
	if opdc := os.Getenv("KPILEDGER_DOCS_OPDC_TOKEN"); opdc != "" {
		ctx := newTab(t, browser)
		signIn(t, ctx, base, opdc, "/frameworks/compare?from=2562&to=2563&kind=province&under=1")
		screenshot(t, ctx, "compare", "compare-top")
	}
}

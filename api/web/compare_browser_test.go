package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// fy2562Province is a five-level year with FY2563's component codes and no
// results of its own: the framework FY2563's results are re-scored under.
const fy2562Province = `{"fiscal_year": 2562, "unit_kind": "province",
 "components": [
  {"code": "function", "name_th": "การประเมินตามภารกิจหลัก", "min_indicators": 1, "max_indicators": 5},
  {"code": "agenda", "name_th": "การประเมินตามนโยบายสำคัญเร่งด่วน", "min_indicators": 1, "max_indicators": 5}],
 "scheme": {"levels": [{"label": "ระดับ 1", "score": 1}, {"label": "ระดับ 2", "score": 2}, {"label": "ระดับ 3", "score": 3},
                       {"label": "ระดับ 4", "score": 4}, {"label": "ระดับ 5", "score": 5}], "below_first": 1},
 "rollup": "component_mean",
 "bands": [{"label": "ดีเด่น", "min": 4.5}, {"label": "ดีมาก", "min": 3.5}, {"label": "ดี", "min": 2.5},
           {"label": "พอใช้", "min": 1.5}, {"label": "ต้องปรับปรุง", "min": 0}],
 "rounds": [6, 9, 12]}`

// bar is one bar of a server-drawn bar chart as the browser has it.
type bar struct{ Series, Key, Value string }

func chartBars(t *testing.T, ctx context.Context, id string) []bar {
	t.Helper()
	return must(t, ctx, chromedp.Evaluate[[]bar](`Array.from(document.querySelectorAll('#`+id+` g.bar')).map(g => ({Series: g.dataset.series, Key: g.dataset.key, Value: g.dataset.value}))`))
}

// barWidths are the drawn widths of a chart's bars, as the browser lays them out.
func barWidths(t *testing.T, ctx context.Context, id string) []float64 {
	t.Helper()
	return must(t, ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll('#`+id+` g.bar rect')).map(r => r.getBoundingClientRect().width)`))
}

// TestBrowserComparisons drives the framework comparison's toggle and the
// unit page's, and checks every bar of their charts, and the figures
// beside them, against the API's answer.
func TestBrowserComparisons(t *testing.T) {
	browser := newBrowser(t)
	l := newLedger(t)
	seed(l)
	opdc, cm := l.opdc(), l.officer("TH-50")
	l.api(201, "POST", "/v1/frameworks", opdc, fy2562Province, 0)

	t.Run("framework comparison toggle and chart", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, opdc, "/frameworks/compare?from=2563&to=2564&kind=province")
		if p := must(t, ctx, chromedp.AttributeValue(chromedp.ID("under-toggle"), "aria-pressed")).Value; p != "false" {
			t.Errorf("toggle pressed before use: %q", p)
		}
		api := l.api(200, "GET", "/v1/frameworks/compare?from=2563&to=2564&kind=province", opdc, nil, 0)
		checkDistribution(t, chartBars(t, ctx, "distribution-chart"), api, false)
		for _, id := range []string{"moves-up", "moves-down", "moves-same"} {
			key := strings.TrimPrefix(id, "moves-")
			if got, want := text(t, ctx, id), fmt.Sprint(api["band_moves"].(map[string]any)[key]); got != want {
				t.Errorf("#%s %s, API %s", id, got, want)
			}
		}
		// Each unit's position, rank change and band move, as the API has them.
		for _, u := range api["units"].([]any) {
			m := u.(map[string]any)
			row := `tr[data-unit="` + m["unit"].(string) + `"]`
			cells := must(t, ctx, chromedp.Evaluate[[]string](`['.from-pos', '.to-pos', '.move', '.band-move'].map(c => document.querySelector('`+row+` '+c).firstChild.textContent.trim())`))
			ch := m["change"].(map[string]any)
			want := []string{fmt.Sprint(m["from_standing"].(map[string]any)["position"]), fmt.Sprint(m["to_standing"].(map[string]any)["position"]),
				signedText(fmt.Sprint(ch["position_change"])), map[string]string{"up": "▲ เลื่อนขึ้น (up)", "down": "▼ เลื่อนลง (down)", "same": "= คงเดิม (same)"}[ch["band_move"].(string)]}
			for i := range want {
				if cells[i] != want[i] {
					t.Errorf("%s cell %d: %q, API %q", m["unit"], i, cells[i], want[i])
				}
			}
		}

		// The toggle: FY2564's results under FY2563's framework.
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("under-toggle"))); err != nil {
			t.Fatal(err)
		}
		loc := must(t, ctx, chromedp.Location())
		if u, _ := url.Parse(loc); u.Query().Get("under") != "1" || must(t, ctx, chromedp.AttributeValue(chromedp.ID("under-toggle"), "aria-pressed")).Value != "true" {
			t.Fatalf("after the toggle: %s", loc)
		}
		// The sort survives the toggle: still by the later total, best first.
		if s := must(t, ctx, chromedp.AttributeValue(chromedp.CSS(`th[aria-sort] a`), "data-sort")).Value; s != "to" {
			t.Errorf("sorted by %q after the toggle", s)
		}
		under := l.api(200, "GET", "/v1/frameworks/compare?from=2563&to=2564&kind=province&score_under=2563", opdc, nil, 0)
		checkDistribution(t, chartBars(t, ctx, "distribution-chart"), under, true)
		if got := text(t, ctx, "mapping"); !strings.Contains(got, under["score_under"].(map[string]any)["mapping"].(map[string]any)["weights"].(string)) {
			t.Errorf("mapping panel: %s", got)
		}
		screenshot(t, ctx, "compare-toggled", "compare-top")

		// FY2563's results under FY2562's five levels: components match by code.
		if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/frameworks/compare?from=2562&to=2563&kind=province&under=1")); err != nil {
			t.Fatal(err)
		}
		five := l.api(200, "GET", "/v1/frameworks/compare?from=2562&to=2563&kind=province&score_under=2562", opdc, nil, 0)
		bars := chartBars(t, ctx, "distribution-chart")
		checkDistribution(t, bars, five, true)
		widths := barWidths(t, ctx, "distribution-chart")
		for i, b := range bars {
			if (b.Value != "0") != (widths[i] > 0) {
				t.Errorf("bar %+v drawn %v px wide", b, widths[i])
			}
		}
		requireThaiFont(t, ctx, "distribution-chart-heading")
	})

	t.Run("unit page toggle and position chart", func(t *testing.T) {
		ctx := newTab(t, browser)
		signIn(t, ctx, l.url, cm, "/units/TH-50?from=2562&to=2563")
		if got := chartBars(t, ctx, "position-chart"); len(got) != 1 || got[0].Key != "to" {
			t.Errorf("before the toggle the chart has %+v, want FY2563's own position only (FY2562 has no result)", got)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("under-toggle"))); err != nil {
			t.Fatal(err)
		}
		api := l.api(200, "GET", "/v1/units/TH-50/comparison?from=2562&to=2563&score_under=2562", cm, nil, 0)
		st := api["standings"].(map[string]any)
		want := map[string]string{"to": fmt.Sprint(st["to"].(map[string]any)["position"]), "under": fmt.Sprint(st["to_under"].(map[string]any)["position"])}
		got := chartBars(t, ctx, "position-chart")
		if len(got) != 2 {
			t.Fatalf("position chart %+v", got)
		}
		for _, b := range got {
			if b.Value != want[b.Key] {
				t.Errorf("position bar %s = %s, API %s", b.Key, b.Value, want[b.Key])
			}
		}
		su := api["score_under"].(map[string]any)
		if got, want := text(t, ctx, "under-total"), fmt.Sprint(st["to_under"].(map[string]any)["total"]); got != want {
			t.Errorf("re-scored total %s, API %s", got, want)
		}
		if got, want := text(t, ctx, "rescored-total"), fmt.Sprint(su["total"]); got != want {
			t.Errorf("re-scored table total %s, API %s", got, want)
		}
		scores := must(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#rescored td.rescored-score')).map(td => td.textContent.trim())`))
		inds := su["indicators"].([]any)
		if len(scores) != len(inds) {
			t.Fatalf("%d re-scored rows, API %d", len(scores), len(inds))
		}
		for i, ind := range inds {
			if w := fmt.Sprint(ind.(map[string]any)["score"]); scores[i] != w {
				t.Errorf("indicator %d re-scored %s, API %s", i, scores[i], w)
			}
		}
		screenshot(t, ctx, "unit-toggled", "standings")
	})
}

// checkDistribution compares the chart's bars with the API's units per band.
func checkDistribution(t *testing.T, bars []bar, api map[string]any, under bool) {
	t.Helper()
	dist := api["distribution"].(map[string]any)
	var want []bar
	for _, side := range []struct{ key, series string }{{"from", "from"}, {"to", "to"}, {"to_under", "under"}} {
		counts, ok := dist[side.key].([]any)
		if side.key == "to_under" && !under {
			if ok {
				t.Errorf("distribution.to_under without score_under")
			}
			continue
		}
		for _, c := range counts {
			m := c.(map[string]any)
			want = append(want, bar{Series: side.series, Key: m["label"].(string), Value: fmt.Sprint(m["units"])})
		}
	}
	if fmt.Sprint(bars) != fmt.Sprint(want) {
		t.Errorf("chart bars %+v\nAPI        %+v", bars, want)
	}
}

// signedText is how the page writes a signed figure.
func signedText(n string) string {
	switch {
	case n == "<nil>" || n == "":
		return "—"
	case strings.HasPrefix(n, "-"):
		return "−" + n[1:]
	case n == "0":
		return n
	}
	return "+" + n
}

package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/web"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// TestSignInAndOut covers the session: the cookie's attributes, the
// redirects, refused and cross-site sign-ins, open redirects, expiry and
// sign-out.
func TestSignInAndOut(t *testing.T) {
	l := newLedger(t)

	p := l.get("/units/TH-50/years/2563?as_of=2020-06-30", "")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/signin?next=%2Funits%2FTH-50%2Fyears%2F2563%3Fas_of%3D2020-06-30" {
		t.Fatalf("no session: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if p := l.get("/", ""); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/signin" {
		t.Fatalf("/ without a session: %d to %q", p.Status, p.Header.Get("Location"))
	}

	form := l.mustPage(200, "/signin?next=%2Funits%2FTH-50", "")
	accessible(t, form)
	if lang := attr(find(form.doc, func(n *html.Node) bool { return n.Data == "html" }), "lang"); lang != "th" {
		t.Errorf(`<html lang=%q>, want "th"`, lang)
	}
	if l := find(form.doc, func(n *html.Node) bool { return n.Data == "label" && attr(n, "for") == "token" }); l == nil {
		t.Error("the token field has no label")
	}
	if f := form.byID("signin-form"); f == nil || attr(f, "method") != "post" {
		t.Error("the sign-in form does not POST")
	}

	refused := l.postForm("/signin", "", url.Values{"token": {"not-a-token"}, "next": {"/units/TH-50"}})
	if refused.Status != http.StatusUnauthorized || !strings.Contains(refused.text(t, "signin-error"), "โทเค็นนี้ใช้ไม่ได้") {
		t.Fatalf("bad token: %d", refused.Status)
	}
	if refused.Header.Get("Set-Cookie") != "" {
		t.Error("a refused token set a cookie")
	}

	// A token for a unit the ledger does not know is refused, as the API
	// refuses it.
	unknown := l.postForm("/signin", "", url.Values{"token": {l.token(domain.RoleUnit, "nosuchdept", "x@nosuchdept")}})
	if unknown.Status != http.StatusUnauthorized || unknown.Header.Get("Set-Cookie") != "" {
		t.Errorf("a token for an unknown unit: %d, cookie %q", unknown.Status, unknown.Header.Get("Set-Cookie"))
	}

	tok := l.officer("TH-50")
	ok := l.postForm("/signin", "", url.Values{"token": {"Bearer " + tok}, "next": {"/units/TH-50"}})
	if ok.Status != http.StatusSeeOther || ok.Header.Get("Location") != "/units/TH-50" {
		t.Fatalf("sign-in: %d to %q", ok.Status, ok.Header.Get("Location"))
	}
	ck := ok.Header.Get("Set-Cookie")
	for _, want := range []string{"kpiledger_session=" + tok, "Path=/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(ck, want) {
			t.Errorf("Set-Cookie %q lacks %q", ck, want)
		}
	}
	if strings.Contains(ck, "Expires") || strings.Contains(ck, "Max-Age") {
		t.Errorf("Set-Cookie %q outlives the browser session", ck)
	}

	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "/signout"} {
		r := l.postForm("/signin", "", url.Values{"token": {tok}, "next": {next}})
		if r.Header.Get("Location") != "/units" {
			t.Errorf("next=%q redirected to %q", next, r.Header.Get("Location"))
		}
	}

	// A sign-in posted from another site is refused: login CSRF.
	cross := l.postForm("/signin", "", url.Values{"token": {tok}}, "Sec-Fetch-Site", "cross-site")
	if cross.Status != http.StatusForbidden || cross.Header.Get("Set-Cookie") != "" {
		t.Errorf("cross-site sign-in: %d, Set-Cookie %q", cross.Status, cross.Header.Get("Set-Cookie"))
	}
	if r := l.postForm("/signout", tok, nil, "Origin", "https://evil.example"); r.Status != http.StatusForbidden {
		t.Errorf("cross-origin sign-out: %d", r.Status)
	}

	out := l.postForm("/signout", tok, nil)
	if out.Status != http.StatusSeeOther || out.Header.Get("Location") != "/signin?signed_out=1" ||
		!strings.Contains(out.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign-out: %d to %q, Set-Cookie %q", out.Status, out.Header.Get("Location"), out.Header.Get("Set-Cookie"))
	}

	expired, err := api.IssueToken(l.key, api.Principal{Subject: "old", Role: domain.RoleOPDC}, time.Minute, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r := l.get("/units", expired)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "reason=expired") ||
		!strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("expired token: %d to %q, Set-Cookie %q", r.Status, r.Header.Get("Location"), r.Header.Get("Set-Cookie"))
	}
	if notice := l.mustPage(200, r.Header.Get("Location"), "").text(t, "signin-notice"); !strings.Contains(notice, "หมดอายุ") {
		t.Errorf("notice %q", notice)
	}
}

// TestPages renders every page from a seeded ledger and checks what a
// reader sees against what the API answers for the same view.
func TestPages(t *testing.T) {
	l := newLedger(t)
	fx := seed(l)
	opdc, auditor, cm, cr := l.opdc(), l.auditor(), l.officer("TH-50"), l.officer("TH-57")

	t.Run("units list", func(t *testing.T) {
		p := l.mustPage(200, "/units", opdc)
		accessible(t, p)
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			if p.Header.Get(h) == "" {
				t.Errorf("no %s header", h)
			}
		}
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", p.Header.Get("Cache-Control"))
		}
		rows := p.all(func(n *html.Node) bool { return n.Data == "tr" && strings.HasPrefix(attr(n, "id"), "unit-") })
		if len(rows) != 77 {
			t.Fatalf("%d unit rows, want 76 provinces and 1 department", len(rows))
		}
		var regions []string
		for _, n := range p.all(func(n *html.Node) bool { return n.Data == "h2" }) {
			regions = append(regions, textOf(n))
		}
		if len(regions) != 7 || !strings.HasPrefix(regions[0], "ภาคเหนือ") || !strings.HasPrefix(regions[6], "ส่วนราชการ") {
			t.Errorf("groups %q", regions)
		}
		cmRow := p.byID("unit-TH-50")
		if !strings.Contains(textOf(cmRow), "เชียงใหม่") || cellByClass(t, cmRow, "total") != "85.625" ||
			!strings.Contains(textOf(cmRow), "2564") || !strings.Contains(textOf(cmRow), "ระดับมาตรฐานขั้นสูง") {
			t.Errorf("TH-50 row: %s", textOf(cmRow))
		}
		if got := textOf(p.byID("unit-TH-10")); got != "" {
			t.Errorf("Bangkok is listed: %s", got)
		}
		if strings.Contains(textOf(p.byID("unit-TH-30")), "2564") {
			t.Errorf("TH-30 has no results but shows %s", textOf(p.byID("unit-TH-30")))
		}
		// Thai collation: เชียงราย and เชียงใหม่ sort under ช, before แพร่ under พ.
		north := textOf(p.byID("region-north"))
		if !(strings.Index(north, "เชียงราย") < strings.Index(north, "แพร่") && strings.Index(north, "กำแพงเพชร") < strings.Index(north, "เชียงราย")) {
			t.Errorf("northern provinces not in Thai order: %s", north)
		}

		scoped := l.mustPage(200, "/units", cr)
		rows = scoped.all(func(n *html.Node) bool { return n.Data == "tr" && strings.HasPrefix(attr(n, "id"), "unit-") })
		if len(rows) != 1 || attr(rows[0], "id") != "unit-TH-57" || cellByClass(t, rows[0], "total") != "72.75" {
			t.Errorf("a TH-57 officer sees %d rows", len(rows))
		}
		if !strings.Contains(scoped.text(t, "who"), "officer@TH-57") {
			t.Errorf("header says %q", scoped.text(t, "who"))
		}
	})

	t.Run("scorecard", func(t *testing.T) {
		want := l.api(200, "GET", "/v1/units/TH-50/years/2563/scorecard", cm, nil, 0)
		p := l.mustPage(200, "/units/TH-50/years/2563", cm)
		accessible(t, p)
		if got := p.text(t, "total"); got != str(want["total"]) || got != "84.375" {
			t.Errorf("total %q, API %v", got, want["total"])
		}
		if got := p.text(t, "band"); got != want["band"] {
			t.Errorf("band %q, API %v", got, want["band"])
		}
		if got := p.text(t, "revision"); got != "ฉบับที่ "+str(want["framework_revision"]) {
			t.Errorf("revision %q", got)
		}
		if !strings.Contains(p.Body, "ปีงบประมาณ พ.ศ.") || !strings.Contains(p.text(t, "main"), "เชียงใหม่") {
			t.Error("no Thai heading")
		}
		rows := p.all(func(n *html.Node) bool { return attr(n, "data-indicator") != "" })
		apiRows := want["indicators"].([]any)
		if len(rows) != len(apiRows) || len(rows) != 2 {
			t.Fatalf("%d indicator rows, API %d", len(rows), len(apiRows))
		}
		for i, row := range rows {
			a := apiRows[i].(map[string]any)
			if attr(row, "data-indicator") != a["id"] {
				t.Errorf("row %d is %s, API %v", i, attr(row, "data-indicator"), a["id"])
			}
			if got := cellByClass(t, row, "score"); got != str(a["score"]) {
				t.Errorf("row %d score %q, API %v", i, got, a["score"])
			}
			if got := cellByClass(t, row, "weighted"); got != str(a["weighted_score"]) {
				t.Errorf("row %d weighted %q, API %v", i, got, a["weighted_score"])
			}
			if got := cellByClass(t, row, "actual"); !strings.HasPrefix(got, str(a["verified_actual"])) {
				t.Errorf("row %d actual %q, API %v", i, got, a["verified_actual"])
			}
		}
		if got := textOf(rows[0]); !strings.Contains(got, "98.72") || !strings.Contains(got, "98.9") || !strings.Contains(got, "87.5") {
			t.Errorf("first row lacks its targets or score: %s", got)
		}
		if got := textOf(rows[1]); !strings.Contains(got, "35.5") || !strings.Contains(got, "81.25") {
			t.Errorf("the adjusted value is not shown: %s", got)
		}
		headers := textOf(find(p.byID("indicators"), func(n *html.Node) bool { return n.Data == "thead" }))
		for _, level := range []string{"เป้าหมาย ขั้นต้น", "เป้าหมาย มาตรฐาน", "เป้าหมาย ขั้นสูง"} {
			if !strings.Contains(headers, level) {
				t.Errorf("no %q column: %s", level, headers)
			}
		}
		comps := p.all(func(n *html.Node) bool { return attr(n, "data-component") != "" })
		apiComps := want["components"].([]any)
		for i, row := range comps {
			if got := cellByClass(t, row, "score"); got != str(apiComps[i].(map[string]any)["score"]) {
				t.Errorf("component %d score %q, API %v", i, got, apiComps[i].(map[string]any)["score"])
			}
		}
		if p.byID("audit-link") != nil {
			t.Error("a unit officer is offered the audit trail")
		}
		if l.mustPage(200, "/units/TH-50/years/2563", auditor).byID("audit-link") == nil {
			t.Error("an auditor is not offered the audit trail")
		}
	})

	t.Run("scorecard as of a past date", func(t *testing.T) {
		// The end of 30 June 2020, Thai time: round 6 was verified, round 12 not yet.
		want := l.api(200, "GET", "/v1/units/TH-50/years/2563/scorecard?as_of="+url.QueryEscape("2020-06-30T23:59:59.999999999+07:00"), cm, nil, 0)
		p := l.mustPage(200, "/units/TH-50/years/2563?as_of=2020-06-30", cm)
		accessible(t, p)
		if got := p.text(t, "total"); got != str(want["total"]) {
			t.Errorf("as-of total %q, API %v", got, want["total"])
		}
		if got := cellByClass(t, p.all(func(n *html.Node) bool { return attr(n, "data-indicator") != "" })[0], "score"); got != "66.6667" {
			t.Errorf("round-6 score %q, want 66.6667", got)
		}
		if note := p.text(t, "asof-note"); !strings.Contains(note, "30 มิ.ย. 2563") {
			t.Errorf("as-of note %q", note)
		}
		if v := attr(p.byID("as_of"), "value"); v != "2020-06-30" {
			t.Errorf("date field value %q", v)
		}
		// The same date typed in the Buddhist Era.
		if got := l.mustPage(200, "/units/TH-50/years/2563?as_of=2563-06-30", cm).text(t, "total"); got != str(want["total"]) {
			t.Errorf("B.E. date total %q", got)
		}
		before := l.mustPage(404, "/units/TH-50/years/2563?as_of=2019-09-01", cm)
		if !strings.Contains(before.text(t, "missing"), "ยังไม่มีกรอบการประเมิน") || before.byID("asof-form") == nil {
			t.Errorf("before the framework: %s", before.text(t, "main"))
		}
		l.mustPage(400, "/units/TH-50/years/2563?as_of=yesterday", cm)
	})

	t.Run("role scoping", func(t *testing.T) {
		for _, path := range []string{"/units/TH-50", "/units/TH-50/years/2563", "/units/TH-50/years/2563?as_of=2020-06-30",
			"/units/TH-50/series/" + fx.seriesID} {
			p := l.mustPage(403, path, cr)
			accessible(t, p)
			if !strings.Contains(p.text(t, "main"), "ไม่มีสิทธิ์") || strings.Contains(p.Body, "84.375") {
				t.Errorf("%s as TH-57: %s", path, p.text(t, "main"))
			}
		}
		for _, path := range []string{"/units/TH-50/years/2563/audit", "/units/TH-50/years/2563/export"} {
			for _, tok := range []string{cm, cr} {
				if p := l.mustPage(403, path, tok); p.byID("timeline") != nil {
					t.Errorf("%s shows the timeline to a unit", path)
				}
			}
		}
		l.mustPage(404, "/units/TH-99", opdc)
		l.mustPage(404, "/units/TH-50/nonsense", opdc)
		l.mustPage(400, "/units/TH-50/years/1999", opdc)
	})

	t.Run("audit trail", func(t *testing.T) {
		want := l.api(200, "GET", "/v1/units/TH-50/years/2563/audit", auditor, nil, 0)
		p := l.mustPage(200, "/units/TH-50/years/2563/audit", auditor)
		accessible(t, p)
		if !strings.Contains(p.text(t, "chain-status"), "ครบถ้วน") || want["chain_intact"] != true {
			t.Errorf("chain %q, API %v", p.text(t, "chain-status"), want["chain_intact"])
		}
		evs := want["events"].([]any)
		rows := p.all(func(n *html.Node) bool { return n.Data == "tr" && strings.HasPrefix(attr(n, "id"), "event-") })
		if len(rows) != len(evs) || p.text(t, "event-count") != str(len(evs)) {
			t.Fatalf("%d timeline rows, API %d events", len(rows), len(evs))
		}
		for i, row := range rows {
			e := evs[i].(map[string]any)
			if attr(row, "id") != "event-"+str(e["sequence"]) || attr(row, "data-type") != e["type"] {
				t.Errorf("row %d: %s %s, API %v %v", i, attr(row, "id"), attr(row, "data-type"), e["sequence"], e["type"])
			}
			actor := e["actor"].(map[string]any)
			if !strings.Contains(cellByClass(t, row, "actor"), str(actor["sub"])) {
				t.Errorf("row %d actor %q, API %v", i, cellByClass(t, row, "actor"), actor["sub"])
			}
		}
		// The revision request and the adjusted verification read in Thai.
		body := p.text(t, "timeline")
		for _, s := range []string{"ขอให้ปรับปรุง", "ปรับค่าผลการดำเนินงาน ค่า 35.5", "การจัดเก็บภาษีล่าช้าจากสถานการณ์โควิด-19", "20 พ.ย. 2563 13:00:00 น."} {
			if !strings.Contains(body, s) {
				t.Errorf("timeline lacks %q", s)
			}
		}
		ders := want["derivations"].([]any)
		for _, d := range ders {
			dm := d.(map[string]any)
			sec := p.byID("derivation-" + str(dm["indicator_id"]))
			if sec == nil || cellByClass(t, sec, "score") != str(dm["score"]) {
				t.Errorf("derivation of %v missing or wrong", dm["indicator_id"])
			}
		}
		if p.text(t, "audit-total") != "84.375" {
			t.Errorf("audit total %q", p.text(t, "audit-total"))
		}
		if href := attr(p.byID("export-link"), "href"); href != "/units/TH-50/years/2563/export" {
			t.Errorf("export link %q", href)
		}
	})

	t.Run("export download", func(t *testing.T) {
		p := l.get("/units/TH-50/years/2563/export", auditor)
		if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/x-ndjson") ||
			!strings.Contains(p.Header.Get("Content-Disposition"), "kpiledger-TH-50-2563") {
			t.Fatalf("export: %d %s %s", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
		}
		rep, err := events.VerifyBundle(strings.NewReader(p.Body), nil)
		if err != nil {
			t.Fatalf("the downloaded bundle does not verify: %v", err)
		}
		audit := l.api(200, "GET", "/v1/units/TH-50/years/2563/audit", auditor, nil, 0)
		if int(rep.Events) != len(audit["events"].([]any)) {
			t.Errorf("bundle holds %d events, the audit trail %d", rep.Events, len(audit["events"].([]any)))
		}
	})

	t.Run("multi-year page", func(t *testing.T) {
		p := l.mustPage(200, "/units/TH-50", cm)
		accessible(t, p)
		years := p.all(func(n *html.Node) bool { return attr(n, "data-year") != "" })
		if len(years) != 2 || cellByClass(t, years[0], "total") != "84.375" || cellByClass(t, years[1], "total") != "85.625" {
			t.Fatalf("years table: %s", p.text(t, "years"))
		}
		cmp := l.api(200, "GET", "/v1/units/TH-50/comparison?from=2563&to=2564", cm, nil, 0)
		if got := p.text(t, "cmp-delta"); got != "+"+str(cmp["total_delta"]) || got != "+1.25" {
			t.Errorf("comparison delta %q, API %v", got, cmp["total_delta"])
		}
		if !strings.Contains(textOf(years[1]), "+1.25") {
			t.Errorf("the years table lacks the change: %s", textOf(years[1]))
		}
		matched := p.text(t, "matched")
		if !strings.Contains(matched, "ตัวชี้วัดระยะยาวเดียวกัน") || !strings.Contains(matched, "ชื่อตัวชี้วัดเดียวกัน") {
			t.Errorf("matched table: %s", matched)
		}
		svg := p.byID("chart-" + fx.seriesID)
		if svg == nil || attr(svg, "role") != "img" || attr(svg, "aria-labelledby") == "" {
			t.Fatalf("no accessible chart for the series")
		}
		if find(svg, func(n *html.Node) bool { return n.Data == "path" && hasClass(n, "target") }) == nil ||
			find(svg, func(n *html.Node) bool { return n.Data == "path" && hasClass(n, "actual") }) == nil {
			t.Error("the chart lacks its target or actual line")
		}
		trend := l.api(200, "GET", "/v1/units/TH-50/series/"+fx.seriesID+"/trend", cm, nil, 0)
		if trend["on_track"] != true {
			t.Fatalf("fixture: the series is not on track: %v", trend)
		}
		badge := find(p.byID("series-"+fx.seriesID), func(n *html.Node) bool { return attr(n, "data-verdict") != "" })
		if badge == nil || attr(badge, "data-verdict") != "on" {
			t.Error("no on-track badge")
		}
		table := textOf(find(p.byID("series-"+fx.seriesID), func(n *html.Node) bool { return hasClass(n, "trend-table") }))
		for _, s := range []string{"35.5", "41", "110", str(trend["projected_end_value"])} {
			if !strings.Contains(table, s) {
				t.Errorf("trend table lacks %s: %s", s, table)
			}
		}
		// Another pair of years, chosen with the form (a GET).
		if got := l.mustPage(200, "/units/TH-50?from=2564&to=2563", cm).text(t, "cmp-delta"); got != "−1.25" {
			t.Errorf("reverse comparison %q", got)
		}
		series := l.mustPage(200, "/units/TH-50/series/"+fx.seriesID, cm)
		accessible(t, series)
		if series.byID("chart-"+fx.seriesID) == nil || !strings.Contains(series.text(t, "main"), "ร้อยละของครัวเรือน") {
			t.Error("series page lacks its chart")
		}
		l.mustPage(404, "/units/TH-57/series/"+fx.seriesID, cr)
	})

	t.Run("framework comparison", func(t *testing.T) {
		want := l.api(200, "GET", "/v1/frameworks/compare?from=2563&to=2564&kind=province", opdc, nil, 0)
		p := l.mustPage(200, "/frameworks/compare?from=2563&to=2564&kind=province", opdc)
		accessible(t, p)
		changes := p.text(t, "changes")
		if !strings.Contains(changes, "component mean") || !strings.Contains(changes, "weighted") || !strings.Contains(changes, "6, 9, 12") {
			t.Errorf("changes: %s", changes)
		}
		if comps := p.text(t, "component-changes"); !strings.Contains(comps, "Performance Base") || !strings.Contains(comps, "Function Base") {
			t.Errorf("component changes: %s", comps)
		}
		units := func(p page) []string {
			var out []string
			for _, n := range p.all(func(n *html.Node) bool { return attr(n, "data-unit") != "" }) {
				out = append(out, attr(n, "data-unit"))
			}
			return out
		}
		apiUnits := want["units"].([]any)
		if got := units(p); len(got) != len(apiUnits) || len(got) != 2 || got[0] != "TH-50" {
			t.Fatalf("default order (to total, best first): %v", got)
		}
		row := p.all(func(n *html.Node) bool { return attr(n, "data-unit") == "TH-57" })[0]
		for _, u := range apiUnits {
			if um := u.(map[string]any); um["unit"] == "TH-57" {
				if cellByClass(t, row, "from-total") != str(um["from_total"]) || cellByClass(t, row, "to-total") != str(um["to_total"]) ||
					cellByClass(t, row, "delta") != "−12.25" {
					t.Errorf("TH-57 row %s, API %v", textOf(row), um)
				}
			}
		}
		// Sorted on the server by the change, ascending: TH-57 fell.
		sorted := l.mustPage(200, "/frameworks/compare?from=2563&to=2564&kind=province&sort=delta&dir=asc", opdc)
		if got := units(sorted); got[0] != "TH-57" {
			t.Errorf("sort=delta asc: %v", got)
		}
		th := find(sorted.byID("unit-totals"), func(n *html.Node) bool { return n.Data == "th" && attr(n, "aria-sort") != "" })
		if th == nil || attr(th, "aria-sort") != "ascending" || !strings.Contains(textOf(th), "ผลต่าง") {
			t.Error("the sorted column is not marked")
		}
		link := find(th, func(n *html.Node) bool { return n.Data == "a" })
		if href := attr(link, "href"); !strings.Contains(href, "sort=delta") || !strings.Contains(href, "dir=desc") {
			t.Errorf("the sorted column's link %q does not reverse it", href)
		}
		// A unit officer sees the changes and its own total only, as the API shows.
		scoped := l.mustPage(200, "/frameworks/compare?from=2563&to=2564", cr)
		if got := units(scoped); len(got) != 1 || got[0] != "TH-57" {
			t.Errorf("TH-57 officer sees %v", got)
		}
		// Without years: the latest two with a framework.
		if got := units(l.mustPage(200, "/frameworks/compare", opdc)); len(got) != 2 {
			t.Errorf("default years: %v", got)
		}
		if p := l.mustPage(404, "/frameworks/compare?from=2563&to=2564&kind=department", opdc); !strings.Contains(p.text(t, "missing"), "FY2563") {
			t.Errorf("department frameworks missing: %s", p.text(t, "main"))
		}
	})

	t.Run("text is escaped", func(t *testing.T) {
		l.api(201, "POST", "/v1/units/TH-50/series", cm, map[string]any{
			"title_th": `<script>alert("x")</script> ตัวชี้วัด`, "measure": "ร้อยละ", "direction": "up",
			"baseline": 1, "start_year": 2564, "end_year": 2566,
			"targets": map[string]any{"2564": 2, "2565": 3, "2566": 4}}, 0)
		p := l.mustPage(200, "/units/TH-50", cm)
		if strings.Contains(p.Body, "<script>") {
			t.Error("a series title was not escaped")
		}
		if !strings.Contains(p.Body, "&lt;script&gt;") {
			t.Error("the escaped title is not shown")
		}
	})
}

// TestAuthorisationMatchesAPI holds the dashboard's authorisation to the
// API's: for every role and every view, the page is refused exactly when
// the API refuses the same view.
func TestAuthorisationMatchesAPI(t *testing.T) {
	l := newLedger(t)
	fx := seed(l)
	tokens := map[string]string{
		"opdc": l.opdc(), "auditor": l.auditor(), "TH-50": l.officer("TH-50"), "TH-57": l.officer("TH-57"), "cdd": l.officer("cdd"),
	}
	pairs := []struct{ page, api string }{
		{"/units/TH-50/years/2563", "/v1/units/TH-50/years/2563/scorecard"},
		{"/units/TH-50/years/2563?as_of=2020-06-30", "/v1/units/TH-50/years/2563/scorecard?as_of=2020-06-30T23:59:59Z"},
		{"/units/TH-57/years/2564", "/v1/units/TH-57/years/2564/scorecard"},
		{"/units/TH-50", "/v1/units/TH-50/trends"},
		{"/units/TH-50?from=2563&to=2564", "/v1/units/TH-50/comparison?from=2563&to=2564"},
		{"/units/TH-50/series/" + fx.seriesID, "/v1/units/TH-50/series/" + fx.seriesID + "/trend"},
		{"/units/TH-50/years/2563/audit", "/v1/units/TH-50/years/2563/audit"},
		{"/units/TH-57/years/2564/audit", "/v1/units/TH-57/years/2564/audit"},
		{"/units/TH-50/years/2563/export", "/v1/export?unit=TH-50&fiscal_year=2563"},
		{"/frameworks/compare?from=2563&to=2564", "/v1/frameworks/compare?from=2563&to=2564"},
		{"/units/TH-99/years/2563", "/v1/units/TH-99/years/2563/scorecard"},
		{"/units/cdd/years/2563", "/v1/units/cdd/years/2563/scorecard"},
	}
	for who, tok := range tokens {
		for _, pr := range pairs {
			page, apiStatus := l.get(pr.page, tok), l.apiStatus(pr.api, tok)
			if (page.Status == http.StatusForbidden) != (apiStatus == http.StatusForbidden) ||
				(page.Status == http.StatusNotFound) != (apiStatus == http.StatusNotFound) {
				t.Errorf("%s: %s answers %d but %s answers %d", who, pr.page, page.Status, pr.api, apiStatus)
			}
		}
	}
}

// TestMountLeavesTheAPIAlone checks that the dashboard's routes take no
// API path, that the API still answers as before beside them, and that the
// OpenAPI document does not list the pages.
func TestMountLeavesTheAPIAlone(t *testing.T) {
	l := newLedger(t)
	ops := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.json": true}
	srv := api.New(api.Config{Store: l.store, Model: l.model, TokenKey: l.key,
		Extra: web.Mount(web.Config{Store: l.store, Model: l.model, TokenKey: l.key})})
	pages := 0
	for _, r := range srv.Echo().Routes() {
		// Echo names a route after its handler's function.
		if !strings.Contains(r.Name, "/api/web.") {
			continue
		}
		pages++
		if strings.HasPrefix(r.Path, "/v1") || ops[r.Path] {
			t.Errorf("the dashboard registers %s %s", r.Method, r.Path)
		}
	}
	if pages < 10 {
		t.Errorf("only %d dashboard routes found", pages)
	}
	res, err := http.Get(l.url + "/v1/units")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("/v1/units without a token: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	res, err = http.Get(l.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for p := range doc.Paths {
		if !strings.HasPrefix(p, "/v1") && !ops[p] {
			t.Errorf("/openapi.json lists %s", p)
		}
	}
	css := l.get("/assets/style.css", "")
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.Status, css.Header.Get("Content-Type"))
	}
	if l.get("/assets/nope.css", "").Status != 404 {
		t.Error("a missing asset is not a 404")
	}
}

// accessible checks the basics on a page: Thai as its language, one <h1>,
// a scope on every table header, a label for every form control, and a
// text alternative for every chart.
func accessible(t *testing.T, p page) {
	t.Helper()
	if lang := attr(find(p.doc, func(n *html.Node) bool { return n.Data == "html" }), "lang"); lang != "th" {
		t.Errorf(`<html lang=%q>, want "th"`, lang)
	}
	if h1 := p.all(func(n *html.Node) bool { return n.Data == "h1" }); len(h1) != 1 {
		t.Errorf("%d <h1> elements", len(h1))
	}
	for _, th := range p.all(func(n *html.Node) bool { return n.Data == "th" }) {
		if attr(th, "scope") == "" {
			t.Errorf("<th> without scope: %s", textOf(th))
		}
	}
	for _, in := range p.all(func(n *html.Node) bool { return n.Data == "input" || n.Data == "select" || n.Data == "textarea" }) {
		if attr(in, "type") == "hidden" {
			continue
		}
		id := attr(in, "id")
		if id == "" || find(p.doc, func(n *html.Node) bool { return n.Data == "label" && attr(n, "for") == id }) == nil {
			t.Errorf("<%s id=%q> has no label", in.Data, id)
		}
	}
	for _, svg := range p.all(func(n *html.Node) bool { return n.Data == "svg" }) {
		if attr(svg, "role") != "img" || attr(svg, "aria-labelledby") == "" {
			t.Errorf("<svg id=%q> has no text alternative", attr(svg, "id"))
		}
	}
}

// TestNotReady: while the read model is still being rebuilt the pages say
// so, as the API's 503 does, rather than show numbers that are behind.
func TestNotReady(t *testing.T) {
	key := []byte("test-key-0123456789-0123456789-0123456789")
	e := echo.New()
	web.New(web.Config{Model: projections.NewModel(), TokenKey: key}).Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	tok, err := api.IssueToken(key, api.Principal{Subject: "a", Role: domain.RoleAuditor}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l := &ledger{t: t, url: srv.URL}
	p := l.mustPage(http.StatusServiceUnavailable, "/units", tok)
	if !strings.Contains(p.text(t, "main"), "กำลังสร้างข้อมูล") {
		t.Errorf("page: %s", p.text(t, "main"))
	}
}

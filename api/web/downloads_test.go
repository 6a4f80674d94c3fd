package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"
)

// TestDownloadLinks: every data page links its view as XLSX and CSV; the
// link downloads the API's own answer with the reader's session, so a
// reader gets only what the API lets them read.
func TestDownloadLinks(t *testing.T) {
	l := newLedger(t)
	fx := seed(l)
	opdc, cm := l.opdc(), l.officer("TH-50")
	for _, c := range []struct{ page, token, apiPath string }{
		{"/units", opdc, "/v1/units"},
		{"/units/TH-50", cm, "/v1/units/TH-50/trends"},
		{"/units/TH-50/series/" + fx.seriesID, cm, "/v1/units/TH-50/series/" + fx.seriesID + "/trend"},
		{"/units/TH-50/years/2563", cm, "/v1/units/TH-50/years/2563/scorecard"},
		{"/units/TH-50/years/2563?as_of=2020-06-30", cm, "/v1/units/TH-50/years/2563/scorecard"},
		{"/units/TH-50/years/2563/audit", l.auditor(), "/v1/units/TH-50/years/2563/audit"},
		{"/frameworks/compare?from=2563&to=2564", opdc, "/v1/frameworks/compare"},
	} {
		p := l.mustPage(200, c.page, c.token)
		box := p.byID("downloads")
		if box == nil {
			t.Errorf("%s has no download links", c.page)
			continue
		}
		var links []string
		for _, a := range p.all(func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "a" }) {
			if h := attr(a, "href"); strings.HasPrefix(h, "/download?") {
				links = append(links, h)
			}
		}
		if len(links) != 2 {
			t.Errorf("%s: download links %v", c.page, links)
			continue
		}
		u, _ := url.Parse(links[0])
		if u.Query().Get("path") != c.apiPath || u.Query().Get("format") != "xlsx" {
			t.Errorf("%s: link %s", c.page, links[0])
		}
		d := l.get(links[0], c.token)
		if d.Status != 200 || d.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Errorf("%s: download %d %s %.200s", c.page, d.Status, d.Header.Get("Content-Type"), d.Body)
			continue
		}
		if _, err := excelize.OpenReader(bytes.NewReader([]byte(d.Body))); err != nil {
			t.Errorf("%s: the download is not a workbook: %v", c.page, err)
		}
		if d := l.get(links[1], c.token); d.Status != 200 || !strings.HasPrefix(d.Body, "\ufeff") {
			t.Errorf("%s: CSV download %d", c.page, d.Status)
		}
	}

	// The API's roles decide: another unit's officer is refused.
	link := "/download?" + url.Values{"path": {"/v1/units/TH-50/years/2563/scorecard"}, "format": {"xlsx"}}.Encode()
	if d := l.get(link, l.officer("TH-57")); d.Status != http.StatusForbidden {
		t.Errorf("TH-57's officer downloading TH-50: %d", d.Status)
	}
	if d := l.get(link, ""); d.Status != http.StatusSeeOther && d.Status != http.StatusFound {
		t.Errorf("no session: %d", d.Status)
	}
	for _, bad := range []string{
		"/download?path=/v1/export&format=xlsx",
		"/download?path=/v1/units/TH-50/years/2563/scorecard&format=pdf",
		"/download?path=//evil.example/x&format=csv",
	} {
		if d := l.get(bad, opdc); d.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, d.Status)
		}
	}
}

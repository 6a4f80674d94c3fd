package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

type auditPage struct {
	layout
	Unit       domain.Unit
	FY         int
	Trail      projections.AuditTrail
	Events     []auditEvent
	FirstBreak *projections.AuditEvent
	BandRank   int
	ExportHref string
	// ExportCommand is the offline check of the downloaded bundle.
	ExportCommand string
}

// auditEvent is an event of the trail with what a reader needs to follow
// it without reading JSON: a summary and a link to the scorecard as it
// stood right after it.
type auditEvent struct {
	projections.AuditEvent
	Summary       string
	Data          string // the payload, indented
	ScorecardHref string
}

// audit: GET /units/{unit}/years/{fy}/audit — the page of
// GET /v1/units/{unit}/years/{fy}/audit, for OPDC and auditors only.
func (d *Dashboard) audit(c echo.Context, s *session) error {
	if !api.CanAudit(s.P) {
		return forbiddenf("เส้นทางการตรวจสอบเปิดให้เฉพาะ สำนักงาน ก.พ.ร. และผู้ตรวจสอบ (role %s may not read audit trails; allowed: opdc, auditor)", s.P.Role)
	}
	u, fy, err := d.unitYearParams(c, s)
	if err != nil {
		return err
	}
	trail, err := projections.BuildAudit(c.Request().Context(), d.store, u, fy)
	if err != nil {
		return err
	}
	pg := auditPage{Unit: u, FY: fy, Trail: trail, BandRank: -1,
		ExportHref: yearPath(u.Code, fy) + "/export"}
	pg.ExportCommand = "kpiledger verify --file kpiledger-" + u.Code + "-" + itoa(fy) + "-….jsonl"
	pg.layout = newLayout(s, "เส้นทางการตรวจสอบ · "+u.NameTH+" ปีงบประมาณ "+itoa(fy), "units",
		crumb{"หน่วยรับการประเมิน", "/units"}, crumb{u.NameTH, unitPath(u.Code)}, crumb{"ปีงบประมาณ " + itoa(fy), yearPath(u.Code, fy)},
		crumb{"เส้นทางการตรวจสอบ", ""})
	pg.Downloads = downloads("/v1/units/"+u.Code+"/years/"+itoa(fy)+"/audit", nil)
	for i := range trail.Events {
		e := trail.Events[i]
		if !e.ChainOK && pg.FirstBreak == nil {
			pg.FirstBreak = &trail.Events[i]
		}
		pg.Events = append(pg.Events, auditEvent{AuditEvent: e, Summary: summarize(e), Data: indentJSON(e.Data),
			ScorecardHref: yearPath(u.Code, fy) + "?" + url.Values{"as_of": {isoUTC(e.RecordedAt)}}.Encode()})
	}
	d.model.Read(func(st *projections.State) {
		if fw := st.Framework(fy, u.Kind); fw != nil {
			pg.BandRank = bandRank(fw.Framework.Bands, trail.Total.Band)
		}
	})
	d.render(c, http.StatusOK, "audit", pg)
	return nil
}

// export: GET /units/{unit}/years/{fy}/export — the unit-year's bundle for
// offline verification. A browser cannot add a bearer header to a link, so
// the dashboard hands the request to the API's own GET /v1/export with the
// session's token: one implementation of the bundle, authorised once more
// by the API itself, streamed straight to the reader.
func (d *Dashboard) export(c echo.Context, s *session) error {
	if !api.CanAudit(s.P) {
		return forbiddenf("การส่งออกเปิดให้เฉพาะ สำนักงาน ก.พ.ร. และผู้ตรวจสอบ (role %s may not export; allowed: opdc, auditor)", s.P.Role)
	}
	u, fy, err := d.unitYearParams(c, s)
	if err != nil {
		return err
	}
	d.forward(c, s, "/v1/export", url.Values{"unit": {u.Code}, "fiscal_year": {strconv.Itoa(fy)}})
	return nil
}

// forward answers a download with the API's own handler for path and
// query, called with the session's token instead of its cookie, so the
// API's roles decide what may be downloaded.
func (d *Dashboard) forward(c echo.Context, s *session, path string, q url.Values) {
	r := c.Request().Clone(c.Request().Context())
	r.URL = &url.URL{Path: path, RawQuery: q.Encode()}
	r.RequestURI = r.URL.RequestURI()
	r.Header.Del("Cookie")
	r.Header.Set(echo.HeaderAuthorization, "Bearer "+s.token)
	// The page's headers do not apply to a download; the API sets its own.
	c.Response().Header().Del("Content-Security-Policy")
	d.echo.ServeHTTP(c.Response(), r)
}

// downloadable are the API views the dashboard's download links name: the
// views that answer ?format=xlsx|csv.
var downloadable = regexp.MustCompile(`^/v1/(units|units/[A-Za-z0-9-]+/(years/[0-9]{4}/(scorecard|audit)|comparison|trends|series|series/[0-9a-f-]+/trend)|frameworks/compare)$`)

// download: GET /download?path=&format=&query= — a page's data as a
// spreadsheet, answered by the API's own handler with the session's token,
// so the API's roles decide what may be downloaded.
func (d *Dashboard) download(c echo.Context, s *session) error {
	path, format := c.QueryParam("path"), c.QueryParam("format")
	if !downloadable.MatchString(path) || (format != "xlsx" && format != "csv") {
		return &pageError{Status: http.StatusBadRequest, Title: "ลิงก์ดาวน์โหลดไม่ถูกต้อง", TitleEN: "Bad download link",
			Detail: "path must name a view of the API and format must be xlsx or csv"}
	}
	q, err := url.ParseQuery(c.QueryParam("query"))
	if err != nil {
		return &pageError{Status: http.StatusBadRequest, Title: "ลิงก์ดาวน์โหลดไม่ถูกต้อง", TitleEN: "Bad download link", Detail: err.Error()}
	}
	q.Set("format", format)
	d.forward(c, s, path, q)
	return nil
}

// summarize says in a line what an event did, from its payload decoded
// (and upcast) by the event catalogue, as the fold reads it.
func summarize(e projections.AuditEvent) string {
	ev, err := events.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return ""
	}
	withNote := func(s, sep, note string) string {
		if note != "" {
			return s + sep + note
		}
		return s
	}
	switch ev := ev.(type) {
	case domain.FrameworkPublished:
		return fmt.Sprintf("กรอบการประเมินปี %d สำหรับ%s", ev.Framework.FiscalYear, kindTH(ev.Framework.UnitKind))
	case domain.FrameworkRevised:
		return withNote(fmt.Sprintf("กรอบการประเมินปี %d สำหรับ%s", ev.Framework.FiscalYear, kindTH(ev.Framework.UnitKind)), " — เหตุผล: ", ev.Reason)
	case domain.IndicatorProposed:
		return ev.Spec.TitleTH
	case domain.IndicatorRevised:
		return withNote(ev.Spec.TitleTH, " — เหตุผล: ", ev.Reason)
	case domain.IndicatorReviewed:
		return withNote(decisionTH(ev.Decision)+fmt.Sprintf(" (ฉบับที่ %d)", ev.OnVersion), " — ", ev.Comment)
	case domain.IndicatorWithdrawn:
		return ev.Reason
	case domain.ResultReported:
		return withNote(fmt.Sprintf("รอบ %d เดือน: ผล %s", ev.Round, ev.Actual), " — ปัญหาอุปสรรค: ", ev.Obstacles)
	case domain.ResultVerified:
		out := fmt.Sprintf("รอบ %d เดือน รายงานครั้งที่ %d: %s", ev.Round, ev.OnReport, decisionTH(ev.Decision))
		if ev.VerifiedActual != "" {
			out += " ค่า " + string(ev.VerifiedActual)
		}
		return withNote(out, " — ", ev.Comment)
	case domain.SeriesDefined:
		return ev.TitleTH
	case domain.InnovationProposed:
		return ev.TitleTH
	case domain.InnovationReviewed:
		return withNote(decisionTH(ev.Decision), " — ", ev.Comment)
	}
	return ""
}

func indentJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

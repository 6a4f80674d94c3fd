package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// bangkok is Thai time. Thailand keeps UTC+7 all year, so a fixed zone is
// exact and the binary needs no time zone database.
var bangkok = time.FixedZone("ICT", 7*60*60)

// beOffset turns a Common Era year into a Buddhist Era one (พ.ศ. = ค.ศ. + 543).
const beOffset = 543

var monthsShortTH = [12]string{"ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."}

// thaiDate is "30 มิ.ย. 2563" in Thai time.
func thaiDate(t time.Time) string {
	t = t.In(bangkok)
	return fmt.Sprintf("%d %s %d", t.Day(), monthsShortTH[t.Month()-1], t.Year()+beOffset)
}

// thaiDateTime is "20 พ.ย. 2563 10:15:30 น." in Thai time: seconds matter
// in an audit trail.
func thaiDateTime(t time.Time) string {
	return thaiDate(t) + " " + t.In(bangkok).Format("15:04:05") + " น."
}

// isoUTC is the machine-readable instant for <time datetime>.
func isoUTC(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// fiscalYearSpan says when a fiscal year runs: FY2563 is 1 Oct 2562 – 30 Sep 2563 B.E.
func fiscalYearSpan(fy int) string {
	return fmt.Sprintf("1 ต.ค. %d – 30 ก.ย. %d", fy-1, fy)
}

// num shows a Number exactly as the API encodes it (scores already rounded
// to domain.ScoreDecimals, trailing zeros trimmed) or a dash when absent.
func num(n domain.Number) string {
	if n == "" {
		return "—"
	}
	return string(n)
}

// signed shows a difference with its sign, so a reader sees a rise at a glance.
func signed(n domain.Number) string {
	if n == "" {
		return "—"
	}
	if r := n.Rat(); r != nil && r.Sign() > 0 {
		return "+" + string(n)
	}
	if strings.HasPrefix(string(n), "-") {
		return "−" + string(n[1:]) // a true minus sign reads better than a hyphen
	}
	return string(n)
}

// sign is "up", "down" or "flat" for a difference, "" when absent; the
// templates use it for a class and a word, never colour alone.
func sign(n domain.Number) string {
	r := n.Rat()
	switch {
	case r == nil:
		return ""
	case r.Sign() > 0:
		return "up"
	case r.Sign() < 0:
		return "down"
	}
	return "flat"
}

// cmpNumbers orders present numbers by value and absent ones last.
func cmpNumbers(a, b domain.Number) int {
	ra, rb := a.Rat(), b.Rat()
	switch {
	case ra == nil && rb == nil:
		return 0
	case ra == nil:
		return 1
	case rb == nil:
		return -1
	}
	return ra.Cmp(rb)
}

func roleTH(r domain.Role) string {
	switch r {
	case domain.RoleOPDC:
		return "สำนักงาน ก.พ.ร. (OPDC)"
	case domain.RoleUnit:
		return "หน่วยรับการประเมิน (unit)"
	case domain.RoleAuditor:
		return "ผู้ตรวจสอบ (auditor)"
	case domain.RoleSystem:
		return "ระบบ (system)"
	}
	return string(r)
}

func kindTH(k domain.UnitKind) string {
	switch k {
	case domain.KindProvince:
		return "จังหวัด"
	case domain.KindDepartment:
		return "ส่วนราชการ"
	}
	return string(k)
}

func statusTH(s domain.Status) string {
	switch s {
	case domain.StatusProposed:
		return "เสนอแล้ว"
	case domain.StatusRevisionRequested:
		return "ขอให้ปรับปรุง"
	case domain.StatusRevised:
		return "ปรับปรุงแล้ว"
	case domain.StatusApproved:
		return "เห็นชอบแล้ว"
	case domain.StatusRejected:
		return "ไม่เห็นชอบ"
	case domain.StatusWithdrawn:
		return "ถอนแล้ว"
	}
	return string(s)
}

func directionTH(d domain.Direction) string {
	switch d {
	case domain.DirectionUp:
		return "ยิ่งมากยิ่งดี"
	case domain.DirectionDown:
		return "ยิ่งน้อยยิ่งดี"
	case domain.DirectionMilestone:
		return "ขั้นความสำเร็จ"
	}
	return string(d)
}

func rollupTH(r domain.Rollup) string {
	switch r {
	case domain.RollupWeighted:
		return "ถัวเฉลี่ยถ่วงน้ำหนักทุกตัวชี้วัด (weighted)"
	case domain.RollupComponentMean:
		return "ค่าเฉลี่ยของคะแนนแต่ละองค์ประกอบ (component mean)"
	}
	return string(r)
}

// eventTH names an event type in Thai; the type itself is shown beside it.
func eventTH(typ string) string {
	switch typ {
	case events.TypeFrameworkPublished:
		return "ประกาศกรอบการประเมิน"
	case events.TypeFrameworkRevised:
		return "แก้ไขกรอบการประเมิน"
	case events.TypeDepartmentRegistered:
		return "ลงทะเบียนส่วนราชการ"
	case events.TypeIndicatorProposed:
		return "เสนอตัวชี้วัด"
	case events.TypeIndicatorRevised:
		return "ปรับปรุงตัวชี้วัด"
	case events.TypeIndicatorReviewed:
		return "พิจารณาตัวชี้วัด"
	case events.TypeIndicatorWithdrawn:
		return "ถอนตัวชี้วัด"
	case events.TypeResultReported:
		return "รายงานผลการดำเนินงาน"
	case events.TypeResultVerified:
		return "ตรวจสอบผลการดำเนินงาน"
	case events.TypeSeriesDefined:
		return "กำหนดตัวชี้วัดระยะยาว"
	case events.TypeInnovationProposed:
		return "เสนอนวัตกรรม"
	case events.TypeInnovationSelected:
		return "คัดเลือกนวัตกรรม"
	case events.TypeInnovationReviewed:
		return "พิจารณานวัตกรรม"
	case events.TypeCheckpointRecorded:
		return "บันทึกจุดตรวจสอบ"
	}
	return typ
}

// decisionTH names a reviewer's decision. The vocabularies of indicator
// reviews, result verifications and innovation reviews share some words
// ("reject", "accept"), which mean the same in Thai too.
func decisionTH(d string) string {
	switch d {
	case domain.DecisionApprove:
		return "เห็นชอบ"
	case domain.DecisionRequestRevision:
		return "ขอให้ปรับปรุง"
	case domain.DecisionReject: // also domain.VerifyReject
		return "ไม่รับ"
	case domain.VerifyAccept: // also domain.InnovationAccept
		return "รับรองผล"
	case domain.VerifyAdjust:
		return "ปรับค่าผลการดำเนินงาน"
	case domain.InnovationDecline:
		return "ไม่รับ"
	}
	return d
}

// matchedByTH says how a comparison matched two years' indicators.
func matchedByTH(by string) string {
	switch by {
	case projections.MatchedBySeries:
		return "ตัวชี้วัดระยะยาวเดียวกัน (series)"
	case projections.MatchedByTitle:
		return "ชื่อตัวชี้วัดเดียวกัน (title)"
	}
	return by
}

// bandView is what the "band" partial draws.
type bandView struct {
	Label string
	Rank  int
}

func bandOf(label string, rank int) bandView { return bandView{Label: label, Rank: rank} }

// f1 writes an SVG coordinate with one decimal, enough at this scale.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// shortHash is enough of a SHA-256 hex to tell events apart on screen;
// the full value is in the page for copying.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// bandRank is a band's place among a framework's bands, best first, so
// that pages can tint it (0 best … 3 lowest and beyond); -1 for no band.
func bandRank(bands []domain.Band, label string) int {
	if label == "" {
		return -1
	}
	sorted := slices.Clone(bands)
	slices.SortStableFunc(sorted, func(a, b domain.Band) int { return -cmpNumbers(a.Min, b.Min) })
	for i, b := range sorted {
		if b.Label == label {
			return min(i, 3)
		}
	}
	return -1
}

// parseAsOf reads the scorecard's as-of field. A date (what <input
// type=date> sends) means the end of that day in Thai time — "as the
// scorecard stood on 30 June" includes that day's work; a datetime-local
// value means the end of that minute (or second); an RFC 3339 instant (what
// the audit trail links with) is taken as is. A year above 2400 was typed
// in the Buddhist Era and is converted.
func parseAsOf(v string) (time.Time, error) {
	for _, f := range []struct {
		layout string
		span   time.Duration
	}{{"2006-01-02", 24 * time.Hour}, {"2006-01-02T15:04", time.Minute}, {"2006-01-02T15:04:05", time.Second}} {
		if len(v) != len(f.layout) {
			continue
		}
		t, err := time.ParseInLocation(f.layout, v, bangkok)
		if err != nil {
			break
		}
		if t.Year() > 2400 {
			t = t.AddDate(-beOffset, 0, 0)
		}
		if f.span == 24*time.Hour {
			return t.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
		}
		return t.Add(f.span - time.Nanosecond), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequestf("as_of: ต้องเป็นวันที่ เช่น 2020-06-30 หรือเวลาแบบ RFC 3339 (must be a date such as 2020-06-30, or an RFC 3339 instant): %q", v)
	}
	return t, nil
}

// sortedInts returns a set's members in ascending order.
func sortedInts(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// rank shows a rank, or a dash for a unit without one.
func rank(r *int) string {
	if r == nil {
		return "—"
	}
	return strconv.Itoa(*r)
}

// signedInt shows a rank change with its sign: +3 climbed three places.
func signedInt(n *int) string {
	if n == nil {
		return "—"
	}
	return signed(domain.Number(strconv.Itoa(*n)))
}

// signInt is sign for a rank change.
func signInt(n *int) string {
	if n == nil {
		return ""
	}
	return sign(domain.Number(strconv.Itoa(*n)))
}

// moveTH says a band movement in Thai first.
func moveTH(move string) string {
	switch move {
	case projections.BandUp:
		return "▲ เลื่อนขึ้น (up)"
	case projections.BandDown:
		return "▼ เลื่อนลง (down)"
	case projections.BandSame:
		return "= คงเดิม (same)"
	}
	return "—"
}

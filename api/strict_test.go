package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

const th50Indicators = "/v1/units/TH-50/years/2563/indicators"

// TestStrictJSONNames: a field given twice, or spelt in another case, is
// refused naming the field, where encoding/json kept the last value and
// folded the case; nothing is appended.
func TestStrictJSONNames(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	before := h.lastSeq()
	dup := `{"component":"function","title_th":"ก","measure":"ร้อยละ","direction":"up","weight":10,"weight":90,"targets":[1,2,3]}`
	p := problemOf(t, h.do("POST", th50Indicators, cm, dup), 400, "weight")
	if !strings.Contains(fmt.Sprint(p["detail"]), "more than once") {
		t.Errorf("duplicate not named as such: %v", p["detail"])
	}
	nested := strings.Replace(fy2564Department, `"weight": 70,`, `"weight": 70, "weight": 30,`, 1)
	problemOf(t, h.do("POST", "/v1/frameworks", h.opdc(), nested), 400, "components[0].weight")
	folded := `{"Component":"function","title_th":"ก","measure":"ร้อยละ","direction":"up","weight":10,"targets":[1,2,3]}`
	problemOf(t, h.do("POST", th50Indicators, cm, folded), 400, "Component")
	upper := `{"component":"function","TITLE_TH":"ก","measure":"ร้อยละ","direction":"up","weight":10,"targets":[1,2,3]}`
	problemOf(t, h.do("POST", th50Indicators, cm, upper), 400, "TITLE_TH")
	if h.lastSeq() != before {
		t.Fatal("a refused body was appended")
	}
}

// TestNumberBounds: numbers are bounded by their digits and exponent
// before any arithmetic, so a million-digit target is refused on its
// length (the limit named) instead of being computed with, under the read
// model's lock, for seconds.
func TestNumberBounds(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	before := h.lastSeq()
	body := func(target string) string {
		return `{"component":"function","title_th":"ก","measure":"ร้อยละ","direction":"up","weight":1,"targets":[` + target + `,2,3]}`
	}
	for _, n := range []string{
		"1" + strings.Repeat("0", 1_040_000), // a million digits
		"0." + strings.Repeat("0", 29) + "1", // 31 digits
		"1e400", "1e-400", "1e99999999999999999999", "-5E+31",
	} {
		p := problemOf(t, h.do("POST", th50Indicators, cm, body(n)), 400, "targets[0]")
		if p["limit"] != "number_digits" {
			t.Errorf("%.20s…: limit not named: %v", n, p)
		}
	}
	if h.lastSeq() != before {
		t.Fatal("a refused number was appended")
	}
	// 30 digits and an exponent up to 30 are within bounds (and the value
	// then passes the domain's own magnitude and decimal checks).
	h.must(201, "POST", th50Indicators, cm, body("0."+strings.Repeat("0", 28)+"0"))
	h.must(201, "POST", th50Indicators, cm, body("0."+strings.Repeat("0", 27)+"1e28"))
}

// TestTextRules: control, bidirectional-override and invisible characters
// are refused in titles, codes and measures; line breaks are allowed in
// free text only; a lone surrogate is refused rather than stored as U+FFFD.
func TestTextRules(t *testing.T) {
	h := newHarness(t)
	opdc, cm := h.opdc(), h.officer("TH-50")
	h.must(201, "POST", "/v1/frameworks", opdc, fy2563Province)
	before := h.lastSeq()
	for name, title := range map[string]string{
		"NUL": `ก\u0000ข`, "ESC": `ก\u001b[31mข`, "BEL": `ก\u0007`, "CR LF": `ก\r\nข`, "LF": `ก\nข`, "tab": `ก\tข`,
		"RLO": `ก\u202eข`, "LRI": `\u2066ก`, "ZWSP": `ก\u200bข`, "ZWJ": `ก\u200dข`, "BOM": `\ufeffก`, "C1": `ก\u0085`,
		"lone surrogate": `ก\ud800ข`, "reversed pair": `\udc00\ud800`,
	} {
		b := `{"component":"function","title_th":"` + title + `","measure":"ร้อยละ","direction":"up","weight":1,"targets":[1,2,3]}`
		r := h.do("POST", th50Indicators, cm, b)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"field":"title_th"`) {
			t.Errorf("%s in a title: %d %s", name, r.Status, r.Body)
		}
	}
	p := problemOf(t, h.do("POST", th50Indicators, cm, `{"component":"function","title_th":"ก","measure":"ร้อย\u202eละ","direction":"up","weight":1,"targets":[1,2,3]}`), 400, "measure")
	// The problem names the character and where it is, counted in characters (ร้อย is four).
	if b, _ := json.Marshal(p); !strings.Contains(string(b), "(U+202E at character 5)") {
		t.Errorf("the problem does not name U+202E at character 5: %v", p)
	}
	problemOf(t, h.do("POST", th50Indicators, cm, `{"component":"func\ttion","title_th":"ก","measure":"ร้อยละ","direction":"up","weight":1,"targets":[1,2,3]}`), 400, "component")
	problemOf(t, h.do("POST", th50Indicators, cm, `{"component":"function","title_th":"ก","measure":"ร้อยละ","direction":"up","weight":1,"targets":[1,2,3],"rationale":"ก\u202eข"}`), 400, "rationale")
	reg := `{"code":"dep\u200bt","kind":"department","name_th":"กรม","name_en":"Dept"}`
	problemOf(t, h.do("POST", "/v1/units", opdc, reg), 400, "code")
	if h.lastSeq() != before {
		t.Fatal("a refused text was appended")
	}

	// Free text keeps its line breaks (and Thai word-break hints).
	rationale := "บรรทัดแรก\nบรรทัดที่สอง\r\n\tย่อหน้า\u200bคำ"
	ok := h.must(201, "POST", th50Indicators, cm, map[string]any{"component": "function", "title_th": "ร้อยละของครัวเรือน", "measure": "ร้อยละ",
		"direction": "up", "weight": 1, "targets": []int{1, 2, 3}, "rationale": rationale})
	if ok["rationale"] != rationale {
		t.Errorf("rationale came back as %q", ok["rationale"])
	}
	// Evidence is a list of references: one line each.
	id := ok["id"].(string)
	h.must(200, "POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, ifMatch(1)...)
	problemOf(t, h.do("POST", "/v1/indicators/"+id+"/results", cm, map[string]any{"round": 6, "actual": 1, "evidence": []string{"https://a.example/1.pdf\nhttps://b"}}), 400, "evidence[0]")
	h.must(201, "POST", "/v1/indicators/"+id+"/results", cm, map[string]any{"round": 6, "actual": 1, "evidence": []string{"https://a.example/1.pdf"}, "obstacles": "น้ำท่วม\nถนนขาด"})
}

// TestNFCAndThaiRoundTrip: text is normalised to NFC before it is hashed
// and stored, and real Thai titles — tone marks, vowel marks, sara am —
// come back byte for byte.
func TestNFCAndThaiRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	titles := []string{
		"ร้อยละของผู้สูงอายุที่มีภาวะพึ่งพิงได้รับการดูแลตามแผนการดูแลรายบุคคล (Care Plan)",
		"จำนวนจุดความร้อน (Hotspot) สะสมในช่วงฤดูหมอกควัน",
		"ร้อยละของครัวเรือนที่เข้าถึงน้ำประปาที่มีคุณภาพมาตรฐาน",
		"ระดับความสำเร็จของการขับเคลื่อนเศรษฐกิจฐานราก ๑๒๓",
		"อัตราการเพิ่มขึ้นของรายได้จากการท่องเที่ยวเชิงสุขภาพ ฯลฯ",
	}
	for _, title := range titles {
		out := h.must(201, "POST", th50Indicators, cm, indicatorBody("function", title, 1, 1, 2, 3))
		r := h.do("GET", "/v1/indicators/"+out["id"].(string), cm, nil)
		var got struct {
			TitleTH json.RawMessage `json:"title_th"`
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(title)
		if string(got.TitleTH) != string(want) {
			t.Errorf("title came back as %s, want %s", got.TitleTH, want)
		}
	}
	// A decomposed é (e + combining acute) is stored composed, and a Thai
	// tone mark typed before a lower vowel is put in canonical order.
	out := h.must(201, "POST", th50Indicators, cm, indicatorBody("function", "Cafe\u0301 ผู\u0e48", 1, 1, 2, 3))
	if out["title_th"] != "Caf\u00e9 ผู่" {
		t.Errorf("title not NFC: %q", out["title_th"])
	}
	out = h.must(201, "POST", th50Indicators, cm, indicatorBody("function", "ผ\u0e48\u0e39", 1, 1, 2, 3))
	if out["title_th"] != "ผ\u0e39\u0e48" {
		t.Errorf("title not in canonical order: %q", out["title_th"])
	}
}

// TestIdempotencyKeyScope: a key is bound to its method, route and target:
// the same key and body sent to another indicator's withdraw is refused
// 422, where it used to replay the first indicator's answer and leave the
// second one as it was.
func TestIdempotencyKeyScope(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	a := h.must(201, "POST", th50Indicators, cm, indicatorBody("function", "ก", 1, 1, 2, 3))["id"].(string)
	b := h.must(201, "POST", th50Indicators, cm, indicatorBody("function", "ข", 1, 1, 2, 3))["id"].(string)
	body := map[string]any{"reason": "ซ้ำซ้อน"}
	h.must(200, "POST", "/v1/indicators/"+a+"/withdraw", cm, body, "Idempotency-Key", "wd-1")
	before := h.lastSeq()
	p := problemOf(t, h.do("POST", "/v1/indicators/"+b+"/withdraw", cm, body, "Idempotency-Key", "wd-1"), 422, "")
	if !strings.HasSuffix(fmt.Sprint(p["type"]), "/idempotency-key-reused") {
		t.Errorf("problem type %v", p["type"])
	}
	if got := h.must(200, "GET", "/v1/indicators/"+b, cm, nil)["status"]; got == "withdrawn" {
		t.Fatal("the second indicator was withdrawn by a reused key")
	}
	// Another route with the same key is another request too.
	problemOf(t, h.do("POST", th50Indicators, cm, indicatorBody("function", "ค", 1, 1, 2, 3), "Idempotency-Key", "wd-1"), 422, "")
	if h.lastSeq() != before {
		t.Fatal("a reused key appended")
	}
	// The same target is still a replay.
	r := h.do("POST", "/v1/indicators/"+a+"/withdraw", cm, body, "Idempotency-Key", "wd-1")
	if r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry on the same target: %d %s", r.Status, r.Body)
	}
}

// TestIdempotencyCanonicalBody: a retry that re-serialises the same JSON
// (other key order, other whitespace, other escapes) is a replay; another
// body is still 422; and a key stored before canonical hashing — its event
// carries the SHA-256 of the raw body — still replays a byte-identical
// retry, and only on its own target.
func TestIdempotencyCanonicalBody(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	cm := h.officer("TH-50")
	first := `{"component":"function","title_th":"ร้อยละ","measure":"ร้อยละ","direction":"up","weight":1,"targets":[1,2,3]}`
	again := "{\n  \"targets\": [1, 2, 3],\n  \"weight\": 1, \"direction\": \"up\",\n  \"measure\": \"\\u0e23\u0e49\u0e2d\u0e22\u0e25\u0e30\", \"title_th\": \"ร้อยละ\", \"component\": \"function\"\n}"
	a := h.do("POST", th50Indicators, cm, first, "Idempotency-Key", "canon-1")
	if a.Status != 201 {
		t.Fatalf("first: %d %s", a.Status, a.Body)
	}
	seq := h.lastSeq()
	b := h.do("POST", th50Indicators, cm, again, "Idempotency-Key", "canon-1")
	if b.Status != 201 || b.Header.Get("Idempotent-Replayed") != "true" || string(b.Body) != string(a.Body) {
		t.Fatalf("re-serialised retry: %d %s", b.Status, b.Body)
	}
	problemOf(t, h.do("POST", th50Indicators, cm, strings.Replace(first, `"weight":1`, `"weight":2`, 1), "Idempotency-Key", "canon-1"), 422, "")
	if h.lastSeq() != seq {
		t.Fatal("a retry appended")
	}

	// A withdrawal stored the old way: command id from principal and key,
	// request hash of the raw body.
	x := h.must(201, "POST", th50Indicators, cm, indicatorBody("function", "ก", 1, 1, 2, 3))["id"].(string)
	y := h.must(201, "POST", th50Indicators, cm, indicatorBody("function", "ข", 1, 1, 2, 3))["id"].(string)
	raw := `{"reason":  "เก่า"}`
	sum := sha256.Sum256([]byte(raw))
	idem := sha256.Sum256([]byte("officer@TH-50\x00unit\x00TH-50\x00legacy-1"))
	var (
		env *events.Envelope
		agg events.Aggregate
	)
	h.model.Read(func(st *projections.State) {
		ind := st.Indicators[x]
		ev, err := ind.Withdraw("เก่า")
		if err != nil {
			t.Fatal(err)
		}
		hd := st.Heads[projections.AggregateKey(events.KindIndicator, x)]
		agg = events.Aggregate{Kind: events.KindIndicator, ID: x, Unit: "TH-50", FiscalYear: 2563, Version: hd.Version, LastHash: hd.Hash, LastSeq: hd.Seq}
		env, err = events.NewEnvelope(ev, agg)
		if err != nil {
			t.Fatal(err)
		}
	})
	env.Actor = domain.Actor{Subject: "officer@TH-50", Role: domain.RoleUnit, Unit: "TH-50"}
	env.CommandID = "idem-" + hex.EncodeToString(idem[:16])
	env.RequestHash = hex.EncodeToString(sum[:])
	res, err := h.store.Append(context.Background(), env, agg.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.model.WaitFor(context.Background(), res.Sequence); err != nil {
		t.Fatal(err)
	}
	r := h.do("POST", "/v1/indicators/"+x+"/withdraw", cm, raw, "Idempotency-Key", "legacy-1")
	if r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("legacy key, same bytes: %d %s", r.Status, r.Body)
	}
	problemOf(t, h.do("POST", "/v1/indicators/"+y+"/withdraw", cm, raw, "Idempotency-Key", "legacy-1"), 422, "")
	if got := h.must(200, "GET", "/v1/indicators/"+y, cm, nil)["status"]; got == "withdrawn" {
		t.Fatal("a legacy key withdrew another indicator")
	}
}

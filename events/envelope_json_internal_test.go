package events

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
)

// These tests hold the reflection-free envelope codec to its promise: what
// it encodes is byte for byte what json.Marshal writes, and what it decodes
// is exactly what json.Unmarshal gives; where it cannot be sure, it says so
// and encoding/json is used.

// awkward are strings encoding/json escapes or substitutes.
var awkward = []string{
	"", "ร้อยละของครัวเรือน <ปี 2563> & \"ผล\"", "tab\tnew\nline\r\\back\bform\f", "\x00\x01\x1f\x7f",
	"line\u2028para\u2029", "bad utf-8 \xff\xfe end", "ok é ü ñ 😀", "/slash/", "\u00a0nbsp",
}

func codecEnvelopes(t *testing.T) []*Envelope {
	t.Helper()
	var out []*Envelope
	at := time.Date(2020, 9, 30, 17, 0, 0, 123456789, time.UTC)
	for i, s := range awkward {
		ev := domain.ResultReported{Round: 12, Actual: "98.87", Evidence: []string{s, "https://a.go.th/x?a=1&b=<2>"}, Obstacles: s}
		e, err := NewEnvelope(ev, Aggregate{Kind: KindIndicator, ID: "0190a3c0-0000-7000-8000-000000000001", Unit: "TH-50", FiscalYear: 2563, Version: uint64(i), LastHash: "aa"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.CommandID, e.CorrelationID = "0190a3c0-0000-7000-8000-0000000000ff", s, s
		e.OccurredAt, e.RecordedAt = at, at.Add(time.Duration(i)*time.Second)
		e.Actor = domain.Actor{Subject: s, Role: domain.RoleUnit, Unit: "TH-50"}
		if i%3 == 1 {
			// A person signed in by single sign-on: issuer and display name.
			e.Actor.Issuer, e.Actor.Name = "https://sso.example.go.th/realms/"+s, "สมชาย ใจดี "+s
		}
		if i%2 == 0 {
			e.Unit, e.FiscalYear, e.Actor.Unit = "", 0, ""
			e.RequestHash = "abc"
			e.Sequence = uint64(i + 7)
		}
		e.Seal()
		out = append(out, e)
	}
	reg, err := NewEnvelope(domain.DepartmentRegistered{Code: "cdd", NameTH: "กรมการพัฒนาชุมชน", NameEN: "CDD"}, Aggregate{Kind: KindUnit, ID: "cdd"})
	if err != nil {
		t.Fatal(err)
	}
	reg.Seal()
	return append(out, reg)
}

func TestAppendEnvelopeIsJSONMarshal(t *testing.T) {
	for i, e := range codecEnvelopes(t) {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendEnvelope(nil, e)
		if !ok {
			t.Fatalf("envelope %d: the fast encoder declined a compact payload", i)
		}
		if string(got) != string(want) {
			t.Fatalf("envelope %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// Payloads not in json.Marshal's form, and times it would refuse or
	// write with an offset, are left to encoding/json.
	e := codecEnvelopes(t)[1]
	for _, data := range []string{`{"a": 1}`, `{"a":"<"}`, "{\"a\":\"\u2028\"}", `{"a":1`, `nonsense`} {
		c := *e
		c.Data = json.RawMessage(data)
		if _, ok := appendEnvelope(nil, &c); ok {
			t.Errorf("fast encoder took payload %q", data)
		}
		if b, err := marshalEnvelope(&c); err == nil {
			want, _ := json.Marshal(&c)
			if string(b) != string(want) {
				t.Errorf("marshalEnvelope of %q differs from json.Marshal", data)
			}
		}
	}
	c := *e
	c.RecordedAt = c.RecordedAt.In(time.FixedZone("ICT", 7*3600))
	if _, ok := appendEnvelope(nil, &c); ok {
		t.Error("fast encoder took a time with an offset")
	}
}

func TestDecodeEnvelopeIsJSONUnmarshal(t *testing.T) {
	var inputs [][]byte
	for _, e := range codecEnvelopes(t) {
		b, _ := json.Marshal(e)
		ind, _ := json.MarshalIndent(e, "", "  ")
		inputs = append(inputs, b, ind)
	}
	for _, in := range inputs {
		var want, got Envelope
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatal(err)
		}
		if !decodeEnvelope(in, &got, false) {
			t.Fatalf("fast decoder declined what json.Marshal wrote:\n%s", in)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded\n%#v\nwant\n%#v", got, want)
		}
	}
	// What the fast decoder declines, encoding/json decodes (or refuses).
	for _, in := range []string{
		`{"ID":"x"}`, `{"id":null}`, `{"data":null}`, `{"id":"\ud83d\ude00"}`, `{"aggregate_version":1.0}`,
		`{"aggregate_version":-1}`, `{"id":"a"} x`, `{"unknown":1}`, `{"fiscal_year":01}`, `{"actor":{"sub":"a","x":1}}`,
		`{"id":"bad \xff"}`, `[]`, `{"data":{"a":[1,2,}}`,
	} {
		var e Envelope
		if decodeEnvelope([]byte(in), &e, true) {
			t.Errorf("fast decoder took %s", in)
		}
	}
}

// FuzzDecodeEnvelope: whatever the fast decoder accepts, encoding/json
// accepts and decodes to the same envelope.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, e := range codecEnvelopes(&testing.T{}) {
		b, _ := json.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte(`{"id":"a\u00e9\n","actor":{"sub":"x"},"actor":{"role":"y"},"data":[1,-0.5e+3,"\u003c",{}],"sequence":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Envelope
		if !decodeEnvelope(append([]byte(nil), data...), &got, len(data)%2 == 0) {
			return
		}
		var want Envelope
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("fast decoder accepted what encoding/json refuses (%v): %q", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %#v\nwant %#v\nfrom %q", got, want, data)
		}
	})
}

// FuzzAppendEnvelope: the fast encoder writes json.Marshal's bytes for any
// strings and payload it accepts.
func FuzzAppendEnvelope(f *testing.F) {
	f.Add("ร้อยละ", "<&>", []byte(`{"a":1}`), int64(0))
	f.Add("\xff", "\u2028", []byte(`[true,null,"x\"y"]`), int64(-1))
	f.Fuzz(func(t *testing.T, a, b string, data []byte, nanos int64) {
		at := time.Unix(0, nanos).UTC()
		e := &Envelope{ID: a, Type: b, AggregateKind: a, AggregateID: b, Unit: a, FiscalYear: len(a), OccurredAt: at, RecordedAt: at,
			Actor: domain.Actor{Subject: a, Issuer: b, Role: domain.Role(b), Unit: b, Name: a}, CommandID: b, CorrelationID: a, RequestHash: b,
			Data: data, PrevHash: a, Hash: b, Sequence: uint64(len(b))}
		got, ok := appendEnvelope(nil, e)
		if !ok {
			return
		}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("fast encoder wrote what json.Marshal refuses (%v)", err)
		}
		if string(got) != string(want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

// payloadSamples are payloads of every type decodePayload handles, as
// json.Marshal writes them and in other shapes encoding/json accepts.
func payloadSamples() map[string][]string {
	spec := domain.IndicatorSpec{Component: "performance", TitleTH: "ร้อยละ <ของ> \"ครัวเรือน\"", TitleEN: "x", Measure: "ร้อยละ", Direction: domain.DirectionDown,
		Weight: "20", Baseline: "-1.5e3", Targets: []domain.Number{"30", "20.5", "10"}, SeriesID: "s-1", Rationale: "เหตุผล\nบรรทัดสอง"}
	marshal := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return map[string][]string{
		TypeResultReported: {marshal(domain.ResultReported{Round: 12, Actual: "98.87", Evidence: []string{"a", "ข"}, Obstacles: "ฝนทิ้งช่วง"}),
			marshal(domain.ResultReported{Round: 6, Actual: "0"}), `{"round":12,"actual":1,"evidence":[]}`, `{ "round" : 9 , "evidence" : [ "a" ] , "evidence":["b","c"] }`,
			`{"round":12,"actual":null}`, `{"round":12,"actual":"1"}`, `{"round":1.5}`, `{"x":1}`, `{"evidence":null}`},
		TypeResultVerified: {marshal(domain.ResultVerified{Round: 12, Decision: "adjust", VerifiedActual: "41", Comment: "c", OnReport: 2}),
			marshal(domain.ResultVerified{Round: 12, Decision: "accept", OnReport: 1}), `{"on_report":-3}`},
		TypeIndicatorReviewed:  {marshal(domain.IndicatorReviewed{Decision: "approve", OnVersion: 3}), `{"on_version":18446744073709551615}`, `{"on_version":18446744073709551616}`},
		TypeIndicatorWithdrawn: {marshal(domain.IndicatorWithdrawn{}), marshal(domain.IndicatorWithdrawn{Reason: "ซ้ำ"}), `{}`},
		TypeIndicatorProposed:  {marshal(domain.IndicatorProposed{ID: "i-1", Unit: "TH-50", FiscalYear: 2563, Spec: spec}), `{"spec":{"targets":[]},"spec":{"weight":1}}`},
		TypeIndicatorRevised:   {marshal(domain.IndicatorRevised{Spec: spec, Reason: "r"}), `{"spec":{"targets":[1,2,"3"]}}`},
	}
}

// TestDecodePayloadIsJSONUnmarshal: each handled payload decodes as
// encoding/json decodes it, and what the fast path declines still decodes.
func TestDecodePayloadIsJSONUnmarshal(t *testing.T) {
	for typ, samples := range payloadSamples() {
		for _, data := range samples {
			want, werr := stdDecode(typ, []byte(data))
			got, ok := decodePayload(typ, []byte(data))
			if ok && (werr != nil || !reflect.DeepEqual(got, want)) {
				t.Errorf("%s %s: fast %#v, encoding/json %#v (%v)", typ, data, got, want, werr)
			}
			full, err := Decode(typ, 2-btoi(typ != TypeResultReported), []byte(data))
			if (err == nil) != (werr == nil) || !reflect.DeepEqual(full, want) {
				t.Errorf("%s %s: Decode gave %#v (%v), encoding/json %#v (%v)", typ, data, full, err, want, werr)
			}
		}
	}
	if _, ok := decodePayload(TypeResultReported, []byte(`{"round":12,"actual":98.87,"evidence":["a"],"obstacles":"b"}`)); !ok {
		t.Error("the fast path declined a plain result report")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stdDecode is the encoding/json decode that Decode falls back to.
func stdDecode(typ string, data []byte) (domain.Event, error) {
	switch typ {
	case TypeResultReported:
		return decodeAs[domain.ResultReported](data)
	case TypeResultVerified:
		return decodeAs[domain.ResultVerified](data)
	case TypeIndicatorReviewed:
		return decodeAs[domain.IndicatorReviewed](data)
	case TypeIndicatorWithdrawn:
		return decodeAs[domain.IndicatorWithdrawn](data)
	case TypeIndicatorProposed:
		return decodeAs[domain.IndicatorProposed](data)
	case TypeIndicatorRevised:
		return decodeAs[domain.IndicatorRevised](data)
	}
	return nil, nil
}

// FuzzDecodePayload: whatever the fast path accepts, encoding/json decodes
// to the same event.
func FuzzDecodePayload(f *testing.F) {
	types := []string{TypeResultReported, TypeResultVerified, TypeIndicatorReviewed, TypeIndicatorWithdrawn, TypeIndicatorProposed, TypeIndicatorRevised}
	for i, typ := range types {
		for _, s := range payloadSamples()[typ] {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		typ := types[int(k)%len(types)]
		got, ok := decodePayload(typ, data)
		if !ok {
			return
		}
		want, err := stdDecode(typ, data)
		if err != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %#v\nwant %#v\nfrom %q", got, want, data)
		}
	})
}

package events

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opdc/kpiledger/domain"
)

// The envelope's JSON, encoded and decoded without reflection.
//
// Every event read from the log is decoded here, and every append encodes
// one; encoding/json spends most of a rebuild validating and re-scanning
// the payload (json.RawMessage) and allocating strings that are the same
// for thousands of events (types, units, actors). These functions handle
// the envelopes the store writes and give exactly what encoding/json gives;
// anything outside what they handle exactly (an unknown or escaped key, a
// null, a surrogate escape, invalid UTF-8, a payload that is not compact)
// makes them decline, and the caller uses encoding/json, so behaviour,
// errors included, never differs.

// decodeEnvelope fills e from data and reports whether it could; on false
// e is in an unspecified state and the caller decodes with encoding/json.
// With owned, e.Data points into data rather than into a copy.
func decodeEnvelope(data []byte, e *Envelope, owned bool) bool {
	s := jsonScan{b: data}
	s.ws()
	ok := s.object(func(key []byte) bool {
		var (
			raw []byte
			ok  bool
		)
		switch string(key) {
		case "id":
			return s.text(&e.ID)
		case "type":
			return s.word(&e.Type)
		case "schema_version":
			return s.intInto(&e.SchemaVersion)
		case "aggregate_kind":
			return s.word(&e.AggregateKind)
		case "aggregate_id":
			return s.text(&e.AggregateID)
		case "aggregate_version":
			e.AggregateVersion, ok = s.uint()
			return ok
		case "unit":
			return s.word(&e.Unit)
		case "fiscal_year":
			return s.intInto(&e.FiscalYear)
		case "occurred_at":
			return s.time(&e.OccurredAt)
		case "recorded_at":
			return s.time(&e.RecordedAt)
		case "actor":
			return s.actor(&e.Actor)
		case "command_id":
			if raw, ok = s.str(); ok {
				e.CommandID = reuse(raw, e.ID)
			}
			return ok
		case "correlation_id":
			if raw, ok = s.str(); ok {
				e.CorrelationID = reuse(raw, e.CommandID)
			}
			return ok
		case "request_hash":
			return s.text(&e.RequestHash)
		case "data":
			start := s.i
			if s.i < len(s.b) && s.b[s.i] == 'n' {
				return false // null: encoding/json keeps the literal
			}
			if !s.skip(0) {
				return false
			}
			if owned {
				e.Data = json.RawMessage(s.b[start:s.i:s.i])
			} else {
				e.Data = append(json.RawMessage(nil), s.b[start:s.i]...)
			}
			return true
		case "prev_hash":
			return s.text(&e.PrevHash)
		case "hash":
			return s.text(&e.Hash)
		case "sequence":
			e.Sequence, ok = s.uint()
			return ok
		}
		return false
	})
	return ok && s.end()
}

// actor decodes the nested actor object into *a, as encoding/json does:
// into the existing value, so that a repeated key merges.
func (s *jsonScan) actor(a *domain.Actor) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "sub":
			return s.word(&a.Subject)
		case "role":
			var role string
			ok := s.word(&role)
			a.Role = domain.Role(role)
			return ok
		case "unit":
			return s.word(&a.Unit)
		case "iss":
			return s.word(&a.Issuer)
		case "name":
			return s.word(&a.Name)
		}
		return false
	})
}

// reuse returns prev when raw holds the same text (a command id equal to
// the event id, a correlation id equal to the command id), saving a copy.
func reuse(raw []byte, prev string) string {
	if string(raw) == prev {
		return prev
	}
	return string(raw)
}

// The intern table shares the strings that repeat across events (event
// types, aggregate kinds, units, actors): a decoded log holds one copy of
// each instead of one per event. It stops growing at internMax entries, so
// a log with unbounded distinct values costs a copy each, as before.
var internTable = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

const internMax = 1 << 18

func intern(b []byte) string {
	internTable.RLock()
	s, ok := internTable.m[string(b)]
	internTable.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	internTable.Lock()
	if old, ok := internTable.m[s]; ok {
		s = old
	} else if len(internTable.m) < internMax {
		internTable.m[s] = s
	}
	internTable.Unlock()
	return s
}

// jsonScan reads JSON from b at i.
type jsonScan struct {
	b   []byte
	i   int
	buf []byte // unescaped string, reused
	// loose is set by skip when the value is not in the compact,
	// HTML-escaped form encoding/json writes (whitespace between tokens,
	// or <, >, &, U+2028, U+2029 unescaped in a string).
	loose bool
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
			s.loose = true
		default:
			return
		}
	}
}

func (s *jsonScan) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScan) colon() bool {
	s.ws()
	if !s.byte(':') {
		return false
	}
	s.ws()
	return true
}

// end reports whether only whitespace is left.
func (s *jsonScan) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// plainString reads a string without escapes (an object key we know).
func (s *jsonScan) plainString() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return s.b[start : s.i-1], true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// str reads a string value and returns its unescaped bytes, valid UTF-8,
// which alias the input or s.buf and must be copied before the next call.
func (s *jsonScan) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return nil, false // encoding/json would substitute U+FFFD
			}
			return v, true
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

// escaped continues str from the first backslash.
func (s *jsonScan) escaped(start int) ([]byte, bool) {
	out := append(s.buf[:0], s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			s.buf = out
			if !utf8.Valid(out) {
				return nil, false
			}
			return out, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, false
		}
		s.i += 2
		switch s.b[s.i-1] {
		case '"', '\\', '/':
			out = append(out, s.b[s.i-1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.b, s.i)
			// Surrogates (pairs or not) are left to encoding/json.
			if !ok || utf8.RuneLen(r) < 0 {
				return nil, false
			}
			s.i += 4
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// uint reads a non-negative integer that fits a uint64.
func (s *jsonScan) uint() (uint64, bool) {
	start := s.i
	var n uint64
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		d := uint64(s.b[s.i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
		s.i++
	}
	digits := s.i - start
	if digits == 0 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	// A fraction or exponent is encoding/json's to refuse or convert.
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	return n, true
}

// int reads an integer that fits an int.
func (s *jsonScan) int() (int, bool) {
	neg := s.byte('-')
	n, ok := s.uint()
	if !ok || n > 1<<(strconv.IntSize-1)-1 {
		return 0, false
	}
	if neg {
		return -int(n), true
	}
	return int(n), true
}

// time reads an RFC 3339 string with time.Time's own decoder, given the
// literal with its quotes, as encoding/json gives it.
func (s *jsonScan) time(t *time.Time) bool {
	start := s.i
	if s.i >= len(s.b) || s.b[s.i] != '"' || !s.skipString() {
		return false
	}
	return t.UnmarshalJSON(s.b[start:s.i]) == nil
}

// skip passes over one JSON value, checking its grammar as encoding/json's
// scanner does (strings are not checked for UTF-8; neither are they there).
func (s *jsonScan) skip(depth int) bool {
	if depth > 1000 || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		s.ws()
		if s.byte('}') {
			return true
		}
		for {
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.skipString() || !s.colon() || !s.skip(depth+1) {
				return false
			}
			s.ws()
			if s.byte(',') {
				s.ws()
				continue
			}
			return s.byte('}')
		}
	case c == '[':
		s.i++
		s.ws()
		if s.byte(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.byte(',') {
				s.ws()
				continue
			}
			return s.byte(']')
		}
	case c == '"':
		return s.skipString()
	case c == '-' || ('0' <= c && c <= '9'):
		return s.skipNumber()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *jsonScan) literal(l string) bool {
	if len(s.b)-s.i < len(l) || string(s.b[s.i:s.i+len(l)]) != l {
		return false
	}
	s.i += len(l)
	return true
}

// skipString passes over a string starting at its opening quote.
func (s *jsonScan) skipString() bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if _, ok := hex4(s.b, s.i+2); !ok {
					return false
				}
				s.i += 6
			default:
				return false
			}
			continue
		case c == '<' || c == '>' || c == '&':
			s.loose = true
		case c == 0xE2 && s.i+2 < len(s.b) && s.b[s.i+1] == 0x80 && (s.b[s.i+2] == 0xA8 || s.b[s.i+2] == 0xA9):
			s.loose = true
		}
		s.i++
	}
	return false
}

// skipNumber passes over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScan) skipNumber() bool {
	s.byte('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.byte('0') {
		if s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			return false
		}
	} else if digits() == 0 {
		return false
	}
	if s.byte('.') && digits() == 0 {
		return false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// appendEnvelope appends the envelope's JSON exactly as json.Marshal
// writes it, or reports false when it cannot be sure to (a payload not in
// compact, escaped form; a time json.Marshal would refuse or write with an
// offset), and the caller uses json.Marshal.
func appendEnvelope(dst []byte, e *Envelope) ([]byte, bool) {
	if e.Data != nil {
		s := jsonScan{b: e.Data}
		if !s.skip(0) || s.i != len(e.Data) || s.loose {
			return dst, false
		}
	}
	for _, t := range []time.Time{e.OccurredAt, e.RecordedAt} {
		if t.Location() != time.UTC || t.Year() < 0 || t.Year() > 9999 {
			return dst, false
		}
	}
	b := append(dst, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"aggregate_kind":`...)
	b = appendJSONString(b, e.AggregateKind)
	b = append(b, `,"aggregate_id":`...)
	b = appendJSONString(b, e.AggregateID)
	b = append(b, `,"aggregate_version":`...)
	b = strconv.AppendUint(b, e.AggregateVersion, 10)
	if e.Unit != "" {
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, e.Unit)
	}
	if e.FiscalYear != 0 {
		b = append(b, `,"fiscal_year":`...)
		b = strconv.AppendInt(b, int64(e.FiscalYear), 10)
	}
	b = append(b, `,"occurred_at":"`...)
	b = e.OccurredAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","recorded_at":"`...)
	b = e.RecordedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","actor":{"sub":`...)
	b = appendJSONString(b, e.Actor.Subject)
	if e.Actor.Issuer != "" {
		b = append(b, `,"iss":`...)
		b = appendJSONString(b, e.Actor.Issuer)
	}
	b = append(b, `,"role":`...)
	b = appendJSONString(b, string(e.Actor.Role))
	if e.Actor.Unit != "" {
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, e.Actor.Unit)
	}
	if e.Actor.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, e.Actor.Name)
	}
	b = append(b, `},"command_id":`...)
	b = appendJSONString(b, e.CommandID)
	if e.CorrelationID != "" {
		b = append(b, `,"correlation_id":`...)
		b = appendJSONString(b, e.CorrelationID)
	}
	if e.RequestHash != "" {
		b = append(b, `,"request_hash":`...)
		b = appendJSONString(b, e.RequestHash)
	}
	b = append(b, `,"data":`...)
	if e.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, e.Data...)
	}
	b = append(b, `,"prev_hash":`...)
	b = appendJSONString(b, e.PrevHash)
	b = append(b, `,"hash":`...)
	b = appendJSONString(b, e.Hash)
	if e.Sequence != 0 {
		b = append(b, `,"sequence":`...)
		b = strconv.AppendUint(b, e.Sequence, 10)
	}
	return append(b, '}'), true
}

// marshalEnvelope is json.Marshal(e), without reflection when it can be.
func marshalEnvelope(e *Envelope) ([]byte, error) {
	size := 400 + len(e.ID) + len(e.Type) + len(e.AggregateKind) + len(e.AggregateID) + len(e.Unit) + len(e.Actor.Subject) +
		len(e.Actor.Issuer) + len(e.Actor.Name) + len(e.Actor.Role) + len(e.Actor.Unit) + len(e.CommandID) + len(e.CorrelationID) + len(e.RequestHash) + len(e.Data) + len(e.PrevHash) + len(e.Hash)
	if b, ok := appendEnvelope(make([]byte, 0, size), e); ok {
		return b, nil
	}
	return json.Marshal(e)
}

// appendJSONString is encoding/json's string encoding with HTML escaping,
// as json.Marshal applies it: the same bytes for every input.
func appendJSONString(dst []byte, src string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

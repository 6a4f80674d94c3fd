package events

import (
	"github.com/opdc/kpiledger/domain"
)

// Reflection-free decoding of the indicator events' payloads: they are
// nearly all of a ledger's events (proposals, reviews, reports and
// verifications), and encoding/json spends twice over the payload (a
// validation pass, then the decode) plus reflection on each. As with the
// envelope, anything these decoders do not handle exactly as encoding/json
// would (an unknown or escaped key, a null, an escape they leave alone)
// makes them decline and encoding/json decodes; the rarer event types
// always go to encoding/json.

// decodePayload decodes data as the current schema of typ, or reports
// false.
func decodePayload(typ string, data []byte) (domain.Event, bool) {
	s := jsonScan{b: data}
	s.ws()
	var ev domain.Event
	ok := false
	switch typ {
	case TypeResultReported:
		var v domain.ResultReported
		ok = s.object(func(k []byte) bool {
			switch string(k) {
			case "round":
				return s.intInto(&v.Round)
			case "actual":
				return s.number(&v.Actual)
			case "evidence":
				return s.strings(&v.Evidence)
			case "obstacles":
				return s.text(&v.Obstacles)
			case "framework_version":
				n, ok := s.uint()
				v.FrameworkVersion = n
				return ok
			}
			return false
		})
		ev = v
	case TypeResultVerified:
		var v domain.ResultVerified
		ok = s.object(func(k []byte) bool {
			switch string(k) {
			case "round":
				return s.intInto(&v.Round)
			case "decision":
				return s.word(&v.Decision)
			case "verified_actual":
				return s.number(&v.VerifiedActual)
			case "comment":
				return s.text(&v.Comment)
			case "on_report":
				return s.intInto(&v.OnReport)
			}
			return false
		})
		ev = v
	case TypeIndicatorReviewed:
		var v domain.IndicatorReviewed
		ok = s.object(func(k []byte) bool {
			switch string(k) {
			case "decision":
				return s.word(&v.Decision)
			case "comment":
				return s.text(&v.Comment)
			case "on_version":
				n, ok := s.uint()
				v.OnVersion = n
				return ok
			case "framework_version":
				n, ok := s.uint()
				v.FrameworkVersion = n
				return ok
			}
			return false
		})
		ev = v
	case TypeIndicatorWithdrawn:
		var v domain.IndicatorWithdrawn
		ok = s.object(func(k []byte) bool {
			if string(k) == "reason" {
				return s.text(&v.Reason)
			}
			return false
		})
		ev = v
	case TypeIndicatorProposed:
		var v domain.IndicatorProposed
		ok = s.object(func(k []byte) bool {
			switch string(k) {
			case "id":
				return s.text(&v.ID)
			case "unit":
				return s.word(&v.Unit)
			case "fiscal_year":
				return s.intInto(&v.FiscalYear)
			case "spec":
				return s.spec(&v.Spec)
			case "framework_version":
				n, ok := s.uint()
				v.FrameworkVersion = n
				return ok
			}
			return false
		})
		ev = v
	case TypeIndicatorRevised:
		var v domain.IndicatorRevised
		ok = s.object(func(k []byte) bool {
			switch string(k) {
			case "spec":
				return s.spec(&v.Spec)
			case "reason":
				return s.text(&v.Reason)
			case "framework_version":
				n, ok := s.uint()
				v.FrameworkVersion = n
				return ok
			}
			return false
		})
		ev = v
	default:
		return nil, false
	}
	if !ok || !s.end() {
		return nil, false
	}
	return ev, true
}

// spec decodes an IndicatorSpec into *v (merging, as encoding/json does).
func (s *jsonScan) spec(v *domain.IndicatorSpec) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "component":
			return s.word(&v.Component)
		case "title_th":
			// Titles repeat across units and years (common indicators,
			// and a unit's own from one year to the next).
			return s.word(&v.TitleTH)
		case "title_en":
			return s.word(&v.TitleEN)
		case "measure":
			return s.word(&v.Measure)
		case "direction":
			var d string
			ok := s.word(&d)
			v.Direction = domain.Direction(d)
			return ok
		case "weight":
			return s.number(&v.Weight)
		case "baseline":
			return s.number(&v.Baseline)
		case "targets":
			return s.numbers(&v.Targets)
		case "series_id":
			return s.word(&v.SeriesID)
		case "rationale":
			return s.text(&v.Rationale)
		}
		return false
	})
}

// object calls field for each key of an object, positioned at its value;
// field consumes the value and reports success.
func (s *jsonScan) object(field func(key []byte) bool) bool {
	if !s.byte('{') {
		return false
	}
	s.ws()
	if s.byte('}') {
		return true
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.colon() || !field(key) {
			return false
		}
		s.ws()
		if s.byte(',') {
			s.ws()
			continue
		}
		return s.byte('}')
	}
}

// text reads a string value into a fresh string.
func (s *jsonScan) text(dst *string) bool {
	raw, ok := s.str()
	if ok {
		*dst = string(raw)
	}
	return ok
}

// word reads a string value that repeats across events, interned.
func (s *jsonScan) word(dst *string) bool {
	raw, ok := s.str()
	if ok {
		*dst = intern(raw)
	}
	return ok
}

func (s *jsonScan) intInto(dst *int) bool {
	n, ok := s.int()
	if ok {
		*dst = n
	}
	return ok
}

// number reads a JSON number token as domain.Number does: its text.
func (s *jsonScan) number(dst *domain.Number) bool {
	start := s.i
	if s.i >= len(s.b) || (s.b[s.i] != '-' && (s.b[s.i] < '0' || s.b[s.i] > '9')) || !s.skipNumber() {
		return false
	}
	*dst = domain.Number(s.b[start:s.i])
	return true
}

// strings reads an array of strings; encoding/json gives an empty, non-nil
// slice for [].
func (s *jsonScan) strings(dst *[]string) bool {
	if !s.byte('[') {
		return false
	}
	out := (*dst)[:0]
	if out == nil {
		out = []string{}
	}
	s.ws()
	if s.byte(']') {
		*dst = out
		return true
	}
	for {
		raw, ok := s.str()
		if !ok {
			return false
		}
		out = append(out, string(raw))
		s.ws()
		if s.byte(',') {
			s.ws()
			continue
		}
		if !s.byte(']') {
			return false
		}
		*dst = out
		return true
	}
}

func (s *jsonScan) numbers(dst *[]domain.Number) bool {
	if !s.byte('[') {
		return false
	}
	out := (*dst)[:0]
	if out == nil {
		out = []domain.Number{}
	}
	s.ws()
	if s.byte(']') {
		*dst = out
		return true
	}
	for {
		var n domain.Number
		if !s.number(&n) {
			return false
		}
		out = append(out, n)
		s.ws()
		if s.byte(',') {
			s.ws()
			continue
		}
		if !s.byte(']') {
			return false
		}
		*dst = out
		return true
	}
}

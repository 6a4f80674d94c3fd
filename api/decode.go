package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/unicode/norm"

	"github.com/opdc/kpiledger/domain"
)

// Request limits. Text fields have their own limits in characters, checked
// by the domain.
const (
	maxBody      = 1 << 20 // bytes
	maxJSONDepth = 32
)

// request is a decoded body and the fingerprint that identifies it for
// Idempotency-Key comparisons.
type request struct {
	// hash is the SHA-256 of the request's canonical form: its method,
	// route and target, and the decoded body re-encoded (fields in one
	// order, no insignificant whitespace, text in NFC). A client that
	// re-serialises its JSON on retry sends the same request; the same key
	// sent to another target is a different one.
	hash string
	// raw is the SHA-256 of the body bytes as received: the fingerprint
	// that events stored before canonical hashing carry.
	raw string
	// target is the resource the request addresses (its path parameters),
	// and id its {id} parameter, if any: a legacy raw-hash match on
	// another aggregate is not a retry.
	target, id string
}

// matches reports whether a stored request fingerprint is this request's.
// Events written before canonical hashing carry the raw body's hash; they
// keep matching a byte-identical retry, but only on the same target, since
// their hash does not cover it.
func (r request) matches(stored string, storedAggregateID string) bool {
	if stored == r.hash {
		return true
	}
	if stored != r.raw {
		return false
	}
	return r.id == "" || r.id == storedAggregateID
}

// decode reads a JSON body strictly into v (see decodeStrict) and
// fingerprints the request. It runs before the command is decided, outside
// the read model's lock, so no request can hold that lock for long.
func decode(c echo.Context, v any, optional bool) (request, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return request{}, err
		}
		if isTimeout(err) {
			return request{}, errSlowBody
		}
		return request{}, badRequest("body", "could not be read: "+err.Error())
	}
	// The body is in: lift its read deadline (framing), which would
	// otherwise cancel the request while the command is decided.
	_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Time{})
	sum := sha256.Sum256(body)
	req := request{raw: hex.EncodeToString(sum[:]), target: target(c), id: c.Param("id")}
	if len(bytes.TrimSpace(body)) == 0 {
		if !optional {
			return req, badRequest("body", "is empty: a JSON object is required")
		}
	} else if err := decodeStrict(body, v); err != nil {
		return req, err
	}
	canon, err := stdjson.Marshal(v)
	if err != nil {
		return req, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "kpiledger-request/2\n%s\n%s\n%s\n", c.Request().Method, c.Path(), req.target)
	h.Write(canon)
	req.hash = hex.EncodeToString(h.Sum(nil))
	return req, nil
}

var errSlowBody = problem(http.StatusRequestTimeout, "slow-body", "Request body too slow",
	"the request body did not arrive in time; send it at a steady rate")

// target renders a request's path parameters, sorted: the resource it
// addresses, e.g. "id=0190…" or "fy=2563;unit=TH-50".
func target(c echo.Context) string {
	names, values := c.ParamNames(), c.ParamValues()
	parts := make([]string, 0, len(names))
	for i, n := range names {
		if i < len(values) {
			parts = append(parts, n+"="+values[i])
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ";")
}

// decodeStrict is decode's core, shared with the fuzz tests: valid UTF-8,
// one JSON value nested at most maxJSONDepth deep, no unknown fields, no
// field twice, names matched exactly (a proxy in front of the ledger must
// not read a body differently from it), numbers within their digit and
// exponent bounds, and text that obeys textRules, normalised to NFC.
// Errors name the field.
func decodeStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return badRequest("body", "is not valid UTF-8")
	}
	if d := jsonDepth(body); d > maxJSONDepth {
		p := badRequest("body", fmt.Sprintf("JSON nests %d levels deep; the limit is %d", d, maxJSONDepth))
		p.Limit = "json_depth"
		return p
	}
	// go-json-experiment refuses duplicate names, invalid UTF-8 and lone
	// surrogates by default, and matches names case-sensitively.
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return jsonProblem(err)
	}
	return checkText(reflect.ValueOf(v), "", false)
}

// jsonDepth returns the deepest nesting of objects and arrays, ignoring
// brackets inside strings. It does not validate; the decoder does.
func jsonDepth(b []byte) int {
	depth, max := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return max
}

// fieldOf turns a JSON pointer into the field notation of the API's
// errors: /components/0/weight → components[0].weight.
func fieldOf(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func jsonProblem(err error) error {
	var (
		syn *jsontext.SyntacticError
		sem *json.SemanticError
		nbe *domain.NumberBoundsError
		typ *stdjson.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		field := fieldOf(syn.JSONPointer)
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return badRequest(field, "appears more than once in its object; each field may be given once")
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			return badRequest("body", "malformed JSON: unexpected end of input")
		}
		if strings.Contains(syn.Err.Error(), "surrogate") || strings.Contains(syn.Err.Error(), "UTF-8") {
			// A lone surrogate escape such as \ud800 names no character.
			return badRequest(field, "is not valid Unicode text: "+syn.Err.Error())
		}
		at := ""
		if field != "body" {
			at = " (in " + field + ")"
		}
		return badRequest("body", fmt.Sprintf("malformed JSON at byte %d%s: %v", syn.ByteOffset, at, syn.Err))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "malformed JSON: unexpected end of input")
	case errors.As(err, &sem):
		field := fieldOf(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, json.ErrUnknownName):
			return badRequest(field, "unknown field (field names are matched exactly, in lower case)")
		case errors.As(err, &nbe):
			p := badRequest(field, nbe.Message)
			p.Limit = "number_digits"
			return p
		case errors.As(err, &typ):
			return badRequest(field, fmt.Sprintf("must be a number, not %s", typ.Value))
		case sem.GoType != nil:
			return badRequest(field, fmt.Sprintf("must be %s, not %s", jsonTypeName(sem.GoType), kindName(sem.JSONKind)))
		}
		return badRequest(field, "malformed JSON: "+err.Error())
	}
	return badRequest("body", "malformed JSON: "+err.Error())
}

// jsonTypeName names the JSON a Go type takes.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[domain.Number]() {
		return "a number"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "this value"
}

// freeText are the fields of free text, where line breaks and tabs are
// allowed; everything else (titles, codes, measures, names, labels,
// evidence references) is one line.
var freeText = map[string]bool{"comment": true, "obstacles": true, "rationale": true, "reason": true, "summary": true}

// checkText normalises every string of a decoded request to NFC in place
// and applies the text rules: no control characters (line breaks and tabs
// only in free text), no bidirectional formatting characters anywhere, and
// no invisible zero-width characters outside free text. Numbers are not
// text and are skipped.
func checkText(v reflect.Value, path string, free bool) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkText(v.Elem(), path, free)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			sub, subFree := path, free
			if !(f.Anonymous && name == "") {
				if name == "" {
					name = f.Name
				}
				sub, subFree = join(path, name), freeText[name]
			}
			if err := checkText(v.Field(i), sub, subFree); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := checkText(v.Index(i), path+"["+strconv.Itoa(i)+"]", free); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if msg := textProblem(k.String(), false); msg != "" {
					return badRequest(path, "key "+strconv.Quote(k.String())+" "+msg)
				}
			}
			if iter.Value().Kind() == reflect.String && iter.Value().Type() != reflect.TypeFor[domain.Number]() {
				if msg := textProblem(iter.Value().String(), free); msg != "" {
					return badRequest(path+"["+k.String()+"]", msg)
				}
			}
		}
	case reflect.String:
		if v.Type() == reflect.TypeFor[domain.Number]() {
			return nil
		}
		s := v.String()
		if !norm.NFC.IsNormalString(s) {
			s = norm.NFC.String(s)
			if v.CanSet() {
				v.SetString(s)
			}
		}
		if msg := textProblem(s, free); msg != "" {
			return badRequest(path, msg)
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// textProblem says what is wrong with a text value, or "" when nothing is.
func textProblem(s string, free bool) string {
	// Said only when something is wrong: this runs over every string of
	// every request, and formatting the position for each character was a
	// tenth of a write's CPU.
	at := func(r rune, n int) string { return fmt.Sprintf(" (U+%04X at character %d)", r, n) }
	n := 0
	for _, r := range s { // as []rune(s): an invalid byte is U+FFFD
		n++
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if !free {
				return "contains a line break or tab" + at(r, n) + "; these are allowed only in free text (comment, obstacles, rationale, reason, summary)"
			}
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return "contains a control character" + at(r, n)
		case isBidiControl(r):
			return "contains a bidirectional formatting character" + at(r, n) + ", which can make text display differently from what it says"
		case isInvisible(r) || r == 0x2028 || r == 0x2029:
			if !free {
				return "contains an invisible character" + at(r, n) + "; titles, codes, measures, names and labels may not"
			}
		case r == 0xFFFE || r == 0xFFFF:
			return "contains a noncharacter" + at(r, n)
		}
	}
	return ""
}

// isBidiControl: the explicit directional marks, embeddings, overrides and
// isolates (Unicode's Bidi_Control property).
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isInvisible: zero-width and other default-ignorable format characters
// that show nothing on the pages, so two titles that look the same differ.
func isInvisible(r rune) bool {
	return r == 0x00AD || r == 0x180E || (r >= 0x200B && r <= 0x200D) || (r >= 0x2060 && r <= 0x2064) || r == 0xFEFF
}

package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Request limits. Text fields have their own limits in characters, checked
// by the domain.
const (
	maxBody      = 1 << 20 // bytes
	maxJSONDepth = 32
)

// request is a decoded body and the hash that identifies it for
// Idempotency-Key comparisons.
type request struct {
	hash string
}

// decode reads a JSON body strictly into v: valid UTF-8, one JSON value,
// nested at most maxJSONDepth deep, no unknown fields. Errors name the field.
func decode(c echo.Context, v any, optional bool) (request, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return request{}, err
		}
		return request{}, badRequest("body", "could not be read: "+err.Error())
	}
	sum := sha256.Sum256(body)
	req := request{hash: hex.EncodeToString(sum[:])}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return req, nil
		}
		return req, badRequest("body", "is empty: a JSON object is required")
	}
	if err := decodeStrict(body, v); err != nil {
		return req, err
	}
	return req, nil
}

// decodeStrict is decode's core, shared with the fuzz tests.
func decodeStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return badRequest("body", "is not valid UTF-8")
	}
	if d := jsonDepth(body); d > maxJSONDepth {
		p := badRequest("body", fmt.Sprintf("JSON nests %d levels deep; the limit is %d", d, maxJSONDepth))
		p.Limit = "json_depth"
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return badRequest("body", "has data after the JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("body", "has data after the JSON value")
	}
	return nil
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

func jsonProblem(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return badRequest("body", fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, fmt.Sprintf("must be %s, not %s", jsonTypeName(typ.Type.String()), typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "malformed JSON: unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(name, "unknown field")
	}
	return badRequest("body", "malformed JSON: "+err.Error())
}

func jsonTypeName(goType string) string {
	switch {
	case strings.HasSuffix(goType, "Number"), strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "struct"), strings.Contains(goType, "."):
		if strings.HasSuffix(goType, "string") || strings.HasSuffix(goType, "Direction") || strings.HasSuffix(goType, "Kind") || strings.HasSuffix(goType, "Rollup") {
			return "a string"
		}
		return "an object"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	}
	return goType
}

package domain

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
)

// Number is a decimal value kept as the exact text it arrived in, so that
// scores can be computed exactly (math/big) and a value like 98.87 is never
// turned into the nearest binary float. The zero value "" means "absent" and
// encodes as JSON null. Only JSON number tokens decode into it, so NaN and
// ±Inf cannot arrive; magnitude and precision are checked by validation.
type Number string

// Limits on a Number accepted from a request. The digit and exponent
// bounds are checked on the text, before any arithmetic: exact arithmetic
// on a number of a million digits, or on 1e999999999, costs seconds or
// gigabytes, and a value within the magnitude and precision limits never
// needs more than 19 digits (12 before the point, 6 after, and a sign).
const (
	MaxMagnitude      = 1e12 // |x| ≤ 10¹²
	MaxDecimals       = 6    // at most 6 digits after the point
	MaxNumberDigits   = 30   // digits before any exponent, leading zeros included
	MaxNumberExponent = 30   // |e| in 1.5e3
)

// NumberBoundsError is a number refused on its length or exponent alone.
type NumberBoundsError struct{ Message string }

func (e *NumberBoundsError) Error() string { return e.Message }

// checkBounds checks a JSON number's text against MaxNumberDigits and
// MaxNumberExponent without parsing its value.
func checkBounds(b []byte) error {
	digits := 0
	i := 0
	for ; i < len(b) && b[i] != 'e' && b[i] != 'E'; i++ {
		if '0' <= b[i] && b[i] <= '9' {
			digits++
		}
	}
	if digits > MaxNumberDigits {
		return &NumberBoundsError{Message: fmt.Sprintf("has %d digits; a number may have at most %d", digits, MaxNumberDigits)}
	}
	if i < len(b) {
		exp := strings.TrimLeft(strings.TrimLeft(string(b[i+1:]), "+-"), "0")
		if len(exp) > 2 || (exp != "" && atoi2(exp) > MaxNumberExponent) {
			return &NumberBoundsError{Message: fmt.Sprintf("has the exponent %s; a number's exponent must be between -%d and %d", b[i+1:], MaxNumberExponent, MaxNumberExponent)}
		}
	}
	return nil
}

// atoi2 parses at most two decimal digits.
func atoi2(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// UnmarshalJSON accepts a JSON number (or null for absent).
func (n *Number) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*n = ""
		return nil
	}
	if !isJSONNumber(b) {
		return &json.UnmarshalTypeError{Value: jsonKind(s), Type: reflect.TypeFor[Number]()}
	}
	if err := checkBounds(b); err != nil {
		return err
	}
	*n = Number(s)
	return nil
}

// isJSONNumber reports whether b is a number in JSON's grammar,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — checked by hand rather
// than by a regular expression: every number of every request passes here.
func isJSONNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

func jsonKind(s string) string {
	switch {
	case strings.HasPrefix(s, `"`):
		return "string"
	case s == "true" || s == "false":
		return "bool"
	case strings.HasPrefix(s, "{"):
		return "object"
	case strings.HasPrefix(s, "["):
		return "array"
	}
	return "value"
}

// MarshalJSON writes the number's own text, or null when absent.
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return []byte(n), nil
}

// IsZero reports whether the number is absent (for omitempty-like checks).
func (n Number) IsZero() bool { return n == "" }

// Rat returns the exact value. An absent or malformed number gives nil.
func (n Number) Rat() *big.Rat {
	if n == "" {
		return nil
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil
	}
	return r
}

// NumberFromRat renders r as a Number with at most `decimals` digits after
// the point (rounded half away from zero), trailing zeros trimmed.
func NumberFromRat(r *big.Rat, decimals int) Number {
	return Number(FormatRat(r, decimals))
}

// FormatRat renders r rounded to `decimals` places with trailing zeros
// trimmed: 200/3 → "66.6667", 175/2 → "87.5", 100 → "100".
func FormatRat(r *big.Rat, decimals int) string {
	s := r.FloatString(decimals)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// Cmp compares two present numbers exactly.
func (n Number) Cmp(m Number) int { return n.Rat().Cmp(m.Rat()) }

// Float64 is for display and statistics only, never for scoring.
func (n Number) Float64() float64 {
	r := n.Rat()
	if r == nil {
		return 0
	}
	f, _ := r.Float64()
	return f
}

var maxMagnitude = new(big.Rat).SetFloat64(MaxMagnitude)

// checkNumber validates a present number's magnitude and precision.
func checkNumber(p *problems, field string, n Number) bool {
	// Numbers from a request were bounded when decoded; this guards every
	// other caller before the arithmetic below.
	if !isJSONNumber([]byte(n)) {
		p.add(field, "must be a number")
		return false
	}
	if err := checkBounds([]byte(n)); err != nil {
		p.add(field, "%s", err.Error())
		return false
	}
	r := n.Rat()
	if r == nil {
		p.add(field, "must be a number")
		return false
	}
	if new(big.Rat).Abs(r).Cmp(maxMagnitude) > 0 {
		p.add(field, "must be between -1e12 and 1e12")
		return false
	}
	// The value must be representable with MaxDecimals places: r·10^d is an integer.
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(MaxDecimals), nil)))
	if !scaled.IsInt() {
		p.add(field, "must have at most %d decimal places", MaxDecimals)
		return false
	}
	return true
}

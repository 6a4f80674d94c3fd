// Package domain holds kpiledger's evaluation rules as pure Go: frameworks,
// units, indicators, long-term series, innovation proposals and scoring.
// Nothing here does I/O; decisions are functions from state and a command to
// one event or an error.
package domain

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound means the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict means the command does not fit the current state: a framework
// that already exists, a decision on an item already decided, a report on an
// indicator that is not approved. Wrap it with fmt.Errorf to say why.
var ErrConflict = errors.New("conflict")

// FieldError names one field of a request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every field at fault in a command.
type ValidationError struct {
	Fields []FieldError
}

// Error joins the field messages.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// problems collects field errors while a command is validated.
type problems struct{ fields []FieldError }

func (p *problems) add(field, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was added, so callers can `return p.err()`.
func (p *problems) err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: p.fields}
}

// Invalid returns a ValidationError for one field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

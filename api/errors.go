// Package api is kpiledger's HTTP interface (Echo v4): handlers decode,
// authorise, ask the domain to decide, append through the store, wait for
// the read model, and encode. Errors become application/problem+json in
// exactly one place, the error handler below.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/projections"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type           string              `json:"type"`
	Title          string              `json:"title"`
	Status         int                 `json:"status"`
	Detail         string              `json:"detail,omitempty"`
	Errors         []domain.FieldError `json:"errors,omitempty"`
	CurrentVersion *uint64             `json:"current_version,omitempty"`
	Limit          string              `json:"limit,omitempty"`
	Sequence       *uint64             `json:"sequence,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header when set.
	RetryAfter int `json:"-"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

const problemBase = "https://kpiledger.opdc.go.th/problems/"

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: problemBase + slug, Title: title, Status: status, Detail: detail}
}

// StaleError is an If-Match naming a version that is no longer current.
type StaleError struct{ Current, Given uint64 }

func (e *StaleError) Error() string {
	return fmt.Sprintf("If-Match names version %d but the current version is %d", e.Given, e.Current)
}

var (
	errUnauthenticated = problem(http.StatusUnauthorized, "unauthenticated", "Authentication required",
		"send a bearer token: Authorization: Bearer <token> (kpiledger token --help)")
	errPreconditionRequired = problem(http.StatusPreconditionRequired, "precondition-required", "If-Match required",
		"this write revises or decides on a versioned resource: send If-Match with the version from its ETag")
)

func forbidden(detail string) *Problem {
	return problem(http.StatusForbidden, "forbidden", "Not allowed", detail)
}

func badRequest(field, message string) *Problem {
	p := problem(http.StatusBadRequest, "validation", "Invalid request", field+": "+message)
	p.Errors = []domain.FieldError{{Field: field, Message: message}}
	return p
}

func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", domain.ErrNotFound, fmt.Sprintf(format, args...))
}

// toProblem is the one map from errors to HTTP statuses.
func toProblem(err error) *Problem {
	var (
		p     *Problem
		ve    *domain.ValidationError
		stale *StaleError
		he    *echo.HTTPError
		mbe   *http.MaxBytesError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ve):
		parts := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			parts[i] = f.Field + ": " + f.Message
		}
		q := problem(http.StatusBadRequest, "validation", "Invalid request", strings.Join(parts, "; "))
		q.Errors = ve.Fields
		return q
	case errors.As(err, &stale):
		q := problem(http.StatusConflict, "stale-version", "Version conflict", stale.Error()+"; fetch the resource again and retry")
		q.CurrentVersion = &stale.Current
		return q
	case errors.Is(err, domain.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not found", trimKind(err, domain.ErrNotFound))
	case errors.Is(err, domain.ErrConflict):
		return problem(http.StatusConflict, "conflict", "Conflict with the current state", trimKind(err, domain.ErrConflict))
	case errors.Is(err, events.ErrVersionConflict):
		return problem(http.StatusConflict, "concurrent-write", "Concurrent write", "the resource kept changing while this request was decided; retry")
	case errors.Is(err, events.ErrLogMissing):
		return problem(http.StatusServiceUnavailable, "log-missing", "Event log missing",
			err.Error()+"; nothing can be written until an operator restores the stream")
	case errors.Is(err, events.ErrCommandInProcess):
		q := problem(http.StatusConflict, "request-in-progress", "Same request in progress",
			"a request with this Idempotency-Key is still being written; repeat it with the same Idempotency-Key to get its answer")
		q.RetryAfter = 1
		return q
	// The three ways the log can fail a request, each its own type so that
	// a client can act without reading the prose: a refusal is a promise
	// (nothing was appended), an unconfirmed write is an uncertainty (it
	// may have been), a failed read wrote nothing.
	case errors.Is(err, events.ErrNoQuorum):
		return problem(http.StatusServiceUnavailable, "no-quorum", "No quorum: nothing was appended", err.Error())
	case errors.Is(err, events.ErrLogUnreachable):
		return problem(http.StatusServiceUnavailable, "log-unreachable", "Event log unreachable",
			"the event log could not be read ("+err.Error()+"); this request wrote nothing; retry")
	case errors.Is(err, events.ErrUnavailable):
		return problem(http.StatusServiceUnavailable, "not-confirmed", "Write not confirmed",
			"the write was not confirmed ("+err.Error()+"); it may or may not have been appended; repeat it with the same Idempotency-Key, which stores it at most once")
	case errors.Is(err, projections.ErrStopped):
		return problem(http.StatusServiceUnavailable, "read-model-stopped", "Read model stopped", err.Error())
	case errors.As(err, &mbe):
		q := problem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large",
			fmt.Sprintf("the body exceeds the limit of %d bytes", mbe.Limit))
		q.Limit = "body_size"
		return q
	case errors.As(err, &he):
		if he.Code == http.StatusRequestEntityTooLarge {
			q := problem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large", fmt.Sprintf("the body exceeds the limit of %d bytes", maxBody))
			q.Limit = "body_size"
			return q
		}
		return problem(he.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "-")), http.StatusText(he.Code), fmt.Sprint(he.Message))
	case errors.Is(err, context.DeadlineExceeded):
		return problem(http.StatusServiceUnavailable, "timeout", "Timed out", err.Error())
	}
	return problem(http.StatusInternalServerError, "internal", "Internal error", "an unexpected error occurred; it has been logged")
}

// trimKind drops the "not found: " / "conflict: " prefix of a wrapped error.
func trimKind(err, kind error) string {
	return strings.TrimPrefix(err.Error(), kind.Error()+": ")
}

// errorHandler writes every error as problem+json. Echo v4's default
// handler does not unwrap wrapped errors, so this one replaces it.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := toProblem(err)
		if p.Status >= 500 {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "status", p.Status, "err", err)
		}
		if p.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
		}
		if p.Status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="kpiledger"`)
		}
		writeProblem(c, p)
	}
}

func writeProblem(c echo.Context, p *Problem) {
	b, _ := json.Marshal(p)
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_, _ = c.Response().Write(b)
}

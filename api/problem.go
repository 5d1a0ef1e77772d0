package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/validation"
)

// problemContentType is the media type of every error answer (RFC 9457).
const problemContentType = "application/problem+json"

// statusClientClosedRequest (nginx's 499) answers a request whose context ended before it
// was answered: the client went away, or half-closed its side of the connection, which Go's
// server takes for the same and cancels the request's context. Whoever still reads it gets
// a problem; the metrics count it apart from the server's own faults (5xx).
const statusClientClosedRequest = 499

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid request field; see validation.FieldError.
type FieldError = validation.FieldError

// ValidationError is a request that decoded but whose fields are invalid; the API answers
// it with 422 and one FieldError per problem. It is validation.Errors, which the service
// and the webhook settings type return too.
type ValidationError = validation.Errors

// httpError is an answer with a chosen status and a detail fit for the caller. cause, if
// any, is logged and never shown.
type httpError struct {
	status int
	detail string
	cause  error
}

func (e *httpError) Error() string {
	if e.cause != nil {
		return e.detail + ": " + e.cause.Error()
	}
	return e.detail
}

func (e *httpError) Unwrap() error { return e.cause }

// errorf makes an httpError whose detail the caller sees.
func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, detail: fmt.Sprintf(format, args...)}
}

// detailed gives a store error (ErrNotFound, ErrConflict) a detail for the caller, since
// the store's own wording is not part of the API.
type detailed struct {
	err    error
	detail string
}

func (e *detailed) Error() string { return e.detail + ": " + e.err.Error() }
func (e *detailed) Unwrap() error { return e.err }

// describe wraps err with a caller-facing detail; nil stays nil.
func describe(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &detailed{err: err, detail: fmt.Sprintf(format, args...)}
}

// fail records err for handleErrors and stops the handler chain.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// handleErrors is the one place errors become answers: it runs after the handlers and
// writes the last recorded error as problem+json.
func (s *server) handleErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	err := c.Errors.Last().Err
	p := s.toProblem(c, err)
	switch p.Status {
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="hookd"`)
	case http.StatusServiceUnavailable:
		// Every 503 is a dependency out of reach with nothing done (OpenAPI's Unavailable):
		// the client may send the same request again, after a second.
		c.Header("Retry-After", "1")
	}
	writeProblem(c, p)
}

// toProblem maps an error to its answer, logging what the caller must not see.
func (s *server) toProblem(c *gin.Context, err error) problem {
	var (
		verr    *ValidationError
		herr    *httpError
		maxErr  *http.MaxBytesError
		withMsg *detailed
	)
	detail := func(fallback string) string {
		if errors.As(err, &withMsg) {
			return withMsg.detail
		}
		return fallback
	}
	switch {
	case errors.As(err, &verr):
		p := newProblem(http.StatusUnprocessableEntity, "the request has invalid fields")
		p.Errors = verr.Errors
		return p
	case errors.Is(err, store.ErrInvalidCursor):
		p := newProblem(http.StatusUnprocessableEntity, "the request has invalid fields")
		p.Errors = []FieldError{{Field: "cursor", Message: "is not a cursor from a previous page of this list"}}
		return p
	case errors.As(err, &maxErr):
		return newProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxErr.Limit))
	case errors.As(err, &herr) && herr.status < 500:
		if herr.cause != nil { // the caller's doing (a body cut short), not a fault of ours
			s.log.InfoContext(c.Request.Context(), "request refused", requestAttrs(c, herr.cause)...)
		}
		return newProblem(herr.status, herr.detail)
	case c.Request.Context().Err() != nil:
		s.log.InfoContext(c.Request.Context(), "client went away", requestAttrs(c, err)...)
		p := newProblem(statusClientClosedRequest, "the client closed the connection before the answer was ready")
		p.Title = "Client Closed Request"
		return p
	case errors.As(err, &herr):
		if herr.cause != nil {
			s.log.ErrorContext(c.Request.Context(), "request failed", requestAttrs(c, herr.cause)...)
		}
		return newProblem(herr.status, herr.detail)
	case errors.Is(err, dispatch.ErrOverloaded):
		c.Header("Retry-After", "1")
		return newProblem(http.StatusTooManyRequests, "hookd is starting as many deliveries as it can; nothing was stored, send again after Retry-After seconds")
	case databaseUnreachable(err):
		s.log.WarnContext(c.Request.Context(), "database unreachable", requestAttrs(c, err)...)
		return newProblem(http.StatusServiceUnavailable, "the database is unreachable; send the request again after Retry-After seconds (an event sent again with its id is accepted once)")
	case errors.Is(err, store.ErrNotFound):
		return newProblem(http.StatusNotFound, detail("not found"))
	case errors.Is(err, store.ErrConflict):
		return newProblem(http.StatusConflict, detail("conflicts with the current state"))
	}
	s.log.ErrorContext(c.Request.Context(), "request failed", requestAttrs(c, err)...)
	return newProblem(http.StatusInternalServerError, "internal error")
}

// databaseUnreachable reports whether err is PostgreSQL being out of reach: no connection
// could be made, a query failed before it was sent (pgconn.SafeToRetry), or the server
// ended the session (shutting down, crashed, starting up: SQLSTATE class 08 and
// 57P01-57P03). The caller may send the request again: a 503 with Retry-After, where a
// 500 would say hookd is broken (found by the fault suite's kill -9 of PostgreSQL).
func databaseUnreachable(err error) bool {
	var (
		connErr *pgconn.ConnectError
		pgErr   *pgconn.PgError
	)
	switch {
	case errors.As(err, &connErr), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pgErr):
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	return false
}

func requestAttrs(c *gin.Context, err error) []any {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	return []any{"err", err, "method", c.Request.Method, "route", route, "path", c.Request.URL.Path}
}

func newProblem(status int, detail string) problem {
	return problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

func writeProblem(c *gin.Context, p problem) {
	body, err := json.Marshal(p)
	if err != nil { // cannot happen for this type; answer something valid regardless
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"internal error"}`)
		p.Status = http.StatusInternalServerError
	}
	c.Data(p.Status, problemContentType, body)
}

// recoverPanic turns a handler panic into a logged 500 problem, keeping the process up.
func (s *server) recoverPanic(c *gin.Context) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec == http.ErrAbortHandler { //nolint:errorlint // sentinel re-panicked as net/http expects
			panic(rec)
		}
		attrs := append(requestAttrs(c, fmt.Errorf("panic: %v", rec)), "stack", string(debug.Stack()))
		s.log.ErrorContext(c.Request.Context(), "handler panicked", attrs...)
		if !c.Writer.Written() {
			writeProblem(c, newProblem(http.StatusInternalServerError, "internal error"))
		}
		c.Abort()
	}()
	c.Next()
}

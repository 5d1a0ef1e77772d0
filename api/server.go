package api

import (
	"log/slog"
	"net/http"
	"time"
)

// ServerTimeouts bound how long one connection may hold a server (http.Server's fields of
// the same names). Zero means no limit, which only Write of the pprof server should be.
type ServerTimeouts struct {
	// ReadHeader is the time to read a request's line and headers.
	ReadHeader time.Duration
	// Read is the time to read a whole request, headers and body, counted from its first
	// byte: a body that has not arrived by then is abandoned (the handler's read fails and
	// is answered 408) and the connection closed.
	Read time.Duration
	// Write runs from the end of a request's headers to the end of its answer, so it must
	// exceed Read plus the longest handler (the service bounds its engine calls at 10 s):
	// beyond it the answer is cut off.
	Write time.Duration
	// Idle is how long a kept-alive connection may wait for its next request.
	Idle time.Duration
}

// DefaultServerTimeouts are the API's (and the metrics listener's) limits: a body has 30 s
// to arrive, an answer 60 s to be sent, an idle connection is closed after 2 minutes.
var DefaultServerTimeouts = ServerTimeouts{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      60 * time.Second,
	Idle:       2 * time.Minute,
}

// MaxHeaderBytes caps a request's line and headers at 64 KiB (Go's default is 1 MiB); the
// API's longest legitimate header is a Bearer key, its longest URL a list with a cursor.
// Beyond it Go's server answers 431 itself, in plain text.
const MaxHeaderBytes = 64 << 10

// NewServer returns the server for handler (New's engine, or another hookd listener's
// handler) with timeouts t and MaxHeaderBytes. The server's own complaints (a failed TLS
// handshake, an accept error) go to log at warn level; nil discards them.
func NewServer(handler http.Handler, t ServerTimeouts, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

package devtemporal

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// serverLogger hands the server's logs to slog. Panic, DPanic and Fatal are
// logged as errors and do not panic or exit: an embedded server must not take
// its host process down through a log call.
type serverLogger struct {
	l     *slog.Logger
	quiet *atomic.Bool // set: drop every record
}

var (
	_ log.Logger      = serverLogger{}
	_ log.WithLogger  = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
)

func newServerLogger(base *slog.Logger, min slog.Leveler) serverLogger {
	quiet := new(atomic.Bool)
	h := &levelHandler{min: min, quiet: quiet, next: base.Handler()}
	return serverLogger{l: slog.New(h).With("component", "temporal"), quiet: quiet}
}

// silence drops all further records. Stop uses it because a server shutting
// down logs failed polls, refused dials and cancelled calls by the dozen, all
// expected.
func (s serverLogger) silence() { s.quiet.Store(true) }

func (s serverLogger) Debug(msg string, tags ...tag.Tag)  { s.log(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)   { s.log(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) Panic(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) Fatal(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }

// With returns a logger that adds tags to every record.
func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	return serverLogger{l: s.l.With(attrs(tags)...), quiet: s.quiet}
}

// SLog lets server code that wants an *slog.Logger (the server's own SDK
// clients, for one) log through the same handler and level.
func (s serverLogger) SLog() *slog.Logger { return s.l }

func (s serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return // skip the tag conversion for records nobody reads
	}
	s.l.Log(ctx, level, msg, attrs(tags)...)
}

func attrs(tags []tag.Tag) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = slog.Any(t.Key(), lazyTag{t})
	}
	return out
}

// lazyTag defers tag.Tag.Value, which encodes zap fields, until a handler
// formats the record.
type lazyTag struct{ t tag.Tag }

func (v lazyTag) LogValue() slog.Value { return slog.AnyValue(v.t.Value()) }

// levelHandler drops records below min, and all of them once quiet is set,
// before they reach next.
type levelHandler struct {
	min   slog.Leveler
	quiet *atomic.Bool
	next  slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return !h.quiet.Load() && level >= h.min.Level() && h.next.Enabled(ctx, level)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{min: h.min, quiet: h.quiet, next: h.next.WithAttrs(as)}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{min: h.min, quiet: h.quiet, next: h.next.WithGroup(name)}
}

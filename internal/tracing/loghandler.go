package tracing

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/activity"

	"github.com/hookd/hookd/internal/delivery"
)

// LogHandler wraps h so that a record logged with a context (InfoContext, WarnContext,
// …) carries the ids the context knows, each unless the record already has it:
//
//   - trace_id and span_id of the span in progress (with tracing on), to find the trace
//     of a log line;
//   - in an activity: workflow_id, run_id and activity (its type), and the delivery_id
//     (or batch_id) the workflow id names (delivery.WorkflowID);
//   - whatever WithLogAttrs put in the context (webhook_id, for instance).
//
// So a delivery's lines can be found by any of its ids without each call naming them.
// A record logged without a context is passed on as it is.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{next: h} }

type logHandler struct{ next slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name)}
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil || ctx == context.Background() {
		return h.next.Handle(ctx, r)
	}
	ids := contextIDs(ctx)
	if len(ids) == 0 {
		return h.next.Handle(ctx, r)
	}
	has := make(map[string]bool, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		has[a.Key] = true
		return true
	})
	r = r.Clone()
	for _, a := range ids {
		if !has[a.Key] {
			has[a.Key] = true
			r.AddAttrs(a)
		}
	}
	return h.next.Handle(ctx, r)
}

// contextIDs are the ids ctx knows, in the order LogHandler documents.
func contextIDs(ctx context.Context) []slog.Attr {
	var ids []slog.Attr
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		ids = append(ids, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		wf := info.WorkflowExecution.ID
		ids = append(ids,
			slog.String("workflow_id", wf),
			slog.String("run_id", info.WorkflowExecution.RunID),
			slog.String("activity", info.ActivityType.Name))
		if id, ok := strings.CutPrefix(wf, delivery.WorkflowID("")); ok {
			ids = append(ids, slog.String("delivery_id", id))
		} else if id, ok := strings.CutPrefix(wf, batchWorkflowPrefix); ok {
			ids = append(ids, slog.String("batch_id", id))
		}
	}
	if as, ok := ctx.Value(logAttrsKey{}).([]slog.Attr); ok {
		ids = append(ids, as...)
	}
	return ids
}

// batchWorkflowPrefix begins a Batch workflow's id (dispatch.BatchWorkflowID, which this
// package cannot import: dispatch's callers import tracing).
const batchWorkflowPrefix = "batch-"

type logAttrsKey struct{}

// WithLogAttrs returns ctx with attrs added to those that LogHandler puts on every
// record logged with it (and with the contexts derived from it).
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	return context.WithValue(ctx, logAttrsKey{}, append(prev[:len(prev):len(prev)], attrs...))
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/hookd/hookd/internal/tracing"
)

// startTracing turns OpenTelemetry tracing on when the OTEL_* variables name an OTLP
// endpoint, and leaves it off (nothing installed) otherwise; see internal/tracing. stop
// flushes the spans still buffered, for up to 5s: call it after the Temporal client and
// the servers have stopped.
func startTracing(ctx context.Context, log *slog.Logger) (tr *tracing.Tracing, stop func(), err error) {
	tr, err = tracing.FromEnv(ctx, "hookd", version)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	if tr.Enabled() {
		log.Info("tracing on: spans are exported over OTLP")
		// OpenTelemetry reports its errors (an export that failed) through one
		// process-wide handler; in hookd dev the embedded Temporal server installs its
		// own, which would label them as the server's.
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("OpenTelemetry error", "component", "tracing", "err", err)
		}))
	}
	return tr, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			log.Warn("spans not exported at shutdown", "err", err)
		}
	}, nil
}

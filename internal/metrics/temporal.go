package metrics

import (
	"io"
	"log/slog"
	"time"

	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// TemporalHandler returns the client.Options.MetricsHandler that exports the Temporal
// SDK's series (temporal_*: requests, polls, workflow and activity task latencies, the
// sticky cache) into the registry, the way Temporal's Go SDK documents it: the contrib
// tally handler over tally's Prometheus reporter, with Prometheus naming. Timers are
// histograms, so they add up across workers. Close the returned closer after the client:
// it stops the scope's reporting loop.
func (m *Metrics) TemporalHandler(log *slog.Logger) (client.MetricsHandler, io.Closer) {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       m.Registry,
		DefaultTimerType: tallyprom.HistogramTimerType,
		// tally panics by default when a series cannot be registered; a metric is not
		// worth a crash.
		OnRegisterError: func(err error) { log.Warn("a Temporal SDK metric is not exported", "err", err) },
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own tally_internal_* gauges say nothing about hookd.
		OmitCardinalityMetrics: true,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), closer
}

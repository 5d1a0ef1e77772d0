// Package metrics owns the one Prometheus registry of a hookd process and hookd's own
// series: hookd_attempts_total, hookd_attempt_duration_seconds and hookd_deliveries_total,
// recorded by the attempt activity through activities.Observer; the ingest rate,
// hookd_events_ingested_total and hookd_deliveries_created_total, recorded by the API
// (ObserveIngest); and the backlog read from PostgreSQL at each scrape (RegisterBacklog):
// the age of the oldest delivery still to be sent and the replays' progress. The same
// registry holds the Go and process collectors, the API's request series (api.New
// registers them) and the Temporal SDK's (TemporalHandler), so whatever roles a process
// runs, one /metrics shows them all. README.md "Metrics and tracing" says what to alert on.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookd/hookd/internal/delivery"
)

// Metrics is a process's registry with hookd's delivery series in it. Its methods are
// safe for concurrent use.
type Metrics struct {
	// Registry is where every series of the process is registered; Handler serves it.
	Registry *prometheus.Registry

	attempts        *prometheus.CounterVec
	attemptDuration prometheus.Histogram
	deliveries      *prometheus.CounterVec
	ingest          ingestSeries
}

// The status_class label values of hookd_attempts_total; "none" is an attempt that got no
// response (a timeout, a refused connection, a blocked address).
var statusClasses = []string{"2xx", "3xx", "4xx", "5xx", "none"}

// The final statuses hookd_deliveries_total counts.
var finalStatuses = []string{delivery.StatusSucceeded, delivery.StatusFailed, delivery.StatusCanceled}

// New makes a registry with the Go and process collectors and hookd's delivery series,
// each label value present from the start (at zero) so rates and alerts see it.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_attempts_total",
			Help: "Delivery attempts sent, by the class of the receiver's HTTP status (none: no response).",
		}, []string{"status_class"}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookd_attempt_duration_seconds",
			Help:    "Time from sending an attempt's request to having read the response (or given up on one).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_deliveries_total",
			Help: "Deliveries that reached a final status: succeeded, failed (retries ran out or the receiver is gone) or canceled.",
		}, []string{"status"}),
		ingest: newIngestSeries(),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.attempts, m.attemptDuration, m.deliveries,
		m.ingest.events, m.ingest.deliveries,
	)
	for _, c := range statusClasses {
		m.attempts.WithLabelValues(c)
	}
	for _, s := range finalStatuses {
		m.deliveries.WithLabelValues(s)
	}
	return m
}

// ObserveAttempt counts an attempt and its duration. statusCode 0 means no response; a
// code outside 200–599 (a receiver answering 1xx or nonsense) counts as 5xx: it is an
// answer, and not one HTTP calls success or a client error.
func (m *Metrics) ObserveAttempt(statusCode int, elapsed time.Duration) {
	m.attempts.WithLabelValues(statusClass(statusCode)).Inc()
	m.attemptDuration.Observe(elapsed.Seconds())
}

// ObserveDelivery counts a delivery that reached its final status.
func (m *Metrics) ObserveDelivery(status string) {
	m.deliveries.WithLabelValues(status).Inc()
}

// Handler serves the registry's series in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

func statusClass(code int) string {
	switch {
	case code == 0:
		return "none"
	case code >= 200 && code < 500:
		return strconv.Itoa(code/100) + "xx"
	default:
		return "5xx"
	}
}

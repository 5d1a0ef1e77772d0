package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/internal/store"
)

// BacklogReader reads what is still to be sent; *store.Store implements it.
type BacklogReader interface {
	Backlog(ctx context.Context) (store.Backlog, error)
}

var _ BacklogReader = (*store.Store)(nil)

// backlogTimeout bounds the backlog query of one scrape: far under Prometheus's default
// scrape timeout (10s), so a slow or unreachable PostgreSQL costs the scrape this much
// and the rest of /metrics still answers.
const backlogTimeout = 2 * time.Second

// backlogCollector reads the backlog from PostgreSQL at each scrape: a gauge computed
// when asked is never stale, and costs one indexed query per scrape instead of a loop.
type backlogCollector struct {
	st      BacklogReader
	log     *slog.Logger
	timeout time.Duration

	up, oldest, replays, remaining *prometheus.Desc
}

// RegisterBacklog adds to the registry the gauges read from st at each scrape:
// hookd_oldest_delivery_age_seconds{status="pending"|"retrying"}, hookd_replays_running
// and hookd_replay_deliveries_remaining, with hookd_backlog_up saying whether they could
// be read. When st fails or takes longer than 2s, the scrape reports hookd_backlog_up 0
// and leaves the others out (no stale value is shown); log hears why, at debug level
// (a down database is reported by its own alerts, and scrapes come every few seconds).
// They are the database's figures, the same from every process: aggregate them with max,
// not sum.
func (m *Metrics) RegisterBacklog(st BacklogReader, log *slog.Logger) error {
	return m.Registry.Register(newBacklogCollector(st, log, backlogTimeout))
}

func newBacklogCollector(st BacklogReader, log *slog.Logger, timeout time.Duration) *backlogCollector {
	return &backlogCollector{
		st: st, log: log, timeout: timeout,
		up: prometheus.NewDesc("hookd_backlog_up",
			"1 if the last scrape read the backlog gauges from PostgreSQL, 0 if it failed or timed out (they are left out then).", nil, nil),
		oldest: prometheus.NewDesc("hookd_oldest_delivery_age_seconds",
			"Age of the oldest delivery still to be sent, by status: pending (no attempt yet, or a manual retry asked) or retrying (waiting out its backoff); 0 when there is none.",
			[]string{"status"}, nil),
		replays: prometheus.NewDesc("hookd_replays_running",
			"Replays running.", nil, nil),
		remaining: prometheus.NewDesc("hookd_replay_deliveries_remaining",
			"Deliveries the running replays have still to resend (matched - replayed - skipped).", nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.oldest
	ch <- c.replays
	ch <- c.remaining
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	b, err := c.st.Backlog(ctx)
	if err != nil {
		c.log.Debug("backlog gauges not read", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, b.OldestPending.Seconds(), "pending")
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, b.OldestRetrying.Seconds(), "retrying")
	ch <- prometheus.MustNewConstMetric(c.replays, prometheus.GaugeValue, float64(b.RunningReplays))
	ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, float64(b.ReplayRemaining))
}

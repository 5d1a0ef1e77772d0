package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
)

// statsReader reads delivery statistics (API.md "Statistics"); *store.Store implements it.
type statsReader interface {
	// Stats counts the organization's deliveries created and attempts requested in
	// [f.Since, f.Until).
	Stats(ctx context.Context, orgID string, f store.StatsFilter) (store.StatsBucket, error)
	// Timeseries is Stats per bucket of i, every bucket of the range, oldest first.
	Timeseries(ctx context.Context, orgID string, f store.StatsFilter, i store.Interval) ([]store.StatsBucket, error)
}

// defaultStatsSpan is how far before until a /v1/stats without since starts.
const defaultStatsSpan = 24 * time.Hour

// defaultInterval is the timeseries interval when none is asked for.
const defaultInterval = store.IntervalHour

// defaultSpans is how far before until a timeseries without since starts, per interval:
// a range that is read at a glance, well under store.MaxBuckets buckets.
var defaultSpans = map[store.Interval]time.Duration{
	store.IntervalMinute: time.Hour,
	store.IntervalHour:   24 * time.Hour,
	store.IntervalDay:    30 * 24 * time.Hour,
	store.IntervalWeek:   12 * 7 * 24 * time.Hour,
}

// earliest is the first instant an answer can name in RFC 3339.
var earliest = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)

// statsFilter reads since, until, webhookId and eventType, adding every bad one to v.
// Until defaults to now and since to span before until (not before the year 0000); since
// must be before until. A webhook id of no webhook of the caller's matches nothing, as
// in GET /v1/deliveries.
func (s *server) statsFilter(c *gin.Context, v *ValidationError, span time.Duration) store.StatsFilter {
	var f store.StatsFilter
	if id, ok := c.GetQuery("webhookId"); ok {
		if ids.HasPrefix(id, ids.Webhook) && len(id) <= maxQueryID {
			f.WebhookID = id
		} else {
			v.Add("webhookId", "must be a webhook id (wh_…)")
		}
	}
	if name, ok := c.GetQuery("eventType"); ok && checkEventTypeName(v, "eventType", name) {
		f.EventType = name
	}
	since, sinceGiven, sinceOK := queryTime(c, v, "since")
	until, untilGiven, untilOK := queryTime(c, v, "until")
	if !sinceOK || !untilOK {
		return f
	}
	if !untilGiven {
		until = s.now().UTC().Truncate(time.Microsecond)
	}
	if !sinceGiven {
		since = until.Add(-span)
		if since.Before(earliest) {
			since = earliest
		}
	}
	switch {
	case since.Before(until):
	case untilGiven:
		v.Add("until", "must be after since")
	default:
		v.Add("since", "must be before until, which is now when not given")
	}
	f.Since, f.Until = since, until
	return f
}

// queryTime reads an optional RFC 3339 time parameter: the time, whether it was given,
// and whether it is valid (true when absent).
func queryTime(c *gin.Context, v *ValidationError, field string) (t time.Time, given, ok bool) {
	raw, given := c.GetQuery(field)
	if !given {
		return time.Time{}, false, true
	}
	t, ok = parseTime(v, field, raw)
	return t, true, ok
}

// getStats answers GET /v1/stats.
func (s *server) getStats(c *gin.Context) {
	var v ValidationError
	f := s.statsFilter(c, &v, defaultStatsSpan)
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	b, err := s.store.Stats(c.Request.Context(), caller(c).OrgID, f)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, statsView{
		Since: timestamp(f.Since), Until: timestamp(f.Until),
		Deliveries: viewDeliveryCounts(b.Deliveries), SuccessRate: b.Deliveries.SuccessRate(),
		Attempts: viewAttemptStats(b.Attempts),
	})
}

// getTimeseries answers GET /v1/stats/timeseries: at most store.MaxBuckets buckets.
func (s *server) getTimeseries(c *gin.Context) {
	var v ValidationError
	interval := defaultInterval
	if raw, ok := c.GetQuery("interval"); ok {
		if slices.Contains(store.Intervals, store.Interval(raw)) {
			interval = store.Interval(raw)
		} else {
			v.Add("interval", "must be one of minute, hour, day, week")
		}
	}
	f := s.statsFilter(c, &v, defaultSpans[interval])
	if v.Err() == nil {
		// A default since is never this far back: since was given.
		if n := interval.BucketCount(f.Since, f.Until); n > store.MaxBuckets {
			v.Add("since", "makes more than %d buckets (by %s) before until; narrow the range or choose a longer interval", store.MaxBuckets, interval)
		} else if interval.Align(f.Since).Before(earliest) {
			v.Add("since", "is in a %s that starts before the year 0000", interval)
		}
	}
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	buckets, err := s.store.Timeseries(c.Request.Context(), caller(c).OrgID, f, interval)
	if err != nil {
		fail(c, err)
		return
	}
	out := timeseriesView{Interval: string(interval), Since: timestamp(f.Since), Until: timestamp(f.Until), Buckets: make([]bucketView, 0, len(buckets))}
	for _, b := range buckets {
		out.Buckets = append(out.Buckets, bucketView{
			Start: timestamp(b.Start), Deliveries: viewDeliveryCounts(b.Deliveries),
			SuccessRate: b.Deliveries.SuccessRate(), Attempts: viewAttemptStats(b.Attempts),
		})
	}
	c.JSON(http.StatusOK, out)
}

// statsView is GET /v1/stats' answer.
type statsView struct {
	Since       string             `json:"since"`
	Until       string             `json:"until"`
	Deliveries  deliveryCountsView `json:"deliveries"`
	SuccessRate float64            `json:"successRate"`
	Attempts    attemptStatsView   `json:"attempts"`
}

// timeseriesView is GET /v1/stats/timeseries' answer.
type timeseriesView struct {
	Interval string       `json:"interval"`
	Since    string       `json:"since"`
	Until    string       `json:"until"`
	Buckets  []bucketView `json:"buckets"`
}

type bucketView struct {
	Start       string             `json:"start"`
	Deliveries  deliveryCountsView `json:"deliveries"`
	SuccessRate float64            `json:"successRate"`
	Attempts    attemptStatsView   `json:"attempts"`
}

type deliveryCountsView struct {
	Total     int64 `json:"total"`
	Pending   int64 `json:"pending"`
	Retrying  int64 `json:"retrying"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Canceled  int64 `json:"canceled"`
}

// attemptStatsView: latencies in whole milliseconds, null when no attempt completed.
type attemptStatsView struct {
	Total     int64 `json:"total"`
	LatencyMs struct {
		P50 *int64 `json:"p50"`
		P95 *int64 `json:"p95"`
		P99 *int64 `json:"p99"`
	} `json:"latencyMs"`
}

func viewDeliveryCounts(d store.DeliveryCounts) deliveryCountsView {
	return deliveryCountsView{Total: d.Total, Pending: d.Pending, Retrying: d.Retrying,
		Succeeded: d.Succeeded, Failed: d.Failed, Canceled: d.Canceled}
}

func viewAttemptStats(a store.AttemptStats) attemptStatsView {
	out := attemptStatsView{Total: a.Total}
	out.LatencyMs.P50, out.LatencyMs.P95, out.LatencyMs.P99 = a.P50, a.P95, a.P99
	return out
}

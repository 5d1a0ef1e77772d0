package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Interval is the width of a statistics timeseries' buckets (API.md "Statistics").
// Buckets are aligned in UTC, which has no daylight saving, so each interval has one
// fixed width: a day starts at midnight UTC, a week on Monday at midnight UTC.
type Interval string

// The intervals of GET /v1/stats/timeseries.
const (
	IntervalMinute Interval = "minute"
	IntervalHour   Interval = "hour"
	IntervalDay    Interval = "day"
	IntervalWeek   Interval = "week"
)

// Intervals lists every Interval, shortest first.
var Intervals = []Interval{IntervalMinute, IntervalHour, IntervalDay, IntervalWeek}

// MaxBuckets is the most buckets one timeseries answers (API.md "Statistics").
const MaxBuckets = 1000

// Width is the interval's length; 0 for an unknown interval.
func (i Interval) Width() time.Duration {
	switch i {
	case IntervalMinute:
		return time.Minute
	case IntervalHour:
		return time.Hour
	case IntervalDay:
		return 24 * time.Hour
	case IntervalWeek:
		return 7 * 24 * time.Hour
	}
	return 0
}

// Align is the start of the bucket holding t: t rounded down to a multiple of the width
// since Go's zero time, Monday 0001-01-01 00:00 UTC, so days start at midnight UTC and
// weeks on Monday.
func (i Interval) Align(t time.Time) time.Time {
	return t.UTC().Truncate(i.Width())
}

// BucketCount is how many buckets of i cover [since, until): from the one holding since
// to the one holding until's last microsecond. It saturates (at more than MaxBuckets)
// for spans of centuries at the finer intervals; it is 0 unless since is before until.
func (i Interval) BucketCount(since, until time.Time) int {
	if !since.Before(until) || i.Width() == 0 {
		return 0
	}
	first, last := i.Align(since), i.Align(until.Add(-time.Microsecond))
	n := last.Sub(first) / i.Width() // Sub saturates rather than overflow
	if n >= MaxBuckets {
		return MaxBuckets + 1
	}
	return int(n) + 1
}

// StatsFilter narrows statistics to [Since, Until) and, when set, to one webhook and one
// event type. Since must be before Until.
type StatsFilter struct {
	Since     time.Time
	Until     time.Time
	WebhookID string
	EventType string
}

// DeliveryCounts counts deliveries by their current status.
type DeliveryCounts struct {
	Total, Pending, Retrying, Succeeded, Failed, Canceled int64
}

// SuccessRate is Succeeded ÷ (Succeeded + Failed), from 0 to 1, and 0 when none has
// finished. Canceled deliveries are not finished here: a cancel is an admin's (or a
// disabling's) decision, not the receiver's answer, and would otherwise lower the rate of
// a receiver that never failed.
func (c DeliveryCounts) SuccessRate() float64 {
	finished := c.Succeeded + c.Failed
	if finished == 0 {
		return 0
	}
	return float64(c.Succeeded) / float64(finished)
}

// AttemptStats counts attempts (each request made, whatever its state: a batch's request
// is one attempt) and gives the latency percentiles, in whole milliseconds, of those
// completed, by nearest rank: the p-th percentile is the least duration d such that at
// least p% of the completed attempts took at most d (what PostgreSQL's percentile_disc
// answers; each is a duration some attempt took). A percentile is nil when no attempt
// completed: an attempt still sending, or interrupted, has no duration.
type AttemptStats struct {
	Total         int64
	P50, P95, P99 *int64
}

// StatsBucket is the statistics of deliveries created and attempts requested from Start
// for one bucket's width (or over the whole filter, for Stats).
type StatsBucket struct {
	Start      time.Time
	Deliveries DeliveryCounts
	Attempts   AttemptStats
}

// Stats is the statistics of orgID's deliveries created and attempts requested in
// [f.Since, f.Until), in one bucket starting at f.Since. Attempts are counted whatever
// the age of their delivery. With f.WebhookID or f.EventType an attempt counts if its
// delivery matches; a batch's attempt if its batch is the webhook's, or holds a delivery
// of the event type.
func (s *Store) Stats(ctx context.Context, orgID string, f StatsFilter) (StatsBucket, error) {
	buckets, err := s.statsBuckets(ctx, orgID, f, "")
	if err != nil {
		return StatsBucket{}, fmt.Errorf("stats: %w", err)
	}
	var b StatsBucket
	for _, only := range buckets { // one bucket at most: every row's is f.Since
		b = only
	}
	b.Start = f.Since
	return b, nil
}

// Timeseries is Stats per bucket of interval i: every bucket from the one holding f.Since
// to the one holding f.Until's last microsecond, empty ones included, oldest first. The
// first and last buckets count only what falls in [f.Since, f.Until), so the buckets add
// up to Stats over the same filter (counts; percentiles do not add). It fails for an
// unknown interval or more than MaxBuckets buckets (see BucketCount).
func (s *Store) Timeseries(ctx context.Context, orgID string, f StatsFilter, i Interval) ([]StatsBucket, error) {
	n := i.BucketCount(f.Since, f.Until)
	if n == 0 || n > MaxBuckets {
		return nil, fmt.Errorf("timeseries: %d buckets of %q from %s to %s (1 to %d allowed)", n, i, f.Since, f.Until, MaxBuckets)
	}
	byStart, err := s.statsBuckets(ctx, orgID, f, i)
	if err != nil {
		return nil, fmt.Errorf("timeseries: %w", err)
	}
	out := make([]StatsBucket, n)
	start := i.Align(f.Since)
	for k := range out {
		b := byStart[start]
		b.Start = start
		out[k] = b
		start = start.Add(i.Width())
	}
	return out, nil
}

// statsBuckets runs statsSQL: the non-empty buckets by their start (f.Since for no
// interval). JIT is off for it: compiling the statement cost 2.3 s of its 5.4 s over
// three million attempts (bench/results/2026-11-30-stats.md).
func (s *Store) statsBuckets(ctx context.Context, orgID string, f StatsFilter, i Interval) (map[time.Time]StatsBucket, error) {
	sql, args := statsSQL(orgID, f, i)
	out := map[time.Time]StatsBucket{}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b StatsBucket
			d, a := &b.Deliveries, &b.Attempts
			if err := rows.Scan(&b.Start, &d.Total, &d.Pending, &d.Retrying, &d.Succeeded, &d.Failed, &d.Canceled,
				&a.Total, &a.P50, &a.P95, &a.P99); err != nil {
				return err
			}
			b.Start = b.Start.UTC()
			out[b.Start] = b
		}
		return rows.Err()
	})
	return out, err
}

// statsHistogramBuckets is the most buckets whose percentiles come from a histogram: a
// bucket's histogram has up to a few thousand durations, and a hash of 32 of them stays
// within PostgreSQL's default work_mem; past that the histogram spilled to disk and took
// twice as long as percentile_disc (19.5 s against 8 s for 720 hours, 3M attempts).
const statsHistogramBuckets = 32

// statsSQL is the one statement behind Stats and Timeseries: deliveries counted by status
// and attempts (plain and batched) counted with their latency percentiles, each grouped
// by bucket (date_bin from the first bucket's aligned start, so every row's bin is at or
// after its origin), joined by bucket. Without an interval every row is in the bucket
// f.Since. Each side reads the range from migration 012's indexes (or, for a range that
// is most of the table, a parallel scan of it). Over few buckets the percentiles come
// from a histogram of durations rather than percentile_disc, which sorts every attempt
// (5.4 s against 1.7 s over three million in one bucket). A webhook filter reads the
// attempts' own webhook_id (migration 012), an event type filter joins them to their
// deliveries; a batch's attempts are matched through their batch.
func statsSQL(orgID string, f StatsFilter, i Interval) (string, []any) {
	args := []any{orgID, f.Since, f.Until}
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	bucket := func(col string) string { return "$2::timestamptz" }
	if i != "" {
		origin, width := param(i.Align(f.Since)), param(i.Width().Microseconds())
		bucket = func(col string) string {
			return "date_bin(" + width + "::bigint * interval '1 microsecond', " + col + ", " + origin + "::timestamptz)"
		}
	}

	var deliveryWhere, attemptWhere, attemptJoin, batchWhere []string
	if f.WebhookID != "" {
		p := param(f.WebhookID)
		deliveryWhere = append(deliveryWhere, "d.webhook_id = "+p)
		attemptWhere = append(attemptWhere, "a.webhook_id = "+p)
		batchWhere = append(batchWhere, "EXISTS (SELECT 1 FROM batches bt WHERE bt.id = ba.batch_id AND bt.webhook_id = "+p+")")
	}
	if f.EventType != "" {
		p := param(f.EventType)
		deliveryWhere = append(deliveryWhere, "d.event_type = "+p)
		attemptJoin = append(attemptJoin, "d.event_type = "+p)
		batchWhere = append(batchWhere, "EXISTS (SELECT 1 FROM deliveries bd WHERE bd.batch_id = ba.batch_id AND bd.event_type = "+p+")")
	}
	and := func(conds []string) string {
		if len(conds) == 0 {
			return ""
		}
		return " AND " + strings.Join(conds, " AND ")
	}
	from, joined := "attempts a", ""
	if len(attemptJoin) > 0 {
		// An attempt is requested after its delivery is created: only deliveries created
		// before until can have attempts in range.
		from = "attempts a JOIN deliveries d ON d.id = a.delivery_id"
		joined = " AND d.org_id = $1 AND d.created_at < $3" + and(attemptJoin)
	}
	attempts := `
        SELECT ` + bucket("a.requested_at") + ` AS b, a.state, a.duration_ms
        FROM ` + from + `
        WHERE a.org_id = $1 AND a.requested_at >= $2 AND a.requested_at < $3` + and(attemptWhere) + joined
	// The percentiles, by nearest rank (see AttemptStats), per bucket: percentile_disc
	// sorts each bucket's durations, which suits many small buckets; over few large ones
	// (statsHistogramBuckets or fewer) a histogram of the durations by whole millisecond
	// is far cheaper (thousands of groups where the attempts are millions, hashed in
	// parallel): the least duration d such that upto(d), the number completed in at most
	// d, is at least p% of done, the number completed in the bucket.
	latency := `
        SELECT b, total, d[1] AS p50, d[2] AS p95, d[3] AS p99
        FROM (SELECT b, count(*) AS total,
                     percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms)
                         FILTER (WHERE state = 'completed') AS d
              FROM a GROUP BY b) x`
	if i == "" || i.BucketCount(f.Since, f.Until) <= statsHistogramBuckets {
		latency = `
        SELECT b, sum(n) AS total,
               min(duration_ms) FILTER (WHERE c > 0 AND 100 * upto >= 50 * done) AS p50,
               min(duration_ms) FILTER (WHERE c > 0 AND 100 * upto >= 95 * done) AS p95,
               min(duration_ms) FILTER (WHERE c > 0 AND 100 * upto >= 99 * done) AS p99
        FROM (SELECT b, duration_ms, n, c,
                     sum(c) OVER (PARTITION BY b ORDER BY duration_ms) AS upto,
                     sum(c) OVER (PARTITION BY b) AS done
              FROM (SELECT b, duration_ms, count(*) AS n, count(*) FILTER (WHERE state = 'completed') AS c
                    FROM a GROUP BY b, duration_ms) h) cum
        GROUP BY b`
	}
	sql := `
    WITH d AS (
        SELECT ` + bucket("d.created_at") + ` AS b,
               count(*) AS total,
               count(*) FILTER (WHERE d.status = 'pending') AS pending,
               count(*) FILTER (WHERE d.status = 'retrying') AS retrying,
               count(*) FILTER (WHERE d.status = 'succeeded') AS succeeded,
               count(*) FILTER (WHERE d.status = 'failed') AS failed,
               count(*) FILTER (WHERE d.status = 'canceled') AS canceled
        FROM deliveries d
        WHERE d.org_id = $1 AND d.created_at >= $2 AND d.created_at < $3` + and(deliveryWhere) + `
        GROUP BY 1
    ), a AS (` + attempts + `
        UNION ALL
        SELECT ` + bucket("ba.requested_at") + `, ba.state, ba.duration_ms
        FROM batch_attempts ba
        WHERE ba.org_id = $1 AND ba.requested_at >= $2 AND ba.requested_at < $3` + and(batchWhere) + `
    ), ag AS (` + latency + `)
    SELECT COALESCE(d.b, ag.b),
           COALESCE(d.total, 0), COALESCE(d.pending, 0), COALESCE(d.retrying, 0),
           COALESCE(d.succeeded, 0), COALESCE(d.failed, 0), COALESCE(d.canceled, 0),
           COALESCE(ag.total, 0), ag.p50, ag.p95, ag.p99
    FROM d FULL JOIN ag ON ag.b = d.b`
	return sql, args
}

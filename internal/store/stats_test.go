package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// statsFixture is a hand-counted organization (see seedStats) and another one whose rows
// must never count.
type statsFixture struct {
	s        *store.Store
	org      string
	w1, w2   string
	base     time.Time // 10:00 UTC: since of the fixture's range
	until    time.Time // 14:00 UTC
	otherOrg string
}

// at is the fixture's day at hh:mm:ss plus micro microseconds, UTC.
func at(hh, mm, ss, micro int) time.Time {
	return time.Date(2026, 11, 30, hh, mm, ss, micro*1000, time.UTC)
}

// seedStats writes, in org A over [10:00, 14:00) (hourly buckets 10, 11, 12, 13):
//
//	d1 W1 a.b succeeded 10:05        attempts 10:06:01..10:06:20 completed 10, 20, …, 200 ms;
//	                                 one sending and one interrupted at 10:07 (no duration);
//	                                 one at 14:00 (out of range)
//	d2 W1 a.b failed    10:59:59.999999  attempt 11:00:00 completed 500 ms
//	d3 W2 c.d pending   10:00:00 (the first instant of the range)
//	d4 W1 a.b retrying  12:00        attempt 12:01 completed 40 ms
//	d5 W2 c.d canceled  12:30
//	d6 W2 c.d succeeded 12:45        in a batch of W2, whose attempt 12:50 completed 60 ms
//	d7 W1 a.b succeeded 09:59:59.999999 (out of range) attempts 09:59:59.999999 (out) and 12:10 300 ms (in)
//	d8 W1 a.b failed    14:00 (out of range: until is exclusive)
//
// and in org B a succeeded delivery at 10:30 with an attempt of 5 ms at 10:31.
func seedStats(t *testing.T) statsFixture {
	t.Helper()
	s := storetest.New(t)
	ctx := context.Background()
	a, b := newOrg(t, s), newOrg(t, s)
	f := statsFixture{s: s, org: a.ID, base: at(10, 0, 0, 0), until: at(14, 0, 0, 0), otherOrg: b.ID}
	f.w1 = newWebhook(t, s, a.ID, nil, "a.b").ID
	f.w2 = newWebhook(t, s, a.ID, nil, "c.d").ID
	wB := newWebhook(t, s, b.ID, nil, "a.b").ID

	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	delivery := func(org, id, webhookID, typ, status string, created time.Time) {
		t.Helper()
		exec(`INSERT INTO events (org_id, id, type, occurred_at, data) VALUES ($1, $2, $3, $4, '{}')`, org, "e"+id, typ, created)
		exec(`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at)
              VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, org, webhookID, "e"+id, typ, status, created)
	}
	number := map[string]int{}
	attempt := func(org, deliveryID, state string, requested time.Time, ms int) {
		t.Helper()
		number[deliveryID]++
		exec(`INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, duration_ms, state)
              VALUES ($1, $2, $3, $4, 'auto', $5, $6, $7)`,
			fmt.Sprintf("att_%s_%d", deliveryID, number[deliveryID]), deliveryID, org, number[deliveryID], requested, ms, state)
	}

	delivery(a.ID, "d1", f.w1, "a.b", store.StatusSucceeded, at(10, 5, 0, 0))
	for k := 1; k <= 20; k++ {
		attempt(a.ID, "d1", store.AttemptCompleted, at(10, 6, k, 0), 10*k)
	}
	attempt(a.ID, "d1", store.AttemptSending, at(10, 7, 0, 0), 0)
	attempt(a.ID, "d1", "interrupted", at(10, 7, 0, 0), 0)
	attempt(a.ID, "d1", store.AttemptCompleted, at(14, 0, 0, 0), 1)
	delivery(a.ID, "d2", f.w1, "a.b", store.StatusFailed, at(10, 59, 59, 999999))
	attempt(a.ID, "d2", store.AttemptCompleted, at(11, 0, 0, 0), 500)
	delivery(a.ID, "d3", f.w2, "c.d", store.StatusPending, at(10, 0, 0, 0))
	delivery(a.ID, "d4", f.w1, "a.b", store.StatusRetrying, at(12, 0, 0, 0))
	attempt(a.ID, "d4", store.AttemptCompleted, at(12, 1, 0, 0), 40)
	delivery(a.ID, "d5", f.w2, "c.d", store.StatusCanceled, at(12, 30, 0, 0))
	delivery(a.ID, "d6", f.w2, "c.d", store.StatusSucceeded, at(12, 45, 0, 0))
	exec(`INSERT INTO batches (id, org_id, webhook_id, state, send_at) VALUES ('bat_1', $1, $2, 'closed', $3)`, a.ID, f.w2, at(12, 50, 0, 0))
	exec(`UPDATE deliveries SET batch_id = 'bat_1' WHERE id = 'd6'`)
	exec(`INSERT INTO batch_attempts (id, batch_id, org_id, number, trigger, state, requested_at, duration_ms)
          VALUES ('batt_1', 'bat_1', $1, 1, 'auto', 'completed', $2, 60)`, a.ID, at(12, 50, 0, 0))
	delivery(a.ID, "d7", f.w1, "a.b", store.StatusSucceeded, at(9, 59, 59, 999999))
	attempt(a.ID, "d7", store.AttemptCompleted, at(9, 59, 59, 999999), 7)
	attempt(a.ID, "d7", store.AttemptCompleted, at(12, 10, 0, 0), 300)
	delivery(a.ID, "d8", f.w1, "a.b", store.StatusFailed, at(14, 0, 0, 0))

	delivery(b.ID, "x1", wB, "a.b", store.StatusSucceeded, at(10, 30, 0, 0))
	attempt(b.ID, "x1", store.AttemptCompleted, at(10, 31, 0, 0), 5)
	return f
}

func ms(v int64) *int64 { return &v }

// TestStats: the counts and percentiles equal the hand count of seedStats, for the whole
// organization and narrowed to a webhook and to an event type; other organizations' rows
// and rows outside [since, until) never count.
func TestStats(t *testing.T) {
	t.Parallel()
	f := seedStats(t)
	tests := []struct {
		name   string
		filter store.StatsFilter
		want   store.StatsBucket
	}{
		{
			name:   "organization",
			filter: store.StatsFilter{Since: f.base, Until: f.until},
			want: store.StatsBucket{Start: f.base,
				Deliveries: store.DeliveryCounts{Total: 6, Pending: 1, Retrying: 1, Succeeded: 2, Failed: 1, Canceled: 1},
				// 24 durations: 10..200 by 10, 40, 60, 300, 500. Nearest rank: 12th, 23rd, 24th.
				Attempts: store.AttemptStats{Total: 26, P50: ms(100), P95: ms(300), P99: ms(500)}},
		},
		{
			name:   "webhook",
			filter: store.StatsFilter{Since: f.base, Until: f.until, WebhookID: f.w1},
			want: store.StatsBucket{Start: f.base,
				Deliveries: store.DeliveryCounts{Total: 3, Retrying: 1, Succeeded: 1, Failed: 1},
				// 23 durations: 10..200 by 10, 40, 300, 500 (not the batch's 60): 12th, 22nd, 23rd.
				Attempts: store.AttemptStats{Total: 25, P50: ms(110), P95: ms(300), P99: ms(500)}},
		},
		{
			name:   "event type",
			filter: store.StatsFilter{Since: f.base, Until: f.until, EventType: "c.d"},
			want: store.StatsBucket{Start: f.base,
				Deliveries: store.DeliveryCounts{Total: 3, Pending: 1, Succeeded: 1, Canceled: 1},
				Attempts:   store.AttemptStats{Total: 1, P50: ms(60), P95: ms(60), P99: ms(60)}},
		},
		{
			name:   "webhook and event type that match nothing together",
			filter: store.StatsFilter{Since: f.base, Until: f.until, WebhookID: f.w1, EventType: "c.d"},
			want:   store.StatsBucket{Start: f.base},
		},
		{
			name:   "unknown webhook",
			filter: store.StatsFilter{Since: f.base, Until: f.until, WebhookID: "wh_unknown"},
			want:   store.StatsBucket{Start: f.base},
		},
		{
			name:   "the hour 11 only: an attempt, no delivery",
			filter: store.StatsFilter{Since: at(11, 0, 0, 0), Until: at(12, 0, 0, 0)},
			want: store.StatsBucket{Start: at(11, 0, 0, 0),
				Attempts: store.AttemptStats{Total: 1, P50: ms(500), P95: ms(500), P99: ms(500)}},
		},
		{
			name:   "attempts sending or interrupted only: counted, no latency",
			filter: store.StatsFilter{Since: at(10, 7, 0, 0), Until: at(10, 8, 0, 0)},
			want:   store.StatsBucket{Start: at(10, 7, 0, 0), Attempts: store.AttemptStats{Total: 2}},
		},
		{
			name:   "the last microsecond before since is out, until's own is out",
			filter: store.StatsFilter{Since: at(10, 59, 59, 999999), Until: at(11, 0, 0, 0)},
			want: store.StatsBucket{Start: at(10, 59, 59, 999999),
				Deliveries: store.DeliveryCounts{Total: 1, Failed: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.s.Stats(context.Background(), f.org, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			wantBucket(t, got, tt.want)
		})
	}
	t.Run("success rate", func(t *testing.T) {
		got, err := f.s.Stats(context.Background(), f.org, store.StatsFilter{Since: f.base, Until: f.until})
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Deliveries.SuccessRate(); r != 2.0/3 {
			t.Errorf("success rate %v, want 2/3 (canceled is not finished)", r)
		}
		if r := (store.DeliveryCounts{Pending: 3, Canceled: 2}).SuccessRate(); r != 0 {
			t.Errorf("success rate with none finished %v, want 0", r)
		}
	})
	t.Run("other organization", func(t *testing.T) {
		got, err := f.s.Stats(context.Background(), f.otherOrg, store.StatsFilter{Since: f.base, Until: f.until})
		if err != nil {
			t.Fatal(err)
		}
		wantBucket(t, got, store.StatsBucket{Start: f.base,
			Deliveries: store.DeliveryCounts{Total: 1, Succeeded: 1},
			Attempts:   store.AttemptStats{Total: 1, P50: ms(5), P95: ms(5), P99: ms(5)}})
	})
}

// TestStatsPercentilesArePercentileDisc: over many attempts with repeated durations and
// some without one, the percentiles equal PostgreSQL's percentile_disc over the completed
// attempts' durations, per bucket (few buckets: from the histogram; many: from
// percentile_disc) and over the range.
func TestStatsPercentilesArePercentileDisc(t *testing.T) {
	t.Parallel()
	f := seedStats(t)
	ctx := context.Background()
	if _, err := f.s.Pool().Exec(ctx, `
        INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, duration_ms, state)
        SELECT 'att_rand_' || g, 'd4', $1, 100 + g, 'auto', $2::timestamptz + g * interval '7 seconds',
               (random() * random() * 400)::bigint, CASE WHEN g % 17 = 0 THEN 'sending' ELSE 'completed' END
        FROM generate_series(1, 1997) g`, f.org, f.base); err != nil {
		t.Fatal(err)
	}
	// By hour (4 buckets) from a histogram, by minute (240) with percentile_disc itself.
	for _, i := range []store.Interval{store.IntervalHour, store.IntervalMinute} {
		buckets, err := f.s.Timeseries(ctx, f.org, store.StatsFilter{Since: f.base, Until: f.until}, i)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range buckets { // whole buckets: the range is aligned
			if got, want := latency(b.Attempts), latency(percentileDisc(t, f.s, f.org, b.Start, b.Start.Add(i.Width()))); got != want {
				t.Errorf("%s %s: %s, percentile_disc %s", i, b.Start, got, want)
			}
		}
	}
	total, err := f.s.Stats(ctx, f.org, store.StatsFilter{Since: f.base, Until: f.until})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := latency(total.Attempts), latency(percentileDisc(t, f.s, f.org, f.base, f.until)); got != want {
		t.Errorf("range: %s, percentile_disc %s", got, want)
	}
}

// percentileDisc is PostgreSQL's percentile_disc of the completed attempts' durations
// requested in [since, until) in org.
func percentileDisc(t *testing.T, s *store.Store, org string, since, until time.Time) store.AttemptStats {
	t.Helper()
	var p []*int64
	err := s.Pool().QueryRow(context.Background(), `
        SELECT percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE state = 'completed')
        FROM (SELECT state, duration_ms FROM attempts WHERE org_id = $1 AND requested_at >= $2 AND requested_at < $3
              UNION ALL
              SELECT state, duration_ms FROM batch_attempts WHERE org_id = $1 AND requested_at >= $2 AND requested_at < $3) x`,
		org, since, until).Scan(&p)
	if err != nil {
		t.Fatal(err)
	}
	var a store.AttemptStats
	if len(p) == 3 {
		a.P50, a.P95, a.P99 = p[0], p[1], p[2]
	}
	return a
}

// TestTimeseries: every bucket of the range, empty ones included, each with its own hand
// count; the first and last buckets are clipped to [since, until); the buckets' counts
// add up to Stats'.
func TestTimeseries(t *testing.T) {
	t.Parallel()
	f := seedStats(t)
	ctx := context.Background()
	got, err := f.s.Timeseries(ctx, f.org, store.StatsFilter{Since: f.base, Until: f.until}, store.IntervalHour)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StatsBucket{
		{Start: at(10, 0, 0, 0),
			Deliveries: store.DeliveryCounts{Total: 3, Pending: 1, Succeeded: 1, Failed: 1},
			Attempts:   store.AttemptStats{Total: 22, P50: ms(100), P95: ms(190), P99: ms(200)}},
		{Start: at(11, 0, 0, 0),
			Attempts: store.AttemptStats{Total: 1, P50: ms(500), P95: ms(500), P99: ms(500)}},
		{Start: at(12, 0, 0, 0),
			Deliveries: store.DeliveryCounts{Total: 3, Retrying: 1, Succeeded: 1, Canceled: 1},
			// 40, 60, 300: the 2nd, 3rd, 3rd.
			Attempts: store.AttemptStats{Total: 3, P50: ms(60), P95: ms(300), P99: ms(300)}},
		{Start: at(13, 0, 0, 0)},
	}
	wantBuckets(t, got, want)

	t.Run("clipped first and last buckets", func(t *testing.T) {
		// From 10:30 (d1 at 10:05 and its attempts out) to 12:40 (d6 and the batch out).
		got, err := f.s.Timeseries(ctx, f.org, store.StatsFilter{Since: at(10, 30, 0, 0), Until: at(12, 40, 0, 0)}, store.IntervalHour)
		if err != nil {
			t.Fatal(err)
		}
		wantBuckets(t, got, []store.StatsBucket{
			{Start: at(10, 0, 0, 0), Deliveries: store.DeliveryCounts{Total: 1, Failed: 1}},
			{Start: at(11, 0, 0, 0), Attempts: store.AttemptStats{Total: 1, P50: ms(500), P95: ms(500), P99: ms(500)}},
			{Start: at(12, 0, 0, 0),
				Deliveries: store.DeliveryCounts{Total: 2, Retrying: 1, Canceled: 1},
				Attempts:   store.AttemptStats{Total: 2, P50: ms(40), P95: ms(300), P99: ms(300)}},
		})
	})
	t.Run("add up to stats", func(t *testing.T) {
		for _, filter := range []store.StatsFilter{
			{Since: f.base, Until: f.until},
			{Since: f.base, Until: f.until, WebhookID: f.w1},
			{Since: f.base, Until: f.until, EventType: "c.d"},
		} {
			total, err := f.s.Stats(ctx, f.org, filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range store.Intervals {
				buckets, err := f.s.Timeseries(ctx, f.org, filter, i)
				if err != nil {
					t.Fatal(err)
				}
				var d store.DeliveryCounts
				var attempts int64
				for _, b := range buckets {
					d.Total += b.Deliveries.Total
					d.Pending += b.Deliveries.Pending
					d.Retrying += b.Deliveries.Retrying
					d.Succeeded += b.Deliveries.Succeeded
					d.Failed += b.Deliveries.Failed
					d.Canceled += b.Deliveries.Canceled
					attempts += b.Attempts.Total
				}
				if d != total.Deliveries || attempts != total.Attempts.Total {
					t.Errorf("%+v by %s: buckets add up to %+v and %d attempts, stats %+v and %d",
						filter, i, d, attempts, total.Deliveries, total.Attempts.Total)
				}
			}
		}
	})
	t.Run("one day, one week", func(t *testing.T) {
		for _, i := range []store.Interval{store.IntervalDay, store.IntervalWeek} {
			got, err := f.s.Timeseries(ctx, f.org, store.StatsFilter{Since: f.base, Until: f.until}, i)
			if err != nil {
				t.Fatal(err)
			}
			// 2026-11-30 is a Monday: the day's and the week's bucket start at its midnight.
			if len(got) != 1 || !got[0].Start.Equal(at(0, 0, 0, 0)) || got[0].Deliveries.Total != 6 || got[0].Attempts.Total != 26 {
				t.Errorf("by %s: %+v, want one bucket from midnight with 6 deliveries and 26 attempts", i, got)
			}
		}
	})
	t.Run("too many buckets", func(t *testing.T) {
		filter := store.StatsFilter{Since: f.base, Until: f.base.Add(store.MaxBuckets*time.Minute + time.Microsecond)}
		if _, err := f.s.Timeseries(ctx, f.org, filter, store.IntervalMinute); err == nil {
			t.Error("1,001 buckets answered, want an error")
		}
		filter.Until = f.base.Add(store.MaxBuckets * time.Minute)
		got, err := f.s.Timeseries(ctx, f.org, filter, store.IntervalMinute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != store.MaxBuckets {
			t.Errorf("%d buckets, want %d", len(got), store.MaxBuckets)
		}
	})
}

// TestMigrateAttemptsWebhook: attempts recorded before migration 012 get their
// delivery's webhook, so the webhook filter counts them; attempts inserted after it get
// theirs from the trigger, whatever statement inserts them.
func TestMigrateAttemptsWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := migratedTo(t, 11)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		`INSERT INTO organizations (id, name) VALUES ('org_1', 'acme')`,
		`INSERT INTO webhooks (id, org_id, secret_enc, secret_prefix, settings)
         VALUES ('wh_1', 'org_1', '\x00', 'whsec_', '{}'), ('wh_2', 'org_1', '\x00', 'whsec_', '{}')`,
		`INSERT INTO events (org_id, id, type, occurred_at, data) VALUES ('org_1', 'e1', 'a.b', now(), '{}')`,
		`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, created_at)
         VALUES ('d1', 'org_1', 'wh_1', 'e1', 'a.b', '2026-11-30T10:00:00Z'), ('d2', 'org_1', 'wh_2', 'e1', 'a.b', '2026-11-30T10:00:00Z')`,
		`INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, duration_ms)
         VALUES ('a1', 'd1', 'org_1', 1, 'auto', '2026-11-30T10:01:00Z', 10),
                ('a2', 'd1', 'org_1', 2, 'auto', '2026-11-30T10:02:00Z', 20),
                ('a3', 'd2', 'org_1', 1, 'auto', '2026-11-30T10:03:00Z', 30)`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	s := migrateAndOpen(t, ctx, url)
	if _, err := s.Pool().Exec(ctx, `INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, duration_ms)
        VALUES ('a4', 'd2', 'org_1', 2, 'auto', '2026-11-30T10:04:00Z', 40)`); err != nil {
		t.Fatal(err)
	}
	for webhookID, want := range map[string]store.AttemptStats{
		"wh_1": {Total: 2, P50: ms(10), P95: ms(20), P99: ms(20)},
		"wh_2": {Total: 2, P50: ms(30), P95: ms(40), P99: ms(40)},
	} {
		got, err := s.Stats(ctx, "org_1", store.StatsFilter{Since: at(10, 0, 0, 0), Until: at(11, 0, 0, 0), WebhookID: webhookID})
		if err != nil {
			t.Fatal(err)
		}
		if got.Deliveries.Total != 1 || latency(got.Attempts) != latency(want) || got.Attempts.Total != want.Total {
			t.Errorf("%s: %+v %s, want 1 delivery and %d attempts %s", webhookID, got, latency(got.Attempts), want.Total, latency(want))
		}
	}
}

// TestIntervalBuckets: alignment in UTC (weeks on Monday) and the bucket count at the
// limits, without a database.
func TestIntervalBuckets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval     store.Interval
		since, until time.Time
		first        time.Time
		count        int
	}{
		{store.IntervalMinute, at(10, 0, 30, 5), at(10, 2, 0, 0), at(10, 0, 0, 0), 2},
		{store.IntervalMinute, at(10, 0, 0, 0), at(10, 0, 0, 1), at(10, 0, 0, 0), 1},
		{store.IntervalMinute, at(10, 0, 0, 0), at(10, 0, 0, 0).Add(1000 * time.Minute), at(10, 0, 0, 0), 1000},
		{store.IntervalMinute, at(10, 0, 0, 0), at(10, 0, 0, 1).Add(1000 * time.Minute), at(10, 0, 0, 0), 1001},
		{store.IntervalHour, at(10, 59, 59, 999999), at(11, 0, 0, 1), at(10, 0, 0, 0), 2},
		{store.IntervalDay, at(23, 0, 0, 0).In(time.FixedZone("+05", 5*3600)), at(23, 30, 0, 0), at(0, 0, 0, 0), 1},
		// Sunday 2026-11-29 is in the week of Monday the 23rd; Monday the 30th starts the next.
		{store.IntervalWeek, at(0, 0, 0, 0).Add(-time.Hour), at(0, 0, 0, 0).Add(time.Hour), at(0, 0, 0, 0).Add(-7 * 24 * time.Hour), 2},
		{store.IntervalWeek, at(10, 0, 0, 0), at(11, 0, 0, 0), at(0, 0, 0, 0), 1},
		{store.IntervalHour, at(10, 0, 0, 0), at(10, 0, 0, 0), at(10, 0, 0, 0), 0},
		{store.IntervalMinute, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), 1001},
	}
	for _, tt := range tests {
		if got := tt.interval.Align(tt.since); !got.Equal(tt.first) {
			t.Errorf("%s: Align(%s) = %s, want %s", tt.interval, tt.since, got, tt.first)
		}
		if got := tt.interval.BucketCount(tt.since, tt.until); got != tt.count {
			t.Errorf("%s: BucketCount(%s, %s) = %d, want %d", tt.interval, tt.since, tt.until, got, tt.count)
		}
	}
	if w := at(10, 0, 0, 0).Add(-10 * time.Hour).Weekday(); w != time.Monday {
		t.Fatalf("fixture day is a %s", w)
	}
}

func wantBuckets(t *testing.T, got, want []store.StatsBucket) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d buckets, want %d: %+v", len(got), len(want), got)
	}
	for k := range want {
		wantBucket(t, got[k], want[k])
	}
}

func wantBucket(t *testing.T, got, want store.StatsBucket) {
	t.Helper()
	if !got.Start.Equal(want.Start) || got.Deliveries != want.Deliveries || !reflect.DeepEqual(got.Attempts, want.Attempts) {
		t.Errorf("bucket %s\n got  %+v %s\n want %+v %s", want.Start, got, latency(got.Attempts), want, latency(want.Attempts))
	}
}

func latency(a store.AttemptStats) string {
	v := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("p50=%s p95=%s p99=%s", v(a.P50), v(a.P95), v(a.P99))
}

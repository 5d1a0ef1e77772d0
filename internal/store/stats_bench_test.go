package store_test

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

// Sizes of the statistics benchmark's organization (the issue's "a million deliveries
// with three million attempts"), spread evenly over the 30 days before statsBenchUntil
// across statsBenchWebhooks webhooks; another organization holds a tenth as many.
const (
	statsBenchWebhooks = 10
	statsBenchBatches  = 1_000
)

// statsBenchDeliveries is the benchmark organization's delivery count; a smaller one
// makes a quick try of the benchmark itself.
var statsBenchDeliveries = flag.Int("stats-deliveries", 1_000_000, "deliveries in BenchmarkStats' organization")

var statsBenchUntil = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// BenchmarkStats times Stats and Timeseries over 30 days of a million deliveries and
// three million attempts (plus another organization's tenth), by hour and by day, with
// and without a webhook filter, and Stats over the last 24 hours; it logs each
// statement's EXPLAIN (ANALYZE, BUFFERS). Building the data takes minutes, so run it
// alone, with -v for the plans in full (-stats-deliveries 10000 tries it quickly):
//
//	go test -run XXX -bench BenchmarkStats -benchtime 10x -v ./internal/store/
//
// bench/results/2026-11-30-stats.md holds a run.
func BenchmarkStats(b *testing.B) {
	s := storetest.New(b)
	ctx := context.Background()
	start := time.Now()
	n := *statsBenchDeliveries
	org := seedStatsBench(b, s, n)
	seedStatsBench(b, s, n/10) // another organization, which the statements must skip
	b.Logf("seeded %d + %d deliveries, %d + %d attempts in %s", n, n/10, 3*n, 3*n/10, time.Since(start).Round(time.Second))

	all := store.StatsFilter{Since: statsBenchUntil.Add(-30 * 24 * time.Hour), Until: statsBenchUntil}
	one := all
	one.WebhookID = benchWebhookID(org, 3)
	day := store.StatsFilter{Since: statsBenchUntil.Add(-24 * time.Hour), Until: statsBenchUntil} // the API's default
	dayOne := day
	dayOne.WebhookID = one.WebhookID
	cases := []struct {
		name     string
		filter   store.StatsFilter
		interval store.Interval // "": Stats
	}{
		{"stats", all, ""},
		{"stats/webhook", one, ""},
		{"stats/24h", day, ""},
		{"stats/24h/webhook", dayOne, ""},
		{"timeseries/hour", all, store.IntervalHour},
		{"timeseries/hour/webhook", one, store.IntervalHour},
		{"timeseries/day", all, store.IntervalDay},
		{"timeseries/day/webhook", one, store.IntervalDay},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			sql, args := store.StatsSQL(org, c.filter, c.interval)
			b.Logf("EXPLAIN (ANALYZE, BUFFERS) of %s:\n%s", c.name, explain(b, s, sql, args))
			for b.Loop() {
				var err error
				if c.interval == "" {
					_, err = s.Stats(ctx, org, c.filter)
				} else {
					_, err = s.Timeseries(ctx, org, c.filter, c.interval)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchWebhookID(orgID string, k int) string { return fmt.Sprintf("wh_%s_%d", orgID, k) }

// seedStatsBench creates an organization with statsBenchWebhooks webhooks and n deliveries
// (80% succeeded, 10% failed, 5% retrying, 3% pending, 2% canceled) created evenly over the
// 30 days before statsBenchUntil, each with three attempts a minute apart (one in a
// thousand still sending) of 10 ms to 1.5 s, log-uniform; plus statsBenchBatches batches
// of one attempt each. The rows are written by generate_series with foreign key checks
// off (session_replication_role), then vacuumed and analyzed as autovacuum would.
func seedStatsBench(b *testing.B, s *store.Store, n int) (orgID string) {
	b.Helper()
	ctx := context.Background()
	o, err := s.CreateOrganization(ctx, "stats-bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO event_types (org_id, name) VALUES ($1, 'bench.event')`, o.ID); err != nil {
		b.Fatal(err)
	}
	for k := range statsBenchWebhooks {
		w := store.Webhook{ID: benchWebhookID(o.ID, k), OrgID: o.ID, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Settings: webhook.Settings{Name: "b", URL: "https://example.com/hook", Events: []string{"bench.event"}, TimeoutSeconds: 30}}
		if _, err := s.CreateWebhook(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	// $1 org, $2 until, $3 n (deliveries or batches): row g is created at until - 30 days * g/n.
	const spread = `(SELECT g, $2::timestamptz - interval '30 days' * (g::float8 / $3::int) AS ts FROM generate_series(1, $3::int) g) x`
	deliveries, batches := []any{o.ID, statsBenchUntil, n}, []any{o.ID, statsBenchUntil, statsBenchBatches}
	statements := []struct {
		sql  string
		args []any
	}{
		{`SET session_replication_role = replica`, nil},
		{`INSERT INTO events (org_id, id, type, occurred_at, data, created_at)
          SELECT $1, 'e' || g, 'bench.event', ts, '{"n":1}', ts FROM ` + spread, deliveries},
		{`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count,
                                  last_attempt_at, workflow_started, created_at, updated_at)
          SELECT $1 || '_d' || g, $1, 'wh_' || $1 || '_' || (g % ` + fmt.Sprint(statsBenchWebhooks) + `), 'e' || g, 'bench.event',
                 CASE WHEN g % 100 < 80 THEN 'succeeded' WHEN g % 100 < 90 THEN 'failed'
                      WHEN g % 100 < 95 THEN 'retrying' WHEN g % 100 < 98 THEN 'pending' ELSE 'canceled' END,
                 3, ts + interval '3 minutes', true, ts, ts + interval '3 minutes'
          FROM ` + spread, deliveries},
		// webhook_id as the trigger of migration 012 would (triggers are off here).
		{`INSERT INTO attempts (id, delivery_id, org_id, webhook_id, number, trigger, requested_at, duration_ms, state,
                                request_url, request_method, request_headers, response_status, response_body, outcome)
          SELECT $1 || '_a' || g || '_' || n, $1 || '_d' || g, $1, 'wh_' || $1 || '_' || (g % ` + fmt.Sprint(statsBenchWebhooks) + `),
                 n, 'auto', ts + n * interval '1 minute',
                 (10 * exp(random() * ln(150)))::bigint,
                 CASE WHEN g % 1000 = 0 AND n = 3 THEN 'sending' ELSE 'completed' END,
                 'https://example.com/hook', 'POST', '{"Content-Type":"application/json"}', 200,
                 '{"ok":true,"request":"` + strings.Repeat("x", 64) + `"}', 'succeeded'
          FROM ` + spread + `, generate_series(1, 3) n`, deliveries},
		{`INSERT INTO batches (id, org_id, webhook_id, state, send_at, workflow_started, created_at)
          SELECT $1 || '_b' || g, $1, 'wh_' || $1 || '_0', 'closed', ts, true, ts FROM ` + spread, batches},
		{`INSERT INTO batch_attempts (id, batch_id, org_id, number, trigger, state, requested_at, duration_ms)
          SELECT $1 || '_ba' || g, $1 || '_b' || g, $1, 1, 'auto', 'completed', ts + interval '1 minute',
                 (10 * exp(random() * ln(150)))::bigint
          FROM ` + spread, batches},
		{`RESET session_replication_role`, nil},
	}
	for _, st := range statements {
		if _, err := conn.Exec(ctx, st.sql, st.args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
	for _, table := range []string{"events", "deliveries", "attempts", "batches", "batch_attempts"} {
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			b.Fatal(err)
		}
	}
	return o.ID
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) of sql as the store runs it (JIT off) and
// returns the plan's lines.
func explain(b *testing.B, s *store.Store, sql string, args []any) string {
	b.Helper()
	var lines []string
	err := pgx.BeginFunc(context.Background(), s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), "SET LOCAL jit = off"); err != nil {
			return err
		}
		rows, err := tx.Query(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
		}
		return rows.Err()
	})
	if err != nil {
		b.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

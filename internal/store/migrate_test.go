package store_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

var migratedDBs atomic.Int64

// migratedTo returns the URL of a new database with the store's migrations applied up to
// version, by tern as store.Migrate applies them, for a test of the migrations after it.
func migratedTo(t *testing.T, version int32) string {
	t.Helper()
	ctx := context.Background()
	pg := storetest.Postgres(t)
	admin, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("migrated_to_%d_%d", version, migratedDBs.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, pg.URL("postgres"))
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})

	conn, err := pgx.Connect(ctx, pg.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, "public.schema_version") // store.Migrate's table
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("migrations")); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return pg.URL(name)
}

// TestMigrateWebhookSettings: webhooks written in the columns of migrations 001-002 read
// back the same through the store after 003 moves their settings into one jsonb column,
// and the fan-out still finds them.
func TestMigrateWebhookSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := migratedTo(t, 2)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO organizations (id, name) VALUES ('org_1', 'acme')`); err != nil {
		t.Fatal(err)
	}

	created := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	triggered := created.Add(time.Hour)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sealed, err := storetest.Box().Seal([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	type oldRow struct {
		id, name, description, url string
		events                     []string
		policy                     string
		headers                    map[string]string
		timeout, retries           int
		scheduleMs                 []int64
		status                     string
		attempts                   int64
		failures                   int
		lastTriggered              *time.Time
	}
	rows := []oldRow{
		{id: "wh_api", name: "orders", description: "what the API makes", url: "https://example.com/hook",
			events: []string{"a.b", "c.d"}, policy: "include", headers: map[string]string{"X-Api-Key": "k"},
			timeout: 30, retries: 5, scheduleMs: []int64{60000, 300000, 900000, 3600000, 3600000}, status: "ENABLED"},
		{id: "wh_odd", name: "odd delays", description: "", url: "https://example.com/{eventType}?a=ü",
			events: []string{}, policy: "exclude", headers: map[string]string{},
			timeout: 1, retries: 0, scheduleMs: []int64{1000, 90000, 3601000, 86400000, 1500, 500, 0}, status: "DISABLED"},
		{id: "wh_gone", name: "no schedule", description: "by the store alone", url: "https://example.org/",
			events: []string{"a.b"}, policy: "include", headers: map[string]string{"A": "1", "B": "2"},
			timeout: 60, retries: 20, scheduleMs: []int64{}, status: "DISABLED_DUE_TO_ERRORS",
			attempts: 42, failures: 7, lastTriggered: &triggered},
	}
	for _, r := range rows {
		if _, err := conn.Exec(ctx, `
            INSERT INTO webhooks (id, org_id, name, description, url, events, events_policy, headers,
                timeout_seconds, max_retries, retry_schedule_ms, status, secret_enc, secret_prefix,
                attempt_count, consecutive_failures, last_triggered_at, created_at, updated_at)
            VALUES ($1, 'org_1', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'whsec_MfKQ', $13, $14, $15, $16, $16)`,
			r.id, r.name, r.description, r.url, r.events, r.policy, r.headers, r.timeout, r.retries,
			r.scheduleMs, r.status, sealed, r.attempts, r.failures, r.lastTriggered, created); err != nil {
			t.Fatal(err)
		}
	}

	s := migrateAndOpen(t, ctx, url)

	for _, r := range rows {
		t.Run(r.id, func(t *testing.T) {
			want := store.Webhook{
				ID: r.id, OrgID: "org_1",
				Settings: webhook.Settings{
					Name: r.name, Description: r.description, URL: r.url, Events: r.events, EventsPolicy: r.policy,
					Headers: r.headers, TimeoutSeconds: r.timeout, MaxRetries: r.retries,
					RetrySchedule: webhook.Schedule{},
				}.WithSecrets(webhook.Secrets{Headers: r.headers}).WithDefaults(),
				Status: r.status, Secret: secret, SecretPrefix: "whsec_MfKQ",
				AttemptCount: r.attempts, ConsecutiveFailures: r.failures, LastTriggeredAt: r.lastTriggered,
				CreatedAt: created, UpdatedAt: created,
			}
			for _, ms := range r.scheduleMs {
				want.RetrySchedule = append(want.RetrySchedule, time.Duration(ms)*time.Millisecond)
			}
			got, err := s.GetWebhook(ctx, "org_1", r.id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("after migration\n%+v\nwant\n%+v", got, want)
			}
		})
	}

	// Whole seconds as the API writes them; anything else in milliseconds, which read back
	// the same (above).
	var schedule []string
	if err := conn.QueryRow(ctx, `SELECT ARRAY(SELECT jsonb_array_elements_text(settings->'retrySchedule'))
        FROM webhooks WHERE id = 'wh_odd'`).Scan(&schedule); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1s", "1m30s", "1h1s", "24h", "1500ms", "500ms", "0ms"}; !slices.Equal(schedule, want) {
		t.Errorf("stored schedule %q, want %q", schedule, want)
	}

	var columns []string
	if err := conn.QueryRow(ctx, `SELECT array_agg(column_name::text ORDER BY column_name) FROM information_schema.columns
        WHERE table_name = 'webhooks'`).Scan(&columns); err != nil {
		t.Fatal(err)
	}
	if want := []string{"attempt_count", "consecutive_failures", "created_at", "events", "events_policy", "failing", "id",
		"last_triggered_at", "org_id", "secret_enc", "secret_prefix", "secrets_enc", "seq", "settings", "status", "updated_at",
	}; !slices.Equal(columns, want) {
		t.Errorf("webhooks columns %q, want %q", columns, want)
	}

	res, err := s.IngestEvent(ctx, store.Event{OrgID: "org_1", ID: "evt_1", Type: "a.b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 1 || res.Deliveries[0].WebhookID != "wh_api" {
		t.Errorf("a.b fanned out to %v, want wh_api only", store.DeliveryIDs(res.Deliveries))
	}
}

package devtemporal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	postgresschema "go.temporal.io/server/schema/postgresql/v12"

	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/devtemporal"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestMain stops the PostgreSQL cluster storetest starts for the tests that
// need one.
func TestMain(m *testing.M) { storetest.Main(m) }

// TestPostgresPersistence runs a server persisted in PostgreSQL on databases
// it has to create, then a second one on the same databases that must find
// the first one's workflow, in visibility too.
func TestPostgresPersistence(t *testing.T) {
	t.Parallel()
	pg := storetest.Postgres(t) // fails the test when PostgreSQL cannot start
	ctx := testContext(t)
	opts := devtemporal.Options{
		Postgres: &devtemporal.PostgresStore{
			Port:               pg.Port(),
			User:               devenv.Superuser,
			Database:           "devtemporal_pg",
			VisibilityDatabase: "devtemporal_pg_visibility",
		},
		UIPort:           devtemporal.Disabled,
		HTTPPort:         devtemporal.Disabled,
		SearchAttributes: hookdAttributes,
	}

	began := time.Now()
	first := start(t, opts)
	t.Logf("first start, creating both databases and their schemas: %v", time.Since(began).Round(time.Millisecond))
	c := dial(t, first)
	assertSearchAttributes(ctx, t, c, first.Namespace(), hookdAttributes)
	runID := runGreet(ctx, t, c, "wf-postgres", hookdValues("wh_pg", "succeeded", "org_pg", 2))
	const query = `HookdWebhookId = "wh_pg" AND HookdAttempts = 2`
	waitVisible(ctx, t, c, query, runID)

	admin, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatalf("connect to postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	t.Logf("connections while running: %d", connections(ctx, t, admin, opts.Postgres))

	// A second server on the same databases is refused while the first runs.
	if srv, err := devtemporal.Start(ctx, opts); err == nil {
		_ = srv.Stop()
		t.Errorf("second Start on databases in use succeeded")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Start on databases in use: err = %v, want one saying they are in use", err)
	}

	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// Sessions end a moment after their clients close them.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n := connections(ctx, t, admin, opts.Postgres)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d connections to the databases left 5s after Stop, want 0", n)
			break
		}
	}

	// Start again on the same databases, with one attribute more, which the
	// existing namespace must gain.
	more := flaggedAttributes()
	opts.SearchAttributes = more
	began = time.Now()
	second := start(t, opts)
	t.Logf("restart on existing databases: %v", time.Since(began).Round(time.Millisecond))
	c = dial(t, second)
	assertSearchAttributes(ctx, t, c, second.Namespace(), more)
	assertCompleted(ctx, t, c, "wf-postgres", runID)
	waitVisible(ctx, t, c, query, runID)

	// The schemas are at the versions this server expects, and the history
	// shards are those of the production shape.
	for db, want := range map[string]string{
		opts.Postgres.Database:           postgresschema.Version,
		opts.Postgres.VisibilityDatabase: postgresschema.VisibilityVersion,
	} {
		conn, err := pgx.Connect(ctx, pg.URL(db))
		if err != nil {
			t.Fatalf("connect to %s: %v", db, err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		var got string
		err = conn.QueryRow(ctx, "SELECT curr_version FROM schema_version WHERE db_name = $1", db).Scan(&got)
		if err != nil || got != want {
			t.Errorf("schema version of %s = %q (%v), want %q", db, got, err, want)
		}
		if db != opts.Postgres.Database {
			continue
		}
		var shards int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM shards").Scan(&shards); err != nil || shards != devtemporal.DefaultPostgresNumHistoryShards {
			t.Errorf("%d history shards (%v), want %d", shards, err, devtemporal.DefaultPostgresNumHistoryShards)
		}
	}
}

// connections counts the sessions open on p's databases.
func connections(ctx context.Context, t *testing.T, admin *pgx.Conn, p *devtemporal.PostgresStore) int {
	t.Helper()
	var n int
	err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = ANY($1)",
		[]string{p.Database, p.VisibilityDatabase}).Scan(&n)
	if err != nil {
		t.Fatalf("count connections: %v", err)
	}
	return n
}

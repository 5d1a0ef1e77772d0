package devtemporal

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/server/common/log"
	postgresschema "go.temporal.io/server/schema/postgresql/v12"

	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestMigrateSchemaUpdatesOlderDatabase brings a database made by an older
// server (schema 1.17) up to this server's version, as Start does, and finds
// the tables of the later versions; a second run changes nothing.
func TestMigrateSchemaUpdatesOlderDatabase(t *testing.T) {
	t.Parallel()
	pg := storetest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := PostgresStore{Port: pg.Port(), User: devenv.Superuser, Database: "devtemporal_migrate"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := connectCreating(ctx, p)
	if err != nil {
		t.Fatalf("connectCreating: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	conf := p.sqlConfig(p.Database)
	logger := log.NewNoopLogger()

	if err := migrateSchema(conf, postgresSchema, "1.17", logger); err != nil {
		t.Fatalf("set up schema 1.17: %v", err)
	}
	if v := schemaVersion(ctx, t, conn, p.Database); v != "1.17" {
		t.Fatalf("schema version = %q after setting up 1.17", v)
	}
	if tableExists(ctx, t, conn, "current_chasm_executions") {
		t.Fatal("table current_chasm_executions (schema 1.19) exists at 1.17")
	}

	began := time.Now()
	if err := migrateSchema(conf, postgresSchema, "", logger); err != nil {
		t.Fatalf("update schema: %v", err)
	}
	t.Logf("update 1.17 → %s: %v", postgresschema.Version, time.Since(began).Round(time.Millisecond))
	if v := schemaVersion(ctx, t, conn, p.Database); v != postgresschema.Version {
		t.Errorf("schema version = %q after the update, want %q", v, postgresschema.Version)
	}
	if !tableExists(ctx, t, conn, "current_chasm_executions") {
		t.Error("table current_chasm_executions (schema 1.19) missing after the update")
	}

	began = time.Now()
	if err := migrateSchema(conf, postgresSchema, "", logger); err != nil {
		t.Fatalf("update an up-to-date schema: %v", err)
	}
	t.Logf("up-to-date check: %v", time.Since(began).Round(time.Millisecond))
	if v := schemaVersion(ctx, t, conn, p.Database); v != postgresschema.Version {
		t.Errorf("schema version = %q after a second run, want %q", v, postgresschema.Version)
	}
}

func schemaVersion(ctx context.Context, t *testing.T, conn *pgx.Conn, db string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(ctx, "SELECT curr_version FROM schema_version WHERE db_name = $1", db).Scan(&v); err != nil {
		t.Fatalf("read schema version: %v", err)
	}
	return v
}

func tableExists(ctx context.Context, t *testing.T, conn *pgx.Conn, table string) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
		t.Fatalf("look up table %s: %v", table, err)
	}
	return ok
}

func TestParsePostgresURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   PostgresStore
		errHas string
	}{
		{
			in:   "postgres://hookd@127.0.0.1:5433/hookd?sslmode=disable&pool_max_conns=8",
			want: PostgresStore{Host: "127.0.0.1", Port: 5433, User: "hookd", ConnectAttributes: map[string]string{"sslmode": "disable"}},
		},
		{
			in:   "postgresql://u:p%40ss@db.example.com/app?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x",
			want: PostgresStore{Host: "db.example.com", User: "u", Password: "p@ss", ConnectAttributes: map[string]string{"sslmode": "verify-full", "sslrootcert": "/ca.pem", "application_name": "x"}},
		},
		{
			in:   "postgres://u@/app?host=/run/postgresql&port=6000",
			want: PostgresStore{Host: "/run/postgresql", Port: 6000, User: "u"},
		},
		{in: "mysql://u@h/db", errHas: "scheme"},
		{in: "postgres://u@a,b/db", errHas: "more than one host"},
		{in: "postgres://u:secret@h:x/db", errHas: "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePostgresURL(tt.in)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errHas)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("err = %v shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.Host != tt.want.Host || got.Port != tt.want.Port || got.User != tt.want.User || got.Password != tt.want.Password ||
				!maps.Equal(got.ConnectAttributes, tt.want.ConnectAttributes) || got.Database != "" || got.VisibilityDatabase != "" {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestPostgresStoreWithDefaults(t *testing.T) {
	t.Parallel()
	p, err := PostgresStore{User: "hookd"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if p.Host != DefaultPostgresHost || p.Port != DefaultPostgresPort || p.Database != DefaultPostgresDatabase ||
		p.VisibilityDatabase != DefaultPostgresVisibilityDatabase || p.MaxConns != DefaultPostgresMaxConns {
		t.Errorf("defaults = %+v", *p)
	}
	if got := p.url("temporal"); got != "postgres://hookd@127.0.0.1:5432/temporal?sslmode=disable" {
		t.Errorf("url = %s", got)
	}
	sock, err := PostgresStore{User: "hookd", Host: "/tmp/pg", Port: 6000, Password: "s3cret"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got := sock.url("temporal"); got != "postgres://hookd:s3cret@localhost:6000/temporal?host=%2Ftmp%2Fpg&sslmode=disable" {
		t.Errorf("socket url = %s", got)
	}
	if c := sock.sqlConfig("temporal"); c.ConnectAddr != "localhost:6000" || c.ConnectAttributes["host"] != "/tmp/pg" || c.MaxIdleConns != DefaultPostgresMaxConns {
		t.Errorf("socket sql config = %+v", c)
	}

	_, err = PostgresStore{Database: "a b", VisibilityDatabase: "a b", Port: -2, MaxConns: -1}.withDefaults()
	for _, want := range []string{"Postgres.User", "(Postgres.Database)", "(Postgres.VisibilityDatabase)", "both", "Port -2", "MaxConns -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
	given := &PostgresStore{User: "u"}
	o, err := Options{Postgres: given}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.NumHistoryShards != DefaultPostgresNumHistoryShards || o.Postgres.Database != DefaultPostgresDatabase || given.Database != "" {
		t.Errorf("Options with Postgres: shards %d, database %q, caller's store changed to %+v", o.NumHistoryShards, o.Postgres.Database, *given)
	}
	_, err = Options{DBFile: "x.db", Postgres: &PostgresStore{User: "u"}}.withDefaults()
	if err == nil || !strings.Contains(err.Error(), "pick one") {
		t.Errorf("DBFile and Postgres: err = %v, want one asking to pick one", err)
	}
}

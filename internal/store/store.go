package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/hookd/hookd/internal/secretbox"
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is where tern records the applied migration.
const versionTable = "public.schema_version"

// Store is hookd's PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	box  *secretbox.Box
}

// Migrate applies every embedded migration not yet applied to the database at
// databaseURL. It holds tern's advisory lock while it works, so concurrent callers wait
// for each other instead of racing.
func Migrate(ctx context.Context, databaseURL string) error {
	_, err := ApplyMigrations(ctx, databaseURL)
	return err
}

// ApplyMigrations is Migrate that says what it did: the names of the migrations it
// applied, in order ("016_console.sql"), none when the schema was up to date.
func ApplyMigrations(ctx context.Context, databaseURL string) (applied []string, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect for migrations: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return nil, fmt.Errorf("new migrator: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	m.OnStart = func(_ int32, name, _, _ string) { applied = append(applied, name) }
	if err := m.Migrate(ctx); err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// Open connects a pool to databaseURL (which must be migrated) and checks that the
// database answers. Without pool_max_conns in the URL the pool holds up to 4 connections
// per CPU (8 on a 2-core box): enough to keep PostgreSQL's cores busy, few enough not to
// make it thrash. box seals and opens webhook secrets. It seals the header values that
// rows written before migration 005 still hold in plaintext (see sealPlainHeaders).
func Open(ctx context.Context, databaseURL string, box *secretbox.Box) (*Store, error) {
	if box == nil {
		return nil, errors.New("open store: no secretbox")
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, 4*runtime.NumCPU()))
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// Times come back in UTC, as the API prints them.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	s := &Store{pool: pool, box: box}
	if err := s.sealPlainHeaders(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection; in-flight calls finish first.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Pool is the underlying pool, for callers that need SQL the store does not offer
// (benchmarks, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// wrap adds op as context and turns PostgreSQL outcomes into the package's sentinels:
// no rows → ErrNotFound, unique violation → ErrConflict, foreign key violation (a parent
// row that does not exist) → ErrNotFound.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w (%s)", op, ErrConflict, pgErr.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: %w (%s)", op, ErrNotFound, pgErr.ConstraintName)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// cleanText makes s storable in a text column: valid UTF-8 and no NUL bytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// cleanMap applies cleanText to keys and values and turns nil into an empty map (the
// columns are NOT NULL jsonb objects).
func cleanMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[cleanText(k)] = cleanText(v)
	}
	return out
}

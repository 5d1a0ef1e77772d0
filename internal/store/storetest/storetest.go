// Package storetest gives tests a real, migrated PostgreSQL database of their own.
//
// The first call in a test binary starts one private cluster (internal/devenv, in a
// temporary directory, fsync off) and migrates a template database once; every call then
// clones a fresh database from that template, which takes milliseconds. A test binary
// that uses it stops the cluster with
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
// (the server also stops by itself if the test binary dies). When PostgreSQL cannot be
// started, the calling test fails: it is never skipped.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
)

// TemplateDB is the migrated database every test database is cloned from.
const TemplateDB = "hookd_template"

var (
	once     sync.Once
	startErr error
	tmpDir   string
	pg       *devenv.Postgres
	admin    *pgxpool.Pool // to database "postgres", for CREATE/DROP DATABASE
	box      *secretbox.Box
	dbSeq    atomic.Int64
)

// New returns a Store on a fresh migrated database, closed when the test ends. Its
// webhook secrets are sealed with Box().
func New(t testing.TB) *store.Store {
	t.Helper()
	url := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, url, box)
	if err != nil {
		t.Fatalf("storetest: open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// URL creates a fresh migrated database (t_<n>, cloned from TemplateDB) and returns its
// connection URL. The database is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	setup(t)
	name := fmt.Sprintf("t_%d", dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+TemplateDB); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})
	return pg.URL(name)
}

// Box is the secretbox every store from New uses (one random key per test binary), for
// tests that open further stores on a URL from URL.
func Box() *secretbox.Box {
	once.Do(start)
	return box
}

// Postgres is the test binary's cluster, started on first use.
func Postgres(t testing.TB) *devenv.Postgres {
	t.Helper()
	setup(t)
	return pg
}

// Main runs the tests, then the cleanups in order (the caller's own resources, which may
// still hold connections), then stops the cluster and removes its directory, and exits.
// Call it from TestMain.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
	}
	os.Exit(code)
}

func setup(t testing.TB) {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		t.Fatalf("storetest: PostgreSQL is required for this test and could not be started: %v", startErr)
	}
}

func start() {
	var err error
	if box, err = secretbox.New(secretbox.GenerateKey()); err != nil {
		startErr = err
		return
	}
	startErr = startCluster()
}

func startCluster() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "hookd-storetest-")
	if err != nil {
		return fmt.Errorf("make temp dir: %w", err)
	}
	tmpDir = dir
	// The server may run as another user (when tests run as root): let it in.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("chmod temp dir: %w", err)
	}
	pg, err = devenv.Start(ctx, devenv.Options{
		DataDir:           filepath.Join(dir, "pg"),
		DisableDurability: true,
		StopWithParent:    true,
	})
	if err != nil {
		return err
	}
	if admin, err = pgxpool.New(ctx, pg.URL("postgres")+"&pool_max_conns=4"); err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+TemplateDB); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	if err := store.Migrate(ctx, pg.URL(TemplateDB)); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	// No connections to the template from now on: a stray one would make cloning fail.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+TemplateDB+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("seal template database: %w", err)
	}
	return nil
}

func stop() error {
	if admin != nil {
		admin.Close()
	}
	if pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pg.Stop(ctx); err != nil {
			return err
		}
	}
	if tmpDir != "" {
		return os.RemoveAll(tmpDir)
	}
	return nil
}

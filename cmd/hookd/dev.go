//go:build !nodev

package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/devtemporal"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/workflows"
)

// addrFileName is hookd dev's address file in its data dir unless HOOKD_ADDR_FILE names
// another.
const addrFileName = "addresses.json"

// The databases the embedded Temporal server uses with HOOKD_TEMPORAL_STORE=postgres.
const (
	devTemporalDB           = "temporal"
	devTemporalVisibilityDB = "temporal_visibility"
)

// runDev runs everything on this machine: a private PostgreSQL (unless DATABASE_URL is
// given), the embedded Temporal server with its Web UI, migrations, the API and the worker.
// All state lives in the data directory, so a restart keeps it.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	began := time.Now()
	cfg, err := loadConfig(config.Dev, args, stderr, nil)
	if err != nil {
		return err
	}
	sizeWorkflowCache(cfg)
	log := newLogger(cfg.LogLevel)
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	key, err := devSecretKey(cfg, dataDir)
	if err != nil {
		return err
	}

	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		pg, err := devenv.StartPostgres(ctx, filepath.Join(dataDir, "postgres"), 0, log)
		if err != nil {
			return fmt.Errorf("start postgres: %w", err)
		}
		defer stopLogged(log, "postgres", pg.Stop)
		dbURL = pg.URL("hookd")
	}

	topts, err := embeddedTemporalOptions(cfg, log)
	if err != nil {
		return err
	}
	topts.SearchAttributes = workflows.SearchAttributeTypes()
	temporalStore := filepath.Join(dataDir, "temporal.db")
	if cfg.TemporalStore == config.TemporalStorePostgres {
		// The production shape: Temporal persisted in PostgreSQL, here the same
		// server hookd uses, in databases of its own.
		if topts.Postgres, err = devtemporal.ParsePostgresURL(dbURL); err != nil {
			return fmt.Errorf("temporal store: %w", err)
		}
		topts.Postgres.Database, topts.Postgres.VisibilityDatabase = devTemporalDB, devTemporalVisibilityDB
		temporalStore = fmt.Sprintf("PostgreSQL databases %s, %s", devTemporalDB, devTemporalVisibilityDB)
	} else {
		topts.DBFile = temporalStore
	}
	ts, err := devtemporal.Start(ctx, topts)
	if err != nil {
		return fmt.Errorf("start temporal: %w", err)
	}
	defer stopLogged(log, "temporal", func(context.Context) error { return ts.Stop() })
	cfg.TemporalAddress = ts.FrontendHostPort()
	if cfg.TemporalUIURL == "" {
		cfg.TemporalUIURL = ts.UIURL()
	}

	st, err := openStore(ctx, log, dbURL, key)
	if err != nil {
		return err
	}
	defer st.Close()
	adminKey, err := bootstrapAdmin(ctx, st, dataDir, cfg.AdminKey)
	if err != nil {
		return err
	}
	if cfg.AddrFile == "" {
		cfg.AddrFile = filepath.Join(dataDir, addrFileName)
	}
	embedded := addrfile.Addresses{Temporal: ts.FrontendHostPort(), TemporalUI: ts.UIURL()}
	return runServices(ctx, cfg, log, st, roleAPI|roleWorker, embedded, func(a addrfile.Addresses) {
		fmt.Fprintf(stdout, "\nhookd dev is ready (started in %s)\n", time.Since(began).Round(time.Millisecond))
		fmt.Fprintf(stdout, "  API:          %s\n", a.API)
		if a.TemporalUI != "" {
			fmt.Fprintf(stdout, "  Temporal UI:  %s/namespaces/%s/workflows\n", a.TemporalUI, cfg.TemporalNamespace)
		}
		fmt.Fprintf(stdout, "  Temporal:     %s (namespace %s)\n", cfg.TemporalAddress, cfg.TemporalNamespace)
		fmt.Fprintf(stdout, "  Temporal DB:  %s\n", temporalStore)
		fmt.Fprintf(stdout, "  Data dir:     %s\n", dataDir)
		fmt.Fprintf(stdout, "  Admin key:    %s\n\n", adminKey)
	})
}

// devSecretKey is HOOKD_SECRET_KEY if given, else a key made once and kept in the data dir.
func devSecretKey(cfg config.Config, dataDir string) ([]byte, error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKeyBytes()
	}
	path := filepath.Join(dataDir, "secret.key")
	encoded, err := readOrCreate(path, func() (string, error) {
		return base64.StdEncoding.EncodeToString(secretbox.GenerateKey()), nil
	})
	if err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s is damaged: delete it only together with the data it encrypts", path)
	}
	return k, nil
}

// bootstrapAdmin makes sure the dev organization has an admin key and returns it: the
// given one, or one made once and kept in the data dir.
func bootstrapAdmin(ctx context.Context, st *store.Store, dataDir, given string) (string, error) {
	if _, err := st.EnsureOrganization(ctx, devOrgID, "default"); err != nil {
		return "", fmt.Errorf("ensure dev organization: %w", err)
	}
	plaintext := given
	if plaintext == "" {
		var err error
		plaintext, err = readOrCreate(filepath.Join(dataDir, "admin.key"), func() (string, error) {
			k, _, _ := auth.NewKey()
			return k, nil
		})
		if err != nil {
			return "", err
		}
	}
	if err := ensureKey(ctx, st, devOrgID, store.RoleAdmin, "bootstrap admin", plaintext); err != nil {
		return "", err
	}
	return plaintext, nil
}

// openDevDatabase starts hookd dev's private PostgreSQL in dataDir, or joins the one a
// running hookd dev started, for a one-off command; release lets go of it.
func openDevDatabase(ctx context.Context, dataDir string) (url string, release func(), err error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return "", nil, fmt.Errorf("no DATABASE_URL and no hookd dev database in %s: run `make run` once or set DATABASE_URL", dir)
	}
	pg, err := devenv.StartPostgres(ctx, dir, 0, newLogger(slog.LevelError))
	if err != nil {
		return "", nil, fmt.Errorf("start postgres: %w", err)
	}
	return pg.URL("hookd"), func() { _ = pg.Release(context.Background()) }, nil
}

// readOrCreate returns the trimmed content of path, creating it (mode 0600) with make's
// value the first time.
func readOrCreate(path string, make func() (string, error)) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v, err := make()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

func stopLogged(log *slog.Logger, what string, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		log.Error("stop "+what, "err", err)
	}
}

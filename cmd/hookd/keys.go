package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
)

// runKeys runs `hookd keys create`: it prints a new API key of the given role. Without
// DATABASE_URL it uses hookd dev's private PostgreSQL in HOOKD_DATA_DIR.
func runKeys(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: hookd keys create --role admin|publisher|viewer [--org ID] [--name NAME]")
	}
	fs := flag.NewFlagSet("hookd keys create", flag.ContinueOnError)
	role := fs.String("role", "", "admin, publisher or viewer")
	org := fs.String("org", devOrgID, "organization id (created if missing)")
	name := fs.String("name", "", "a label for the key")
	dbURL := fs.String("database-url", getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL)")
	dataDir := fs.String("data-dir", envOr(getenv, "HOOKD_DATA_DIR", ".hookd"), "hookd dev data dir, used without DATABASE_URL")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r := store.Role(*role)
	if r != store.RoleAdmin && r != store.RolePublisher && r != store.RoleViewer {
		return fmt.Errorf("--role %q: want admin, publisher or viewer", *role)
	}
	if *dbURL == "" {
		dir, err := filepath.Abs(filepath.Join(*dataDir, "postgres"))
		if err != nil {
			return err
		}
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("no DATABASE_URL and no hookd dev database in %s: run `make run` once or set DATABASE_URL", dir)
		}
		pg, err := devenv.StartPostgres(ctx, dir, 0, newLogger(slog.LevelError))
		if err != nil {
			return fmt.Errorf("start postgres: %w", err)
		}
		defer pg.Release(context.Background())
		*dbURL = pg.URL("hookd")
	}
	// Keys touch no webhook secret, so a throwaway encryption key will do.
	st, err := openStore(ctx, *dbURL, secretbox.GenerateKey())
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.EnsureOrganization(ctx, *org, *org); err != nil {
		return fmt.Errorf("ensure organization: %w", err)
	}
	plaintext, _, _ := auth.NewKey()
	label := *name
	if label == "" {
		label = string(r) + " key"
	}
	if err := ensureKey(ctx, st, *org, r, label, plaintext); err != nil {
		return err
	}
	fmt.Fprintln(stdout, plaintext)
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

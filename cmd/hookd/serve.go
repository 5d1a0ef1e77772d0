package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/searchattr"
	"github.com/hookd/hookd/internal/store"
)

// runProduction runs `hookd serve`, `hookd api` or `hookd worker` against an external
// PostgreSQL and Temporal.
func runProduction(ctx context.Context, cmd config.Command, args []string, stderr io.Writer, r roles) error {
	cfg, err := loadConfig(cmd, args, stderr, nil)
	if err != nil {
		return err
	}
	if err := cfg.RequireProduction(true); err != nil {
		return err
	}
	key, err := cfg.SecretKeyBytes()
	if err != nil {
		return err
	}
	sizeWorkflowCache(cfg)
	log := newLogger(cfg.LogLevel)
	st, err := openStore(ctx, log, cfg.DatabaseURL, key)
	if err != nil {
		return err
	}
	defer st.Close()
	return runServices(ctx, cfg, log, st, r, addrfile.Addresses{}, nil)
}

// runMigrate runs `hookd migrate`, the one-time setup steps of a new install (and of an
// upgrade), each idempotent, saying what it did: it applies the PostgreSQL migrations of
// DATABASE_URL, then registers hookd's search attributes in TEMPORAL_NAMESPACE
// (see ensureSearchAttributes). Run again, it changes nothing.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(config.Migrate, args, stderr, nil)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("DATABASE_URL is required")
	}
	applied, err := store.ApplyMigrations(ctx, cfg.DatabaseURL)
	if len(applied) > 0 {
		fmt.Fprintf(stdout, "PostgreSQL: applied migrations %s\n", strings.Join(applied, ", "))
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "PostgreSQL: schema up to date, no migration to apply")
	}

	c, err := client.DialContext(ctx, temporalOptions(cfg, newLogger(slog.LevelWarn)))
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	added, err := ensureSearchAttributes(ctx, cfg, searchattr.FromSDK(c))
	if err != nil {
		return err
	}
	if len(added) > 0 {
		fmt.Fprintf(stdout, "Temporal: registered search attributes %s in namespace %s\n", strings.Join(added, ", "), cfg.TemporalNamespace)
	} else {
		fmt.Fprintf(stdout, "Temporal: namespace %s has hookd's search attributes already\n", cfg.TemporalNamespace)
	}
	return nil
}

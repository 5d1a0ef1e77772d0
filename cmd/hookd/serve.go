package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/config"
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
	st, err := openStore(ctx, cfg.DatabaseURL, key)
	if err != nil {
		return err
	}
	defer st.Close()
	return runServices(ctx, cfg, log, st, r, addrfile.Addresses{}, nil)
}

// runMigrate applies the database migrations and exits.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(config.Migrate, args, stderr, nil)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("DATABASE_URL is required")
	}
	if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

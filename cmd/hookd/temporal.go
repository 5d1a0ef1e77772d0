//go:build !nodev

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/devtemporal"
)

// runTemporal runs `hookd temporal`: the embedded Temporal server alone, as the production
// shape's Temporal cluster on one machine (internal/prodshape). With DATABASE_URL it is
// persisted in that PostgreSQL server, in databases temporal and temporal_visibility
// (created, and their schemas set up or updated, by the server module's own schema tool,
// as hookd dev does with HOOKD_TEMPORAL_STORE=postgres); the URL's database is not used.
// Without it, in a SQLite file in the data dir.
//
// Like a fresh cluster it has the namespace and no custom search attributes: hookd's are
// registered by hookd itself (`hookd migrate`). Once the frontend answers it writes its
// addresses to the address file (HOOKD_ADDR_FILE, if set: temporal, temporalUI, pid) and
// logs "temporal listening"; it stops cleanly when ctx ends (SIGINT, SIGTERM).
func runTemporal(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := loadConfig(config.Temporal, args, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	opts, err := embeddedTemporalOptions(cfg, log)
	if err != nil {
		return err
	}
	store := ""
	if cfg.DatabaseURL != "" {
		if opts.Postgres, err = devtemporal.ParsePostgresURL(cfg.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err)
		}
		store = fmt.Sprintf("PostgreSQL databases %s, %s of DATABASE_URL's server",
			devtemporal.DefaultPostgresDatabase, devtemporal.DefaultPostgresVisibilityDatabase)
	} else {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		opts.DBFile = filepath.Join(dir, "temporal.db")
		store = opts.DBFile
	}
	ts, err := devtemporal.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("start temporal: %w", err)
	}
	defer stopLogged(log, "temporal", func(context.Context) error { return ts.Stop() })
	addrs := addrfile.Addresses{Temporal: ts.FrontendHostPort(), TemporalUI: ts.UIURL(), PID: os.Getpid()}
	if f := cfg.AddrFile; f != "" {
		if err := addrfile.Write(f, addrs); err != nil {
			return err
		}
		defer func() {
			if err := addrfile.Remove(f, addrs.PID); err != nil {
				log.Warn("address file", "err", err)
			}
		}()
	}
	log.Info("temporal listening", "addr", addrs.Temporal, "ui", addrs.TemporalUI,
		"namespace", ts.Namespace(), "store", store, "addr_file", cfg.AddrFile)
	<-ctx.Done()
	log.Info("stopping temporal")
	return nil
}

// embeddedTemporalOptions are the embedded Temporal server's settings from cfg (HOOKD_TEMPORAL_PORT,
// HOOKD_UI_PORT, the namespace), shared by hookd dev and hookd temporal. devtemporal takes
// UI port 0 as its default (8233), so HOOKD_UI_PORT=0 (any free one) is resolved here: the
// UI server cannot bind port 0 itself, and the address file says which port it got.
func embeddedTemporalOptions(cfg config.Config, log *slog.Logger) (devtemporal.Options, error) {
	uiPort := cfg.UIPort
	if uiPort == 0 {
		var err error
		if uiPort, err = devenv.FreePort(devtemporal.DefaultIP); err != nil {
			return devtemporal.Options{}, err
		}
	}
	return devtemporal.Options{
		FrontendPort: cfg.TemporalPort,
		UIPort:       uiPort,
		Namespace:    cfg.TemporalNamespace,
		Logger:       log,
	}, nil
}

// Package config reads hookd's settings from the environment, lets flags override them,
// and validates them at start with messages that say what to fix.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
)

// Config is every setting of every subcommand; each uses the fields it needs.
type Config struct {
	DatabaseURL       string // DATABASE_URL; in dev mode empty means a private cluster
	TemporalAddress   string // TEMPORAL_ADDRESS
	TemporalNamespace string // TEMPORAL_NAMESPACE
	TemporalAPIKey    string // TEMPORAL_API_KEY: API-key auth over TLS (Temporal Cloud)
	TemporalTLS       bool   // TEMPORAL_TLS: TLS to the frontend with the system roots
	APIAddr           string // HOOKD_API_ADDR
	SecretKey         string // HOOKD_SECRET_KEY: base64 of 32 bytes that encrypt webhook secrets
	AllowHTTP         bool   // HOOKD_ALLOW_HTTP: accept http:// webhook URLs
	AllowPrivate      bool   // HOOKD_ALLOW_PRIVATE_TARGETS: deliver to loopback and private networks
	LogLevel          slog.Level
	Reconcile         string // HOOKD_RECONCILE_INTERVAL, a Go duration
	EagerStart        bool   // HOOKD_EAGER_START: eager workflow start when API and worker share a process
	PprofAddr         string // HOOKD_PPROF_ADDR: serve net/http/pprof here (off when empty)
	WorkflowCacheSize int    // HOOKD_WORKFLOW_CACHE_SIZE: workflows the worker keeps in memory between tasks

	// hookd dev only.
	DataDir      string // HOOKD_DATA_DIR
	AdminKey     string // HOOKD_ADMIN_KEY
	TemporalPort int    // HOOKD_TEMPORAL_PORT
	UIPort       int    // HOOKD_UI_PORT; -1 turns the Web UI off
	// TemporalStore is where the embedded Temporal server keeps its state
	// (HOOKD_TEMPORAL_STORE): TemporalStoreSQLite or TemporalStorePostgres.
	TemporalStore string
}

// The values of Config.TemporalStore.
const (
	TemporalStoreSQLite   = "sqlite"   // a SQLite file in the data dir
	TemporalStorePostgres = "postgres" // databases in hookd's PostgreSQL, as in production
)

// Mode says which defaults apply: dev allows http and loopback targets and keeps all
// state in a data directory; production allows neither unless told to.
type Mode int

const (
	Production Mode = iota
	Dev
)

// Load builds the flag set of a subcommand named name, with defaults taken from the
// environment through getenv, parses args and validates the result.
func Load(name string, mode Mode, args []string, getenv func(string) string) (Config, []string, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var c Config
	var logLevel string
	fs := flag.NewFlagSet("hookd "+name, flag.ContinueOnError)
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL URL (DATABASE_URL)")
	fs.StringVar(&c.TemporalAddress, "temporal-address", env("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port (TEMPORAL_ADDRESS)")
	fs.StringVar(&c.TemporalNamespace, "temporal-namespace", env("TEMPORAL_NAMESPACE", "default"), "Temporal namespace (TEMPORAL_NAMESPACE)")
	fs.StringVar(&c.TemporalAPIKey, "temporal-api-key", env("TEMPORAL_API_KEY", ""), "Temporal Cloud API key, implies TLS (TEMPORAL_API_KEY)")
	fs.BoolVar(&c.TemporalTLS, "temporal-tls", parseBool(env("TEMPORAL_TLS", "")), "TLS to the Temporal frontend (TEMPORAL_TLS)")
	defaultAddr := ":8080"
	if mode == Dev {
		defaultAddr = "127.0.0.1:8080"
	}
	fs.StringVar(&c.APIAddr, "addr", env("HOOKD_API_ADDR", defaultAddr), "API listen address (HOOKD_API_ADDR)")
	fs.StringVar(&c.SecretKey, "secret-key", env("HOOKD_SECRET_KEY", ""), "base64 32-byte key encrypting webhook secrets (HOOKD_SECRET_KEY)")
	fs.BoolVar(&c.AllowHTTP, "allow-http", parseBool(env("HOOKD_ALLOW_HTTP", strconv.FormatBool(mode == Dev))), "accept http:// webhook URLs (HOOKD_ALLOW_HTTP)")
	fs.BoolVar(&c.AllowPrivate, "allow-private-targets", parseBool(env("HOOKD_ALLOW_PRIVATE_TARGETS", strconv.FormatBool(mode == Dev))), "deliver to loopback and private addresses (HOOKD_ALLOW_PRIVATE_TARGETS)")
	fs.StringVar(&logLevel, "log-level", env("HOOKD_LOG_LEVEL", "info"), "debug, info, warn or error (HOOKD_LOG_LEVEL)")
	fs.BoolVar(&c.EagerStart, "eager-start", parseBool(env("HOOKD_EAGER_START", "true")), "eager workflow start when API and worker share a process (HOOKD_EAGER_START)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", env("HOOKD_PPROF_ADDR", ""), "serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060 (HOOKD_PPROF_ADDR)")
	fs.IntVar(&c.WorkflowCacheSize, "workflow-cache-size", envInt(getenv, "HOOKD_WORKFLOW_CACHE_SIZE", 500), "workflows a worker keeps in memory between tasks (HOOKD_WORKFLOW_CACHE_SIZE)")
	fs.StringVar(&c.Reconcile, "reconcile-interval", env("HOOKD_RECONCILE_INTERVAL", "30s"), "how often the worker looks for unstarted deliveries")
	if mode == Dev {
		fs.StringVar(&c.DataDir, "data-dir", env("HOOKD_DATA_DIR", ".hookd"), "where all dev state lives (HOOKD_DATA_DIR)")
		fs.StringVar(&c.AdminKey, "admin-key", env("HOOKD_ADMIN_KEY", ""), "bootstrap admin API key (HOOKD_ADMIN_KEY)")
		fs.IntVar(&c.TemporalPort, "temporal-port", envInt(getenv, "HOOKD_TEMPORAL_PORT", 7233), "embedded Temporal frontend port (HOOKD_TEMPORAL_PORT)")
		fs.IntVar(&c.UIPort, "ui-port", envInt(getenv, "HOOKD_UI_PORT", 8233), "Temporal Web UI port, -1 for none (HOOKD_UI_PORT)")
		fs.StringVar(&c.TemporalStore, "temporal-store", env("HOOKD_TEMPORAL_STORE", TemporalStoreSQLite), "embedded Temporal persistence: sqlite or postgres (HOOKD_TEMPORAL_STORE)")
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return c, nil, fmt.Errorf("HOOKD_LOG_LEVEL %q: want debug, info, warn or error", logLevel)
	}
	return c, fs.Args(), c.validate(mode)
}

func (c Config) validate(mode Mode) error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.APIAddr); err != nil {
		errs = append(errs, fmt.Errorf("HOOKD_API_ADDR %q: want host:port", c.APIAddr))
	}
	if c.WorkflowCacheSize < 4 {
		errs = append(errs, fmt.Errorf("HOOKD_WORKFLOW_CACHE_SIZE %d: want at least 4", c.WorkflowCacheSize))
	}
	if c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			errs = append(errs, fmt.Errorf("HOOKD_PPROF_ADDR %q: want host:port", c.PprofAddr))
		}
	}
	if c.SecretKey != "" {
		if _, err := c.SecretKeyBytes(); err != nil {
			errs = append(errs, err)
		}
	}
	if mode == Dev {
		if c.DataDir == "" {
			errs = append(errs, errors.New("HOOKD_DATA_DIR must not be empty"))
		}
		if c.UIPort < -1 || c.UIPort > 65535 || c.TemporalPort < 0 || c.TemporalPort > 65535 {
			errs = append(errs, errors.New("HOOKD_TEMPORAL_PORT and HOOKD_UI_PORT must be ports (0 = any free one; -1 turns the UI off)"))
		}
		if c.TemporalStore != TemporalStoreSQLite && c.TemporalStore != TemporalStorePostgres {
			errs = append(errs, fmt.Errorf("HOOKD_TEMPORAL_STORE %q: want %s or %s", c.TemporalStore, TemporalStoreSQLite, TemporalStorePostgres))
		}
	}
	return errors.Join(errs...)
}

// RequireProduction checks what the production subcommands need beyond validate.
func (c Config) RequireProduction(needTemporal bool) error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required (postgres://user:pass@host:5432/hookd)"))
	}
	if c.SecretKey == "" {
		errs = append(errs, errors.New("HOOKD_SECRET_KEY is required: base64 of 32 random bytes, e.g. `openssl rand -base64 32`; keep it safe, it decrypts webhook secrets"))
	}
	if needTemporal && c.TemporalAddress == "" {
		errs = append(errs, errors.New("TEMPORAL_ADDRESS is required (host:port)"))
	}
	return errors.Join(errs...)
}

// SecretKeyBytes decodes HOOKD_SECRET_KEY.
func (c Config) SecretKeyBytes() ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.SecretKey))
	if err != nil || len(k) != 32 {
		return nil, errors.New("HOOKD_SECRET_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32)")
	}
	return k, nil
}

func parseBool(s string) bool {
	b, _ := strconv.ParseBool(s)
	return b
}

func envInt(getenv func(string) string, key string, def int) int {
	if v, err := strconv.Atoi(getenv(key)); err == nil {
		return v
	}
	return def
}

// Package config reads hookd's settings: each is a flag of the subcommands it applies to
// and, when the flag is not given, an environment variable, parsed by
// github.com/peterbourgon/ff/v3. A value that does not parse or check stops the process
// with a message naming the variable (or flag) to fix.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of every subcommand. Each field's tags say its flag, its
// environment variable, its default (dev: the default of hookd dev when it differs), the
// subcommands it applies to (cmd) and the line `hookd <cmd> -h` shows for it (desc). A
// field that does not apply to a subcommand keeps its default there.
type Config struct {
	DatabaseURL       string `flag:"database-url" env:"DATABASE_URL" cmd:"dev,serve,api,worker,migrate,keys create,temporal" desc:"PostgreSQL URL; in hookd dev and keys create, empty means hookd dev's private cluster in the data dir; in hookd temporal, a SQLite file there"`
	TemporalAddress   string `flag:"temporal-address" env:"TEMPORAL_ADDRESS" default:"127.0.0.1:7233" cmd:"serve,api,worker,migrate" desc:"Temporal frontend host:port"`
	TemporalNamespace string `flag:"temporal-namespace" env:"TEMPORAL_NAMESPACE" default:"default" cmd:"dev,serve,api,worker,migrate,temporal" desc:"Temporal namespace"`
	TemporalAPIKey    string `flag:"temporal-api-key" env:"TEMPORAL_API_KEY" cmd:"serve,api,worker,migrate" desc:"Temporal Cloud API key; implies TLS"`
	TemporalTLS       bool   `flag:"temporal-tls" env:"TEMPORAL_TLS" default:"false" cmd:"serve,api,worker,migrate" desc:"TLS to the Temporal frontend, with the system's roots"`

	APIAddr       string `flag:"addr" env:"HOOKD_API_ADDR" default:":8080" dev:"127.0.0.1:8080" cmd:"dev,serve,api" desc:"API listen address, host:port (it also serves /metrics)"`
	MetricsAddr   string `flag:"metrics-addr" env:"HOOKD_METRICS_ADDR" default:"127.0.0.1:9090" cmd:"worker" desc:"where the worker serves Prometheus /metrics, host:port"`
	SecretKey     string `flag:"secret-key" env:"HOOKD_SECRET_KEY" cmd:"dev,serve,api,worker" desc:"base64 of 32 bytes that encrypt webhook secrets (hookd dev makes one in the data dir when empty)"`
	AllowHTTP     bool   `flag:"allow-http" env:"HOOKD_ALLOW_HTTP" default:"false" dev:"true" cmd:"dev,serve,api,worker" desc:"accept http:// webhook URLs"`
	AllowPrivate  bool   `flag:"allow-private-targets" env:"HOOKD_ALLOW_PRIVATE_TARGETS" default:"false" dev:"true" cmd:"dev,serve,api,worker" desc:"deliver to loopback and private addresses"`
	PublicURL     string `flag:"public-url" env:"HOOKD_PUBLIC_URL" cmd:"dev,serve,api" desc:"the API's base URL as browsers reach it, e.g. https://hooks.example.com, for console links in portal tickets; empty: each request's own Host"`
	TemporalUIURL string `flag:"temporal-ui-url" env:"HOOKD_TEMPORAL_UI_URL" cmd:"dev,serve,api" desc:"the Temporal Web UI's base URL, e.g. https://temporal.example.com, for the console's links to a delivery's workflow; hookd dev: its embedded UI; empty: no links"`
	PprofAddr     string `flag:"pprof-addr" env:"HOOKD_PPROF_ADDR" cmd:"dev,serve,api,worker" desc:"serve Go profiles (net/http/pprof) on this host:port, e.g. 127.0.0.1:6060; empty: off"`
	// AddrFile is where a process that is ready to serve writes the addresses its
	// listeners bound (a port 0 above picks any free one), as JSON, removed again on a
	// clean stop: see internal/addrfile for its shape.
	AddrFile string `flag:"addr-file" env:"HOOKD_ADDR_FILE" cmd:"dev,serve,api,worker,temporal" desc:"once ready to serve, write the bound addresses here as a JSON object (api, metrics, pprof, temporal, temporalUI URLs or host:port, pid), removed on a clean stop; hookd dev: default <data-dir>/addresses.json; elsewhere empty: none"`

	LogLevel          slog.Level    `flag:"log-level" env:"HOOKD_LOG_LEVEL" default:"info" cmd:"dev,serve,api,worker,temporal" desc:"debug, info, warn or error"`
	ReconcileInterval time.Duration `flag:"reconcile-interval" env:"HOOKD_RECONCILE_INTERVAL" default:"30s" cmd:"dev,serve,worker" desc:"how often the worker starts workflows for deliveries left without one"`
	EagerStart        bool          `flag:"eager-start" env:"HOOKD_EAGER_START" default:"true" cmd:"dev,serve" desc:"eager workflow start when API and worker share a process"`
	WorkflowCacheSize int           `flag:"workflow-cache-size" env:"HOOKD_WORKFLOW_CACHE_SIZE" default:"500" cmd:"dev,serve,worker" desc:"workflows the worker keeps in memory between tasks (at least 4)"`
	// WorkerStopTimeout covers the longest webhook timeout (60 s) and the recording of
	// the attempt, so that a clean stop drops no request in flight.
	WorkerStopTimeout time.Duration `flag:"worker-stop-timeout" env:"HOOKD_WORKER_STOP_TIMEOUT" default:"65s" cmd:"dev,serve,worker" desc:"on SIGTERM/SIGINT, how long the worker lets attempts in flight finish before it stops (0: at once)"`

	// Admission control of the API, per process (see api.Config.RateLimit and
	// dispatch.Options.MaxInFlight). The ingest defaults come from `hookd bench` at
	// 150 events/s offered on 2 cores, just past what the engine starts
	// (bench/results/2026-11-30-hardening.md): 32 in flight and a 100 ms wait delivered
	// 147-150/s with API p99 0.31-0.36 s and 0.1-1.4% refused; a 250 ms wait let a queue
	// build (130/s, p99 0.65 s, 11% refused); no bound, 88/s and p99 3.5 s.
	APIRateLimit      int           `flag:"api-rate-limit" env:"HOOKD_API_RATE_LIMIT" default:"1000" cmd:"dev,serve,api" desc:"requests per second each API key may make to this process (burst the same); past it 429; 0: no limit"`
	IngestMaxInFlight int           `flag:"ingest-max-in-flight" env:"HOOKD_INGEST_MAX_IN_FLIGHT" default:"32" cmd:"dev,serve,api" desc:"publishes (events, pings) storing and starting workflows at once in this process; one more waits HOOKD_INGEST_QUEUE_WAIT, then gets 429; 0: no bound"`
	IngestQueueWait   time.Duration `flag:"ingest-queue-wait" env:"HOOKD_INGEST_QUEUE_WAIT" default:"100ms" cmd:"dev,serve,api" desc:"how long a publish waits for one of HOOKD_INGEST_MAX_IN_FLIGHT slots before 429 (0: not at all)"`

	// Retention (issue 9): events, deliveries and attempts older than this are deleted
	// by a Temporal Schedule the worker registers.
	Retention time.Duration `flag:"retention" env:"HOOKD_RETENTION" default:"720h" cmd:"dev,serve,worker" desc:"delete events, deliveries and attempts older than this (0: keep everything)"`

	DataDir      string `flag:"data-dir" env:"HOOKD_DATA_DIR" default:".hookd" cmd:"dev,keys create,temporal" desc:"where hookd dev keeps its state (PostgreSQL, Temporal, keys)"`
	AdminKey     string `flag:"admin-key" env:"HOOKD_ADMIN_KEY" cmd:"dev" desc:"bootstrap admin API key (default: one made once and kept in the data dir)"`
	TemporalPort int    `flag:"temporal-port" env:"HOOKD_TEMPORAL_PORT" default:"7233" cmd:"dev,temporal" desc:"embedded Temporal frontend port (0: any free one)"`
	UIPort       int    `flag:"ui-port" env:"HOOKD_UI_PORT" default:"8233" cmd:"dev,temporal" desc:"embedded Temporal Web UI port (0: any free one, -1: no UI)"`
	// TemporalStore is TemporalStoreSQLite or TemporalStorePostgres.
	TemporalStore string `flag:"temporal-store" env:"HOOKD_TEMPORAL_STORE" default:"sqlite" cmd:"dev" desc:"where embedded Temporal keeps its state: sqlite (a file in the data dir) or postgres (databases on hookd's PostgreSQL)"`
}

// The values of Config.TemporalStore.
const (
	TemporalStoreSQLite   = "sqlite"   // a SQLite file in the data dir
	TemporalStorePostgres = "postgres" // databases in hookd's PostgreSQL, as in production
)

// Command is a subcommand whose settings Load reads. Dev has defaults of its own: it
// allows http and loopback targets and listens on loopback only.
type Command string

// The subcommands that read settings (hookd bench has flags of its own).
const (
	Dev        Command = "dev"
	Serve      Command = "serve"
	API        Command = "api"
	Worker     Command = "worker"
	Migrate    Command = "migrate"
	KeysCreate Command = "keys create"
	// Temporal is `hookd temporal`, the embedded Temporal server alone (dev builds).
	Temporal Command = "temporal"
)

// isPort reports whether s is a port number a listener takes: 0 (any free one) to 65535.
func isPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n <= 65535
}

func (c Config) validate() error {
	var errs []error
	for _, a := range []struct {
		name, addr string
		optional   bool // empty turns it off
	}{
		{"HOOKD_API_ADDR", c.APIAddr, false},
		{"HOOKD_METRICS_ADDR", c.MetricsAddr, false},
		{"HOOKD_PPROF_ADDR", c.PprofAddr, true},
	} {
		if a.optional && a.addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil || !isPort(port) {
			errs = append(errs, fmt.Errorf("%s %q: want host:port with a port from 0 to 65535", a.name, a.addr))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("HOOKD_PUBLIC_URL %q: want an absolute http(s) URL such as https://hooks.example.com, without query or fragment", c.PublicURL))
		}
	}
	if c.TemporalUIURL != "" {
		if u, err := url.Parse(c.TemporalUIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("HOOKD_TEMPORAL_UI_URL %q: want an absolute http(s) URL such as https://temporal.example.com", c.TemporalUIURL))
		}
	}
	if c.ReconcileInterval <= 0 {
		errs = append(errs, fmt.Errorf("HOOKD_RECONCILE_INTERVAL %s: want a positive duration like 30s", c.ReconcileInterval))
	}
	if c.WorkerStopTimeout < 0 {
		errs = append(errs, fmt.Errorf("HOOKD_WORKER_STOP_TIMEOUT %s: want a duration of 0 or more, like 65s", c.WorkerStopTimeout))
	}
	if c.Retention < 0 {
		errs = append(errs, fmt.Errorf("HOOKD_RETENTION %s: want 0 (keep everything) or a positive duration like 720h", c.Retention))
	}
	if c.WorkflowCacheSize < 4 {
		errs = append(errs, fmt.Errorf("HOOKD_WORKFLOW_CACHE_SIZE %d: want at least 4", c.WorkflowCacheSize))
	}
	for _, n := range []struct {
		name     string
		value    any
		negative bool
	}{
		{"HOOKD_API_RATE_LIMIT", c.APIRateLimit, c.APIRateLimit < 0},
		{"HOOKD_INGEST_MAX_IN_FLIGHT", c.IngestMaxInFlight, c.IngestMaxInFlight < 0},
		{"HOOKD_INGEST_QUEUE_WAIT", c.IngestQueueWait, c.IngestQueueWait < 0},
	} {
		if n.negative {
			errs = append(errs, fmt.Errorf("%s %v: want 0 (off) or more", n.name, n.value))
		}
	}
	if c.SecretKey != "" {
		if _, err := c.SecretKeyBytes(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("HOOKD_DATA_DIR must not be empty"))
	}
	if c.TemporalPort < 0 || c.TemporalPort > 65535 {
		errs = append(errs, fmt.Errorf("HOOKD_TEMPORAL_PORT %d: want a port (0: any free one)", c.TemporalPort))
	}
	if c.UIPort < -1 || c.UIPort > 65535 {
		errs = append(errs, fmt.Errorf("HOOKD_UI_PORT %d: want a port (0: any free one, -1: no UI)", c.UIPort))
	}
	if c.TemporalStore != TemporalStoreSQLite && c.TemporalStore != TemporalStorePostgres {
		errs = append(errs, fmt.Errorf("HOOKD_TEMPORAL_STORE %q: want %s or %s", c.TemporalStore, TemporalStoreSQLite, TemporalStorePostgres))
	}
	return errors.Join(errs...)
}

// RequireProduction checks what the production subcommands need beyond the values'
// own checks.
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

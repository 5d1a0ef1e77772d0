package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/temporal"
)

// Defaults applied by Start to the zero values of Options.
const (
	DefaultIP               = "127.0.0.1"
	DefaultFrontendPort     = 7233 // what `temporal server start-dev` uses; pass it explicitly
	DefaultUIPort           = 8233
	DefaultNamespace        = "default"
	DefaultRetention        = 7 * 24 * time.Hour
	DefaultNumHistoryShards = 1
)

// Disabled, as HTTPPort or UIPort, turns that listener off.
const Disabled = -1

// Options configure an embedded server. The zero value is a usable in-memory
// server on free loopback ports with the UI on DefaultUIPort.
type Options struct {
	// DBFile is the SQLite database file, created with its schema on first
	// use and opened in WAL mode; its directory is created if missing. Empty
	// (and no Postgres) means a private in-memory database that disappears
	// with the server.
	DBFile string
	// Postgres, when set, persists the server in PostgreSQL instead of
	// SQLite (DBFile must then be empty): the production shape. See
	// PostgresStore.
	Postgres *PostgresStore
	// IP every listener binds to; default DefaultIP. "localhost" is taken as
	// 127.0.0.1 because the server needs an address, not a name.
	IP string
	// FrontendPort is the gRPC port clients and workers dial; 0 picks a free
	// one (see FrontendHostPort).
	FrontendPort int
	// HTTPPort is the frontend's HTTP API port; 0 picks a free one, Disabled
	// turns the HTTP API off.
	HTTPPort int
	// UIPort is the Web UI's port; 0 means DefaultUIPort, Disabled runs no UI.
	UIPort int
	// Namespace is created before the server starts; default
	// DefaultNamespace.
	Namespace string
	// Retention is how long closed workflows are kept in a namespace this
	// call creates (an existing namespace keeps its own); default
	// DefaultRetention, which outlives any dev session and keeps a
	// long-running `hookd dev` database from growing without end.
	Retention time.Duration
	// SearchAttributes are custom search attributes registered in Namespace
	// at every start, idempotently: existing ones are kept, missing ones are
	// added, one registered with another type fails Start. SQLite visibility
	// has a fixed number of slots per type (10 Keyword, 3 Int, ...).
	SearchAttributes map[string]enumspb.IndexedValueType
	// NumHistoryShards is fixed when a database is first created (a later
	// value is ignored, with a warning from the server); default
	// DefaultNumHistoryShards. One shard is what `temporal server start-dev`
	// uses: SQLite serializes every write anyway, so more shards add
	// background work without adding throughput. With Postgres the default
	// is DefaultPostgresNumHistoryShards.
	NumHistoryShards int32
	// Logger receives the server's logs, tagged component=temporal; default
	// slog.Default().
	Logger *slog.Logger
	// LogLevel is the least severe server log record passed on; default
	// slog.LevelWarn, because the server is chatty at info.
	LogLevel slog.Leveler
	// DynamicConfig overrides or adds dynamic config values by key (for
	// example "matching.numTaskqueueReadPartitions": 4), on top of the
	// defaults listed at DevDynamicConfig.
	DynamicConfig map[string]any
}

// Server is a running embedded Temporal server. Stop it exactly once; more
// calls are harmless.
type Server struct {
	namespace string
	frontend  string
	http      string
	uiURL     string

	server temporal.Server
	ui     *uiServer
	lock   dbLock // nil, or the lock on the database
	logger serverLogger
	// quietStop: Stop silences the server's logs (LogLevel Warn or above).
	quietStop bool

	stopOnce sync.Once
	stopErr  error
}

// FrontendHostPort is the gRPC address for SDK clients and workers.
func (s *Server) FrontendHostPort() string { return s.frontend }

// HTTPHostPort is the frontend HTTP API address, or "" when it is disabled.
func (s *Server) HTTPHostPort() string { return s.http }

// UIURL is the Web UI's base URL, or "" when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace created at start.
func (s *Server) Namespace() string { return s.namespace }

// dbLock keeps a second server off a database while one runs.
type dbLock interface{ release() }

// Start starts the server and, unless disabled, the UI, and returns once both
// answer and the search attributes are registered: about half a second on a
// 2-core machine, in memory or on a file; with PostgreSQL as much again when
// the databases exist, a few seconds more when it creates them and their
// schemas. ctx bounds only the start; cancelling it later does not stop the
// server. On error nothing is left running.
//
// An in-memory database is gone for good after Stop, yet its memory stays
// in use until the process exits: the Temporal SQLite plugin never closes a
// database it opened. (A file database is simply reused by the next Start
// on the same file.)
func Start(ctx context.Context, o Options) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	p, err := allocatePorts(o)
	if err != nil {
		return nil, err
	}
	s := &Server{
		namespace: o.Namespace,
		frontend:  hostPort(o.IP, p.frontend),
	}
	if p.http > 0 {
		s.http = hostPort(o.IP, p.http)
	}

	ok := false
	defer func() {
		if !ok {
			_ = s.Stop() // whatever got started: UI, server, lock
		}
	}()

	s.logger = newServerLogger(o.Logger, o.LogLevel)
	s.quietStop = o.LogLevel.Level() >= slog.LevelWarn
	var stores persistence
	switch {
	case o.Postgres != nil:
		lock, st, err := preparePostgres(ctx, o, s.logger)
		if err != nil {
			return nil, err
		}
		s.lock, stores = lock, st
	default:
		if o.DBFile != "" {
			if err := os.MkdirAll(filepath.Dir(o.DBFile), 0o755); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
			lock, err := lockDatabase(o.DBFile)
			if err != nil {
				return nil, err
			}
			s.lock = lock
		}
		if stores, err = prepareDatabase(o); err != nil {
			return nil, err
		}
	}
	dc, endStartup := dynamicConfigClient(o)
	if s.server, err = newTemporalServer(o, p, stores, dc, s.logger); err != nil {
		return nil, err
	}

	if o.UIPort != Disabled {
		if s.ui, err = startUI(ctx, o, p, s.frontend); err != nil {
			return nil, err
		}
		s.uiURL = "http://" + hostPort(o.IP, p.ui)
	}

	if err := startServer(ctx, s); err != nil {
		return nil, err
	}
	added, err := registerSearchAttributes(ctx, s.frontend, o.Namespace, o.SearchAttributes)
	if err != nil {
		return nil, err
	}
	if added {
		// Every service's cache has read the new attributes once this has passed.
		time.AfterFunc(searchAttributeCacheTTL, endStartup)
	} else {
		endStartup()
	}
	ok = true
	return s, nil
}

// startServer runs the blocking temporal.Server.Start under ctx. When ctx ends
// first, the server is stopped in the background as soon as its start returns.
// Either way a server that is not running is taken out of s, so that Stop
// leaves it alone.
func startServer(ctx context.Context, s *Server) error {
	errc := make(chan error, 1)
	go func() { errc <- s.server.Start() }()
	select {
	case err := <-errc:
		if err != nil {
			s.server = nil // fx has rolled back whatever had started
			return fmt.Errorf("start temporal server: %w", err)
		}
		return nil
	case <-ctx.Done():
		srv, lock := s.server, s.lock
		s.server, s.lock = nil, nil // the goroutine below owns them now
		go func() {
			if <-errc == nil {
				_ = srv.Stop()
			}
			if lock != nil {
				lock.release()
			}
		}()
		return fmt.Errorf("start temporal server: %w", ctx.Err())
	}
}

// Stop stops the UI and then the server, waiting for both, and releases the
// database. Unless LogLevel is below Warn, the server logs nothing from
// here on: shutting down, it warns about every poll and call it cuts short.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.ui.stop()
		if s.quietStop {
			s.logger.silence()
		}
		if s.server != nil {
			if err := s.server.Stop(); err != nil {
				s.stopErr = fmt.Errorf("stop temporal server: %w", err)
			}
		}
		if s.lock != nil {
			s.lock.release()
		}
	})
	return s.stopErr
}

func (o Options) withDefaults() (Options, error) {
	if o.IP == "" || o.IP == "localhost" {
		o.IP = DefaultIP
	}
	if net.ParseIP(o.IP) == nil {
		return o, fmt.Errorf("devtemporal options: IP %q is not an IP address", o.IP)
	}
	if o.UIPort == 0 {
		o.UIPort = DefaultUIPort
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.NumHistoryShards == 0 {
		o.NumHistoryShards = DefaultNumHistoryShards
		if o.Postgres != nil {
			o.NumHistoryShards = DefaultPostgresNumHistoryShards
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LogLevel == nil {
		o.LogLevel = slog.LevelWarn
	}
	var errs []error
	if o.FrontendPort < 0 || o.FrontendPort > 65535 {
		errs = append(errs, fmt.Errorf("FrontendPort %d is not a port", o.FrontendPort))
	}
	if !portOrDisabled(o.HTTPPort) {
		errs = append(errs, fmt.Errorf("HTTPPort %d is neither a port nor Disabled", o.HTTPPort))
	}
	if !portOrDisabled(o.UIPort) {
		errs = append(errs, fmt.Errorf("UIPort %d is neither a port nor Disabled", o.UIPort))
	}
	if o.Retention < 0 {
		errs = append(errs, fmt.Errorf("retention %v is negative", o.Retention))
	}
	if o.NumHistoryShards < 0 {
		errs = append(errs, fmt.Errorf("NumHistoryShards %d is negative", o.NumHistoryShards))
	}
	if o.DBFile != "" {
		// The file name goes into a SQLite URI, where these start the query,
		// the fragment or an escape.
		if strings.ContainsAny(o.DBFile, "?#%") {
			errs = append(errs, fmt.Errorf("DBFile %q contains one of ?#%%", o.DBFile))
		} else if abs, err := filepath.Abs(o.DBFile); err != nil {
			errs = append(errs, fmt.Errorf("DBFile: %w", err))
		} else {
			o.DBFile = abs
		}
	}
	if o.Postgres != nil {
		if o.DBFile != "" {
			errs = append(errs, fmt.Errorf("DBFile %q and Postgres are both set: pick one store", o.DBFile))
		}
		pg, err := o.Postgres.withDefaults()
		if err != nil {
			errs = append(errs, err)
		}
		o.Postgres = pg
	}
	for name, t := range o.SearchAttributes {
		if name == "" || t == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			errs = append(errs, fmt.Errorf("search attribute %q needs a name and a type", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("devtemporal options: %w", err)
	}
	return o, nil
}

func portOrDisabled(p int) bool { return p == Disabled || (p >= 0 && p <= 65535) }

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

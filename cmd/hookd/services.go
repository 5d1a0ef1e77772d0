package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/engine"
	"github.com/hookd/hookd/internal/metrics"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/searchattr"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/tracing"
	"github.com/hookd/hookd/worker"
	"github.com/hookd/hookd/workflows"
)

// roles says which parts a process runs.
type roles int

const (
	roleAPI roles = 1 << iota
	roleWorker
)

// sizeWorkflowCache bounds the SDK's process-wide cache of workflows kept in memory
// between their tasks. A Delivery spends nearly all its life waiting out a backoff, when
// caching it buys little: evicted, it replays its short history when its timer fires. The
// cache is made by the first worker in the process — in hookd dev that is one of the
// embedded Temporal server's own — so this must run before anything starts.
func sizeWorkflowCache(cfg config.Config) {
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
}

// workerOptions keeps a worker's workflow tasks in flight (and the local first attempts
// they run) below the workflow cache size: a task whose workflow finds the cache full of
// in-flight ones fails and is retried, and its retry would send the attempt again.
func workerOptions(cfg config.Config) sdkworker.Options {
	slots := max(cfg.WorkflowCacheSize/2, 2)
	return sdkworker.Options{
		MaxConcurrentWorkflowTaskExecutionSize:  slots,
		MaxConcurrentLocalActivityExecutionSize: slots,
		WorkerStopTimeout:                       cfg.WorkerStopTimeout,
	}
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(tracing.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}

// openStore migrates the database (under tern's advisory lock, so replicas may race
// safely) and opens a pool.
func openStore(ctx context.Context, log *slog.Logger, databaseURL string, key []byte) (*store.Store, error) {
	box, err := secretbox.New(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	applied, err := store.ApplyMigrations(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", applied)
	}
	st, err := store.Open(ctx, databaseURL, box)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// temporalOptions are the SDK client's options for TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_TLS and TEMPORAL_API_KEY.
//
// Requests go uncompressed (the SDK gzips them by default): hookd's requests carry ids
// and a line or two of metadata, a few hundred bytes that gzip barely shrinks, and
// compressing and inflating each one cost ~4% of hookd dev's CPU at full load
// (BENCHMARKS.md). Responses are still accepted gzipped.
func temporalOptions(cfg config.Config, log *slog.Logger) client.Options {
	opts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    sdklog.NewStructuredLogger(log.With("component", "temporal-client")),
		ConnectionOptions: client.ConnectionOptions{
			GrpcCompression: &client.GrpcCompressionNone{},
		},
	}
	if cfg.TemporalTLS || cfg.TemporalAPIKey != "" {
		opts.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return opts
}

// ensureSearchAttributes makes sure the namespace has hookd's search attributes,
// registering the missing ones when Temporal lets it, and returns those it registered;
// when it may not, the error gives the command to run (see searchattr.Ensure).
func ensureSearchAttributes(ctx context.Context, cfg config.Config, c searchattr.Client) ([]string, error) {
	return searchattr.Ensure(ctx, searchattr.Namespace{
		Client:  c,
		Name:    cfg.TemporalNamespace,
		Address: cfg.TemporalAddress,
		TLS:     cfg.TemporalTLS,
		APIKey:  cfg.TemporalAPIKey != "",
	}, workflows.SearchAttributeTypes())
}

// dialTemporal connects to Temporal, with the SDK's metrics exported into m and its
// calls, workflows and activities traced by tr (the worker takes the client's
// interceptors). closeAll closes the client, then stops the metrics' reporting.
func dialTemporal(ctx context.Context, cfg config.Config, log *slog.Logger, m *metrics.Metrics, tr *tracing.Tracing) (c client.Client, closeAll func(), err error) {
	interceptors, err := tr.Interceptors()
	if err != nil {
		return nil, nil, err
	}
	mh, stopMetrics := m.TemporalHandler(log)
	opts := temporalOptions(cfg, log)
	opts.MetricsHandler, opts.Interceptors = mh, interceptors
	c, err = client.DialContext(ctx, opts)
	if err != nil {
		_ = stopMetrics.Close()
		return nil, nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, func() { c.Close(); _ = stopMetrics.Close() }, nil
}

// services are the long-running parts of a hookd process, wired together.
type services struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
	// metrics is the process's one registry: the API serves it, or, in a worker
	// without the API, a listener of its own on HOOKD_METRICS_ADDR.
	metrics *metrics.Metrics
	tracing *tracing.Tracing // tracing.Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
	// addrs are the addresses the process listens on, filled in as its listeners bind,
	// for the address file (HOOKD_ADDR_FILE).
	addrs addrfile.Addresses
}

// runServices connects to Temporal with the SDK's metrics in a new registry, checks
// hookd's search attributes on the namespace, and runs the parts r names until ctx ends
// (see services.run). embedded are the listeners the process runs besides hookd's own
// (hookd dev's Temporal server and UI), for the address file.
func runServices(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, r roles, embedded addrfile.Addresses, ready func(addrfile.Addresses)) error {
	m := metrics.New()
	if err := m.RegisterBacklog(st, log); err != nil {
		return fmt.Errorf("register the backlog metrics: %w", err)
	}
	tr, stopTracing, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	tc, closeTemporal, err := dialTemporal(ctx, cfg, log, m, tr)
	if err != nil {
		return err
	}
	defer closeTemporal()
	added, err := ensureSearchAttributes(ctx, cfg, searchattr.FromSDK(tc))
	if err != nil {
		return err
	}
	if len(added) > 0 {
		log.Info("registered search attributes", "namespace", cfg.TemporalNamespace, "names", added)
	}
	svc := &services{cfg: cfg, log: log, store: st, temporal: tc, metrics: m, tracing: tr, addrs: embedded}
	return svc.run(ctx, r, ready)
}

// run runs the API and/or the worker (with its reconciler) until ctx ends, then stops
// them gracefully. Once every listener is bound and the worker started, it writes the
// address file (HOOKD_ADDR_FILE, if set; removed when run returns) and then calls ready,
// if set, with the addresses.
func (s *services) run(ctx context.Context, r roles, ready func(addrfile.Addresses)) error {
	reconcileEvery := s.cfg.ReconcileInterval
	svc := dispatch.New(s.store, &engine.Temporal{
		Client: s.temporal, Parallel: 16,
		EagerStart: s.cfg.EagerStart && r&roleWorker != 0,
	}, dispatch.Options{Logger: s.log, MaxInFlight: s.cfg.IngestMaxInFlight, QueueWait: s.cfg.IngestQueueWait})
	g, gctx := errgroup.WithContext(ctx)
	if s.cfg.PprofAddr != "" {
		if err := s.servePprof(gctx, g); err != nil {
			return err
		}
	}
	if r&roleAPI == 0 {
		mux := http.NewServeMux()
		mux.Handle("/metrics", s.metrics.Handler())
		url, err := s.serveAddr(gctx, g, "metrics", s.cfg.MetricsAddr, api.NewServer(mux, api.DefaultServerTimeouts, s.log))
		if err != nil {
			return err
		}
		s.addrs.Metrics = url
	}

	if r&roleWorker != 0 {
		guard := netguard.Options{AllowPrivate: s.cfg.AllowPrivate, AllowHTTP: s.cfg.AllowHTTP}
		insecure := guard
		insecure.InsecureSkipVerify = true // for the webhooks that set allowInvalidCerts only
		acts := &activities.Activities{
			Store:          s.store,
			Service:        svc,
			Client:         s.tracing.Client(netguard.NewClient(guard)),
			InsecureClient: s.tracing.Client(netguard.NewClient(insecure)),
			UserAgent:      "hookd/" + version,
			Logger:         s.log,
			Metrics:        s.metrics,
			Replays:        svc,
			Retention:      s.store,
		}
		w := worker.New(s.temporal, workflows.TaskQueue, acts, workerOptions(s.cfg))
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		if err := s.registerRetention(ctx); err != nil {
			w.Stop()
			return fmt.Errorf("register the retention schedule: %w", err)
		}
		again, release := secondSignal(ctx)
		defer release()
		defer s.stopWorker(w, again)
		g.Go(func() error {
			svc.RunReconciler(gctx, reconcileEvery)
			return nil
		})
	}

	if r&roleAPI != 0 {
		handler, err := api.New(api.Config{
			Store:             s.store,
			Service:           svc,
			Logger:            s.log,
			AllowHTTP:         s.cfg.AllowHTTP,
			AllowPrivate:      s.cfg.AllowPrivate,
			RateLimit:         s.cfg.APIRateLimit,
			PublicURL:         s.cfg.PublicURL,
			TemporalUIURL:     s.cfg.TemporalUIURL,
			TemporalNamespace: s.cfg.TemporalNamespace,
			Metrics:           s.metrics.Registry,
			Ingest:            s.metrics,
			Middleware:        s.tracing.Middleware(),
		})
		if err != nil {
			return fmt.Errorf("build api: %w", err)
		}
		ln, err := net.Listen("tcp", s.cfg.APIAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.APIAddr, err)
		}
		s.serveListener(gctx, g, "api", ln, api.NewServer(handler, api.DefaultServerTimeouts, s.log))
		s.addrs.API = "http://" + ln.Addr().String()
	}
	s.addrs.PID = os.Getpid()
	if f := s.cfg.AddrFile; f != "" {
		if err := addrfile.Write(f, s.addrs); err != nil {
			return err
		}
		defer func() {
			if err := addrfile.Remove(f, s.addrs.PID); err != nil {
				s.log.Warn("address file", "err", err)
			}
		}()
	}
	if ready != nil {
		ready(s.addrs)
	}
	s.log.Info("hookd running", "api", s.addrs.API, "worker", r&roleWorker != 0, "addr_file", s.cfg.AddrFile)
	return g.Wait()
}

// servePprof serves Go's profiles on their own listener (never on the API's), for
// `go tool pprof http://ADDR/debug/pprof/profile`. Its answers have no write timeout: a
// profile or trace takes as many seconds as asked for.
func (s *services) servePprof(ctx context.Context, g *errgroup.Group) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	t := api.DefaultServerTimeouts
	t.Write = 0
	url, err := s.serveAddr(ctx, g, "pprof", s.cfg.PprofAddr, api.NewServer(mux, t, s.log))
	s.addrs.Pprof = url
	return err
}

// serveAddr listens on addr and runs srv there until ctx ends; url is the bound
// address, http://host:port.
func (s *services) serveAddr(ctx context.Context, g *errgroup.Group, what, addr string, srv *http.Server) (url string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s for %s: %w", addr, what, err)
	}
	s.log.Info(what+" listening", "addr", ln.Addr().String())
	s.serveListener(ctx, g, what, ln, srv)
	return "http://" + ln.Addr().String(), nil
}

// serveListener runs srv on ln until ctx ends, then shuts it down gracefully.
func (s *services) serveListener(ctx context.Context, g *errgroup.Group, what string, ln net.Listener, srv *http.Server) {
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s server: %w", what, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
}

var _ api.Service = (*dispatch.Service)(nil)

// secondSignal returns a channel closed when SIGINT or SIGTERM arrives after ctx ended
// (which the first one does), whatever the stop is doing then, such as draining the API;
// release stops listening.
func secondSignal(ctx context.Context) (again <-chan struct{}, release func()) {
	ch, done := make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		select {
		case <-sigs:
			close(ch)
		case <-done:
		}
	}()
	return ch, sync.OnceFunc(func() { close(done) })
}

// stopWorker stops w, which lets attempts in flight finish for up to the worker stop
// timeout; a second SIGINT or SIGTERM (again), before or during that wait, gives it up,
// so that the rest of the stop (the PostgreSQL pool, and in hookd dev the embedded
// servers) still runs cleanly. An attempt given up on is sent again after the restart
// and recorded as interrupted.
func (s *services) stopWorker(w sdkworker.Worker, again <-chan struct{}) {
	s.log.Info("stopping the worker: attempts in flight may finish first; signal again to stop at once",
		"stop_timeout", s.cfg.WorkerStopTimeout)
	stopped := make(chan struct{})
	go func() {
		w.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-again:
		s.log.Warn("second signal: stopping without waiting for attempts in flight")
	}
}

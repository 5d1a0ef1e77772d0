package prodshape

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/secretbox"
)

// Bounds of the shape's steps.
const (
	// startWithin bounds each process's start, until it has written its address file.
	startWithin = 2 * time.Minute
	// stopGrace is how long Stop waits after SIGTERM before it kills a process: more than
	// a worker's default stop timeout (HOOKD_WORKER_STOP_TIMEOUT, 65 s).
	stopGrace = 70 * time.Second
	// temporalTries bounds the starts of `hookd temporal` that lose a port race: the
	// embedded server picks its internal ports (history, matching, worker) free a moment
	// before it binds them, and another process may take one meanwhile.
	temporalTries = 3
)

// Namespace is the Temporal namespace of the shape.
const Namespace = "default"

// Options say how to start the shape. Binary and Dir are required.
type Options struct {
	// Binary is a hookd binary built without -tags nodev (it runs `hookd temporal`); see
	// devenv.BuildHookd.
	Binary string
	// Dir holds everything: PostgreSQL's data (Dir/postgres), each process's log
	// (Dir/<name>.log) and address file. It is created, mode 0755; when the tests run
	// as root PostgreSQL runs as user postgres, which must be able to reach it, so its
	// parents must be traversable too. Its path must be short (a unix socket lives in
	// it): t.TempDir() is fine.
	Dir string
	// Workers is the number of `hookd worker` processes; at least 1, or 0 with Serve.
	Workers int
	// Serve runs one `hookd serve` (API and worker in one process) in place of `hookd api`
	// and the workers: the shape of one box (the benchmark's --shape serve). API is then
	// that process.
	Serve bool
	// TemporalSQLite keeps `hookd temporal`'s state in a SQLite file (Dir/temporal)
	// instead of PostgreSQL.
	TemporalSQLite bool
	// DurablePostgres keeps PostgreSQL's fsync and synchronous commit on, as in
	// production (the benchmark); tests leave them off, which is much faster.
	DurablePostgres bool
	// Env is extra K=V environment for the api and worker processes, applied last (for
	// example HOOKD_RECONCILE_INTERVAL=1s).
	Env []string
	// TemporalEnv is extra K=V environment for `hookd temporal`, applied last.
	TemporalEnv []string
	// Logf receives a line per step; nil: none.
	Logf func(format string, args ...any)
}

// Shape is the production shape running on this machine: a private PostgreSQL, a Temporal
// server persisted in it (`hookd temporal`; or in SQLite, TemporalSQLite), one `hookd api`
// and Workers `hookd worker` processes (or one `hookd serve`, Serve), each set up as in
// production (DATABASE_URL, TEMPORAL_ADDRESS, HOOKD_SECRET_KEY; the default admission
// control, reconcile interval and stop timeout) but for two settings: HOOKD_ALLOW_HTTP and
// HOOKD_ALLOW_PRIVATE_TARGETS are on, because the receivers of a test listen on
// http://127.0.0.1. Every process listens on a port the
// kernel picks (HOOKD_API_ADDR, HOOKD_METRICS_ADDR, HOOKD_TEMPORAL_PORT set to port 0) and
// says which in its address file (HOOKD_ADDR_FILE, internal/addrfile).
//
// Stop it when done; its processes also die with the test binary.
type Shape struct {
	// APIURL is the API's base URL, http://127.0.0.1:<port>; StartAPI changes it.
	APIURL string
	// AdminKey is the admin API key made by `hookd keys create --role admin` (organization
	// org_default).
	AdminKey string
	// TemporalAddr is the Temporal frontend, 127.0.0.1:<port>; the namespace is Namespace.
	TemporalAddr string
	// DatabaseURL is hookd's database; Temporal's are temporal and temporal_visibility on
	// the same server.
	DatabaseURL string
	// Postgres is the private cluster (its DataDir and devenv.PostmasterPID find the
	// server's process).
	Postgres *devenv.Postgres
	// Temporal and API are the `hookd temporal` and `hookd api` (with Serve: `hookd
	// serve`) processes.
	Temporal, API *Process

	opts    Options
	env     []string // of the api and worker processes
	workers []*Process
}

// Start starts the shape and returns once every process is ready: PostgreSQL, then
// `hookd temporal` on it, `hookd migrate` (hookd's tables, and its search attributes on the
// namespace, which a fresh cluster lacks), `hookd keys create --role admin`, `hookd api`
// (its /readyz answers 200) and the workers (each has started polling Temporal and
// serves /metrics). It takes 10-30 s on a 2-core machine. On error whatever started is
// stopped again.
func Start(ctx context.Context, o Options) (_ *Shape, err error) {
	if o.Binary == "" || o.Dir == "" || o.Workers < 1 && !o.Serve || o.Workers > 0 && o.Serve {
		return nil, fmt.Errorf("prodshape: Binary %q, Dir %q, Workers %d, Serve %t: want a binary, a directory and at least 1 worker, or none with Serve", o.Binary, o.Dir, o.Workers, o.Serve)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, fmt.Errorf("prodshape: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("prodshape: %w", err)
	}
	if err := os.Chmod(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("prodshape: %w", err)
	}
	s := &Shape{opts: o}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()

	step := time.Now()
	s.Postgres, err = devenv.Start(ctx, devenv.Options{
		DataDir: filepath.Join(o.Dir, "postgres"), StopWithParent: true,
		// fsync off: a SIGKILL of any process loses no committed data without it; only a
		// crash of the machine would, which no test makes.
		DisableDurability: !o.DurablePostgres,
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, fmt.Errorf("prodshape: %w", err)
	}
	s.DatabaseURL = s.Postgres.URL(devenv.Database)
	o.Logf("prodshape: postgres ready in %s (%s)", since(step), s.Postgres.DataDir())

	base := baseEnv()
	step = time.Now()
	store := "DATABASE_URL=" + s.DatabaseURL
	if o.TemporalSQLite {
		store = "HOOKD_DATA_DIR=" + filepath.Join(o.Dir, "temporal")
	}
	s.Temporal = newProcess("temporal", o.Binary, o.Dir, slices.Concat(base, []string{
		store,
		"HOOKD_TEMPORAL_PORT=0",
		"HOOKD_UI_PORT=-1",
		"TEMPORAL_NAMESPACE=" + Namespace,
	}, o.TemporalEnv), "temporal")
	for try := 1; ; try++ {
		err = s.Temporal.Start(ctx, startWithin)
		if err == nil || !errors.Is(err, errExitedStartingUp) || try == temporalTries ||
			!strings.Contains(err.Error(), "address already in use") {
			break
		}
		o.Logf("prodshape: hookd temporal lost a port race, starting it again")
	}
	if err != nil {
		return nil, err
	}
	s.TemporalAddr = s.Temporal.Addrs().Temporal
	o.Logf("prodshape: hookd temporal ready in %s at %s", since(step), s.TemporalAddr)

	s.env = slices.Concat(base, []string{
		"DATABASE_URL=" + s.DatabaseURL,
		"TEMPORAL_ADDRESS=" + s.TemporalAddr,
		"TEMPORAL_NAMESPACE=" + Namespace,
		"HOOKD_SECRET_KEY=" + base64.StdEncoding.EncodeToString(secretbox.GenerateKey()),
		// Only because the test's receivers listen on http://127.0.0.1.
		"HOOKD_ALLOW_HTTP=true",
		"HOOKD_ALLOW_PRIVATE_TARGETS=true",
		"HOOKD_API_ADDR=127.0.0.1:0",
		"HOOKD_METRICS_ADDR=127.0.0.1:0",
	}, o.Env)

	step = time.Now()
	out, err := s.run(ctx, "migrate")
	if err != nil {
		return nil, err
	}
	o.Logf("prodshape: hookd migrate: %s", strings.ReplaceAll(strings.TrimSpace(out), "\n", "; "))
	key, err := s.run(ctx, "keys", "create", "--role", "admin", "--name", "prodshape admin")
	if err != nil {
		return nil, err
	}
	s.AdminKey = strings.TrimSpace(key)
	o.Logf("prodshape: migrated and admin key made in %s", since(step))

	if o.Serve {
		s.API = newProcess("serve", o.Binary, o.Dir, s.env, "serve")
	} else {
		s.API = newProcess("api", o.Binary, o.Dir, s.env, "api")
	}
	if err := s.StartAPI(ctx); err != nil {
		return nil, err
	}
	for i := range o.Workers {
		if err := s.StartWorker(ctx, i); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// baseEnv is this process's environment without the variables of hookd (HOOKD_*,
// DATABASE_URL, TEMPORAL_*) and OpenTelemetry (OTEL_*), so that the shell running the
// tests changes nothing in the shape.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HOOKD_") || strings.HasPrefix(name, "TEMPORAL_") ||
			strings.HasPrefix(name, "OTEL_") || name == "DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// run runs a one-off hookd command with the env of the api and workers and returns its
// standard output.
func (s *Shape) run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, startWithin)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.opts.Binary, args...)
	cmd.Env = s.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("prodshape: hookd %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// StartAPI starts the API (again, after API.Kill or API.Stop) and waits until its /readyz
// answers 200. It listens on another port each time: APIURL changes. With Serve it is the
// `hookd serve` process.
func (s *Shape) StartAPI(ctx context.Context) error {
	step := time.Now()
	if err := s.API.Start(ctx, startWithin); err != nil {
		return err
	}
	s.APIURL = s.API.Addrs().API
	if err := waitReady(ctx, s.APIURL, startWithin); err != nil {
		return fmt.Errorf("prodshape: hookd %s: %w", s.API.Name(), err)
	}
	s.opts.Logf("prodshape: hookd %s ready in %s at %s (pid %d)", s.API.Name(), since(step), s.APIURL, s.API.PID())
	return nil
}

// Workers is the number of worker processes, running or not.
func (s *Shape) Workers() int { return len(s.workers) }

// Worker is worker process i (0 ≤ i < Workers()).
func (s *Shape) Worker(i int) *Process { return s.workers[i] }

// KillWorker ends worker i with SIGKILL: the attempts it has in flight are cut off, and
// Temporal gives its tasks to the other workers once their timeouts pass.
func (s *Shape) KillWorker(i int) error { return s.workers[i].Kill() }

// StartWorker starts worker i again after a kill or stop, or, with i == Workers(), a new
// one, and waits until it is ready.
func (s *Shape) StartWorker(ctx context.Context, i int) error {
	if i < 0 || i > len(s.workers) {
		return fmt.Errorf("prodshape: no worker %d (there are %d)", i, len(s.workers))
	}
	if i == len(s.workers) {
		s.workers = append(s.workers, newProcess("worker-"+strconv.Itoa(i), s.opts.Binary, s.opts.Dir, s.env, "worker"))
	}
	step := time.Now()
	w := s.workers[i]
	if err := w.Start(ctx, startWithin); err != nil {
		return err
	}
	s.opts.Logf("prodshape: hookd %s ready in %s (pid %d, metrics %s)", w.Name(), since(step), w.PID(), w.Addrs().Metrics)
	return nil
}

// Stop stops the workers, the API and Temporal (SIGTERM, waiting for each to exit) and
// then PostgreSQL. It leaves Dir for the caller.
func (s *Shape) Stop() error {
	var errs []error
	for _, w := range s.workers {
		errs = append(errs, w.Stop(stopGrace))
	}
	for _, p := range []*Process{s.API, s.Temporal} {
		if p != nil {
			errs = append(errs, p.Stop(stopGrace))
		}
	}
	if s.Postgres != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		errs = append(errs, s.Postgres.Stop(ctx))
	}
	return errors.Join(errs...)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// readyClient asks the API whether it is ready; a hung answer is retried, not waited for.
var readyClient = &http.Client{Timeout: 10 * time.Second}

// waitReady polls apiURL/readyz until it answers 200 (PostgreSQL and Temporal answer).
func waitReady(ctx context.Context, apiURL string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := readyClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %v: %w", within, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

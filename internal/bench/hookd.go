package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/prodshape"
)

// Shapes of the hookd the benchmark starts (Launch.Shape, --shape).
const (
	// ShapeDev is one `hookd dev` process: API, worker and the embedded Temporal server.
	ShapeDev = "dev"
	// ShapeServe is the production shape on one box: one `hookd serve` (API and worker)
	// against a `hookd temporal` process of its own.
	ShapeServe = "serve"
)

// Hookd is the hookd under test: one the benchmark started, or one already running.
type Hookd struct {
	API          *API
	TemporalAddr string // the Temporal frontend; "" when unknown (no ceiling then)
	PGDataDir    string // the PostgreSQL data directory; "" when unknown
	pid          int    // 0 when unknown

	dev   *devenv.Hookd    // the hookd dev the benchmark started (ShapeDev), else nil
	shape *prodshape.Shape // the serve shape the benchmark started (ShapeServe), else nil
	dir   string           // the temporary directory of a started hookd
	keep  bool
}

// PID is the hookd process, for the sampler.
func (h *Hookd) PID() (int, error) {
	if h.pid == 0 {
		return 0, errors.New("hookd pid unknown")
	}
	if h.Exited() {
		return 0, errors.New("hookd exited")
	}
	return h.pid, nil
}

// Exited reports whether a hookd the benchmark started (or, in the serve shape, its
// Temporal server) has exited.
func (h *Hookd) Exited() bool {
	switch {
	case h.dev != nil:
		return h.dev.Exited()
	case h.shape != nil:
		return !h.shape.API.Running() || !h.shape.Temporal.Running()
	}
	return false
}

// SeparateTemporal reports whether Temporal runs in a process of its own the benchmark
// measures (the serve shape).
func (h *Hookd) SeparateTemporal() bool { return h.shape != nil }

// TemporalPID is the `hookd temporal` process of the serve shape, for the sampler.
func (h *Hookd) TemporalPID() (int, error) {
	if h.shape == nil || !h.shape.Temporal.Running() {
		return 0, errors.New("no temporal process running")
	}
	return h.shape.Temporal.PID(), nil
}

// PostmasterPID is the PostgreSQL server's postmaster, for the sampler.
func (h *Hookd) PostmasterPID() (int, error) {
	if h.PGDataDir == "" {
		return 0, errors.New("postgres data dir unknown")
	}
	return devenv.PostmasterPID(h.PGDataDir)
}

// Launch says how to start hookd.
type Launch struct {
	Binary string // the hookd binary, run as `Binary dev` (or serve, temporal, …)
	// Shape is ShapeDev ("" too) or ShapeServe.
	Shape string
	// Env is K=V applied last, over the benchmark's own settings (BaseEnv), to every hookd
	// process started; in the serve shape HOOKD_TEMPORAL_STORE picks `hookd temporal`'s
	// store, as it picks hookd dev's (see TemporalStore).
	Env  []string
	Keep bool // keep the data directory afterwards
	// Log receives a line per start-up step of the serve shape; nil: none.
	Log func(format string, args ...any)
}

// TemporalStore is the Temporal store the environment env picks: the last
// HOOKD_TEMPORAL_STORE in it, sqlite by default.
func TemporalStore(env []string) (string, error) {
	store := config.TemporalStoreSQLite
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOOKD_TEMPORAL_STORE="); ok && v != "" {
			store = v
		}
	}
	if store != config.TemporalStoreSQLite && store != config.TemporalStorePostgres {
		return "", fmt.Errorf("HOOKD_TEMPORAL_STORE %q: want %s or %s", store, config.TemporalStoreSQLite, config.TemporalStorePostgres)
	}
	return store, nil
}

// BaseEnv is the benchmark's own settings of the hookd it starts, before Launch.Env:
// no per-key API rate limit (HOOKD_API_RATE_LIMIT=0), since the benchmark posts every
// event with one API key and the scenarios measure delivery throughput, not that limit
// (1,000 requests/s per key by default, which the batch scenario passes). Pass
// --env HOOKD_API_RATE_LIMIT=1000 to measure with it.
var BaseEnv = []string{"HOOKD_API_RATE_LIMIT=0"}

// StartHookd starts hookd in the shape l says, in a fresh temporary directory, and waits
// until /readyz answers. ShapeDev runs `hookd dev` as a subprocess with a fresh data
// directory (and so its own private PostgreSQL) on free loopback ports, without the Web
// UI. ShapeServe starts the production shape with one `hookd serve` (see startServe).
func StartHookd(ctx context.Context, l Launch) (*Hookd, error) {
	switch l.Shape {
	case "", ShapeDev:
	case ShapeServe:
		return startServe(ctx, l)
	default:
		return nil, fmt.Errorf("shape %q: want %s or %s", l.Shape, ShapeDev, ShapeServe)
	}
	dir, err := benchDir()
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started && !l.Keep {
			_ = os.RemoveAll(dir)
		}
	}()
	dataDir := filepath.Join(dir, "data")
	key := "hk_bench_" + randomHex(16)
	dev, err := devenv.NewHookd(devenv.HookdOptions{
		Binary:   l.Binary,
		DataDir:  dataDir,
		AdminKey: key,
		Env:      l.processEnv(),
		LogFile:  filepath.Join(dir, "hookd.log"),
	})
	if err != nil {
		return nil, err
	}
	h := &Hookd{
		PGDataDir: filepath.Join(dataDir, "postgres"),
		dev:       dev,
		dir:       dir,
		keep:      l.Keep,
	}
	started = true // from here on Stop cleans up
	if err := dev.Start(ctx, 2*time.Minute); err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("%w:\n%s", err, h.LogTail(4096))
		}
		_ = h.Stop()
		return nil, err
	}
	// The ports hookd bound, known once it has started.
	h.API, h.TemporalAddr = NewAPI(dev.APIURL, key, 256), dev.TemporalAddr
	h.pid = dev.PID()
	return h, nil
}

// benchDir makes the temporary directory of a started hookd.
func benchDir() (string, error) {
	dir, err := os.MkdirTemp("", "hookd-bench-")
	if err != nil {
		return "", err
	}
	// PostgreSQL runs as an unprivileged user when we are root: let it through.
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// serveEnv is what the benchmark sets for every process of the serve shape, before
// BaseEnv and Launch.Env: the log level devenv gives hookd dev, so that both shapes log
// alike.
var serveEnv = []string{"HOOKD_LOG_LEVEL=warn"}

// processEnv is the environment the benchmark gives the hookd processes it starts in
// l's shape, over their own: serveEnv (serve shape), BaseEnv, then l.Env. `hookd
// temporal` of the serve shape gets serveEnv and l.Env only.
func (l Launch) processEnv() []string {
	if l.Shape == ShapeServe {
		return slices.Concat(serveEnv, BaseEnv, l.Env)
	}
	return slices.Concat(BaseEnv, l.Env)
}

// startServe starts the serve shape through internal/prodshape, in a fresh directory: a
// private PostgreSQL (durable, as hookd dev's), `hookd temporal` on its own (its store
// from TemporalStore(l.Env): a SQLite file, or databases on that PostgreSQL), `hookd
// migrate`, an admin key (`hookd keys create`), and one `hookd serve`, each on ports of
// 127.0.0.1 the kernel picks, found through their address files. Every process dies with
// the benchmark if it crashes (Pdeathsig; PostgreSQL: StopWithParent).
func startServe(ctx context.Context, l Launch) (*Hookd, error) {
	store, err := TemporalStore(l.Env)
	if err != nil {
		return nil, err
	}
	dir, err := benchDir()
	if err != nil {
		return nil, err
	}
	shape, err := prodshape.Start(ctx, prodshape.Options{
		Binary:          l.Binary,
		Dir:             dir,
		Serve:           true,
		TemporalSQLite:  store == config.TemporalStoreSQLite,
		DurablePostgres: true,
		Env:             l.processEnv(),
		TemporalEnv:     slices.Concat(serveEnv, l.Env),
		Logf:            l.Log,
	})
	if err != nil {
		if !l.Keep {
			_ = os.RemoveAll(dir)
		}
		return nil, err
	}
	return &Hookd{
		API:          NewAPI(shape.APIURL, shape.AdminKey, 256),
		TemporalAddr: shape.TemporalAddr,
		PGDataDir:    shape.Postgres.DataDir(),
		pid:          shape.API.PID(),
		shape:        shape,
		dir:          dir,
		keep:         l.Keep,
	}, nil
}

// Connect describes a hookd that is already running; pid and pgDataDir may be zero/empty
// (their resources are then not reported).
func Connect(url, key, temporalAddr string, pid int, pgDataDir string) *Hookd {
	return &Hookd{API: NewAPI(url, key, 256), TemporalAddr: temporalAddr, pid: pid, PGDataDir: pgDataDir}
}

// Started reports whether the benchmark started this hookd (and so owns its data).
func (h *Hookd) Started() bool { return h.dev != nil || h.shape != nil }

// Stop ends a hookd the benchmark started: SIGTERM, SIGKILL after 60 s (the serve shape:
// each process in turn, then PostgreSQL), then its PostgreSQL if a killed hookd left it
// running, then its directory unless kept.
func (h *Hookd) Stop() error {
	var errs []error
	switch {
	case h.shape != nil:
		errs = append(errs, h.shape.Stop())
	case h.dev != nil:
		errs = append(errs, h.dev.Stop())
	default:
		return nil
	}
	if pid, err := devenv.PostmasterPID(h.PGDataDir); err == nil && syscall.Kill(pid, 0) == nil {
		_ = syscall.Kill(pid, syscall.SIGQUIT) // PostgreSQL's immediate shutdown
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && syscall.Kill(pid, 0) == nil; {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !h.keep {
		if err := os.RemoveAll(h.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Dir is the temporary directory of a started hookd ("" otherwise).
func (h *Hookd) Dir() string { return h.dir }

// LogTail is the last n bytes of a started hookd's output (the serve shape: of hookd
// serve's and of hookd temporal's).
func (h *Hookd) LogTail(n int) string {
	switch {
	case h.dev != nil:
		return h.dev.LogTail(n)
	case h.shape != nil:
		var b strings.Builder
		for _, p := range []*prodshape.Process{h.shape.API, h.shape.Temporal} {
			log, _ := os.ReadFile(p.LogPath())
			fmt.Fprintf(&b, "--- %s:\n%s\n", p.LogPath(), log[max(0, len(log)-n):])
		}
		return b.String()
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

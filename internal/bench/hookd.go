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
	"syscall"
	"time"

	"github.com/hookd/hookd/internal/devenv"
)

// Hookd is the hookd under test: one the benchmark started, or one already running.
type Hookd struct {
	API          *API
	TemporalAddr string // the Temporal frontend; "" when unknown (no ceiling then)
	PGDataDir    string // the PostgreSQL data directory; "" when unknown
	pid          int    // 0 when unknown

	dev  *devenv.Hookd // nil when the benchmark did not start hookd
	dir  string        // the temporary directory of a started hookd
	keep bool
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

// Exited reports whether a hookd the benchmark started has exited.
func (h *Hookd) Exited() bool { return h.dev != nil && h.dev.Exited() }

// PostmasterPID is the PostgreSQL server's postmaster, for the sampler.
func (h *Hookd) PostmasterPID() (int, error) {
	if h.PGDataDir == "" {
		return 0, errors.New("postgres data dir unknown")
	}
	return devenv.PostmasterPID(h.PGDataDir)
}

// Launch says how to start hookd dev.
type Launch struct {
	Binary string   // the hookd binary, run as `Binary dev`
	Env    []string // K=V applied last, over the benchmark's own settings (BaseEnv)
	Keep   bool     // keep the data directory afterwards
}

// BaseEnv is the benchmark's own settings of the hookd it starts, before Launch.Env:
// no per-key API rate limit (HOOKD_API_RATE_LIMIT=0), since the benchmark posts every
// event with one API key and the scenarios measure delivery throughput, not that limit
// (1,000 requests/s per key by default, which the batch scenario passes). Pass
// --env HOOKD_API_RATE_LIMIT=1000 to measure with it.
var BaseEnv = []string{"HOOKD_API_RATE_LIMIT=0"}

// StartHookd runs `hookd dev` as a subprocess with a fresh data directory (and so its own
// private PostgreSQL) on free loopback ports, without the Web UI, and waits until
// /readyz answers.
func StartHookd(ctx context.Context, l Launch) (*Hookd, error) {
	dir, err := os.MkdirTemp("", "hookd-bench-")
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started && !l.Keep {
			_ = os.RemoveAll(dir)
		}
	}()
	// PostgreSQL runs as an unprivileged user when we are root: let it through.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	key := "hk_bench_" + randomHex(16)
	dev, err := devenv.NewHookd(devenv.HookdOptions{
		Binary:   l.Binary,
		DataDir:  dataDir,
		AdminKey: key,
		Env:      append(slices.Clone(BaseEnv), l.Env...),
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

// Connect describes a hookd that is already running; pid and pgDataDir may be zero/empty
// (their resources are then not reported).
func Connect(url, key, temporalAddr string, pid int, pgDataDir string) *Hookd {
	return &Hookd{API: NewAPI(url, key, 256), TemporalAddr: temporalAddr, pid: pid, PGDataDir: pgDataDir}
}

// Started reports whether the benchmark started this hookd (and so owns its data).
func (h *Hookd) Started() bool { return h.dev != nil }

// Stop ends a hookd the benchmark started: SIGTERM, SIGKILL after 60 s, then its
// PostgreSQL if a killed hookd left it running, then its directory unless kept.
func (h *Hookd) Stop() error {
	if h.dev == nil {
		return nil
	}
	var errs []error
	if err := h.dev.Stop(); err != nil {
		errs = append(errs, err)
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

// LogTail is the last n bytes of a started hookd's output.
func (h *Hookd) LogTail(n int) string {
	if h.dev == nil {
		return ""
	}
	return h.dev.LogTail(n)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

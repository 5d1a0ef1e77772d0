package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

	cmd    *exec.Cmd
	exited chan struct{}
	dir    string // the temporary directory of a started hookd
	keep   bool
	log    string // its output
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
func (h *Hookd) Exited() bool {
	if h.exited == nil {
		return false
	}
	select {
	case <-h.exited:
		return true
	default:
		return false
	}
}

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
	Env    []string // K=V applied last, over the benchmark's own settings
	Keep   bool     // keep the data directory afterwards
}

// StartHookd runs `hookd dev` as a subprocess with a fresh data directory (and so its own
// private PostgreSQL) on free loopback ports, without the Web UI, and waits until
// /readyz answers.
func StartHookd(ctx context.Context, l Launch) (_ *Hookd, err error) {
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
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	temporalPort, err := freePort()
	if err != nil {
		return nil, err
	}
	h := &Hookd{
		TemporalAddr: "127.0.0.1:" + temporalPort,
		PGDataDir:    filepath.Join(dataDir, "postgres"),
		dir:          dir,
		keep:         l.Keep,
		log:          filepath.Join(dir, "hookd.log"),
		exited:       make(chan struct{}),
	}
	key := "hk_bench_" + randomHex(16)
	h.API = NewAPI("http://127.0.0.1:"+apiPort, key, 256)

	logFile, err := os.Create(h.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	h.cmd = exec.Command(l.Binary, "dev")
	h.cmd.Env = append(os.Environ(),
		"HOOKD_DATA_DIR="+dataDir,
		"HOOKD_API_ADDR=127.0.0.1:"+apiPort,
		"HOOKD_TEMPORAL_PORT="+temporalPort,
		"HOOKD_UI_PORT=-1",
		"HOOKD_ADMIN_KEY="+key,
		"HOOKD_LOG_LEVEL=warn",
		"DATABASE_URL=", // hookd's own private cluster in the data dir
	)
	h.cmd.Env = append(h.cmd.Env, l.Env...)
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hookd dev: %w", err)
	}
	started = true // from here on Stop cleans up
	h.pid = h.cmd.Process.Pid
	go func() {
		_ = h.cmd.Wait()
		close(h.exited)
	}()

	deadline := time.Now().Add(2 * time.Minute)
	for !h.API.Ready(ctx) {
		select {
		case <-h.exited:
			err = fmt.Errorf("hookd dev exited during start-up:\n%s", h.LogTail(4096))
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				err = fmt.Errorf("hookd dev not ready within 2m:\n%s", h.LogTail(4096))
			}
		}
		if err != nil {
			_ = h.Stop()
			return nil, err
		}
	}
	return h, nil
}

// Connect describes a hookd that is already running; pid and pgDataDir may be zero/empty
// (their resources are then not reported).
func Connect(url, key, temporalAddr string, pid int, pgDataDir string) *Hookd {
	return &Hookd{API: NewAPI(url, key, 256), TemporalAddr: temporalAddr, pid: pid, PGDataDir: pgDataDir}
}

// Started reports whether the benchmark started this hookd (and so owns its data).
func (h *Hookd) Started() bool { return h.cmd != nil }

// Stop ends a hookd the benchmark started: SIGTERM, SIGKILL after 60 s, then its
// PostgreSQL if a killed hookd left it running, then its directory unless kept.
func (h *Hookd) Stop() error {
	if h.cmd == nil {
		return nil
	}
	var errs []error
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(60 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.exited
		errs = append(errs, errors.New("hookd did not stop within 60s of SIGTERM; killed"))
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
	b, err := os.ReadFile(h.log)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

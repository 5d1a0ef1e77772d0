package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hookd/hookd/internal/addrfile"
)

// stopGrace is how long Stop waits after SIGTERM before it kills hookd.
const stopGrace = 60 * time.Second

// readyClient asks hookd whether it is ready; a hung answer is retried, not waited for.
var readyClient = &http.Client{Timeout: 30 * time.Second}

// HookdOptions says how to run `hookd dev`. All but Env are required, DatabaseURL excepted.
type HookdOptions struct {
	// Binary is the hookd binary, run as `Binary dev`.
	Binary string
	// DataDir is hookd's data directory (HOOKD_DATA_DIR).
	DataDir string
	// AdminKey is the admin API key hookd creates at start (HOOKD_ADMIN_KEY).
	AdminKey string
	// DatabaseURL is hookd's database; "" runs its own private PostgreSQL in DataDir.
	DatabaseURL string
	// Env is extra K=V environment, applied last.
	Env []string
	// LogFile receives hookd's output; each Start truncates it.
	LogFile string
}

// Hookd is `hookd dev` run as a subprocess without its Web UI, the way the end-to-end
// tests and the benchmark run hookd. Its API and embedded Temporal server listen on
// ports of 127.0.0.1 the kernel picks (HOOKD_API_ADDR=127.0.0.1:0,
// HOOKD_TEMPORAL_PORT=0), and Start learns them from hookd's address file
// (internal/addrfile), so no port is picked free beforehand and lost to another process.
// Start it, and Stop it when done.
type Hookd struct {
	// APIURL is the API's base URL, http://127.0.0.1:<port>, set by Start (each start
	// binds a new port).
	APIURL string
	// TemporalAddr is the embedded Temporal server's frontend, 127.0.0.1:<port>, set by
	// Start (each start binds a new port).
	TemporalAddr string
	// Env is the environment hookd runs with, for other hookd commands on its data.
	Env []string
	// AddrFile is hookd's address file, in its data dir.
	AddrFile string

	binary  string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
}

// NewHookd sets up hookd's environment; it starts nothing.
func NewHookd(o HookdOptions) (*Hookd, error) {
	h := &Hookd{
		AddrFile: filepath.Join(o.DataDir, "addresses.json"),
		binary:   o.Binary,
		logFile:  o.LogFile,
	}
	h.Env = append(os.Environ(),
		"HOOKD_DATA_DIR="+o.DataDir,
		"HOOKD_API_ADDR=127.0.0.1:0",
		"HOOKD_TEMPORAL_PORT=0",
		"HOOKD_UI_PORT=-1",
		"HOOKD_ADDR_FILE="+h.AddrFile,
		"HOOKD_ADMIN_KEY="+o.AdminKey,
		"HOOKD_LOG_LEVEL=warn",
		"DATABASE_URL="+o.DatabaseURL, // "": hookd's own private cluster in the data dir
	)
	h.Env = append(h.Env, o.Env...)
	return h, nil
}

// Start runs `hookd dev`, waits until it has written its address file (one naming the
// process just started: a file a killed hookd left behind is removed first) and until
// GET /readyz answers 200 there, and sets APIURL and TemporalAddr. It fails when hookd
// exits first, when ctx ends or when hookd is not ready within the given time; a hookd
// still running then is left for Stop. Once hookd has exited (see Kill), Start runs it
// again on the same data (and new ports).
//
// The embedded Temporal server cannot bind port 0 itself: it picks its internal ports
// (history, matching, worker, frontend) free a moment before it binds them, and exits
// when another process took one meanwhile. A start that exits on "address already in
// use" is therefore tried again, up to startTries times, each try picking anew.
func (h *Hookd) Start(ctx context.Context, within time.Duration) error {
	for try := 1; ; try++ {
		err := h.start(ctx, within)
		if !errors.Is(err, errExitedStartingUp) || try == startTries ||
			!strings.Contains(h.LogTail(0), "address already in use") {
			return err
		}
	}
}

// startTries bounds the starts of Start that lose a port race.
const startTries = 3

var errExitedStartingUp = errors.New("hookd dev exited during start-up")

func (h *Hookd) start(ctx context.Context, within time.Duration) error {
	if err := os.Remove(h.AddrFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start hookd dev: %w", err)
	}
	logf, err := os.Create(h.logFile)
	if err != nil {
		return fmt.Errorf("start hookd dev: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(h.binary, "dev")
	cmd.Env = h.Env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start hookd dev: %w", err)
	}
	exited := make(chan struct{})
	h.cmd, h.exited = cmd, exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	a, err := addrfile.Wait(wctx, h.AddrFile, cmd.Process.Pid, exited)
	switch {
	case h.Exited():
		return errExitedStartingUp
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return fmt.Errorf("hookd dev not ready within %v: %w", within, err)
	}
	h.APIURL, h.TemporalAddr = a.API, a.Temporal
	for !h.ready(wctx) {
		select {
		case <-exited:
			return errExitedStartingUp
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("hookd dev not ready within %v", within)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func (h *Hookd) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.APIURL+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// PID is the process id of the hookd last started, 0 before Start.
func (h *Hookd) PID() int {
	if h.cmd == nil {
		return 0
	}
	return h.cmd.Process.Pid
}

// Exited reports whether the hookd last started has exited.
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

// Kill ends hookd with SIGKILL, so nothing it runs in-process shuts down cleanly (its
// private PostgreSQL, a child of its own, keeps running), and waits for it to exit.
func (h *Hookd) Kill() error {
	if h.cmd == nil {
		return errors.New("kill hookd dev: not started")
	}
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill hookd dev: %w", err)
	}
	<-h.exited
	return nil
}

// Stop ends a running hookd with SIGTERM and waits for it to exit; after 60 s it kills it
// and says so.
func (h *Hookd) Stop() error {
	if h.cmd == nil || h.Exited() {
		return nil
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
		return nil
	case <-time.After(stopGrace):
		_ = h.cmd.Process.Kill()
		<-h.exited
		return fmt.Errorf("hookd dev did not stop within %.0fs of SIGTERM; killed", stopGrace.Seconds())
	}
}

// LogTail is the last n bytes of hookd's output since it was last started, from the start
// of a line; n <= 0 gives all of it.
func (h *Hookd) LogTail(n int) string {
	b, err := os.ReadFile(h.logFile)
	if err != nil {
		return ""
	}
	if n > 0 && len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

package prodshape

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/devenv"
)

// Process is one hookd subprocess of the shape (`hookd temporal`, `hookd api` or a
// `hookd worker`). Its output goes to its log file, appended to at every start, so the log
// of a killed run is kept. Its methods are safe for concurrent use.
type Process struct {
	name     string
	binary   string
	args     []string
	env      []string
	logPath  string
	addrPath string // HOOKD_ADDR_FILE: where it says, once ready, where it listens

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited <-chan struct{} // closed when cmd has exited
	addrs  addrfile.Addresses
	starts int
}

func newProcess(name, binary, dir string, env []string, args ...string) *Process {
	p := &Process{
		name:     name,
		binary:   binary,
		args:     args,
		logPath:  filepath.Join(dir, name+".log"),
		addrPath: filepath.Join(dir, name+".addr.json"),
	}
	p.env = slices.Concat(env, []string{"HOOKD_ADDR_FILE=" + p.addrPath})
	return p
}

// Name is the process's name in the shape: temporal, api (serve with Options.Serve),
// worker-0, worker-1, ….
func (p *Process) Name() string { return p.name }

// LogPath is the file its output goes to.
func (p *Process) LogPath() string { return p.logPath }

// Addrs are the addresses its last start reported (see internal/addrfile).
func (p *Process) Addrs() addrfile.Addresses {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addrs
}

// PID is the process id of its last start, 0 before the first.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether its last start is still running.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// errExitedStartingUp is a start whose process exited before it was ready.
var errExitedStartingUp = errors.New("exited during start-up")

// Start runs the process (again, once it has exited) and waits, for up to within, until
// it has written its address file. It fails when the process exits first; a process still
// running when ctx ends or within passes is killed.
func (p *Process) Start(ctx context.Context, within time.Duration) error {
	if p.Running() {
		return fmt.Errorf("start %s: already running", p.name)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	defer logf.Close()
	p.mu.Lock()
	p.starts++
	fmt.Fprintf(logf, "=== prodshape: start %d of %s %s at %s\n", p.starts, p.binary,
		strings.Join(p.args, " "), time.Now().UTC().Format(time.RFC3339Nano))
	p.mu.Unlock()

	cmd := exec.Command(p.binary, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig kills the process if the test binary dies without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	exited, err := devenv.StartTied(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	addrs, err := addrfile.Wait(wctx, p.addrPath, cmd.Process.Pid, exited)
	switch {
	case err == nil:
		p.mu.Lock()
		p.addrs = addrs
		p.mu.Unlock()
		return nil
	case isClosed(exited):
		return fmt.Errorf("start %s: %w (%s); the end of %s:\n%s", p.name, errExitedStartingUp,
			cmd.ProcessState, p.logPath, p.logTail())
	default:
		_ = p.Kill()
		return fmt.Errorf("start %s: not ready within %v: %w; the end of %s:\n%s", p.name, within, err,
			p.logPath, p.logTail())
	}
}

// Kill ends the process with SIGKILL, so it cleans nothing up, and waits for it to exit.
// A process not running is left alone.
func (p *Process) Kill() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || isClosed(exited) {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	<-exited
	return nil
}

// Stop ends the process with SIGTERM and waits for it to exit; past grace it kills it
// and says so. A process not running is left alone.
func (p *Process) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || isClosed(exited) {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
		_ = p.Kill()
		return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, grace)
	}
}

// logTail is the end of its log, for an error.
func (p *Process) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b[max(0, len(b)-3000):])
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

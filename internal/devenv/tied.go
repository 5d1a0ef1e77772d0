package devenv

import (
	"os/exec"
	"runtime"
)

// StartTied starts cmd for a caller that set Pdeathsig in cmd.SysProcAttr, and returns a
// channel closed once cmd has exited (after cmd.Wait). Pdeathsig fires when the thread
// that forked the child exits, not the process: so cmd is started from a goroutine locked
// to its thread, which then waits for cmd, and the signal comes only when the parent dies.
func StartTied(cmd *exec.Cmd) (exited <-chan struct{}, err error) {
	started, done := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

//go:build unix

package devtemporal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock keeps a second server, in this process or another, off a database
// file: two servers on one file would fight over shard ownership.
type fileLock struct{ f *os.File }

// lockDatabase takes an exclusive lock on dbFile+".lock"; the kernel drops
// it when the process dies, so a crash never leaves the file locked.
func lockDatabase(dbFile string) (*fileLock, error) {
	name := dbFile + ".lock"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock database: %s is in use by another Temporal dev server", dbFile)
		}
		return nil, fmt.Errorf("lock database: %w", err)
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

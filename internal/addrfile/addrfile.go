// Package addrfile is the file in which a running hookd process says where it listens:
// hookd binds its listeners (port 0 picks any free one), and once it is ready to serve it
// writes their addresses there (HOOKD_ADDR_FILE; hookd dev: <data-dir>/addresses.json), so
// that tests and tools find the process they started without picking a port for it.
//
// The file is one JSON object; a key is present only when that listener runs:
//
//	{"api":"http://127.0.0.1:41234","metrics":"http://127.0.0.1:9090",
//	 "pprof":"http://127.0.0.1:6060","temporal":"127.0.0.1:7233",
//	 "temporalUI":"http://127.0.0.1:8233","pid":1234}
//
// It is written atomically (a temporary file renamed over it), so a reader sees either no
// file or a whole one, and removed when the process stops cleanly. A process killed with
// SIGKILL leaves its file behind: a reader that started a process waits for one naming
// that process's pid (see Wait).
package addrfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Addresses are the listeners of one hookd process.
type Addresses struct {
	// API is the API's base URL, http://host:port; it serves /metrics too.
	API string `json:"api,omitempty"`
	// Metrics is the base URL of the Prometheus /metrics listener of a process without
	// the API (hookd worker, HOOKD_METRICS_ADDR).
	Metrics string `json:"metrics,omitempty"`
	// Pprof is the base URL of Go's profiles (HOOKD_PPROF_ADDR), under /debug/pprof/.
	Pprof string `json:"pprof,omitempty"`
	// Temporal is the embedded Temporal server's gRPC frontend, host:port (hookd dev).
	Temporal string `json:"temporal,omitempty"`
	// TemporalUI is the embedded Temporal Web UI's base URL (hookd dev).
	TemporalUI string `json:"temporalUI,omitempty"`
	// PID is the process that listens.
	PID int `json:"pid"`
}

// Write writes a to path atomically: a temporary file in the same directory, renamed
// over path. The file is readable by everyone (0644): it holds no secret.
func Write(path string, a Addresses) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode addresses: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write address file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone already once renamed
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write address file: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write address file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write address file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write address file: %w", err)
	}
	return nil
}

// Remove removes the file at path if it still names pid: a process that stops removes
// its own file, never one a newer process wrote meanwhile.
func Remove(path string, pid int) error {
	a, err := Read(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && a.PID != pid) {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove address file: %w", err)
	}
	return nil
}

// Read reads the file at path; an error wraps os.ErrNotExist when there is none.
func Read(path string) (Addresses, error) {
	var a Addresses
	b, err := os.ReadFile(path)
	if err != nil {
		return a, fmt.Errorf("read address file: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("read address file %s: %w", path, err)
	}
	return a, nil
}

// Wait polls path until it holds the addresses of process pid, and returns them. It
// gives up when ctx ends or exited is closed (the process is gone: it never will).
func Wait(ctx context.Context, path string, pid int, exited <-chan struct{}) (Addresses, error) {
	for {
		a, err := Read(path)
		if err == nil && a.PID == pid {
			return a, nil
		}
		select {
		case <-ctx.Done():
			return Addresses{}, fmt.Errorf("wait for %s of process %d: %w", path, pid, ctx.Err())
		case <-exited:
			return Addresses{}, fmt.Errorf("wait for %s: process %d exited", path, pid)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

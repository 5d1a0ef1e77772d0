package addrfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteReadRemove(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "addresses.json")
	want := Addresses{API: "http://127.0.0.1:41234", Temporal: "127.0.0.1:7233", PID: 1234}
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The shape others read: absent listeners have no key.
	if got := string(b); got != `{"api":"http://127.0.0.1:41234","temporal":"127.0.0.1:7233","pid":1234}`+"\n" {
		t.Fatalf("file = %s", got)
	}
	if got, err := Read(path); err != nil || got != want {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("Write left %d files, want the address file alone", len(entries))
	}

	// Another process's file stays; one's own goes.
	if err := Remove(path, 999); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err != nil {
		t.Fatalf("Remove of another pid removed the file: %v", err)
	}
	if err := Remove(path, 1234); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Remove: %v, want ErrNotExist", err)
	}
	if err := Remove(path, 1234); err != nil {
		t.Fatalf("Remove of no file: %v", err)
	}
}

func TestWaitForItsProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "addresses.json")
	if err := Write(path, Addresses{API: "http://old", PID: 1}); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = Write(path, Addresses{API: "http://new", PID: 2})
	}()
	a, err := Wait(context.Background(), path, 2, exited)
	if err != nil || a.API != "http://new" {
		t.Fatalf("Wait = %+v, %v; want the file of pid 2", a, err)
	}
	close(exited)
	if _, err := Wait(context.Background(), path, 3, exited); err == nil {
		t.Fatal("Wait for an exited process returned no error")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, path, 3, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past its context: %v", err)
	}
}

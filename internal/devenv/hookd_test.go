package devenv

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/addrfile"
)

// fakeHookd is a stand-in for the hookd binary: its first FAKE_FAILS runs exit as hookd
// does when the Temporal server loses a port race ("address already in use"); its next
// runs become TestHelperReadyz (the test binary, same pid), which listens on
// HOOKD_API_ADDR (127.0.0.1:0), writes HOOKD_ADDR_FILE and serves GET /readyz. Every run
// adds a line to the file runs.
const fakeHookd = `#!/bin/sh
echo run >> "$FAKE_DIR/runs"
if [ "$(wc -l < "$FAKE_DIR/runs")" -le "$FAKE_FAILS" ]; then
  echo 'failed listening for HTTP API on 127.0.0.1:1: listen tcp 127.0.0.1:1: bind: address already in use'
  exit 1
fi
FAKE_SERVE_READYZ=1 exec "$FAKE_TEST_BIN" -test.run='^TestHelperReadyz$'
`

// newFake returns a Hookd running the fake hookd, which loses the race fails times, and
// its directory.
func newFake(t *testing.T, fails int) (*Hookd, string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookd")
	if err := os.WriteFile(bin, []byte(fakeHookd), 0o755); err != nil {
		t.Fatal(err)
	}
	h, err := NewHookd(HookdOptions{
		Binary: bin, DataDir: dir, AdminKey: "k", LogFile: filepath.Join(dir, "hookd.log"),
		Env: []string{"FAKE_DIR=" + dir, "FAKE_FAILS=" + strconv.Itoa(fails), "FAKE_TEST_BIN=" + os.Args[0]},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.cmd != nil && !h.Exited() {
			_ = h.Kill()
		}
	})
	return h, dir
}

func runs(t *testing.T, dir string) int {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "runs"))
	return len(strings.Fields(string(b)))
}

// TestStartRetriesALostPortRace: a start that exits on "address already in use" is tried
// again (the ports hookd picks inside are picked anew), up to startTries times.
func TestStartRetriesALostPortRace(t *testing.T) {
	t.Parallel()
	h, dir := newFake(t, 1)
	if err := h.Start(context.Background(), 30*time.Second); err != nil || runs(t, dir) != 2 {
		t.Fatalf("one lost race: %d runs, %v; want ready after 2", runs(t, dir), err)
	}
	h, dir = newFake(t, startTries)
	if err := h.Start(context.Background(), 30*time.Second); err == nil || runs(t, dir) != startTries {
		t.Fatalf("every try lost: %d runs, %v; want an error after %d", runs(t, dir), err, startTries)
	}
}

// TestStartReadsItsOwnProcessAddresses: Start takes the API's address from the address
// file of the process it started, never from one a killed hookd left behind (here naming
// a live server), and a start after Kill learns the new process's new port.
func TestStartReadsItsOwnProcessAddresses(t *testing.T) {
	t.Parallel()
	h, _ := newFake(t, 0)
	stale := serveReadyz(t)
	if err := addrfile.Write(h.AddrFile, addrfile.Addresses{API: stale, PID: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	first := h.APIURL
	a, err := addrfile.Read(h.AddrFile)
	if err != nil || a.PID != h.PID() || a.API != first || first == stale || !strings.HasPrefix(first, "http://127.0.0.1:") {
		t.Fatalf("APIURL %s, file %+v (%v); want the address of process %d, not the stale %s", first, a, err, h.PID(), stale)
	}
	if err := h.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(h.APIURL + "/readyz")
	if err != nil {
		t.Fatalf("the API at %s after the restart: %v", h.APIURL, err)
	}
	resp.Body.Close()
	if a, _ := addrfile.Read(h.AddrFile); a.PID != h.PID() || a.API != h.APIURL {
		t.Fatalf("after the restart: file %+v, APIURL %s, pid %d", a, h.APIURL, h.PID())
	}
}

// serveReadyz runs a server answering 200 to everything and returns its base URL.
func serveReadyz(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestHelperReadyz is the fake hookd's server (see fakeHookd): run with FAKE_SERVE_READYZ
// set, it listens on HOOKD_API_ADDR, writes HOOKD_ADDR_FILE and answers 200 there until
// killed. As a test of its own it does nothing.
func TestHelperReadyz(t *testing.T) {
	if os.Getenv("FAKE_SERVE_READYZ") == "" {
		return
	}
	ln, err := net.Listen("tcp", os.Getenv("HOOKD_API_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	a := addrfile.Addresses{API: "http://" + ln.Addr().String(), PID: os.Getpid()}
	if err := addrfile.Write(os.Getenv("HOOKD_ADDR_FILE"), a); err != nil {
		t.Fatal(err)
	}
	t.Fatal(http.Serve(ln, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
}

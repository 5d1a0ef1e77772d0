package devenv

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeHookd is a stand-in for the hookd binary: its first run exits as hookd does when
// the Temporal server loses a port race ("address already in use"), its next runs serve
// GET /readyz on the API address (python3's http.server over a directory holding a file
// readyz), and every run is counted in the file runs.
const fakeHookd = `#!/bin/sh
echo run >> "$FAKE_DIR/runs"
if [ "$(wc -l < "$FAKE_DIR/runs")" -le "$FAKE_FAILS" ]; then
  echo 'failed listening for HTTP API on 127.0.0.1:1: listen tcp 127.0.0.1:1: bind: address already in use'
  exit 1
fi
FAKE_SERVE_READYZ="$HOOKD_API_ADDR" exec "$FAKE_TEST_BIN" -test.run='^TestHelperReadyz$'

`

func startFake(t *testing.T, fails int) (*Hookd, int, error) {
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
	err = h.Start(context.Background(), 30*time.Second)
	t.Cleanup(func() {
		if h.cmd != nil && !h.Exited() {
			_ = h.Kill()
		}
	})
	runs, _ := os.ReadFile(filepath.Join(dir, "runs"))
	return h, strings.Count(string(runs), "run"), err
}

// TestStartRetriesALostPortRace: a start that exits on "address already in use" is tried
// again (the ports hookd picks inside are picked anew), up to startTries times.
func TestStartRetriesALostPortRace(t *testing.T) {
	t.Parallel()
	if _, runs, err := startFake(t, 1); err != nil || runs != 2 {
		t.Fatalf("one lost race: %d runs, %v; want ready after 2", runs, err)
	}
	if _, runs, err := startFake(t, startTries); err == nil || runs != startTries {
		t.Fatalf("every try lost: %d runs, %v; want an error after %d", runs, err, startTries)
	}
}

// TestHelperReadyz is the fake hookd's server (see fakeHookd): run with FAKE_SERVE_READYZ
// set to an address, it answers 200 there until killed. As a test of its own it does
// nothing.
func TestHelperReadyz(t *testing.T) {
	addr := os.Getenv("FAKE_SERVE_READYZ")
	if addr == "" {
		return
	}
	t.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
}

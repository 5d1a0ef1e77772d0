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
// readyz), and every run writes its API address as a line of the file runs. With
// FAKE_API_RACE set, the port lost is the API's own.
const fakeHookd = `#!/bin/sh
echo "$HOOKD_API_ADDR" >> "$FAKE_DIR/runs"
if [ "$(wc -l < "$FAKE_DIR/runs")" -le "$FAKE_FAILS" ]; then
  if [ -n "$FAKE_API_RACE" ]; then
    echo "hookd: listen on $HOOKD_API_ADDR: listen tcp $HOOKD_API_ADDR: bind: address already in use"
  else
    echo 'failed listening for HTTP API on 127.0.0.1:1: listen tcp 127.0.0.1:1: bind: address already in use'
  fi
  exit 1
fi
FAKE_SERVE_READYZ="$HOOKD_API_ADDR" exec "$FAKE_TEST_BIN" -test.run='^TestHelperReadyz$'

`

// startFake starts the fake hookd, which loses the race fails times, and returns it with
// the API address of each of its runs.
func startFake(t *testing.T, fails int, env ...string) (*Hookd, []string, error) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookd")
	if err := os.WriteFile(bin, []byte(fakeHookd), 0o755); err != nil {
		t.Fatal(err)
	}
	h, err := NewHookd(HookdOptions{
		Binary: bin, DataDir: dir, AdminKey: "k", LogFile: filepath.Join(dir, "hookd.log"),
		Env: append([]string{"FAKE_DIR=" + dir, "FAKE_FAILS=" + strconv.Itoa(fails), "FAKE_TEST_BIN=" + os.Args[0]}, env...),
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
	return h, strings.Fields(string(runs)), err
}

// TestStartRetriesALostPortRace: a start that exits on "address already in use" is tried
// again (the ports hookd picks inside are picked anew), up to startTries times.
func TestStartRetriesALostPortRace(t *testing.T) {
	t.Parallel()
	if _, runs, err := startFake(t, 1); err != nil || len(runs) != 2 || runs[0] != runs[1] {
		t.Fatalf("one lost race: %q runs, %v; want ready after 2 on the same API port", runs, err)
	}
	if _, runs, err := startFake(t, startTries); err == nil || len(runs) != startTries {
		t.Fatalf("every try lost: %d runs, %v; want an error after %d", len(runs), err, startTries)
	}
}

// TestStartMovesALostAPIPort: a start that exits because the API's own port was taken
// meanwhile is tried again on another port, which APIURL then names.
func TestStartMovesALostAPIPort(t *testing.T) {
	t.Parallel()
	h, runs, err := startFake(t, 1, "FAKE_API_RACE=1")
	if err != nil || len(runs) != 2 || runs[0] == runs[1] || h.APIURL != "http://"+runs[1] {
		t.Fatalf("a lost API port: runs on %q, APIURL %s, %v; want ready on a second port APIURL names", runs, h.APIURL, err)
	}
	resp, err := http.Get(h.APIURL + "/readyz")
	if err != nil {
		t.Fatalf("the API at %s after the move: %v", h.APIURL, err)
	}
	resp.Body.Close()
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

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/store/storetest"
)

// hookdBin is the binary under test, built once by TestMain.
var hookdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookd-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	if hookdBin, err = devenv.BuildHookd(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	storetest.Main(m, func() { os.RemoveAll(dir) })
}

// instance is one running `hookd dev` process.
type instance struct {
	t        *testing.T
	dataDir  string
	adminKey string
	dbURL    string // "" when hookd runs its own private PostgreSQL
	dev      *devenv.Hookd
}

type options struct {
	// ownPostgres runs hookd's private PostgreSQL in the data dir instead of a database
	// from the test cluster.
	ownPostgres bool
	// env is extra environment for hookd, applied last.
	env []string
}

// startHookd starts `hookd dev` on free ports with a fresh data dir and waits until it is
// ready. It is stopped (SIGTERM) when the test ends.
func startHookd(t *testing.T, o options) *instance {
	t.Helper()
	dataDir := t.TempDir()
	// PostgreSQL runs as an unprivileged user when tests run as root: let it through
	// t.TempDir's private directories.
	for _, dir := range []string{filepath.Dir(dataDir), dataDir} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	in := &instance{
		t:        t,
		dataDir:  dataDir,
		adminKey: "hk_e2e_admin_" + strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	if !o.ownPostgres {
		in.dbURL = storetest.URL(t)
	}
	var err error
	in.dev, err = devenv.NewHookd(devenv.HookdOptions{
		Binary:      hookdBin,
		DataDir:     dataDir,
		AdminKey:    in.adminKey,
		DatabaseURL: in.dbURL,
		Env:         append([]string{"HOOKD_RECONCILE_INTERVAL=1s"}, o.env...),
		LogFile:     filepath.Join(t.TempDir(), "hookd.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.stop)
	in.start()
	return in
}

// start runs hookd (again, after kill) and waits until it is ready.
func (in *instance) start() {
	in.t.Helper()
	if err := in.dev.Start(context.Background(), 90*time.Second); err != nil {
		in.t.Fatalf("%v:\n%s", err, in.dev.LogTail(0))
	}
}

// kill ends hookd with SIGKILL: no clean shutdown of anything it runs in-process.
func (in *instance) kill() {
	in.t.Helper()
	if err := in.dev.Kill(); err != nil {
		in.t.Fatal(err)
	}
}

func (in *instance) stop() {
	if err := in.dev.Stop(); err != nil {
		in.t.Errorf("%v:\n%s", err, in.dev.LogTail(0))
	}
}

// temporalClient connects to the instance's embedded Temporal server.
func (in *instance) temporalClient() client.Client {
	in.t.Helper()
	c, err := client.Dial(client.Options{HostPort: in.dev.TemporalAddr, Namespace: "default"})
	if err != nil {
		in.t.Fatalf("dial temporal: %v", err)
	}
	in.t.Cleanup(c.Close)
	return c
}

// db connects to the instance's database (the test cluster's).
func (in *instance) db() *pgxpool.Pool {
	in.t.Helper()
	if in.dbURL == "" {
		in.t.Fatal("this instance runs its own PostgreSQL")
	}
	pool, err := pgxpool.New(context.Background(), in.dbURL)
	if err != nil {
		in.t.Fatalf("connect: %v", err)
	}
	in.t.Cleanup(pool.Close)
	return pool
}

// keysCreate runs `hookd keys create` against the instance's database.
func (in *instance) keysCreate(org, role string) string {
	in.t.Helper()
	cmd := exec.Command(hookdBin, "keys", "create", "--role", role, "--org", org)
	cmd.Env = in.dev.Env
	out, err := cmd.Output()
	if err != nil {
		in.t.Fatalf("hookd keys create: %v %s", err, exitStderr(err))
	}
	return strings.TrimSpace(string(out))
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// response is an API answer with its decoded JSON body.
type response struct {
	status      int
	contentType string
	raw         []byte
	body        map[string]any
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r response) list(key string) []map[string]any {
	items, _ := r.body[key].([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// call sends a request with key as the Bearer token; body may be a []byte (sent as is)
// or anything JSON-encodable.
func (in *instance) call(method, path, key string, body any) response {
	in.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			in.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, in.dev.APIURL+path, rd)
	if err != nil {
		in.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// must calls and fails the test unless the answer has the wanted status.
func (in *instance) must(want int, method, path string, body any) response {
	in.t.Helper()
	r := in.call(method, path, in.adminKey, body)
	if r.status != want {
		in.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// eventually polls check every 50ms until it returns "" or the deadline passes.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		if last = check(); last == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not within %v: %s", within, last)
}

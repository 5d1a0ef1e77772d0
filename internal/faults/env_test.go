//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/devenv"
)

// startWithin bounds a start of hookd dev (the embedded Temporal server included).
const startWithin = 2 * time.Minute

// env is one `hookd dev` on a private PostgreSQL of its own (DATABASE_URL), shared by the
// faults that can share it.
type env struct {
	t        *testing.T
	dir      string
	pgDir    string
	pgPort   int
	pg       *devenv.Postgres
	dbURL    string
	adminKey string
	hookd    *devenv.Hookd
	client   *http.Client

	mu   sync.Mutex
	base string // the API's base URL, which a restart may change
}

// startEnv starts the private PostgreSQL and hookd dev on it, both ended when t ends.
func startEnv(t *testing.T) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "hookd-faults-")
	if err != nil {
		t.Fatal(err)
	}
	// PostgreSQL runs as user postgres when the tests run as root: let it through.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, dir: dir, pgDir: filepath.Join(dir, "pg"),
		adminKey: "hk_faults_admin_" + strconv.FormatInt(time.Now().UnixNano(), 36),
		client:   &http.Client{Timeout: 30 * time.Second},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s (hookd.log, pg/hookd-postgres.log) for a look", dir)
			return
		}
		os.RemoveAll(dir)
	})
	e.startPostgres(0)
	t.Cleanup(func() { _ = e.pg.Stop(context.Background()) })
	e.dbURL = e.pg.URL(devenv.Database)

	e.hookd, err = devenv.NewHookd(devenv.HookdOptions{
		Binary:      hookdBin,
		DataDir:     filepath.Join(dir, "hookd"),
		AdminKey:    e.adminKey,
		DatabaseURL: e.dbURL,
		Env:         []string{"HOOKD_RECONCILE_INTERVAL=1s"},
		LogFile:     filepath.Join(dir, "hookd.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.hookd.Stop(); err != nil {
			t.Errorf("%v:\n%s", err, e.hookd.LogTail(4000))
		}
	})
	e.startHookd()
	return e
}

// startPostgres starts (or starts again, after a kill) the private cluster on port (0: a
// free one). A postmaster killed a moment ago may leave backends that still hold its
// shared memory for a moment, which the new postmaster refuses: it is tried again.
func (e *env) startPostgres(port int) {
	e.t.Helper()
	var err error
	for try := 0; try < 30; try++ {
		e.pg, err = devenv.Start(context.Background(), devenv.Options{
			DataDir: e.pgDir, Port: port, StopWithParent: true, Logger: slog.New(slog.DiscardHandler),
		})
		if err == nil {
			e.pgPort = e.pg.Port()
			return
		}
		time.Sleep(time.Second)
	}
	e.t.Fatalf("start postgres: %v", err)
}

// startHookd runs hookd dev (again) and waits until it is ready.
func (e *env) startHookd() {
	e.t.Helper()
	if err := e.hookd.Start(context.Background(), startWithin); err != nil {
		e.t.Fatalf("%v:\n%s", err, e.hookd.LogTail(4000))
	}
	e.mu.Lock()
	e.base = e.hookd.APIURL
	e.mu.Unlock()
}

func (e *env) baseURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.base
}

// answer is an HTTP answer, read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) isProblem() bool {
	return strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json")
}

func (a answer) String() string {
	b := a.body
	if len(b) > 300 {
		b = b[:300]
	}
	return fmt.Sprintf("%d %s %s", a.status, a.header.Get("Content-Type"), b)
}

// send makes one request to the API; key "" sends no Authorization, body nil no body.
// The answer body is read up to 1 MiB.
func (e *env) send(method, path, key string, body []byte, header map[string]string) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.baseURL()+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// must sends a JSON request as key and fails unless it is answered want; it returns the
// decoded body.
func (e *env) must(want int, method, path, key string, body any) map[string]any {
	e.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	a, err := e.send(method, path, key, raw, nil)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	if a.status != want {
		e.t.Fatalf("%s %s = %s, want %d", method, path, a, want)
	}
	out := map[string]any{}
	if len(a.body) > 0 {
		_ = json.Unmarshal(a.body, &out)
	}
	return out
}

// eventType creates an event type as the admin unless it exists.
func (e *env) eventType(key, name string) {
	e.t.Helper()
	a, err := e.send(http.MethodGet, "/v1/event-types/"+name, key, nil, nil)
	if err == nil && a.status == http.StatusOK {
		return
	}
	e.must(http.StatusCreated, http.MethodPost, "/v1/event-types", key, map[string]any{"name": name, "description": "fault suite"})
}

// webhook creates a webhook to url for events of type typ, with fields added; it returns
// its id.
func (e *env) webhook(key, name, url, typ string, fields map[string]any) string {
	e.t.Helper()
	e.eventType(key, typ)
	body := map[string]any{"name": name, "url": url, "events": []string{typ}}
	for k, v := range fields {
		body[k] = v
	}
	id, _ := e.must(http.StatusCreated, http.MethodPost, "/v1/webhooks", key, body)["id"].(string)
	return id
}

// ready reports whether GET /readyz answers 200.
func (e *env) ready() bool {
	a, err := e.send(http.MethodGet, "/readyz", "", nil, nil)
	return err == nil && a.status == http.StatusOK
}

// waitReady waits (at most within) until hookd is ready.
func (e *env) waitReady(within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for !e.ready() {
		if time.Now().After(deadline) {
			e.t.Fatalf("hookd not ready within %v:\n%s", within, e.hookd.LogTail(4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rss is hookd's resident memory in KiB, from /proc (0 if unknown).
func (e *env) rss() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.hookd.PID()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// fingerprint is every table of hookd's schema as a row count and a digest of its rows,
// to show that requests changed nothing. api_keys is only counted: authenticating a
// request stamps the key's last use.
func (e *env) fingerprint() map[string]string {
	e.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		e.t.Fatalf("list tables: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatalf("list tables: %v", err)
	}
	out := make(map[string]string, len(tables))
	for _, table := range tables {
		q := fmt.Sprintf(`SELECT count(*)::text || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`,
			pgx.Identifier{table}.Sanitize())
		if table == "api_keys" {
			q = `SELECT count(*)::text FROM api_keys`
		}
		var v string
		if err := conn.QueryRow(ctx, q).Scan(&v); err != nil {
			e.t.Fatalf("fingerprint %s: %v", table, err)
		}
		out[table] = v
	}
	return out
}

// changedTables names the tables whose fingerprint differs.
func changedTables(before, after map[string]string) []string {
	var out []string
	for table, v := range after {
		if before[table] != v {
			out = append(out, table)
		}
	}
	return out
}

// receiver is a loopback webhook receiver that answers 200 and counts the requests of
// each delivery (webhook-id).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

// newReceiver starts a receiver that answers at once.
func newReceiver(t *testing.T) *receiver { return newSlowReceiver(t, 0) }

// newSlowReceiver starts a receiver that takes delay to answer, so that a process killed
// at any moment has attempts in flight.
func newSlowReceiver(t *testing.T, delay time.Duration) *receiver {
	rc := &receiver{seen: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(delay)
		rc.mu.Lock()
		rc.seen[r.Header.Get("webhook-id")]++
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

// tally counts, of ids, those received at least once and the requests beyond the first.
func (rc *receiver) tally(ids []string) (delivered, duplicated int, missing []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range ids {
		n := rc.seen[id]
		if n == 0 {
			missing = append(missing, id)
			continue
		}
		delivered++
		duplicated += n - 1
	}
	return delivered, duplicated, missing
}

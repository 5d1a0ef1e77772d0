package devenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tempDataDir returns a data dir path under a fresh t.TempDir, with the temp dirs made
// traversable (0755) so that the postgres user can reach it when tests run as root.
func tempDataDir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for dir := base; dir != filepath.Dir(dir) && dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, "pg")
}

func TestStartPostgresKeepsDataAcrossRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := tempDataDir(t)
	opts := Options{DataDir: dir, DisableDurability: true, StopWithParent: true}

	pg, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	port := pg.Port()
	execSQL(t, ctx, pg.URL(Database), "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")
	if err := pg.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid still there after Stop: %v", err)
	}

	pg2, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { _ = pg2.Stop(context.Background()) })
	if pg2.Port() != port {
		t.Errorf("port after restart = %d, want the persisted %d", pg2.Port(), port)
	}
	var body string
	if err := queryRow(t, ctx, pg2.URL(Database), "SELECT body FROM notes").Scan(&body); err != nil || body != "kept" {
		t.Fatalf("row written before restart: %q, %v", body, err)
	}
	// The unix socket in the data dir works too.
	if err := queryRow(t, ctx, pg2.SocketURL(Database), "SELECT 'x'").Scan(&body); err != nil {
		t.Fatalf("socket url: %v", err)
	}
}

func TestStartPostgresReusesRunningPostmaster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := Options{DataDir: tempDataDir(t), DisableDurability: true, StopWithParent: true}
	first, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Stop(context.Background()) })

	// As after a SIGKILL of hookd: the postmaster still runs and a new Start finds it.
	second, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if first.Reused() || !second.Reused() {
		t.Fatalf("Reused: first %v, second %v; want false, true", first.Reused(), second.Reused())
	}
	if err := second.Release(ctx); err != nil {
		t.Fatal(err)
	}
	execSQL(t, ctx, second.URL(Database), "SELECT 1") // Release left it running
	if second.Port() != first.Port() {
		t.Fatalf("second start port = %d, want the running %d", second.Port(), first.Port())
	}
	execSQL(t, ctx, second.URL(Database), "SELECT 1")
	if err := second.Stop(ctx); err != nil {
		t.Fatalf("stop reused: %v", err)
	}
	select {
	case <-first.done:
	case <-ctx.Done():
		t.Fatal("postmaster did not exit after Stop of the reusing handle")
	}
}

func TestStartPostgresRefusesUntraversableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("not root: the server runs as this user, no parent check needed")
		return
	}
	base := t.TempDir() // 0700, owned by root
	_, err := Start(context.Background(), Options{DataDir: filepath.Join(base, "pg")})
	if err == nil {
		t.Fatal("Start succeeded under a 0700 root-owned parent")
	}
	t.Log(err)
}

func execSQL(t *testing.T, ctx context.Context, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func queryRow(t *testing.T, ctx context.Context, url, sql string) pgx.Row {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn.QueryRow(ctx, sql)
}

// helperDirEnv makes the test binary act as a hookd that starts postgres and then hangs,
// to be SIGKILLed by TestStartPostgresSurvivesKilledParent.
const helperDirEnv = "DEVENV_TEST_HELPER_DIR"

func TestHelperStartAndHang(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		return // not the helper process
	}
	pg, err := StartPostgres(context.Background(), dir, 0, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("ready", pg.Port())
	select {}
}

func TestStartPostgresSurvivesKilledParent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := tempDataDir(t)
	cmd := osexec.Command(os.Args[0], "-test.run=^TestHelperStartAndHang$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		_ = cmd.Process.Kill()
		t.Fatalf("helper said %q, %v", line, err)
	}
	port, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to stop postgres
		t.Fatal(err)
	}
	_ = cmd.Wait()

	pg, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	if pg.done != nil {
		t.Error("Start launched a new postmaster instead of reusing the survivor")
	}
	if pg.Port() != port {
		t.Errorf("port = %d, want the survivor's %d", pg.Port(), port)
	}
	execSQL(t, ctx, pg.URL(Database), "SELECT 1")
	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("survivor still running after Stop: %v", err)
	}
}

func TestPostmasterPID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/postmaster.pid", []byte("31337\n/var/lib/pg\n1700000000\n5432\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pid, err := PostmasterPID(dir); err != nil || pid != 31337 {
		t.Errorf("PostmasterPID = %d, %v; want 31337", pid, err)
	}
	if _, err := PostmasterPID(t.TempDir()); err == nil {
		t.Error("PostmasterPID of a directory without postmaster.pid succeeded")
	}
}

package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Superuser and Database are the role initdb creates and the database StartPostgres ensures.
const (
	Superuser = "hookd"
	Database  = "hookd"
)

// Files hookd keeps in the data directory next to PostgreSQL's own.
const (
	portFile = "hookd.port"
	logFile  = "hookd-postgres.log"
)

// maxSocketPath is the longest unix socket path Linux accepts (sun_path minus the NUL).
const maxSocketPath = 107

// Options configures Start. Only DataDir is required.
type Options struct {
	// DataDir holds the cluster; it is created and initialised when empty.
	DataDir string
	// Port for 127.0.0.1. 0 means the port persisted in DataDir by an earlier start, or a
	// free one (which is then persisted).
	Port int
	// Logger receives start/stop messages; nil discards them.
	Logger *slog.Logger
	// BinDir holds initdb, postgres and pg_ctl; "" searches /usr/lib/postgresql/15/bin,
	// PATH, then /usr/lib/postgresql/*/bin (newest first).
	BinDir string
	// DisableDurability turns fsync, synchronous_commit and full_page_writes off: much
	// faster, and a crash of the machine may corrupt the cluster. For tests only.
	DisableDurability bool
	// StopWithParent makes the server stop (SIGQUIT) when this process dies, so a killed
	// test binary leaves no postmaster behind. Without it the server outlives a crash of
	// this process and the next Start reuses it.
	StopWithParent bool
	// Settings are extra server settings (name → value), passed as -c name=value.
	Settings map[string]string
}

// Postgres is a running private cluster. Its methods are safe for concurrent use.
type Postgres struct {
	dataDir string
	binDir  string
	port    int
	log     *slog.Logger
	cred    *syscall.Credential // nil when not running as root
	done    <-chan struct{}     // closed when the postmaster we started exits; nil if reused

	stopOnce sync.Once
	stopErr  error
}

// StartPostgres starts (or reuses) the cluster in dataDir on 127.0.0.1:port with durable
// settings, as `hookd dev` wants it. See Start for the details and for test options.
func StartPostgres(ctx context.Context, dataDir string, port int, log *slog.Logger) (*Postgres, error) {
	return Start(ctx, Options{DataDir: dataDir, Port: port, Logger: log})
}

// Start initialises o.DataDir if it holds no cluster (initdb -U hookd, trust auth), starts
// the server listening on 127.0.0.1 and on a unix socket inside the data directory, and
// creates database "hookd". A postmaster already running on the data directory (left
// behind when hookd was killed) is reused as it is, whatever its port and settings.
//
// With o.Port 0 the port is the one the cluster last used (kept in the data directory),
// else a free one (FreePort): postgres cannot bind port 0 and report it, and Temporal's
// SQL plugin needs a TCP port. A port found taken when postgres binds it (another process
// got it meanwhile) is replaced by a new free one, up to 5 times, so no start depends on
// winning that race; a port o.Port names is never replaced.
func Start(ctx context.Context, o Options) (*Postgres, error) {
	if o.DataDir == "" {
		return nil, errors.New("start postgres: no data dir")
	}
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if n := len(dataDir) + len("/.s.PGSQL.65535"); n > maxSocketPath {
		return nil, fmt.Errorf("start postgres: data dir path %s is too long for its unix socket (%d > %d bytes); use a shorter path", dataDir, n, maxSocketPath)
	}
	cred, userName, err := serverUser()
	if err != nil {
		return nil, err
	}
	binDir := o.BinDir
	if binDir == "" {
		if binDir, err = findBinDir(dataDir); err != nil {
			return nil, err
		}
	}
	p := &Postgres{dataDir: dataDir, binDir: binDir, log: log, cred: cred}

	if err := p.prepareDir(userName); err != nil {
		return nil, err
	}
	if port, ok := p.runningPostmaster(ctx); ok {
		p.port = port
		log.Info("reusing running postgres", "dataDir", dataDir, "port", port)
		if err := p.ensureDatabase(ctx); err != nil {
			return nil, err
		}
		return p, nil
	}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := p.initdb(ctx, o.DisableDurability); err != nil {
			return nil, err
		}
	}
	if err := p.startServer(ctx, o); err != nil {
		return nil, err
	}
	if err := p.ensureDatabase(ctx); err != nil {
		_ = p.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return p, nil
}

// URL is a connection URL for database db over TCP on 127.0.0.1.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, p.port, url.PathEscape(db))
}

// SocketURL is a connection URL for database db over the unix socket in the data
// directory: a little cheaper per query than TCP. Only root and the server's user can
// reach it (the data directory is 0700).
func (p *Postgres) SocketURL(db string) string {
	q := url.Values{"host": {p.dataDir}, "port": {strconv.Itoa(p.port)}, "sslmode": {"disable"}}
	return fmt.Sprintf("postgres://%s@/%s?%s", Superuser, url.PathEscape(db), q.Encode())
}

// Port is the TCP port the server listens on at 127.0.0.1.
func (p *Postgres) Port() int { return p.port }

// DataDir is the absolute path of the cluster's data directory.
func (p *Postgres) DataDir() string { return p.dataDir }

// Stop shuts the server down (pg_ctl stop -m fast: sessions are disconnected, then a
// checkpoint) and waits for it to exit. Calling it again returns the first result.
func (p *Postgres) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(ctx) })
	return p.stopErr
}

// Reused reports whether Start found the server already running instead of starting it.
func (p *Postgres) Reused() bool { return p.done == nil }

// Release stops the server if this handle started it, and leaves a reused one running
// (another process, such as a running `hookd dev`, may be using it). One-off commands
// call Release; the process that owns the cluster calls Stop.
func (p *Postgres) Release(ctx context.Context) error {
	if p.Reused() {
		return nil
	}
	return p.Stop(ctx)
}

func (p *Postgres) stop(ctx context.Context) error {
	out, err := p.command(ctx, "pg_ctl", "stop", "-D", p.dataDir, "-m", "fast", "-w", "-t", "120").CombinedOutput()
	if err != nil {
		// Exit status 1 with no pid file means it was not running: that is stopped too.
		if _, statErr := os.Stat(filepath.Join(p.dataDir, "postmaster.pid")); !errors.Is(statErr, os.ErrNotExist) {
			return fmt.Errorf("stop postgres: %w: %s", err, bytes.TrimSpace(out))
		}
	}
	if p.done != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return fmt.Errorf("stop postgres: %w", ctx.Err())
		}
	}
	p.log.Info("postgres stopped", "dataDir", p.dataDir)
	return nil
}

// serverUser is who runs initdb and the server: this process's user, or when that is root
// (which initdb and postgres refuse) the postgres user, else nobody.
func serverUser() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		uid, gid, err := lookupUser(name)
		if err != nil {
			continue
		}
		return &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{gid}}, name, nil
	}
	return nil, "", errors.New("start postgres: running as root, and neither user postgres nor nobody exists to run the server as")
}

// findBinDir picks the directory with initdb, postgres and pg_ctl. A data directory that
// already holds a cluster prefers the binaries of its major version.
func findBinDir(dataDir string) (string, error) {
	var candidates []string
	if v, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION")); err == nil {
		candidates = append(candidates, filepath.Join("/usr/lib/postgresql", strings.TrimSpace(string(v)), "bin"))
	}
	candidates = append(candidates, "/usr/lib/postgresql/15/bin")
	if path, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(path))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	candidates = append(candidates, dirs...)
	for _, dir := range candidates {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", errors.New("start postgres: no PostgreSQL server binaries (initdb, postgres, pg_ctl) in /usr/lib/postgresql/15/bin, on PATH or in /usr/lib/postgresql/*/bin; install the postgresql server package")
}

func lookupUser(name string) (uid, gid uint32, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	id, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return 0, 0, err
	}
	g, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return 0, 0, err
	}
	return uint32(id), uint32(g), nil
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres", "pg_ctl"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// command runs a PostgreSQL binary as the server user, from "/" (the server user may not
// be able to enter this process's working directory).
func (p *Postgres) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(p.binDir, name), args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// prepareDir creates the data directory, checks that the server user can reach it, and
// hands it to that user.
func (p *Postgres) prepareDir(userName string) error {
	if err := os.MkdirAll(p.dataDir, 0o700); err != nil {
		return fmt.Errorf("create postgres data dir: %w", err)
	}
	if p.cred == nil {
		return nil
	}
	for dir := filepath.Dir(p.dataDir); ; dir = filepath.Dir(dir) {
		if err := checkTraversable(dir, p.cred, userName); err != nil {
			return err
		}
		if dir == "/" || dir == "." {
			break
		}
	}
	fi, err := os.Stat(p.dataDir)
	if err != nil {
		return fmt.Errorf("stat postgres data dir: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == p.cred.Uid && st.Gid == p.cred.Gid {
		return nil
	}
	err = filepath.WalkDir(p.dataDir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(p.cred.Uid), int(p.cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("chown postgres data dir to %s: %w", userName, err)
	}
	return nil
}

func checkTraversable(dir string, cred *syscall.Credential, userName string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	mode := fi.Mode().Perm()
	ok := mode&0o001 != 0
	if st, isUnix := fi.Sys().(*syscall.Stat_t); isUnix {
		switch {
		case st.Uid == cred.Uid:
			ok = mode&0o100 != 0
		case st.Gid == cred.Gid:
			ok = mode&0o010 != 0
		}
	}
	if !ok {
		return fmt.Errorf("start postgres: the server runs as user %s, which cannot enter %s (mode %#o) on the way to the data dir; run chmod o+x %s or pick another data dir", userName, dir, mode, dir)
	}
	return nil
}

func (p *Postgres) initdb(ctx context.Context, noSync bool) error {
	args := []string{"-D", p.dataDir, "-U", Superuser, "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--locale=C"}
	if noSync {
		args = append(args, "--no-sync")
	}
	p.log.Info("initialising postgres cluster", "dataDir", p.dataDir, "binDir", p.binDir)
	out, err := p.command(ctx, "initdb", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(out, 2000))
	}
	return nil
}

// runningPostmaster reports the port of a live postmaster on the data directory, waiting
// for it to finish starting (or crash recovery) if needed.
func (p *Postgres) runningPostmaster(ctx context.Context) (int, bool) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pf, err := readPidFile(p.dataDir)
		if err != nil || !processIsPostgres(pf.pid) {
			return 0, false
		}
		if pf.status == "ready" && pf.port > 0 {
			return pf.port, true
		}
		if pf.status == "stopping" || time.Now().After(deadline) {
			return 0, false
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startServer runs the postmaster as a child process and waits until it is ready. An
// automatically chosen port that turns out to be taken is replaced by another.
func (p *Postgres) startServer(ctx context.Context, o Options) error {
	port, auto := o.Port, false
	if port == 0 {
		if b, err := os.ReadFile(filepath.Join(p.dataDir, portFile)); err == nil {
			port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	for attempt := 0; ; attempt++ {
		if port == 0 || (auto && attempt > 0) {
			free, err := FreePort("127.0.0.1")
			if err != nil {
				return err
			}
			port, auto = free, true
		}
		err := p.launch(ctx, o, port)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) || attempt >= 5 {
			return err
		}
		if !auto {
			if o.Port != 0 {
				return fmt.Errorf("start postgres: port %d is in use", port)
			}
			p.log.Warn("persisted postgres port is in use, picking another", "port", port)
			auto = true
		}
	}
	p.port = port
	if err := os.WriteFile(filepath.Join(p.dataDir, portFile), []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return fmt.Errorf("persist postgres port: %w", err)
	}
	p.log.Info("postgres started", "dataDir", p.dataDir, "port", port)
	return nil
}

var errPortInUse = errors.New("port in use")

func (p *Postgres) launch(ctx context.Context, o Options, port int) error {
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": p.dataDir,
	}
	if o.DisableDurability {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range o.Settings {
		settings[k] = v
	}
	args := []string{"-D", p.dataDir, "-p", strconv.Itoa(port)}
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "-c", k+"="+settings[k])
	}

	logPath := filepath.Join(p.dataDir, logFile)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open postgres log: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, 2)

	// Not CommandContext: the server must outlive ctx (and, without StopWithParent, us).
	cmd := exec.Command(filepath.Join(p.binDir, "postgres"), args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = logf, logf
	attr := &syscall.SysProcAttr{Credential: p.cred}
	if o.StopWithParent {
		attr.Setpgid = true
		attr.Pdeathsig = syscall.SIGQUIT
	} else {
		attr.Setsid = true // no terminal signals; Stop decides when it ends
	}
	cmd.SysProcAttr = attr

	done, err := StartTied(cmd)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}

	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			msg := readFrom(logPath, logStart)
			if strings.Contains(msg, "could not bind") || strings.Contains(msg, "could not create any TCP/IP sockets") {
				return fmt.Errorf("start postgres on port %d: %w", port, errPortInUse)
			}
			return fmt.Errorf("start postgres: server exited (%v): %s", cmd.ProcessState, tail([]byte(msg), 2000))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-done
			return fmt.Errorf("start postgres: %w", ctx.Err())
		case <-deadline.C:
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-done
			return fmt.Errorf("start postgres: not ready after 2 minutes: %s", tail([]byte(readFrom(logPath, logStart)), 2000))
		case <-tick.C:
			pf, err := readPidFile(p.dataDir)
			if err == nil && pf.pid == cmd.Process.Pid && pf.status == "ready" {
				p.done = done
				return nil
			}
		}
	}
}

// ensureDatabase creates database "hookd" unless it exists.
func (p *Postgres) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.SocketURL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", Database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", Database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{Database}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") { // duplicate_database
		return fmt.Errorf("create database %s: %w", Database, err)
	}
	return nil
}

// pidFile is what postmaster.pid says (see PostgreSQL's pidfile.h for the line layout).
type pidFile struct {
	pid    int
	port   int
	status string // starting, stopping, ready, standby
}

// PostmasterPID is the process id postmaster.pid in dataDir names: the server's
// postmaster, running or (after a crash) not.
func PostmasterPID(dataDir string) (int, error) {
	pf, err := readPidFile(dataDir)
	return pf.pid, err
}

func readPidFile(dataDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	var pf pidFile
	if len(lines) > 0 {
		pf.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	}
	if len(lines) > 3 {
		pf.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 7 {
		pf.status = strings.TrimSpace(lines[7])
	}
	if pf.pid <= 0 {
		return pidFile{}, errors.New("postmaster.pid has no pid")
	}
	return pf, nil
}

// processIsPostgres reports whether pid is alive and (where /proc tells) a postgres
// process, not an unrelated one that inherited a stale pid.
func processIsPostgres(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !dirExists("/proc/self")
	}
	return strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func readFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return ""
	}
	return string(b[offset:])
}

func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

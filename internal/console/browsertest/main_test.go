package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/devenv"
)

// chromiumPath is Debian's Chromium, which .ci/prereqs installs.
const chromiumPath = "/usr/bin/chromium"

// suite is what every test of the package shares: one `hookd dev` on its own PostgreSQL
// and one headless Chromium, started by the first test that asks (start) and stopped by
// TestMain. Each test then works in an organization of its own (newOrg) and a browser
// context of its own (newPage), so tests do not see each other's data or cookies.
type suite struct {
	hookd    *devenv.Hookd
	adminKey string        // the admin key of hookd dev's organization, org_default
	db       *pgxpool.Pool // hookd's database, for seeding many rows at once
	browser  context.Context

	bin     string // the hookd binary
	binDir  string
	dataDir string
	pg      *devenv.Postgres
	cancels []func() // run in reverse by stop
}

var (
	shared    suite
	startOnce sync.Once
	startErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := shared.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// start returns the shared suite, starting it on first use; a test that cannot have it
// fails, naming what is missing.
func start(t *testing.T) *suite {
	t.Helper()
	startOnce.Do(func() { startErr = shared.start() })
	if startErr != nil {
		t.Fatalf("browsertest needs hookd dev and Chromium: %v", startErr)
	}
	return &shared
}

func (s *suite) start() error {
	if _, err := os.Stat(chromiumPath); err != nil {
		return fmt.Errorf("no Chromium at %s (%w): install it with `sudo apt-get install -y chromium`", chromiumPath, err)
	}
	var err error
	if s.binDir, err = os.MkdirTemp("", "hookd-browsertest-bin-"); err != nil {
		return err
	}
	if s.bin, err = devenv.BuildHookd(context.Background(), s.binDir); err != nil {
		return err
	}
	if s.dataDir, err = os.MkdirTemp("", "hookd-browsertest-"); err != nil {
		return err
	}
	// PostgreSQL runs as user postgres when the tests run as root: let it in.
	if err := os.Chmod(s.dataDir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s.pg, err = devenv.Start(ctx, devenv.Options{
		DataDir:           filepath.Join(s.dataDir, "pg"),
		DisableDurability: true,
		StopWithParent:    true,
	})
	if err != nil {
		return err
	}
	dbURL := s.pg.URL(devenv.Database)
	s.adminKey = "hk_browsertest_admin_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	s.hookd, err = devenv.NewHookd(devenv.HookdOptions{
		Binary:      s.bin,
		DataDir:     filepath.Join(s.dataDir, "hookd"),
		AdminKey:    s.adminKey,
		DatabaseURL: dbURL,
		Env: []string{
			"HOOKD_RECONCILE_INTERVAL=1s",
			// The delivery page links to the workflow there; the tests never follow it.
			"HOOKD_TEMPORAL_UI_URL=http://127.0.0.1:1",
		},
		LogFile: filepath.Join(s.dataDir, "hookd.log"),
	})
	if err != nil {
		return err
	}
	if err := s.hookd.Start(ctx, 2*time.Minute); err != nil {
		return fmt.Errorf("%w\n%s", err, s.hookd.LogTail(4000))
	}
	if s.db, err = pgxpool.New(ctx, dbURL); err != nil {
		return fmt.Errorf("connect to hookd's database: %w", err)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.NoSandbox, // root has no sandbox
			chromedp.WindowSize(1280, 900),
			// Nothing leaves the machine: no name but localhost resolves, no address but
			// the tests' own (whatever a page asks for), and Chromium fetches no
			// components of its own.
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE "+attackerHost),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-domain-reliability", true),
		)...)
	s.cancels = append(s.cancels, cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	s.cancels = append(s.cancels, cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts Chromium
		return fmt.Errorf("start Chromium: %w", err)
	}
	s.browser = browser
	return nil
}

// stop ends what start started, in reverse order; nothing when nothing was started.
func (s *suite) stop() error {
	for i := len(s.cancels) - 1; i >= 0; i-- {
		s.cancels[i]()
	}
	if s.db != nil {
		s.db.Close()
	}
	var errs []error
	if s.hookd != nil {
		if err := s.hookd.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.pg.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, dir := range []string{s.dataDir, s.binDir} {
		if dir != "" {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

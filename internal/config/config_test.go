package config

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

var allCommands = []Command{Dev, Serve, API, Worker, Migrate, KeysCreate, Temporal}

// setEnv clears every variable Config reads, then sets kv (KEY, VALUE, …) for the test.
// Tests that call it cannot run in parallel.
func setEnv(t *testing.T, kv ...string) {
	t.Helper()
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		t.Setenv(typ.Field(i).Tag.Get("env"), "") // ff reads an empty variable as unset
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// load runs Load for cmd with a fresh flag set whose output (usage, flag errors) is
// returned.
func load(t *testing.T, cmd Command, args ...string) (Config, string, error) {
	t.Helper()
	var out bytes.Buffer
	fs := flag.NewFlagSet("hookd "+string(cmd), flag.ContinueOnError)
	fs.SetOutput(&out)
	c, err := Load(fs, cmd, args)
	return c, out.String(), err
}

func TestLoadDefaultsPerCommand(t *testing.T) {
	setEnv(t)
	dev, _, err := load(t, Dev)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		TemporalAddress: "127.0.0.1:7233", TemporalNamespace: "default",
		APIAddr: "127.0.0.1:8080", MetricsAddr: "127.0.0.1:9090", AllowHTTP: true, AllowPrivate: true,
		LogLevel: slog.LevelInfo, ReconcileInterval: 30 * time.Second, EagerStart: true, WorkflowCacheSize: 500,
		WorkerStopTimeout: 65 * time.Second, APIRateLimit: 1000, IngestMaxInFlight: 32, IngestQueueWait: 100 * time.Millisecond,
		Retention: 720 * time.Hour, DataDir: ".hookd", TemporalPort: 7233, UIPort: 8233, TemporalStore: TemporalStoreSQLite,
	}
	if dev != want {
		t.Fatalf("dev defaults\n got %+v\nwant %+v", dev, want)
	}
	for _, cmd := range []Command{Serve, API, Worker, Migrate, KeysCreate} {
		c, _, err := load(t, cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		want := want
		want.APIAddr, want.AllowHTTP, want.AllowPrivate = ":8080", false, false
		if c != want {
			t.Fatalf("%s defaults\n got %+v\nwant %+v", cmd, c, want)
		}
	}
	prod, _, _ := load(t, Serve)
	if err := prod.RequireProduction(true); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "HOOKD_SECRET_KEY") {
		t.Fatalf("RequireProduction = %v, want both missing settings named", err)
	}
}

func TestLoadEnvironmentAndFlags(t *testing.T) {
	setEnv(t,
		"HOOKD_API_ADDR", "127.0.0.1:9000",
		"HOOKD_ALLOW_HTTP", "true",
		"HOOKD_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HOOKD_RECONCILE_INTERVAL", "1m30s",
		"HOOKD_EAGER_START", "false",
		"HOOKD_LOG_LEVEL", "warn",
		"HOOKD_WORKFLOW_CACHE_SIZE", "8",
	)
	var out bytes.Buffer
	fs := flag.NewFlagSet("hookd serve", flag.ContinueOnError)
	fs.SetOutput(&out)
	c, err := Load(fs, Serve, []string{"-addr", "127.0.0.1:9001", "-log-level=debug", "extra"})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIAddr != "127.0.0.1:9001" || c.LogLevel != slog.LevelDebug {
		t.Errorf("flags did not win over the environment: addr %q, level %v", c.APIAddr, c.LogLevel)
	}
	if !c.AllowHTTP || c.EagerStart || c.ReconcileInterval != 90*time.Second || c.WorkflowCacheSize != 8 {
		t.Errorf("environment not read: %+v", c)
	}
	if got := fs.Args(); len(got) != 1 || got[0] != "extra" {
		t.Errorf("arguments after the flags = %q", got)
	}
	if k, err := c.SecretKeyBytes(); err != nil || len(k) != 32 {
		t.Errorf("secret key %v %v", k, err)
	}
}

func TestLoadTemporalStore(t *testing.T) {
	setEnv(t, "HOOKD_TEMPORAL_STORE", "postgres")
	c, _, err := load(t, Dev)
	if err != nil || c.TemporalStore != TemporalStorePostgres {
		t.Fatalf("from the environment: store %q, err %v", c.TemporalStore, err)
	}
	c, _, err = load(t, Dev, "-temporal-store", "sqlite")
	if err != nil || c.TemporalStore != TemporalStoreSQLite {
		t.Fatalf("flag over the environment: store %q, err %v", c.TemporalStore, err)
	}
}

// A variable of a setting that does not apply to the subcommand is not read: one
// environment (docker-compose's) serves every subcommand.
func TestLoadIgnoresOtherCommandsVariables(t *testing.T) {
	setEnv(t, "HOOKD_TEMPORAL_STORE", "mysql", "HOOKD_EAGER_START", "yes", "HOOKD_METRICS_ADDR", "nope")
	for _, cmd := range []Command{API, Migrate, KeysCreate} {
		if _, _, err := load(t, cmd); err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}

// A value that does not parse or check is refused with a message naming its variable, or
// its flag when given as one.
func TestLoadRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		env  []string // KEY, VALUE
		args []string
		want string // in the message
	}{
		{"bad bool", Dev, []string{"HOOKD_EAGER_START", "yes"}, nil, `HOOKD_EAGER_START="yes": want true or false`},
		{"bad bool, TLS", Worker, []string{"TEMPORAL_TLS", "on-ish"}, nil, "TEMPORAL_TLS"},
		{"bad int", Serve, []string{"HOOKD_WORKFLOW_CACHE_SIZE", "abc"}, nil, `HOOKD_WORKFLOW_CACHE_SIZE="abc": want a whole number`},
		{"bad port", Dev, []string{"HOOKD_UI_PORT", "8233x"}, nil, "HOOKD_UI_PORT"},
		{"out-of-range port", Dev, []string{"HOOKD_UI_PORT", "-2"}, nil, "HOOKD_UI_PORT"},
		{"small cache", Worker, []string{"HOOKD_WORKFLOW_CACHE_SIZE", "2"}, nil, "HOOKD_WORKFLOW_CACHE_SIZE"},
		{"bad duration", Worker, []string{"HOOKD_RECONCILE_INTERVAL", "30"}, nil, `HOOKD_RECONCILE_INTERVAL="30": want a duration`},
		{"zero duration", Dev, []string{"HOOKD_RECONCILE_INTERVAL", "0s"}, nil, "HOOKD_RECONCILE_INTERVAL"},
		{"negative stop timeout", Worker, []string{"HOOKD_WORKER_STOP_TIMEOUT", "-1s"}, nil, "HOOKD_WORKER_STOP_TIMEOUT -1s: want a duration of 0 or more"},
		{"bad level", API, []string{"HOOKD_LOG_LEVEL", "loud"}, nil, `HOOKD_LOG_LEVEL="loud": want debug, info, warn or error`},
		{"negative rate limit", API, []string{"HOOKD_API_RATE_LIMIT", "-1"}, nil, "HOOKD_API_RATE_LIMIT -1: want 0 (off) or more"},
		{"negative in-flight bound", Serve, []string{"HOOKD_INGEST_MAX_IN_FLIGHT", "-5"}, nil, "HOOKD_INGEST_MAX_IN_FLIGHT -5: want 0 (off) or more"},
		{"negative queue wait", Dev, []string{"HOOKD_INGEST_QUEUE_WAIT", "-1s"}, nil, "HOOKD_INGEST_QUEUE_WAIT -1s: want 0 (off) or more"},
		{"bad address", Serve, []string{"HOOKD_API_ADDR", "nope"}, nil, `HOOKD_API_ADDR "nope": want host:port`},
		{"port out of range", Dev, []string{"HOOKD_API_ADDR", "127.0.0.1:99999"}, nil, `HOOKD_API_ADDR "127.0.0.1:99999": want host:port with a port from 0 to 65535`},
		{"port by name", Serve, []string{"HOOKD_API_ADDR", "localhost:abc"}, nil, "HOOKD_API_ADDR"},
		{"pprof port out of range", Dev, []string{"HOOKD_PPROF_ADDR", "127.0.0.1:99999"}, nil, "HOOKD_PPROF_ADDR"},
		{"bad metrics address", Worker, []string{"HOOKD_METRICS_ADDR", "9090"}, nil, "HOOKD_METRICS_ADDR"},
		{"bad pprof address", Dev, []string{"HOOKD_PPROF_ADDR", "6060"}, nil, "HOOKD_PPROF_ADDR"},
		{"bad store", Dev, []string{"HOOKD_TEMPORAL_STORE", "mysql"}, nil, `HOOKD_TEMPORAL_STORE "mysql": want sqlite or postgres`},
		{"bad secret key", Serve, []string{"HOOKD_SECRET_KEY", "c2hvcnQ="}, nil, "HOOKD_SECRET_KEY must be base64 of exactly 32 bytes"},
		{"bad bool flag", Dev, nil, []string{"-eager-start=yes"}, "-eager-start: want true or false"},
		{"bad int flag", Worker, nil, []string{"-workflow-cache-size", "abc"}, "-workflow-cache-size: want a whole number"},
		{"bad duration flag", Serve, nil, []string{"-reconcile-interval", "5"}, "-reconcile-interval: want a duration"},
		{"bad level flag", API, nil, []string{"-log-level", "loud"}, "-log-level: want debug"},
		{"empty data dir flag", KeysCreate, nil, []string{"-data-dir="}, "HOOKD_DATA_DIR must not be empty"},
		{"another subcommand's flag", Serve, nil, []string{"-data-dir", "x"}, "flag provided but not defined: -data-dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env...)
			_, _, err := load(t, tc.cmd, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %s", err, tc.want)
			}
		})
	}
}

func TestHelpListsTheCommandsFlagsWithTheirVariables(t *testing.T) {
	setEnv(t)
	tests := []struct {
		cmd     Command
		want    []string
		notWant []string
	}{
		{Worker,
			[]string{"-metrics-addr string  $HOOKD_METRICS_ADDR", "-addr-file string  $HOOKD_ADDR_FILE", "-database-url string  $DATABASE_URL", "-reconcile-interval duration  $HOOKD_RECONCILE_INTERVAL", `(default "127.0.0.1:9090")`},
			[]string{"  -addr ", "-data-dir", "-ui-port", "-eager-start"}},
		{Dev,
			[]string{"-data-dir string  $HOOKD_DATA_DIR", "-addr-file string  $HOOKD_ADDR_FILE", "-ui-port int  $HOOKD_UI_PORT", "-eager-start  $HOOKD_EAGER_START", "-log-level level  $HOOKD_LOG_LEVEL", `(default "127.0.0.1:8080")`},
			[]string{"-metrics-addr", "-temporal-address", "-temporal-tls"}},
		{Migrate,
			[]string{"-database-url string  $DATABASE_URL", "-temporal-address string  $TEMPORAL_ADDRESS", "-temporal-namespace string  $TEMPORAL_NAMESPACE", "-temporal-tls  $TEMPORAL_TLS", "-temporal-api-key string  $TEMPORAL_API_KEY"},
			[]string{"  -addr ", "-addr-file", "-log-level", "-data-dir", "-secret-key"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.cmd), func(t *testing.T) {
			_, out, err := load(t, tc.cmd, "-h")
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("Load -h = %v, want flag.ErrHelp", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("-h lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("-h lists %q, which is another subcommand's:\n%s", w, out)
				}
			}
		})
	}
}

// Every setting has a flag, a variable and a description, none used twice, and a default
// that parses for every subcommand.
func TestSettingsAreComplete(t *testing.T) {
	t.Parallel()
	flags, vars := map[string]string{}, map[string]string{}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		fl, env, desc, cmds := f.Tag.Get("flag"), f.Tag.Get("env"), f.Tag.Get("desc"), f.Tag.Get("cmd")
		if fl == "" || env == "" || desc == "" || cmds == "" {
			t.Errorf("%s: tags flag %q, env %q, desc %q, cmd %q: want all four", f.Name, fl, env, desc, cmds)
		}
		for _, c := range strings.Split(cmds, ",") {
			if !strings.Contains(" dev serve api worker migrate keys create temporal ", " "+c+" ") {
				t.Errorf("%s: unknown subcommand %q in cmd", f.Name, c)
			}
		}
		if other, dup := flags[fl]; dup {
			t.Errorf("flag -%s is both %s and %s", fl, other, f.Name)
		}
		if other, dup := vars[env]; dup {
			t.Errorf("variable %s is both %s and %s", env, other, f.Name)
		}
		flags[fl], vars[env] = f.Name, f.Name
	}
	for _, cmd := range allCommands {
		var c Config
		if got := c.settings(cmd); len(got) == 0 {
			t.Errorf("%s has no settings", cmd)
		}
	}
}

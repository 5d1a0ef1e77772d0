package config

import (
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaultsPerMode(t *testing.T) {
	t.Parallel()
	dev, _, err := Load("dev", Dev, nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !dev.AllowHTTP || !dev.AllowPrivate || dev.APIAddr != "127.0.0.1:8080" || dev.DataDir != ".hookd" || dev.UIPort != 8233 ||
		dev.WorkflowCacheSize != 500 || !dev.EagerStart ||
		dev.TemporalStore != TemporalStoreSQLite {
		t.Fatalf("dev defaults %+v", dev)
	}
	prod, _, err := Load("serve", Production, nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if prod.AllowHTTP || prod.AllowPrivate || prod.APIAddr != ":8080" {
		t.Fatalf("production defaults %+v", prod)
	}
	if err := prod.RequireProduction(true); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "HOOKD_SECRET_KEY") {
		t.Fatalf("RequireProduction = %v, want both missing settings named", err)
	}
}

func TestLoadEnvironmentAndFlags(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{
		"HOOKD_API_ADDR":   "127.0.0.1:9000",
		"HOOKD_ALLOW_HTTP": "true",
		"HOOKD_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	})
	c, rest, err := Load("serve", Production, []string{"-addr", "127.0.0.1:9001", "extra"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIAddr != "127.0.0.1:9001" || !c.AllowHTTP || len(rest) != 1 {
		t.Fatalf("config %+v rest %v", c, rest)
	}
	if k, err := c.SecretKeyBytes(); err != nil || len(k) != 32 {
		t.Fatalf("secret key %v %v", k, err)
	}
}

func TestLoadTemporalStore(t *testing.T) {
	t.Parallel()
	c, _, err := Load("dev", Dev, nil, envOf(map[string]string{"HOOKD_TEMPORAL_STORE": "postgres"}))
	if err != nil || c.TemporalStore != TemporalStorePostgres {
		t.Fatalf("from the environment: store %q, err %v", c.TemporalStore, err)
	}
	c, _, err = Load("dev", Dev, []string{"-temporal-store", "sqlite"}, envOf(map[string]string{"HOOKD_TEMPORAL_STORE": "postgres"}))
	if err != nil || c.TemporalStore != TemporalStoreSQLite {
		t.Fatalf("flag over the environment: store %q, err %v", c.TemporalStore, err)
	}
	// Production subcommands talk to a Temporal cluster: no store to pick.
	if _, _, err := Load("serve", Production, nil, envOf(map[string]string{"HOOKD_TEMPORAL_STORE": "mysql"})); err != nil {
		t.Fatalf("production with HOOKD_TEMPORAL_STORE set: %v", err)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value, want string
	}{
		{"address", "HOOKD_API_ADDR", "nope", "HOOKD_API_ADDR"},
		{"secret key", "HOOKD_SECRET_KEY", "c2hvcnQ=", "32 bytes"},
		{"log level", "HOOKD_LOG_LEVEL", "loud", "HOOKD_LOG_LEVEL"},
		{"workflow cache", "HOOKD_WORKFLOW_CACHE_SIZE", "0", "HOOKD_WORKFLOW_CACHE_SIZE"},
		{"pprof address", "HOOKD_PPROF_ADDR", "6060", "HOOKD_PPROF_ADDR"},
		{"temporal store", "HOOKD_TEMPORAL_STORE", "mysql", "HOOKD_TEMPORAL_STORE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Load("dev", Dev, nil, envOf(map[string]string{tc.key: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

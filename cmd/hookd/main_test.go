package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// keys create's -h lists its own flags beside the settings it reads (with their
// variables), and not the settings of the processes.
func TestKeysCreateHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"keys", "create", "-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run = %v, want flag.ErrHelp", err)
	}
	help := stderr.String()
	for _, want := range []string{"-role string", "-org string", "-database-url string  $DATABASE_URL", "-data-dir string  $HOOKD_DATA_DIR"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "-temporal-address") || strings.Contains(help, "-log-level") {
		t.Errorf("help lists the processes' settings:\n%s", help)
	}
}

// A bad value stops a subcommand before it connects to anything, naming the variable.
func TestBadSettingStopsTheSubcommand(t *testing.T) {
	t.Setenv("HOOKD_WORKFLOW_CACHE_SIZE", "abc")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"worker"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `HOOKD_WORKFLOW_CACHE_SIZE="abc"`) {
		t.Fatalf("run worker = %v, want the variable named", err)
	}
	err = run(context.Background(), []string{"migrate", "now"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Fatalf("run migrate now = %v, want the extra argument refused", err)
	}
}

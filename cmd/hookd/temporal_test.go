//go:build !nodev

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/workflows"
)

// temporal's -h lists the settings it reads, with their variables, and none of the
// processes' own.
func TestTemporalHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"temporal", "-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run = %v, want flag.ErrHelp", err)
	}
	help := stderr.String()
	for _, want := range []string{"-database-url string  $DATABASE_URL", "-temporal-port int  $HOOKD_TEMPORAL_PORT",
		"-ui-port int  $HOOKD_UI_PORT", "-temporal-namespace string  $TEMPORAL_NAMESPACE", "-addr-file string  $HOOKD_ADDR_FILE"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	for _, other := range []string{"-temporal-address", "-secret-key", "-addr ", "-temporal-store"} {
		if strings.Contains(help, other) {
			t.Errorf("help lists %s, another subcommand's:\n%s", other, help)
		}
	}
}

// hookd temporal (here on SQLite in its data dir; internal/prodshape runs it on
// PostgreSQL) says where it listens in its address file, has the namespace without
// hookd's search attributes, as a fresh cluster, and stops when its context ends,
// removing the file.
func TestTemporalRunsAlone(t *testing.T) {
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addresses.json")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = run(ctx, []string{"temporal", "--data-dir", dir, "--temporal-port", "0", "--ui-port", "-1",
			"--temporal-namespace", "prodshape", "--addr-file", addrFile, "--log-level", "warn"}, os.Stdout, os.Stderr)
	}()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	addrs, err := addrfile.Wait(wctx, addrFile, os.Getpid(), done)
	if err != nil {
		stop()
		<-done
		t.Fatalf("%v (run: %v)", err, runErr)
	}
	if addrs.Temporal == "" || addrs.TemporalUI != "" || addrs.API != "" {
		t.Errorf("addresses %+v: want the frontend only", addrs)
	}

	c, err := client.Dial(client.Options{HostPort: addrs.Temporal, Namespace: "prodshape"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	have, err := c.OperatorService().ListSearchAttributes(wctx, &operatorservice.ListSearchAttributesRequest{Namespace: "prodshape"})
	if err != nil {
		t.Fatalf("list the search attributes of namespace prodshape: %v", err)
	}
	for name := range workflows.SearchAttributeTypes() {
		if _, ok := have.GetCustomAttributes()[name]; ok {
			t.Errorf("search attribute %s is registered: hookd temporal must leave that to hookd", name)
		}
	}

	stop()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("hookd temporal did not stop within a minute of its context's end")
	}
	if runErr != nil {
		t.Errorf("run = %v, want a clean stop", runErr)
	}
	if _, err := os.Stat(addrFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("address file after the stop: %v, want none", err)
	}
}

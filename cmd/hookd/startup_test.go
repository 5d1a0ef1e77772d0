//go:build !nodev

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"

	"github.com/hookd/hookd/internal/addrfile"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/devtemporal"
	"github.com/hookd/hookd/internal/searchattr"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/workflows"
)

// startTemporal starts an embedded Temporal server whose namespace has the search
// attributes attrs (none: as a new production cluster has), and returns a client of it.
func startTemporal(t *testing.T, attrs map[string]enumspb.IndexedValueType) (*devtemporal.Server, client.Client) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := devtemporal.Start(context.Background(), devtemporal.Options{
		UIPort: devtemporal.Disabled, HTTPPort: devtemporal.Disabled, SearchAttributes: attrs, Logger: quiet,
	})
	if err != nil {
		t.Fatalf("start temporal: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace(),
		Logger: sdklog.NewStructuredLogger(quiet)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return srv, c
}

// customAttributes lists the namespace's custom search attributes.
func customAttributes(t *testing.T, c client.Client) map[string]enumspb.IndexedValueType {
	t.Helper()
	have, err := c.OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return have.GetCustomAttributes()
}

const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// TestServeRegistersSearchAttributesAndReportsAddresses runs `hookd serve`, then `hookd
// worker`, on port 0 against a Temporal namespace without hookd's search attributes: the
// first registers them; each, once ready, writes its address file, whose listeners
// answer; a clean stop removes the file.
func TestServeRegistersSearchAttributesAndReportsAddresses(t *testing.T) {
	srv, c := startTemporal(t, nil)
	dbURL := storetest.URL(t)
	for _, tc := range []struct {
		cmd   string
		flags []string
		urls  func(a addrfile.Addresses) []string
	}{
		{"serve", []string{"--addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0"},
			func(a addrfile.Addresses) []string { return []string{a.API + "/readyz", a.Pprof + "/debug/pprof/"} }},
		{"worker", []string{"--metrics-addr", "127.0.0.1:0"},
			func(a addrfile.Addresses) []string { return []string{a.Metrics + "/metrics"} }},
	} {
		addrFile := filepath.Join(t.TempDir(), "addresses.json")
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		done := make(chan struct{})
		var runErr error
		go func() {
			defer close(done)
			runErr = run(ctx, append([]string{tc.cmd,
				"--database-url", dbURL, "--secret-key", testSecretKey, "--temporal-address", srv.FrontendHostPort(),
				"--addr-file", addrFile, "--log-level", "error", "--worker-stop-timeout", "0s",
			}, tc.flags...), io.Discard, io.Discard)
		}()
		wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		a, err := addrfile.Wait(wait, addrFile, os.Getpid(), done)
		if err != nil {
			t.Fatalf("%s: %v (run: %v)", tc.cmd, err, runErr)
		}
		urls := tc.urls(a)
		if got, want := strings.Count(fmt.Sprint(a), "http://127.0.0.1:"), len(urls); got != want || a.Temporal != "" {
			t.Errorf("%s's addresses %+v: want %d listeners on 127.0.0.1, no embedded Temporal", tc.cmd, a, want)
		}
		for _, url := range urls {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: GET %s: %s", tc.cmd, url, resp.Status)
			}
		}
		have := customAttributes(t, c)
		for name, typ := range workflows.SearchAttributeTypes() {
			if have[name] != typ {
				t.Errorf("after %s started %s is %s, want %s", tc.cmd, name, have[name], typ)
			}
		}

		stop()
		<-done
		if runErr != nil {
			t.Fatalf("%s: %v", tc.cmd, runErr)
		}
		if _, err := os.Stat(addrFile); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s's address file after a clean stop: %v, want none", tc.cmd, err)
		}
	}
}

// TestWorkerRefusesAWrongTypedSearchAttribute: a worker does not start on a namespace
// where one of hookd's attributes has another type, and says which.
func TestWorkerRefusesAWrongTypedSearchAttribute(t *testing.T) {
	t.Parallel()
	srv, c := startTemporal(t, nil)
	name := workflows.AttrAttempts.GetName()
	if _, err := c.OperatorService().AddSearchAttributes(context.Background(), &operatorservice.AddSearchAttributesRequest{
		Namespace:        "default",
		SearchAttributes: map[string]enumspb.IndexedValueType{name: enumspb.INDEXED_VALUE_TYPE_TEXT},
	}); err != nil {
		t.Fatal(err)
	}
	addrFile := filepath.Join(t.TempDir(), "addresses.json")
	err := run(context.Background(), []string{"worker",
		"--database-url", storetest.URL(t), "--secret-key", testSecretKey,
		"--temporal-address", srv.FrontendHostPort(), "--metrics-addr", "127.0.0.1:0", "--addr-file", addrFile,
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), name+" is registered as Text, want Int") {
		t.Fatalf("worker = %v, want an error naming %s", err, name)
	}
	if _, err := os.Stat(addrFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a worker that did not start wrote its address file: %v", err)
	}
}

// A namespace that does not exist stops the start with the command that creates it.
func TestWorkerNamesAMissingNamespace(t *testing.T) {
	t.Parallel()
	srv, _ := startTemporal(t, nil)
	err := run(context.Background(), []string{"worker",
		"--database-url", storetest.URL(t), "--secret-key", testSecretKey,
		"--temporal-address", srv.FrontendHostPort(), "--temporal-namespace", "nope",
		"--metrics-addr", "127.0.0.1:0",
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "temporal operator namespace create --namespace nope") {
		t.Fatalf("worker = %v, want an error giving the command that creates namespace nope", err)
	}
}

// mayNotAdd is the server's real OperatorService, except that it refuses to add search
// attributes, as Temporal Cloud does.
type mayNotAdd struct{ searchattr.Client }

func (mayNotAdd) AddSearchAttributes(context.Context, *operatorservice.AddSearchAttributesRequest, ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	return nil, serviceerror.NewPermissionDenied("Request unauthorized.", "")
}

// TestStartGivesTheCommandWhenItMayNotRegister: refused the registration, the start
// check fails with the commands that register the attributes on this cluster.
func TestStartGivesTheCommandWhenItMayNotRegister(t *testing.T) {
	t.Parallel()
	srv, c := startTemporal(t, nil)
	cfg := config.Config{TemporalAddress: srv.FrontendHostPort(), TemporalNamespace: "default"}
	_, err := ensureSearchAttributes(context.Background(), cfg, mayNotAdd{searchattr.FromSDK(c)})
	want := fmt.Sprintf("temporal operator search-attribute create --address %s --namespace default --name HookdAttempts --type Int --name HookdDeliveryStatus --type Keyword", srv.FrontendHostPort())
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "tcld namespace search-attributes add --namespace default") {
		t.Fatalf("ensureSearchAttributes = %v\nwant the commands, %q among them", err, want)
	}
	if n := len(customAttributes(t, c)); n != 0 {
		t.Fatalf("%d attributes registered after the refusal", n)
	}
}

var emptyDBSeq atomic.Int64

// emptyDatabase creates a database without any table on the test cluster, as a new
// install has, and returns its URL.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	pg := storetest.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("migrate_%d", emptyDBSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, pg.URL("postgres"))
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = conn.Close(ctx)
		}
	})
	return pg.URL(name)
}

// TestMigrateSetsUpANewInstall: `hookd migrate` on a fresh PostgreSQL database and a
// fresh Temporal namespace applies the migrations and registers the search attributes,
// saying so; run again it changes nothing and says that.
func TestMigrateSetsUpANewInstall(t *testing.T) {
	t.Parallel()
	srv, c := startTemporal(t, nil)
	args := []string{"migrate", "--database-url", emptyDatabase(t), "--temporal-address", srv.FrontendHostPort()}
	var out bytes.Buffer
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatalf("first migrate: %v\n%s", err, out.String())
	}
	first := out.String()
	for _, want := range []string{"PostgreSQL: applied migrations 001_", "016_console", "Temporal: registered search attributes HookdAttempts, HookdDeliveryStatus, HookdEventType, HookdOrgId, HookdWebhookId in namespace default"} {
		if !strings.Contains(first, want) {
			t.Errorf("first migrate's output lacks %q:\n%s", want, first)
		}
	}
	if len(customAttributes(t, c)) != len(workflows.SearchAttributeTypes()) {
		t.Errorf("attributes after migrate: %v", customAttributes(t, c))
	}
	// Usable at once: the frontend starts a workflow that sets them all.
	wf, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: "sets-every-attribute", TaskQueue: "nobody-polls",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrWebhookID.ValueSet("wh_1"), workflows.AttrEventType.ValueSet("order.created"),
			workflows.AttrStatus.ValueSet("pending"), workflows.AttrOrgID.ValueSet("org_1"),
			workflows.AttrAttempts.ValueSet(0)),
	}, "NoSuchWorkflow")
	if err != nil {
		t.Fatalf("start a workflow with the attributes migrate registered: %v", err)
	}
	_ = c.TerminateWorkflow(context.Background(), wf.GetID(), wf.GetRunID(), "test done")

	out.Reset()
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	want := "PostgreSQL: schema up to date, no migration to apply\nTemporal: namespace default has hookd's search attributes already\n"
	if out.String() != want {
		t.Fatalf("second migrate said\n%s\nwant\n%s", out.String(), want)
	}
}

// migrate -h lists its own settings only: the database and how to reach Temporal.
func TestMigrateHelp(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "-h"}, io.Discard, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("migrate -h = %v", err)
	}
	help := stderr.String()
	for _, want := range []string{"$DATABASE_URL", "$TEMPORAL_ADDRESS", "$TEMPORAL_NAMESPACE", "$TEMPORAL_TLS", "$TEMPORAL_API_KEY"} {
		if !strings.Contains(help, want) {
			t.Errorf("migrate -h lacks %s:\n%s", want, help)
		}
	}
	if n := strings.Count(help, "\n  -"); n != 5 {
		t.Errorf("migrate -h lists %d flags, want 5:\n%s", n, help)
	}
}

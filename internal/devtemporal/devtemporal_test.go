package devtemporal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/devtemporal"
)

// hookdAttributes are the search attributes hookd registers (ARCHITECTURE.md).
var hookdAttributes = map[string]enumspb.IndexedValueType{
	"HookdWebhookId":      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"HookdEventType":      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"HookdDeliveryStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"HookdOrgId":          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"HookdAttempts":       enumspb.INDEXED_VALUE_TYPE_INT,
}

// flaggedAttributes are hookdAttributes and one more, HookdTestFlag: a server restarted
// with them must add it to the existing namespace.
func flaggedAttributes() map[string]enumspb.IndexedValueType {
	more := maps.Clone(hookdAttributes)
	more["HookdTestFlag"] = enumspb.INDEXED_VALUE_TYPE_BOOL
	return more
}

// hookdValues sets hookdAttributes the way a delivery workflow of a "user.created" event
// does.
func hookdValues(webhookID, status, orgID string, attempts int64) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		temporal.NewSearchAttributeKeyKeyword("HookdWebhookId").ValueSet(webhookID),
		temporal.NewSearchAttributeKeyKeyword("HookdEventType").ValueSet("user.created"),
		temporal.NewSearchAttributeKeyKeyword("HookdDeliveryStatus").ValueSet(status),
		temporal.NewSearchAttributeKeyKeyword("HookdOrgId").ValueSet(orgID),
		temporal.NewSearchAttributeKeyInt64("HookdAttempts").ValueSet(attempts),
	)
}

const taskQueue = "devtemporal-test"

// childDBEnv makes the test binary, run again by TestFilePersistence, open
// that database from a fresh process.
const childDBEnv = "DEVTEMPORAL_TEST_CHILD_DB"

func greet(_ workflow.Context, name string) (string, error) { return "hello, " + name, nil }

func TestInMemory(t *testing.T) {
	t.Parallel()
	srv := start(t, devtemporal.Options{UIPort: devtemporal.Disabled, SearchAttributes: hookdAttributes})
	if srv.UIURL() != "" {
		t.Errorf("UIURL() = %q with the UI disabled", srv.UIURL())
	}
	c := dial(t, srv)
	ctx := testContext(t)

	assertSearchAttributes(ctx, t, c, srv.Namespace(), hookdAttributes)

	runID := runGreet(ctx, t, c, "wf-in-memory", hookdValues("wh_1", "pending", "org_1", 1))

	waitVisible(ctx, t, c, `HookdWebhookId = "wh_1" AND HookdAttempts = 1`, runID)

	// The frontend's HTTP API answers too.
	if srv.HTTPHostPort() == "" {
		t.Fatal("HTTPHostPort() is empty with HTTPPort 0")
	}
	getOK(ctx, t, "http://"+srv.HTTPHostPort()+"/api/v1/namespaces/"+srv.Namespace())
}

func TestUI(t *testing.T) {
	t.Parallel()
	// The UI server cannot bind port 0 and say which it got: pick a free port, and pick
	// again (a few times) when another process took it before Start looked.
	var port int
	var srv *devtemporal.Server
	for try := 1; srv == nil; try++ {
		var err error
		if port, err = devenv.FreePort(devtemporal.DefaultIP); err != nil {
			t.Fatal(err)
		}
		srv, err = startOrErr(t, devtemporal.Options{UIPort: port, HTTPPort: devtemporal.Disabled})
		if err != nil && (try == 3 || !strings.Contains(err.Error(), "is not free")) {
			t.Fatalf("Start: %v", err)
		}
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d", port); srv.UIURL() != want {
		t.Errorf("UIURL() = %q, want %q", srv.UIURL(), want)
	}
	if srv.HTTPHostPort() != "" {
		t.Errorf("HTTPHostPort() = %q with the HTTP API disabled", srv.HTTPHostPort())
	}
	ctx := testContext(t)
	body := getOK(ctx, t, srv.UIURL()+"/")
	if !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("UI / is not an HTML page: %.200q", body)
	}
	// Its scripts come from the assets compiled in, not from the network.
	script := regexp.MustCompile(`"(/_app/[^"]+\.js)"`).FindStringSubmatch(body)
	if script == nil {
		t.Fatalf("UI / names no /_app/*.js script: %.300q", body)
	}
	getOK(ctx, t, srv.UIURL()+script[1])
	// The UI's API reaches the server.
	getOK(ctx, t, srv.UIURL()+"/api/v1/namespaces/"+srv.Namespace())
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	busyPort := busy.Addr().(*net.TCPAddr).Port
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		ctx    context.Context
		opts   devtemporal.Options
		errHas string
	}{
		{name: "frontend port taken", ctx: context.Background(), opts: devtemporal.Options{FrontendPort: busyPort, UIPort: devtemporal.Disabled}, errHas: "frontend port"},
		{name: "UI port taken", ctx: context.Background(), opts: devtemporal.Options{UIPort: busyPort}, errHas: "UI port"},
		{name: "context done", ctx: cancelled, opts: devtemporal.Options{UIPort: devtemporal.Disabled}, errHas: "context canceled"},
		{name: "bad options", ctx: context.Background(), opts: devtemporal.Options{IP: "not-an-ip"}, errHas: "not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := devtemporal.Start(tt.ctx, tt.opts)
			if err == nil {
				_ = srv.Stop()
				t.Fatalf("Start succeeded, want an error containing %q", tt.errHas)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("err = %v, want it to contain %q", err, tt.errHas)
			}
		})
	}
}

func TestFilePersistence(t *testing.T) {
	if db := os.Getenv(childDBEnv); db != "" {
		childFindsWorkflow(t, db)
		return
	}
	t.Parallel()
	db := filepath.Join(t.TempDir(), "state", "temporal.db") // the directory is created
	opts := devtemporal.Options{DBFile: db, UIPort: devtemporal.Disabled, SearchAttributes: hookdAttributes}
	ctx := testContext(t)

	first := start(t, opts)
	runID := runGreet(ctx, t, dial(t, first), "wf-persist", temporal.SearchAttributes{})

	if _, err := devtemporal.Start(ctx, opts); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Start on a database in use: err = %v, want one saying it is in use", err)
	}
	began := time.Now()
	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop: %v", time.Since(began).Round(time.Millisecond))
	if _, err := os.Stat(db + "-wal"); err != nil {
		t.Errorf("no WAL file beside the database: %v", err)
	}

	// Same process, same file; one more search attribute than before, which
	// the existing namespace must gain.
	more := flaggedAttributes()
	opts.SearchAttributes = more
	began = time.Now()
	second := start(t, opts)
	t.Logf("restart on an existing file in the same process: %v", time.Since(began).Round(time.Millisecond))
	c := dial(t, second)
	assertSearchAttributes(ctx, t, c, second.Namespace(), more)
	assertCompleted(ctx, t, c, "wf-persist", runID)
	// The new attribute is usable at once, without forcing the search
	// attribute cache to refresh on every read, and a filter on it and on
	// an attribute whose index was trimmed still finds the run.
	flag := temporal.NewSearchAttributeKeyBool("HookdTestFlag")
	flagged := runGreet(ctx, t, c, "wf-flagged", temporal.NewSearchAttributes(
		flag.ValueSet(true), temporal.NewSearchAttributeKeyInt64("HookdAttempts").ValueSet(7)))
	waitVisible(ctx, t, c, `HookdTestFlag = true AND HookdAttempts = 7`, flagged)
	if err := second.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	// A fresh process reads the file (and not a connection this process
	// kept open).
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFilePersistence$", "-test.v")
	cmd.Env = append(os.Environ(), childDBEnv+"="+db, "DEVTEMPORAL_TEST_CHILD_RUN="+runID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if _, msg, ok := strings.Cut(line, "start in a fresh process"); ok {
			t.Logf("child: start in a fresh process%s", msg)
		}
	}
}

// childFindsWorkflow is TestFilePersistence in the child process.
func childFindsWorkflow(t *testing.T, db string) {
	began := time.Now()
	srv := start(t, devtemporal.Options{DBFile: db, UIPort: devtemporal.Disabled, SearchAttributes: hookdAttributes})
	t.Logf("start in a fresh process on an existing file: %v", time.Since(began).Round(time.Millisecond))
	ctx := testContext(t)
	assertCompleted(ctx, t, dial(t, srv), "wf-persist", os.Getenv("DEVTEMPORAL_TEST_CHILD_RUN"))
}

// start starts a server with quiet defaults for tests and stops it at cleanup.
func start(t *testing.T, o devtemporal.Options) *devtemporal.Server {
	t.Helper()
	srv, err := startOrErr(t, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return srv
}

// startOrErr is start that returns Start's error.
func startOrErr(t *testing.T, o devtemporal.Options) (*devtemporal.Server, error) {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	srv, err := devtemporal.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	store := fmt.Sprintf("file %q", o.DBFile)
	if o.Postgres != nil {
		store = "postgres " + o.Postgres.Database
	}
	t.Logf("Start (%s, UI %v): %v", store, srv.UIURL() != "", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		began := time.Now()
		if err := srv.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		t.Logf("Stop: %v", time.Since(began).Round(time.Millisecond))
	})
	return srv, nil
}

func dial(t *testing.T, srv *devtemporal.Server) client.Client {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := client.Dial(client.Options{
		HostPort:  srv.FrontendHostPort(),
		Namespace: srv.Namespace(),
		Logger:    sdklog.NewStructuredLogger(quiet),
	})
	if err != nil {
		t.Fatalf("dial %s: %v", srv.FrontendHostPort(), err)
	}
	t.Cleanup(c.Close)
	return c
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// runGreet runs greet to completion under a worker and returns its run ID.
func runGreet(ctx context.Context, t *testing.T, c client.Client, id string, sa temporal.SearchAttributes) string {
	t.Helper()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(greet)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	defer w.Stop()
	began := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             taskQueue,
		TypedSearchAttributes: sa,
	}, greet, "hookd")
	if err != nil {
		t.Fatalf("start workflow %s: %v", id, err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
	if got != "hello, hookd" {
		t.Fatalf("workflow %s returned %q", id, got)
	}
	t.Logf("workflow %s ran in %v", id, time.Since(began).Round(time.Millisecond))
	return run.GetRunID()
}

// waitVisible polls visibility, which a background queue writes after the
// workflow, until query finds exactly the run runID.
func waitVisible(ctx context.Context, t *testing.T, c client.Client, query, runID string) {
	t.Helper()
	began := time.Now()
	deadline := began.Add(30 * time.Second)
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("ListWorkflow(%s): %v", query, err)
		}
		if n := len(resp.GetExecutions()); n == 1 && resp.GetExecutions()[0].GetExecution().GetRunId() == runID {
			t.Logf("ListWorkflow(%s) found run %s after %v", query, runID, time.Since(began).Round(time.Millisecond))
			return
		} else if n > 1 {
			t.Fatalf("ListWorkflow(%s) found %d executions, want 1", query, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("ListWorkflow(%s) did not find run %s within 30s", query, runID)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func assertSearchAttributes(ctx context.Context, t *testing.T, c client.Client, ns string, want map[string]enumspb.IndexedValueType) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	for name, typ := range want {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != typ {
			t.Errorf("search attribute %s: got %v (registered %v), want %v", name, got, ok, typ)
		}
	}
}

func assertCompleted(ctx context.Context, t *testing.T, c client.Client, id, runID string) {
	t.Helper()
	desc, err := c.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		t.Fatalf("describe %s/%s: %v", id, runID, err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("workflow %s status = %v, want completed", id, st)
	}
	iter := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var last enumspb.EventType
	n := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		last, n = ev.GetEventType(), n+1
	}
	if last != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		t.Errorf("history of %s: %d events, last %v, want it to end completed", id, n, last)
	}
}

// getOK GETs url and returns the body, failing the test unless it is a 200.
func getOK(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %.300s", url, resp.Status, body)
	}
	return string(body)
}

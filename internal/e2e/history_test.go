package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// workflowHistory reads the whole history of a workflow run ("" for the latest run).
func (in *instance) workflowHistory(workflowID, runID string) *history.History {
	in.t.Helper()
	iter := in.temporalClient().GetWorkflowHistory(context.Background(), workflowID, runID, false, 0)
	var h history.History
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			in.t.Fatalf("read history: %v", err)
		}
		h.Events = append(h.Events, ev)
	}
	return &h
}

// saveHistory writes a workflow's history to workflows/testdata/<name>.json when
// HOOKD_UPDATE_HISTORIES is set, so workflows' replay test runs over real histories.
// Regenerate after an intentional, versioned workflow change:
//
//	HOOKD_UPDATE_HISTORIES=1 go test ./internal/e2e/ -run 'RetryAfter|ManualRetry|TemporalUI|FailedBatch|BatchedDelivery|EventIsDelivered'
func saveHistory(t *testing.T, in *instance, workflowID, name string) {
	t.Helper()
	if os.Getenv("HOOKD_UPDATE_HISTORIES") == "" {
		return
	}
	tc := in.temporalClient()
	ctx := context.Background()
	runs, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = %q", workflowID),
	})
	if err != nil {
		t.Fatalf("list runs: %v", err)
	}
	// Oldest run first, so the files number the runs as they happened.
	execs := runs.GetExecutions()
	slices.Reverse(execs)
	for i, ex := range execs {
		h := in.workflowHistory(workflowID, ex.GetExecution().GetRunId())
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "workflows", "testdata", fmt.Sprintf("%s_run%d.json", name, i+1))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d events)", path, len(h.Events))
	}
}

package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayCommittedHistories replays histories recorded from a real server (see
// internal/e2e saveHistory) against today's workflow code: a change that alters the
// command sequence without workflow.GetVersion fails here instead of in production.
// A file named v<n>_… was recorded before a versioned change and is kept so that the
// old branch stays covered: v0_ before local-first-attempt, v1_ before the activity
// decided, v2_ before close-status, v3_ before DeliveryVersion 1 (GetVersion markers and
// status upserts on every run); the others come from the code as it is now:
//
//	HOOKD_UPDATE_HISTORIES=1 go test ./internal/e2e/ -run 'RetryAfter|ManualRetry|TemporalUI|FailedBatch|BatchedDelivery|EventIsDelivered'
//
// (batch ones recorded by saveBatchHistory are in testdata/batch, see TestReplayBatchHistories).
func TestReplayCommittedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d committed histories in testdata, want the retry_after and manual_retry ones", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Delivery, workflow.RegisterOptions{Name: DeliveryWorkflow})
			r.RegisterWorkflowWithOptions(Batch, workflow.RegisterOptions{Name: BatchWorkflow})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

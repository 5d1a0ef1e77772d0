package engine

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/workflows"
)

// ReplayWorkflowID is the deterministic workflow ID of replay id, so a repeated start (the
// reconciler's) is a no-op.
func ReplayWorkflowID(id string) string { return "replay-" + id }

// StartReplay starts replay r's Replay workflow, once: one that already exists counts as
// started. Its summary in the Web UI says what it resends and at what pace.
func (d *Temporal) StartReplay(ctx context.Context, r store.Replay) error {
	opts := client.StartWorkflowOptions{
		ID:                                       ReplayWorkflowID(r.ID),
		TaskQueue:                                d.taskQueue(),
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(workflows.AttrOrgID.ValueSet(r.OrgID)),
		StaticSummary:                            fmt.Sprintf("replay of %d deliveries at %d/s", r.Matched, r.RatePerSecond),
	}
	_, err := d.Client.ExecuteWorkflow(ctx, opts, workflows.Replay, workflows.ReplayInput{ReplayID: r.ID})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &already) {
		return fmt.Errorf("start replay workflow %s: %w", r.ID, err)
	}
	return nil
}

// CancelReplay asks replay id's workflow to stop (Temporal cancellation, so it reads as
// Canceled in the Web UI); one that has finished, or never started, is fine.
func (d *Temporal) CancelReplay(ctx context.Context, id string) error {
	err := d.Client.CancelWorkflow(ctx, ReplayWorkflowID(id), "")
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("cancel replay workflow %s: %w", id, err)
	}
	return nil
}

// Replay asks delivery del for an attempt now for replay replayID, as Retry does (signal-
// with-start; a batched delivery asks its batch): the retry signal names the replay, so
// the attempt is made with trigger replay, once per delivery and replay.
func (d *Temporal) Replay(ctx context.Context, del store.Delivery, replayID string) error {
	return d.signalRetry(ctx, del, workflows.RetrySignal{ReplayID: replayID})
}

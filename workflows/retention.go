package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
)

// Bounds of a Retention run: each DeleteExpired call deletes at most
// retentionBatchSize rows of a table per statement and stops after about
// retentionStatementsPerCall statements; a run makes at most retentionCallsPerRun calls
// (a few history events each) before it continues as new, so its history stays short
// however large the backlog (up to 100 × 20 × 1,000 = 2,000,000 deliveries per run).
const (
	retentionBatchSize         = 1000
	retentionStatementsPerCall = 100
	retentionCallsPerRun       = 20
)

// RetentionInput is the input of a Retention run. The retention schedule (cmd/hookd)
// gives Retention, so that the schedule says by itself what it deletes, whichever hookd
// process last registered it; Cutoff and Deleted are zero then, and carry a run's
// progress across continue-as-new.
type RetentionInput struct {
	// Retention is HOOKD_RETENTION: what finished longer ago than this is deleted. Zero
	// or less deletes nothing.
	Retention time.Duration
	// Cutoff is the time before which rows are deleted: the first run's start minus
	// Retention, kept by its continuations so that the chain ends.
	Cutoff time.Time `json:",omitzero"`
	// Deleted counts what the runs before this one (of one chain) deleted.
	Deleted activities.Deleted `json:",omitzero"`
	// EventsAfter is where the chain's events step has got to.
	EventsAfter activities.EventCursor `json:",omitzero"`
}

// Retention deletes the events, deliveries and attempts (with batches and replays) that
// finished longer ago than in.Retention, in bounded batches (store.DeleteExpired*), and
// returns how many rows of each table it deleted. It runs hourly from hookd's retention
// schedule; a backlog larger than one run's bound is finished by its continuations
// (continue-as-new), which the schedule's overlap policy (skip) lets run alone.
func Retention(ctx workflow.Context, in RetentionInput) (activities.Deleted, error) {
	if in.Retention <= 0 {
		return in.Deleted, nil
	}
	if in.Cutoff.IsZero() {
		in.Cutoff = workflow.Now(ctx).Add(-in.Retention)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A call is bounded by its statements; these are generous for a slow disk.
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute, // it heartbeats after every statement
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    10 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    10,
		},
	})
	var a *activities.Activities
	for range retentionCallsPerRun {
		var res activities.DeleteExpiredResult
		err := workflow.ExecuteActivity(ctx, a.DeleteExpired, activities.DeleteExpiredInput{
			Before: in.Cutoff, BatchSize: retentionBatchSize, MaxStatements: retentionStatementsPerCall,
			EventsAfter: in.EventsAfter,
		}).Get(ctx, &res)
		if err != nil {
			return in.Deleted, err
		}
		in.Deleted.Add(res.Deleted)
		in.EventsAfter = res.EventsAfter
		if res.Done {
			workflow.GetLogger(ctx).Info("retention done", "cutoff", in.Cutoff, "deleted", in.Deleted)
			return in.Deleted, nil
		}
	}
	return in.Deleted, workflow.NewContinueAsNewError(ctx, RetentionWorkflow, in)
}

package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/delivery"
)

// BatchInput starts a Batch. Only the id travels through Temporal: the activities load
// the batch, its webhook and its members from PostgreSQL.
type BatchInput struct {
	BatchID string
	// Manual starts the run with a manual attempt at once and no automatic retries after
	// it (a retry of a member of a batch whose workflow had already finished).
	Manual bool
}

// Batch drives one batch of a throttled webhook's notifications (API.md `throttle`): it
// waits for the end of the batch's window, then attempts it as Delivery attempts one
// delivery (the first attempt closes the batch to new notifications), retrying on the
// webhook's schedule and listening for the retry and cancel signals, until it succeeds,
// its retries run out, it is canceled, or its webhook goes away. Every member of the
// batch shares its attempts and outcome; its state is what the status query answers.
//
// A retry signal during the window sends the batch at once, in manual mode; a cancel
// signal, at any wait, ends the members still to be sent as canceled.
func Batch(ctx workflow.Context, in BatchInput) (DeliveryState, error) {
	state := DeliveryState{Status: delivery.StatusPending, Manual: in.Manual}
	ctx, retryCh, cancelCh, err := setUp(ctx, &state, time.Minute)
	if err != nil {
		return state, err
	}
	var a *activities.Activities

	trigger, replayID := activities.TriggerAuto, ""
	if in.Manual {
		// The signal that started this run asked for this very attempt.
		_, replayID = drain(retryCh)
		trigger = manualTrigger(replayID)
	} else {
		// The window: a local activity reads its end, so a batch started late (by the
		// reconciler) is sent at once.
		var sendAt time.Time
		if err := workflow.ExecuteLocalActivity(ctx, a.BatchWindow, in.BatchID).Get(ctx, &sendAt); err != nil {
			return state, endOnFault(ctx, &state, err)
		}
		if wait := sendAt.Sub(workflow.Now(ctx)); wait > 0 {
			why := "batch window until " + sendAt.UTC().Format(time.RFC3339)
			reason, id := waitForNextAttempt(ctx, wait, why, retryCh, cancelCh)
			switch reason {
			case wokeByRetry:
				state.Manual, trigger, replayID = true, manualTrigger(id), id
			case wokeByCancel:
				return state, cancelBatch(ctx, &state, in.BatchID)
			}
		}
	}
	for {
		input := activities.BatchAttemptInput{BatchID: in.BatchID, Trigger: trigger, ReplayID: replayID}
		var res activities.AttemptResult
		if err := workflow.ExecuteActivity(ctx, a.BatchAttempt, input).Get(ctx, &res); err != nil {
			return state, endOnFault(ctx, &state, err)
		}
		delay := settle(ctx, &state, activities.AttemptInput{DeliveryID: in.BatchID, Trigger: trigger}, res)
		if err := upsertStatus(ctx, state); err != nil {
			return state, err
		}
		if state.Status != delivery.StatusRetrying {
			asked, id := drain(retryCh)
			if !asked {
				return state, closeRun(ctx, "batch "+in.BatchID, state, false)
			}
			state.Manual, trigger, replayID = true, manualTrigger(id), id
			continue
		}
		reason, id := waitForNextAttempt(ctx, delay, retrySummary(res.Number, delay, res.RetryAfter), retryCh, cancelCh)
		switch reason {
		case wokeByTimer:
			trigger, replayID = activities.TriggerAuto, ""
		case wokeByRetry:
			state.Manual, trigger, replayID = true, manualTrigger(id), id
		case wokeByCancel:
			return state, cancelBatch(ctx, &state, in.BatchID)
		}
	}
}

// cancelBatch ends the batch's members still to be sent as canceled and the run with it,
// and returns the error the run closes with (see closeRun).
func cancelBatch(ctx workflow.Context, state *DeliveryState, batchID string) error {
	var a *activities.Activities
	if err := workflow.ExecuteActivity(ctx, a.CancelBatch, batchID).Get(ctx, nil); err != nil {
		return err
	}
	state.Status, state.NextAttemptAt = delivery.StatusCanceled, nil
	if err := upsertStatus(ctx, *state); err != nil {
		return err
	}
	return closeRun(ctx, "batch "+batchID, *state, false)
}

package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/delivery"
)

// DeliveryInput starts a Delivery. Only ids travel through Temporal: the attempt activity
// loads the event and the webhook from PostgreSQL.
type DeliveryInput struct {
	DeliveryID string
	// Manual starts the run with a manual attempt and no automatic retries after it
	// (a retry of a delivery whose workflow had already finished).
	Manual bool
}

// DeliveryState is what the status query answers and the workflow returns.
type DeliveryState struct {
	Status        string
	Attempts      int // attempts of this delivery so far, across runs
	Manual        bool
	NextAttemptAt time.Time // zero unless Status is retrying
	LastOutcome   delivery.Outcome
	LastError     string
}

// attemptTimeout bounds one attempt activity: the longest webhook timeout (60 s) plus
// room to record it. The heartbeat timeout is what notices a dead worker quickly.
const (
	attemptTimeout   = 2 * time.Minute
	heartbeatTimeout = 10 * time.Second
)

// Delivery drives one notification: attempt, then on a retryable failure wait
// max(schedule[n], Retry-After) while listening for the retry and cancel signals, until it
// succeeds, its retries run out, it is canceled, or its webhook goes away.
func Delivery(ctx workflow.Context, in DeliveryInput) (DeliveryState, error) {
	state := DeliveryState{Status: delivery.StatusPending, Manual: in.Manual}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (DeliveryState, error) {
		return state, nil
	}); err != nil {
		return state, err
	}
	retryCh := workflow.GetSignalChannel(ctx, SignalRetry)
	cancelCh := workflow.GetSignalChannel(ctx, SignalCancel)

	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: attemptTimeout,
		HeartbeatTimeout:    heartbeatTimeout,
		// Only infrastructure faults (the database blinked, a worker died) are retried
		// here; the delivery schedule itself lives in this workflow.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})

	trigger := activities.TriggerAuto
	if in.Manual {
		trigger = activities.TriggerManual
		drain(retryCh) // the signal that started this run asked for this very attempt
	}
	retriesDone := 0
	var a *activities.Activities
	for {
		var res activities.AttemptResult
		err := workflow.ExecuteActivity(ctx, a.Attempt, activities.AttemptInput{
			DeliveryID:  in.DeliveryID,
			Trigger:     trigger,
			RetriesDone: retriesDone,
			Manual:      state.Manual,
		}).Get(ctx, &res)
		if err != nil {
			return state, err
		}
		if res.Abandoned {
			state.Status = delivery.StatusCanceled
			state.LastError = res.Error
			return state, upsertStatus(ctx, state)
		}
		status, delay := delivery.Next(res.Policy, retriesDone, state.Manual, res.Outcome, res.RetryAfter)
		state.Attempts = res.Number
		state.Status, state.LastOutcome, state.LastError = status, res.Outcome, res.Error
		state.NextAttemptAt = time.Time{}
		if status == delivery.StatusRetrying {
			state.NextAttemptAt = workflow.Now(ctx).Add(delay)
		}
		if err := upsertStatus(ctx, state); err != nil {
			return state, err
		}
		if status != delivery.StatusRetrying {
			return state, nil
		}

		switch waitForNextAttempt(ctx, delay, retryCh, cancelCh) {
		case wokeByTimer:
			retriesDone++
			trigger = activities.TriggerAuto
		case wokeByRetry:
			state.Manual = true
			trigger = activities.TriggerManual
		case wokeByCancel:
			state.Status = delivery.StatusCanceled
			state.NextAttemptAt = time.Time{}
			return state, upsertStatus(ctx, state)
		}
	}
}

type wakeReason int

const (
	wokeByTimer wakeReason = iota
	wokeByRetry
	wokeByCancel
)

// waitForNextAttempt sleeps for delay unless a retry or cancel signal comes first.
func waitForNextAttempt(ctx workflow.Context, delay time.Duration, retryCh, cancelCh workflow.ReceiveChannel) wakeReason {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	var reason wakeReason
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(timerCtx, delay), func(workflow.Future) { reason = wokeByTimer })
	sel.AddReceive(retryCh, func(workflow.ReceiveChannel, bool) {
		drain(retryCh)
		reason = wokeByRetry
	})
	sel.AddReceive(cancelCh, func(workflow.ReceiveChannel, bool) {
		drain(cancelCh)
		reason = wokeByCancel
	})
	sel.Select(ctx)
	return reason
}

// drain consumes every signal already buffered on ch: several clicks on "retry" during
// one backoff ask for one attempt, not several.
func drain(ch workflow.ReceiveChannel) {
	for ch.ReceiveAsync(nil) {
	}
}

func upsertStatus(ctx workflow.Context, s DeliveryState) error {
	err := workflow.UpsertTypedSearchAttributes(ctx,
		AttrStatus.ValueSet(s.Status),
		AttrAttempts.ValueSet(int64(s.Attempts)),
	)
	if err != nil {
		return fmt.Errorf("upsert search attributes: %w", err)
	}
	return nil
}

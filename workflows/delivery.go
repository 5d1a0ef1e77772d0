package workflows

import (
	"errors"
	"fmt"
	"strings"
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
	// Version is the revision of this workflow's code the run was started for,
	// DeliveryVersion for every run hookd starts now; 0 in runs started before it
	// existed, which replay through the GetVersion markers they recorded.
	Version int `json:",omitempty"`
}

// DeliveryVersion is the revision of Delivery that new runs are started for (their
// DeliveryInput.Version). Revision 1 takes every versioned change below as made
// (changeLocalFirstAttempt and changeCloseStatus at version 1) without asking
// workflow.GetVersion, and records hookd's status attributes only when a run has more to
// say than "succeeded at once":
//   - The revision travels in the start input because a GetVersion marker is not free:
//     the SDK records a marker event and upserts the TemporalChangeVersion search
//     attribute with it, a visibility write per run.
//   - A run starts without HookdDeliveryStatus and HookdAttempts (see internal/engine)
//     and upserts them from its first attempt that does not succeed (retrying, failed,
//     canceled) onwards. A run that succeeds at its first attempt upserts nothing: its
//     close status, Completed, says it succeeded.
//
// A clean delivery is then six history events (started, a workflow task scheduled,
// started and completed, the local attempt's marker, completed) instead of nine (with a
// version marker and two upserts). Its visibility writes stay two, start and close: the
// server already skipped the upserts' visibility tasks, which ran after the close.
const DeliveryVersion = 1

// DeliveryState is what the status query answers, what a run that succeeded returns, and
// the details of the error a run that failed or was canceled closes with (see closeRun).
// It answers only what holds: NextAttemptAt only while retrying, LastOutcome and
// LastError only once an attempt said them (LastError never once succeeded). Results
// recorded before these fields were optional (a zero NextAttemptAt, empty strings) still
// decode into it.
type DeliveryState struct {
	Status        string
	Attempts      int              // attempts of this delivery so far, across runs
	Manual        bool             `json:",omitempty"`
	NextAttemptAt *time.Time       `json:",omitempty"` // set only while Status is retrying
	LastOutcome   delivery.Outcome `json:",omitempty"`
	LastError     string           `json:",omitempty"`
}

// attemptTimeout bounds one attempt activity: the longest webhook timeout (60 s) plus
// room to record it. The heartbeat timeout is what notices a dead worker quickly.
const (
	attemptTimeout   = 2 * time.Minute
	heartbeatTimeout = 10 * time.Second
)

// changeLocalFirstAttempt versions two changes made together: each run's first attempt
// is a local activity (it runs inside the workflow task that started the run, so a
// delivery that succeeds at once costs one workflow task and no activity task round
// trip), and a retry signal that arrives during a run's final attempt is honoured instead
// of left unread. Runs recorded before the change replay the old way.
const changeLocalFirstAttempt = "local-first-attempt"

// changeCloseStatus versions how a run closes: from version 1 a delivery (or batch) that
// failed closes its workflow Failed, with a non-retryable ErrTypeDeliveryFailed error
// naming the last error, and one that was canceled closes it Canceled, so that the Web UI
// shows them as such (and its Failures filter counts the failed ones) instead of as
// Completed like a success. The version is asked for only at those two ends: a run that
// succeeds records no marker, and runs that closed before the change replay as they did.
const changeCloseStatus = "close-status"

// infraRetry retries an attempt that failed for hookd's own reasons (the database blinked,
// a worker died), for about an hour (1s doubling to a 1-minute cap, 60 tries): long
// enough to ride out a database failover or restart, bounded so that a fault that never
// heals ends the workflow visibly instead of retrying for good. Faults no retry can fix
// are non-retryable application errors (activities.ErrType…) and end it at once. The
// delivery schedule itself lives in the workflow.
var infraRetry = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    time.Minute,
	MaximumAttempts:    60,
}

// Delivery drives one notification: attempt, then on a retryable failure wait
// max(schedule[n], Retry-After) while listening for the retry and cancel signals, until it
// succeeds, its retries run out, it is canceled, or its webhook goes away.
func Delivery(ctx workflow.Context, in DeliveryInput) (DeliveryState, error) {
	state := DeliveryState{Status: delivery.StatusPending, Manual: in.Manual}
	ctx, retryCh, cancelCh, err := setUp(ctx, &state, attemptTimeout)
	if err != nil {
		return state, err
	}
	revised := in.Version >= 1
	v1 := revised || workflow.GetVersion(ctx, changeLocalFirstAttempt, workflow.DefaultVersion, 1) == 1
	local := v1
	// shown: the run's visibility record carries hookd's status attributes, so a change
	// of status must be upserted. Runs before revision 1 started with them.
	shown := !revised

	trigger, replayID := activities.TriggerAuto, ""
	if in.Manual {
		// The signal that started this run asked for this very attempt.
		_, replayID = drain(retryCh)
		trigger = manualTrigger(replayID)
	}
	var a *activities.Activities
	for {
		input := activities.AttemptInput{DeliveryID: in.DeliveryID, Trigger: trigger, ReplayID: replayID}
		var attempt workflow.Future
		if local {
			attempt = workflow.ExecuteLocalActivity(ctx, a.Attempt, input)
			// Later attempts come after a timer, which costs a workflow task anyway, and a
			// slow receiver must not hold a workflow task open for each of them.
			local = false
		} else {
			attempt = workflow.ExecuteActivity(ctx, a.Attempt, input)
		}
		var res activities.AttemptResult
		if err := attempt.Get(ctx, &res); err != nil {
			return state, endOnFault(ctx, &state, err)
		}
		delay := settle(ctx, &state, input, res)
		if shown || state.Status != delivery.StatusSucceeded {
			if err := upsertStatus(ctx, state); err != nil {
				return state, err
			}
			shown = true
		}
		if state.Status != delivery.StatusRetrying {
			// A retry asked for while this attempt ran reached this run, not a new one:
			// honour it rather than finish with the signal unread.
			if !v1 {
				return state, closeRun(ctx, "delivery "+in.DeliveryID, state, revised)
			}
			asked, id := drain(retryCh)
			if !asked {
				return state, closeRun(ctx, "delivery "+in.DeliveryID, state, revised)
			}
			state.Manual, trigger, replayID = true, manualTrigger(id), id
			continue
		}

		reason, id := waitForNextAttempt(ctx, delay, retrySummary(res.Number, delay, res.RetryAfter), retryCh, cancelCh)
		switch reason {
		case wokeByTimer:
			trigger, replayID = activities.TriggerAuto, ""
		case wokeByRetry:
			state.Manual = true
			trigger, replayID = manualTrigger(id), id
		case wokeByCancel:
			state.Status = delivery.StatusCanceled
			state.NextAttemptAt = nil
			if err := upsertStatus(ctx, state); err != nil {
				return state, err
			}
			return state, closeRun(ctx, "delivery "+in.DeliveryID, state, revised)
		}
	}
}

// setUp makes what a Delivery or Batch run starts with: the status query answering
// state, the retry and cancel signal channels, and ctx with the attempt's activity
// options (a local attempt bounded by localTimeout). None of it is a command.
func setUp(ctx workflow.Context, state *DeliveryState, localTimeout time.Duration) (_ workflow.Context, retryCh, cancelCh workflow.ReceiveChannel, err error) {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (DeliveryState, error) {
		return *state, nil
	}); err != nil {
		return ctx, nil, nil, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: attemptTimeout,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         infraRetry,
	})
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: localTimeout,
		RetryPolicy:         infraRetry,
	})
	return ctx, workflow.GetSignalChannel(ctx, SignalRetry), workflow.GetSignalChannel(ctx, SignalCancel), nil
}

// settle applies an attempt's result to the state and returns the delay before the next
// automatic attempt, which matters only when the state is now retrying. The activity
// decided both (delivery.Decide) and recorded them; the workflow only follows.
func settle(ctx workflow.Context, state *DeliveryState, in activities.AttemptInput, res activities.AttemptResult) time.Duration {
	state.NextAttemptAt = nil
	if res.Abandoned {
		state.Status, state.LastError = delivery.StatusCanceled, res.Error
		return 0
	}
	delay := res.Delay
	if res.Status == delivery.StatusRetrying && delay == 0 && res.Policy != nil {
		// A result recorded before the activity decided: the same rule over its facts (its
		// Policy predates jitter, so the delay is the one that run waited).
		delay = delivery.Decide(*res.Policy, in.DeliveryID, res.Number, in.Trigger, res.Outcome, res.RetryAfter).Delay
	}
	state.Attempts = res.Number
	state.Status, state.LastOutcome, state.LastError = res.Status, res.Outcome, res.Error
	if res.Status == delivery.StatusRetrying {
		next := workflow.Now(ctx).Add(delay)
		state.NextAttemptAt = &next
	}
	return delay
}

// endOnFault ends the run on an attempt that failed with a fault rather than an outcome,
// and returns the error the workflow fails with. A permanent fault (a non-retryable
// application error of a type named in activities) shows in the state and the search
// attributes as the end it is: failed, or canceled for a delivery (or batch) that no
// longer exists.
func endOnFault(ctx workflow.Context, state *DeliveryState, err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return err
	}
	switch appErr.Type() {
	case activities.ErrTypeDeliveryGone, activities.ErrTypeBatchGone:
		state.Status = delivery.StatusCanceled
	case activities.ErrTypeSecretUndecryptable:
		state.Status = delivery.StatusFailed
	default:
		return err
	}
	state.NextAttemptAt, state.LastError = nil, appErr.Message()
	if uerr := upsertStatus(ctx, *state); uerr != nil {
		return uerr
	}
	return err
}

type wakeReason int

const (
	wokeByTimer wakeReason = iota
	wokeByRetry
	wokeByCancel
)

// waitForNextAttempt sleeps for delay unless a retry or cancel signal comes first. Woken
// by retry signals, it also returns the replay that asked, if one did (see drain). why is
// the timer's summary, which the Web UI shows beside it.
func waitForNextAttempt(ctx workflow.Context, delay time.Duration, why string, retryCh, cancelCh workflow.ReceiveChannel) (reason wakeReason, replayID string) {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	sel := workflow.NewSelector(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, delay, workflow.TimerOptions{Summary: why})
	sel.AddFuture(timer, func(workflow.Future) { reason = wokeByTimer })
	sel.AddReceive(retryCh, func(workflow.ReceiveChannel, bool) {
		_, replayID = drain(retryCh)
		reason = wokeByRetry
	})
	sel.AddReceive(cancelCh, func(workflow.ReceiveChannel, bool) {
		drain(cancelCh)
		reason = wokeByCancel
	})
	sel.Select(ctx)
	return reason, replayID
}

// drain consumes every signal already buffered on ch and reports whether there was one:
// several clicks on "retry" during one backoff ask for one attempt, not several. Of retry
// signals (RetrySignal) it returns the replay id of the last one that carried one: an
// attempt made for a replay counts for it, whoever else asked.
func drain(ch workflow.ReceiveChannel) (asked bool, replayID string) {
	for {
		var sig RetrySignal
		if !ch.ReceiveAsync(&sig) {
			return asked, replayID
		}
		asked = true
		if sig.ReplayID != "" {
			replayID = sig.ReplayID
		}
	}
}

// manualTrigger is the trigger of an attempt asked for by signal: a replay's, or an
// admin's manual retry.
func manualTrigger(replayID string) string {
	if replayID != "" {
		return activities.TriggerReplay
	}
	return activities.TriggerManual
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

// closeRun returns the error a run that ended in state closes its workflow with (see
// changeCloseStatus): for a failed one a non-retryable ErrTypeDeliveryFailed application
// error whose message names what failed (what: "delivery dlv_…", "batch bat_…") and its
// last error, for a canceled one a canceled error, each with state as its details; nil
// for any other end, and for every end in runs recorded before the change (revised: the
// run's input says it was started after it, see DeliveryVersion). No workflow
// retry policy is set, so a failed run is not retried: a retry or replay starts a new
// run under the same workflow ID (signal-with-start, internal/engine).
func closeRun(ctx workflow.Context, what string, state DeliveryState, revised bool) error {
	if state.Status != delivery.StatusFailed && state.Status != delivery.StatusCanceled {
		return nil
	}
	if !revised && workflow.GetVersion(ctx, changeCloseStatus, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	if state.Status == delivery.StatusCanceled {
		return temporal.NewCanceledError(state)
	}
	return temporal.NewNonRetryableApplicationError(failureMessage(what, state), ErrTypeDeliveryFailed, nil, state)
}

// failureMessage is what the Web UI shows of a failed run: "delivery dlv_… failed after 4
// attempts: receiver answered 503".
func failureMessage(what string, state DeliveryState) string {
	msg := what + " failed"
	switch state.Attempts {
	case 0:
	case 1:
		msg += " after 1 attempt"
	default:
		msg += fmt.Sprintf(" after %d attempts", state.Attempts)
	}
	if state.LastError != "" {
		msg += ": " + state.LastError
	}
	return msg
}

// retrySummary says why a retry timer waits, for the Web UI: after attempt number failed,
// "retry 3 in 5m (Retry-After 300s)" (the receiver's Retry-After shown when it sent one;
// it is a lower bound of the wait, see delivery.Decide).
func retrySummary(number int, delay, retryAfter time.Duration) string {
	s := fmt.Sprintf("retry %d in %s", number, shortDuration(delay))
	if retryAfter > 0 {
		s += fmt.Sprintf(" (Retry-After %ds)", int64(retryAfter.Round(time.Second)/time.Second))
	}
	return s
}

// shortDuration writes d to the second without zero units: 5m, 1h30m, 57s.
func shortDuration(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
)

// replayPagesPerRun bounds a Replay run: each page (one ReplayPage activity, up to 500
// deliveries: dispatch.ReplayPageSize) costs about six history events, so a run stays
// around 300 events, and a longer replay continues as new (100,000 deliveries at 500 a
// page: 200 pages, 4 runs).
const replayPagesPerRun = 50

// ReplayInput starts a Replay: only its id travels; the activities read the rest, its
// progress included (the replay's cursor in PostgreSQL), so a continuation needs nothing
// more.
type ReplayInput struct {
	ReplayID string
}

// Replay resends, at its replay's pace, each delivery the replay matched (API.md
// "Replays"), a page at a time (activities.ReplayPage), until a page finds it done:
// every delivery handled (the activity completes it) or the replay canceled. Canceling
// the workflow (dispatch.Service.CancelReplay) stops the page in progress at its next
// delivery and ends the run Canceled (the replay's record says canceled: the activity
// records it so if the cancellation came from elsewhere). A page that keeps failing
// (about 25 minutes of retries, such as a database that stays down) or a replay gone
// ends it failed, with the error recorded on the replay.
func Replay(ctx workflow.Context, in ReplayInput) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A page is about 30 s of pacing (dispatch.ReplayPageSize) plus its signals.
		StartToCloseTimeout: 10 * time.Minute,
		// It heartbeats after every delivery, at least once a second (the slowest pace)
		// unless a signal takes the engine timeout (10 s): a page whose worker died is
		// taken up again within 20 s of its last heartbeat, not a minute.
		HeartbeatTimeout:    20 * time.Second,
		WaitForCancellation: true, // the page stops at a delivery boundary
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        30,
			NonRetryableErrorTypes: []string{activities.ErrTypeReplayGone},
		},
	})
	var a *activities.Activities
	for range replayPagesPerRun {
		var res activities.ReplayPageResult
		err := workflow.ExecuteActivity(actx, a.ReplayPage, activities.ReplayPageInput{ReplayID: in.ReplayID}).Get(actx, &res)
		switch {
		case ctx.Err() != nil:
			return endCanceled(ctx, in.ReplayID)
		case err != nil:
			return endFailed(ctx, in.ReplayID, err)
		case res.Done:
			return nil
		}
	}
	return workflow.NewContinueAsNewError(ctx, Replay, in)
}

// endCanceled records a canceled replay as such (a no-op when hookd's API canceled it)
// and returns the cancellation, so the run reads Canceled.
func endCanceled(ctx workflow.Context, replayID string) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, finishOptions)
	var a *activities.Activities
	if err := workflow.ExecuteActivity(dctx, a.FinishReplay, replayID, activities.ReplayCanceled, "").Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("record canceled replay", "replay_id", replayID, "err", err)
	}
	return temporal.NewCanceledError()
}

// endFailed records replay replayID failed with err (unless it is gone) and returns err.
func endFailed(ctx workflow.Context, replayID string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == activities.ErrTypeReplayGone {
		return err
	}
	fctx := workflow.WithActivityOptions(ctx, finishOptions)
	var a *activities.Activities
	if ferr := workflow.ExecuteActivity(fctx, a.FinishReplay, replayID, activities.ReplayFailed, err.Error()).Get(fctx, nil); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// finishOptions are the options of FinishReplay: one short statement, retried until the
// database answers.
var finishOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
}

package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
)

// replayService is what the replay activities ask of the service (internal/dispatch).
type replayService interface {
	NextReplayItems(ctx context.Context, id string) (store.Replay, []store.ReplayItem, error)
	ReplayDelivery(ctx context.Context, r store.Replay, it store.ReplayItem) (running bool, err error)
	FinishReplay(ctx context.Context, id, status, reason string) error
}

var _ replayService = (*dispatch.Service)(nil)

// Statuses a Replay workflow ends a replay with (store's, named here for the workflow).
const (
	ReplayCanceled = store.ReplayCanceled
	ReplayFailed   = store.ReplayFailed
)

// ErrTypeReplayGone: the replay no longer exists (its organization was deleted). A
// non-retryable application error of ReplayPage.
const ErrTypeReplayGone = "ReplayGone"

// ReplayPageInput names the replay to go on with.
type ReplayPageInput struct {
	ReplayID string
}

// ReplayPageResult says whether the replay is over: Done with the replay's status once it
// has handled every delivery (completed) or was canceled; not Done, another page follows.
type ReplayPageResult struct {
	Done    bool
	Status  string
	Handled int // deliveries handled by this page
}

// ReplayPage resends the next page of a replay's deliveries (after the last it recorded
// handling), at the replay's rate (golang.org/x/time/rate), each through
// dispatch.Service.ReplayDelivery, which records each as handled before the next: a
// page redone after a restart resumes at the first delivery not recorded, and one
// recorded signal sent twice still makes one attempt. It heartbeats after each delivery,
// so a cancellation of the workflow stops it there (as does the replay's record, read
// back with each delivery). A replay with nothing left is completed here.
func (a *Activities) ReplayPage(ctx context.Context, in ReplayPageInput) (ReplayPageResult, error) {
	r, items, err := a.Replays.NextReplayItems(ctx, in.ReplayID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ReplayPageResult{}, temporal.NewNonRetryableApplicationError(
			"replay "+in.ReplayID+" no longer exists", ErrTypeReplayGone, err)
	case err != nil:
		return ReplayPageResult{}, fmt.Errorf("read replay page: %w", err)
	case r.Status != store.ReplayRunning:
		return ReplayPageResult{Done: true, Status: r.Status}, nil
	case len(items) == 0:
		if err := a.Replays.FinishReplay(ctx, r.ID, store.ReplayCompleted, ""); err != nil {
			return ReplayPageResult{}, fmt.Errorf("complete replay: %w", err)
		}
		return ReplayPageResult{Done: true, Status: store.ReplayCompleted}, nil
	}
	pace := rate.NewLimiter(rate.Limit(r.RatePerSecond), 1)
	res := ReplayPageResult{}
	for _, it := range items {
		if err := pace.Wait(ctx); err != nil {
			return res, fmt.Errorf("replay %s at position %d: %w", r.ID, it.Position, err)
		}
		running, err := a.Replays.ReplayDelivery(ctx, r, it)
		if err != nil {
			return res, fmt.Errorf("replay %s at position %d: %w", r.ID, it.Position, err)
		}
		res.Handled++
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, it.Position)
		}
		if !running {
			return ReplayPageResult{Done: true, Status: store.ReplayCanceled, Handled: res.Handled}, nil
		}
	}
	return res, nil
}

// FinishReplay ends a running replay with status (failed, with reason; or canceled, when
// its workflow was canceled from elsewhere than hookd's API).
func (a *Activities) FinishReplay(ctx context.Context, replayID, status, reason string) error {
	return a.Replays.FinishReplay(ctx, replayID, status, reason)
}

// replayedAlready answers, without sending, an attempt that a replay asked for of a
// delivery it has already attempted (store.ErrReplayed): its signal came twice, as when
// hookd restarted between signalling the delivery and recording it (see
// dispatch.Service.ReplayDelivery). A replay sends each delivery at most once:
//   - its attempt completed: the answer is what it recorded (as for a re-execution), unless
//     the delivery is pending again, which only someone else's retry makes it (a replay
//     never reopens a delivery it has attempted), and that attempt is made, as a manual one;
//   - its attempt was cut off (its worker stopped with the request in flight; this is the
//     activity's retry): whether it reached the receiver is unknown, so it is not sent
//     again, and the delivery ends failed with store.InterruptedError.
func (a *Activities) replayedAlready(ctx context.Context, ac store.AttemptContext, in AttemptInput) (AttemptResult, error) {
	rec, state, err := a.Store.ReplayAttempt(ctx, in.ReplayID, in.DeliveryID)
	if err != nil {
		return AttemptResult{}, fmt.Errorf("read the replay's attempt: %w", err)
	}
	a.logger().Info("replay attempted this delivery already, not sending again",
		"delivery_id", in.DeliveryID, "replay_id", in.ReplayID, "attempt", rec.Number, "state", state)
	switch {
	case state != store.AttemptCompleted:
		if err := a.Service.FailDelivery(ctx, in.DeliveryID, store.InterruptedError); err != nil {
			return AttemptResult{}, fmt.Errorf("end interrupted replay attempt: %w", err)
		}
		return AttemptResult{Number: rec.Number, Outcome: delivery.OutcomeRetry, Status: delivery.StatusFailed,
			Error: store.InterruptedError}, nil
	case ac.Delivery.Status == delivery.StatusPending:
		in.Trigger, in.ReplayID = TriggerManual, ""
		return a.Attempt(ctx, in)
	}
	return a.recorded(ctx, ac, rec, in)
}

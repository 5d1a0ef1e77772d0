package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
)

// replayService is what the replay activities ask of the service (internal/dispatch).
type replayService interface {
	NextReplayItems(ctx context.Context, id string) (store.Replay, []store.ReplayItem, error)
	ReplayDelivery(ctx context.Context, r store.Replay, it store.ReplayItem) (replayed bool, err error)
	AdvanceReplay(ctx context.Context, id string, from, to, replayed int64) (running bool, err error)
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
// handling) through dispatch.Service.ReplayDelivery, paced at the replay's rate
// (golang.org/x/time/rate) and a few at a time (replayParallel: a signal is a round trip
// to Temporal, longer than the gap between two deliveries at a high rate). Each delivery
// is reopened only while the replay is running, so a cancel stops it at the deliveries
// in flight. It records
// its progress (AdvanceReplay) at most every replayRecordEvery and at the end, up to
// the last delivery before which every one has been handled: a page redone after a
// restart resumes there, and a delivery handled twice still makes one attempt. It
// heartbeats as it goes, so a cancellation of the workflow stops it at the next
// delivery, as does the replay's record when it says canceled. A replay with nothing
// left is completed here.
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

	p := &replayProgress{svc: a.Replays, replay: r, items: items, outcome: make([]int8, len(items)), cursor: r.Cursor}
	pace := rate.NewLimiter(rate.Limit(r.RatePerSecond), 1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(replayParallel(r.RatePerSecond))
	running, last := true, time.Now()
	var stopped atomic.Bool // the replay was found canceled
	for i, it := range items {
		if err := pace.Wait(gctx); err != nil || stopped.Load() {
			break // canceled, or a delivery failed: g.Wait says which
		}
		g.Go(func() error {
			replayed, err := a.Replays.ReplayDelivery(gctx, r, it)
			switch {
			case errors.Is(err, store.ErrReplayNotRunning):
				stopped.Store(true)
				return nil
			case err != nil:
				return fmt.Errorf("replay %s at position %d: %w", r.ID, it.Position, err)
			}
			p.handled(i, replayed)
			return nil
		})
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, it.Position)
		}
		if time.Since(last) >= replayRecordEvery {
			if running, err = p.record(ctx); err != nil || !running {
				break
			}
			last = time.Now()
		}
	}
	gerr := g.Wait()
	// What was handled is recorded even when the page was canceled.
	recorded, rerr := p.record(context.WithoutCancel(ctx))
	switch {
	case gerr != nil:
		return ReplayPageResult{Handled: p.done}, gerr
	case ctx.Err() != nil:
		return ReplayPageResult{Handled: p.done}, ctx.Err()
	case rerr != nil:
		return ReplayPageResult{Handled: p.done}, fmt.Errorf("record replay progress: %w", rerr)
	case err != nil:
		return ReplayPageResult{Handled: p.done}, fmt.Errorf("record replay progress: %w", err)
	case !running || !recorded || stopped.Load():
		return ReplayPageResult{Done: true, Status: store.ReplayCanceled, Handled: p.done}, nil
	}
	return ReplayPageResult{Handled: p.done}, nil
}

// Pace of a replay page: how many deliveries are in flight at once (a tenth of the rate,
// 1 to 16), and how often progress is recorded (a restart redoes at most that much).
const (
	maxReplayParallel = 16
	replayRecordEvery = 250 * time.Millisecond
)

func replayParallel(ratePerSecond int) int {
	return min(max(ratePerSecond/10, 1), maxReplayParallel)
}

// replayProgress is what one page has handled, recorded in position order: the replay's
// cursor moves past a delivery only once every one before it in the page is handled.
type replayProgress struct {
	svc     replayService
	replay  store.Replay
	items   []store.ReplayItem
	mu      sync.Mutex
	outcome []int8 // per item: 0 not yet handled, 1 replayed, 2 skipped
	next    int    // items[:next] are recorded
	cursor  int64  // the position recorded last
	done    int    // items recorded
}

func (p *replayProgress) handled(i int, replayed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outcome[i] = 2
	if replayed {
		p.outcome[i] = 1
	}
}

// record records the handled deliveries that follow the recorded ones without a gap, if
// any, and reports whether the replay is still running.
func (p *replayProgress) record(ctx context.Context) (running bool, err error) {
	p.mu.Lock()
	end, replayed := p.next, int64(0)
	for end < len(p.items) && p.outcome[end] != 0 {
		if p.outcome[end] == 1 {
			replayed++
		}
		end++
	}
	p.mu.Unlock()
	if end == p.next {
		return true, nil
	}
	to := p.items[end-1].Position
	running, err = p.svc.AdvanceReplay(ctx, p.replay.ID, p.cursor, to, replayed)
	if err != nil {
		return true, err
	}
	p.done += end - p.next
	p.next, p.cursor = end, to
	return running, nil
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
//     again: the attempt is closed interrupted and the delivery ends failed.
func (a *Activities) replayedAlready(ctx context.Context, ac store.AttemptContext, in AttemptInput) (AttemptResult, error) {
	rec, state, err := a.Store.ReplayAttempt(ctx, in.ReplayID, in.DeliveryID)
	if err != nil {
		return AttemptResult{}, fmt.Errorf("read the replay's attempt: %w", err)
	}
	a.logger().Info("replay attempted this delivery already, not sending again",
		"delivery_id", in.DeliveryID, "replay_id", in.ReplayID, "attempt", rec.Number, "state", state)
	switch {
	case state != store.AttemptCompleted:
		if err := a.Service.EndReplayAttempt(ctx, in.ReplayID, in.DeliveryID); err != nil {
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

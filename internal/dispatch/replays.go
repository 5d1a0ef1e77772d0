package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// A replay (API.md "Replays") resends, at its pace, each delivery it matched when it was
// created, with one new attempt of trigger replay. Its Replay workflow pages through them
// (NextReplayItems) and hands each to ReplayDelivery, which reopens the delivery and
// signals it as a manual retry does, naming the replay; the attempt it asks for is the
// replay's only one of that delivery (store.BeginAttempt refuses a second), so a replay
// redone after a restart from its last recorded position sends nothing twice.

// replayStore is what the service needs from PostgreSQL for replays.
type replayStore interface {
	CreateReplay(ctx context.Context, r store.Replay) (store.Replay, error)
	GetReplay(ctx context.Context, orgID, id string) (store.Replay, error)
	ListReplays(ctx context.Context, orgID string, p store.Page) ([]store.Replay, string, error)
	CancelReplay(ctx context.Context, orgID, id string) (store.Replay, error)
	MarkReplayStarted(ctx context.Context, id string) error
	UnstartedReplays(ctx context.Context, createdBefore time.Time, limit int) ([]store.Replay, error)
	ReplayPage(ctx context.Context, id string, limit int) (store.Replay, []store.ReplayItem, error)
	ReopenForReplay(ctx context.Context, replayID, deliveryID string, from []string) (store.Delivery, bool, error)
	AdvanceReplay(ctx context.Context, id string, from, to, replayed int64) (string, error)
	FinishReplay(ctx context.Context, id, status, reason string) error
	EndReplayAttempt(ctx context.Context, replayID, deliveryID string) error
}

// Pages of a replay: about replayPageTime of work at its rate, at most maxReplayPage
// deliveries, so that one activity (and its heartbeats) stays short at any rate.
const (
	replayPageTime = 30 * time.Second
	maxReplayPage  = 500
)

// ReplayPageSize is how many deliveries one page of a replay at ratePerSecond holds.
func ReplayPageSize(ratePerSecond int) int {
	return min(max(ratePerSecond*int(replayPageTime/time.Second), 1), maxReplayPage)
}

// StartReplay records a replay of the organization's deliveries that f matches (at most
// store.MaxReplayDeliveries) at ratePerSecond and starts its workflow, and returns it
// with Matched counted. A *validation.Errors names what f gets wrong that only the store
// can tell (an id that is no delivery of the organization, too many matches). The
// replay is committed before its workflow starts: if the engine is unreachable the
// replay is returned all the same and the reconciler starts it.
func (s *Service) StartReplay(ctx context.Context, orgID string, f store.ReplayFilter, ratePerSecond int) (store.Replay, error) {
	r, err := s.store.CreateReplay(ctx, store.Replay{OrgID: orgID, Filter: f, RatePerSecond: ratePerSecond})
	if err != nil || r.Status != store.ReplayRunning {
		return r, err
	}
	ectx, cancel := s.engineContext(ctx)
	defer cancel()
	if err := s.startReplay(ectx, r); err != nil {
		s.log.WarnContext(ctx, "start replay workflow failed; the reconciler will start it", "err", err, "replay", r.ID)
	}
	return r, nil
}

// startReplay starts replay r's workflow and records that it has one.
func (s *Service) startReplay(ctx context.Context, r store.Replay) error {
	if err := s.engine.StartReplay(ctx, r); err != nil {
		return err
	}
	return s.store.MarkReplayStarted(ctx, r.ID)
}

// reconcileReplays starts the workflow of every running replay that has none (its
// creator could not start it), as Reconcile does for deliveries, and returns how many.
func (s *Service) reconcileReplays(ctx context.Context) (int, error) {
	rs, err := s.store.UnstartedReplays(ctx, s.now().Add(-reconcileGrace), reconcileBatch)
	if err != nil {
		return 0, fmt.Errorf("find unstarted replays: %w", err)
	}
	for i, r := range rs {
		if err := s.startReplay(ctx, r); err != nil {
			return i, fmt.Errorf("start replay %s: %w", r.ID, err)
		}
	}
	return len(rs), nil
}

// GetReplay reads the organization's replay id with its progress (store.ErrNotFound).
func (s *Service) GetReplay(ctx context.Context, orgID, id string) (store.Replay, error) {
	return s.store.GetReplay(ctx, orgID, id)
}

// ListReplays lists the organization's replays, newest first.
func (s *Service) ListReplays(ctx context.Context, orgID string, p store.Page) ([]store.Replay, string, error) {
	return s.store.ListReplays(ctx, orgID, p)
}

// CancelReplay stops the organization's running replay id and returns it canceled: it
// asks no further delivery for an attempt (those it asked already make theirs). The
// record is what stops it (its workflow reads it before each delivery), so an engine
// that cannot be told is only logged; the workflow is canceled too, to end at once and
// read as Canceled in the Web UI. store.ErrNotFound for an unknown id; store.ErrConflict
// (wrapped), with the replay as it is, for one that is not running.
func (s *Service) CancelReplay(ctx context.Context, orgID, id string) (store.Replay, error) {
	r, err := s.store.CancelReplay(ctx, orgID, id)
	if err != nil {
		return r, err
	}
	ectx, cancel := s.engineContext(ctx)
	defer cancel()
	if err := s.engine.CancelReplay(ectx, id); err != nil {
		s.log.WarnContext(ctx, "cancel replay workflow failed; it stops at its next delivery", "err", err, "replay", id)
	}
	return r, nil
}

// NextReplayItems returns replay id and its next page of deliveries (ReplayPageSize at
// its rate) after the last it handled; none when it has handled them all. Not scoped to
// an organization (the id comes from Temporal). store.ErrNotFound if the replay is gone.
func (s *Service) NextReplayItems(ctx context.Context, id string) (store.Replay, []store.ReplayItem, error) {
	r, items, err := s.store.ReplayPage(ctx, id, maxReplayPage)
	if err != nil {
		return r, nil, err
	}
	return r, items[:min(len(items), ReplayPageSize(r.RatePerSecond))], nil
}

// ReplayDelivery resends the delivery of item it for replay r, and reports whether it
// did (replayed) or skipped it; AdvanceReplay records that. Items of one replay may be
// handed to it concurrently.
//
// The delivery is skipped when it is no longer replayable: its webhook is not enabled (a
// ping aside, as for a manual retry), or r resends failed deliveries only and it is no
// longer failed, or it is pending for any reason but r's own reopening (another replay,
// an admin's retry or its own schedule: an attempt is already due, and a second signal
// would send it twice; a replay redone after a restart finds its own reopening and
// signals again), or it was deleted. Otherwise it is reopened (pending) and its workflow
// signalled as Service.Retry does, naming the replay; when the engine refuses, the
// delivery is put back and the error returned (ErrUnavailable, wrapped), so the item is
// redone. A delivery whose attempt for the replay has already begun is not reopened nor
// signalled again, and counts as replayed. store.ErrReplayNotRunning (wrapped) if the
// replay was canceled meanwhile: the delivery is left alone, and not handled.
//
// Unlike Retry it takes no delivery lock across the signal (which would hold a database
// connection per delivery in flight): the replay's own row for the delivery, locked
// while it is reopened and when its attempt begins (store.ReopenForReplay), is what keeps
// a repeated replay from sending twice; an admin's retry or cancel meanwhile leaves what
// it would have left a moment later.
func (s *Service) ReplayDelivery(ctx context.Context, r store.Replay, it store.ReplayItem) (replayed bool, err error) {
	d := it.Delivery
	if !(store.Webhook{Status: it.WebhookStatus}).Receives(d.EventType) {
		return false, nil
	}
	from := notPending
	if r.Filter.OnlyFailed() {
		from = []string{delivery.StatusFailed}
	}
	next, claimed, err := s.store.ReopenForReplay(ctx, r.ID, d.ID, from)
	switch {
	case claimed:
		return true, nil
	case errors.Is(err, store.ErrReplayNotRunning):
		return false, err
	case errors.Is(err, store.ErrNotFound):
		return false, nil // deleted meanwhile
	case errors.Is(err, store.ErrConflict):
		// No longer replayable, or pending for another reason (another replay, a retry,
		// its own schedule): an attempt is already due, and a second signal would send
		// it twice.
		return false, nil
	case err != nil:
		return false, err
	}
	next.TargetHost = d.TargetHost // for a new run's summary in the Temporal UI
	if err := s.askAttempt(ctx, next, &d, r.ID); err != nil {
		return false, err
	}
	return true, nil
}

// AdvanceReplay records that replay id handled its deliveries after position from up to
// position to, replayed of them replayed and the rest skipped, and reports whether the
// replay is still running (false once it was canceled: the caller stops).
// store.ErrConflict (wrapped) if its progress was recorded from elsewhere meanwhile.
func (s *Service) AdvanceReplay(ctx context.Context, id string, from, to, replayed int64) (running bool, err error) {
	status, err := s.store.AdvanceReplay(ctx, id, from, to, replayed)
	return status == store.ReplayRunning, err
}

// FinishReplay ends running replay id with status (completed, or failed with reason); a
// replay no longer running is left alone.
func (s *Service) FinishReplay(ctx context.Context, id, status, reason string) error {
	return s.store.FinishReplay(ctx, id, status, reason)
}

// EndReplayAttempt ends replay replayID's attempt of delivery deliveryID that was cut off
// (its worker stopped with the request in flight): the attempt is closed interrupted and
// the delivery failed (store.EndReplayAttempt), since whether the request arrived is
// unknown and a replay sends each delivery at most once.
func (s *Service) EndReplayAttempt(ctx context.Context, replayID, deliveryID string) error {
	return s.store.EndReplayAttempt(ctx, replayID, deliveryID)
}

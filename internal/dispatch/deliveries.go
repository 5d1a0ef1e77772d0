package dispatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// cancelable are the statuses a delivery can be canceled from.
var cancelable = []string{delivery.StatusPending, delivery.StatusRetrying}

// notPending are the statuses a retry moves a delivery from, to pending.
var notPending = []string{delivery.StatusRetrying, delivery.StatusSucceeded, delivery.StatusFailed, delivery.StatusCanceled}

// Retry asks the organization's delivery id for an attempt now, in any status; from then
// on it makes no automatic retries. The delivery becomes pending (an attempt is due, no
// next attempt time) until that attempt reports, and Retry returns it so: as a read right
// after shows it. store.ErrNotFound for an unknown id; ErrWebhookNotEnabled (wrapped) if
// the webhook is disabled, unless the delivery is a ping (which goes to a disabled
// webhook too); ErrUnavailable (wrapped) if the engine refused, in which case the
// delivery is put back as it was.
func (s *Service) Retry(ctx context.Context, orgID, id string) (store.Delivery, error) {
	d, unlock, err := s.lockAndGet(ctx, orgID, id)
	if err != nil {
		return store.Delivery{}, err
	}
	defer unlock()
	wh, err := s.store.GetWebhook(ctx, orgID, d.WebhookID)
	if err != nil {
		return store.Delivery{}, err
	}
	if !wh.Receives(d.EventType) {
		return d, fmt.Errorf("retry %s: webhook %s is %s: %w", id, wh.ID, wh.Status, ErrWebhookNotEnabled)
	}
	before, reopened := d, false
	next, err := s.store.TransitionDelivery(ctx, orgID, id, notPending, delivery.StatusPending)
	switch {
	case err == nil:
		d, reopened = next, true
	case errors.Is(err, store.ErrConflict):
		d = next // pending already (an attempt recorded meanwhile may have made it so)
	default:
		return store.Delivery{}, err
	}
	d.TargetHost = webhook.TargetHost(wh.URL) // for a run's summary in the Temporal UI
	var was *store.Delivery
	if reopened {
		was = &before
	}
	if err := s.askAttempt(ctx, d, was, ""); err != nil {
		return store.Delivery{}, err
	}
	return d, nil
}

// askAttempt signals the workflow of pending delivery d for an attempt now (with
// signal-with-start: a run is started if none is running) and records that d has a
// workflow. replayID names the replay asking ("" for an admin's retry). If the engine
// refuses, d is put back as was (its state before it was made pending; nil: it was
// pending already, leave it) and ErrUnavailable (wrapped) is returned.
func (s *Service) askAttempt(ctx context.Context, d store.Delivery, was *store.Delivery, replayID string) error {
	ectx, cancel := s.engineContext(ctx)
	defer cancel()
	var err error
	if replayID == "" {
		err = s.engine.Retry(ectx, d)
	} else {
		err = s.engine.Replay(ectx, d, replayID)
	}
	if err != nil {
		if was != nil {
			s.restore(ectx, *was, delivery.StatusPending)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !d.WorkflowStarted {
		if err := s.store.MarkWorkflowsStarted(ectx, []string{d.ID}); err != nil {
			s.log.WarnContext(ctx, "mark delivery started after a retry failed", "err", err, "delivery", d.ID, "replay", replayID)
		}
	}
	return nil
}

// Cancel stops the organization's pending or retrying delivery id and returns it
// canceled. store.ErrNotFound for an unknown id; store.ErrConflict (wrapped), with the
// delivery as it is, for any other status; ErrUnavailable (wrapped) if the engine
// refused the signal, in which case the status is put back.
func (s *Service) Cancel(ctx context.Context, orgID, id string) (store.Delivery, error) {
	before, unlock, err := s.lockAndGet(ctx, orgID, id)
	if err != nil {
		return store.Delivery{}, err
	}
	defer unlock()
	d, err := s.store.TransitionDelivery(ctx, orgID, id, cancelable, delivery.StatusCanceled)
	if err != nil {
		return d, err
	}
	ectx, cancel := s.engineContext(ctx)
	defer cancel()
	if err := s.engine.Cancel(ectx, d); err != nil {
		s.restore(ectx, before, delivery.StatusCanceled)
		return store.Delivery{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return d, nil
}

// lockAndGet locks the organization's delivery id and reads it. The lock serialises the
// operations that change a delivery's status before a workflow signal and undo the change
// if the signal fails (Retry, Cancel): without it, one could start from the other's
// change and then put that change back for good. The wait is bounded like an engine
// call. Call unlock when done, unless err is not nil.
func (s *Service) lockAndGet(ctx context.Context, orgID, id string) (d store.Delivery, unlock func(), err error) {
	lctx, cancel := s.engineContext(ctx)
	defer cancel()
	unlock, err = s.store.LockDelivery(lctx, id)
	if err != nil && lctx.Err() != nil {
		// Another operation on the delivery is still waiting on the engine.
		return d, nil, fmt.Errorf("%w: delivery %s is busy: %w", ErrUnavailable, id, err)
	}
	if err != nil {
		return d, nil, err
	}
	if d, _, err = s.store.GetDelivery(ctx, orgID, id); err != nil {
		unlock()
		return d, nil, err
	}
	return d, unlock, nil
}

// restore undoes a status change whose engine call failed, putting the delivery back as
// it was (status and next attempt time), best effort: if its status moved on from
// meanwhile, it is left alone.
func (s *Service) restore(ctx context.Context, was store.Delivery, from string) {
	if err := s.store.RestoreDelivery(ctx, was, from); err != nil {
		s.log.WarnContext(ctx, "restore delivery after failed signal", "err", err, "delivery", was.ID, "from", from, "to", was.Status)
	}
}

// Abandon cancels a delivery that must not be sent (it was canceled meanwhile, or its
// webhook is no longer enabled), with reason as its last error, unless it already
// ended; the attempt activity calls it instead of sending. A delivery that is gone is
// fine.
func (s *Service) Abandon(ctx context.Context, d store.Delivery, reason string) error {
	return s.store.EndDelivery(ctx, d.ID, delivery.StatusCanceled, reason)
}

// FailDelivery ends a pending or retrying delivery as failed for a fault no attempt can
// fix (such as a signing secret that cannot be decrypted), with reason as its last error.
func (s *Service) FailDelivery(ctx context.Context, deliveryID, reason string) error {
	return s.store.EndDelivery(ctx, deliveryID, delivery.StatusFailed, reason)
}

// Outcome is what one attempt of a delivery came to, to be recorded.
type Outcome struct {
	Attempt  store.Attempt     // the request and response; Number is assigned by the store
	Decision delivery.Decision // delivery.Decide's verdict on it
	// RunID is the workflow run that made the attempt ("" keeps the stored one).
	RunID string
}

// BeginAttempt records attempt a as sending, before its request goes out, closing as
// interrupted any attempt of the delivery still in flight (its worker died), and returns
// its number: the attempt counts from then on, towards the retry budget too
// (delivery.Decide), whatever becomes of it. runID is the workflow run making it ("" keeps
// the stored one). Errors are store.BeginAttempt's.
func (s *Service) BeginAttempt(ctx context.Context, a store.Attempt, runID string) (int, error) {
	return s.store.BeginAttempt(ctx, a, runID)
}

// CompleteAttempt records what came back for an attempt begun with BeginAttempt
// (o.Attempt with the ID it was begun with) and its decision atomically: the delivery's
// status and next attempt time (its last error the decision's Reason, if any, else the
// attempt's), the webhook's counters and failing flag, and the webhook set to
// DISABLED_DUE_TO_ERRORS on 410 or when its consecutive failed deliveries reach its
// failureLimit (store.SettleAttempt). The attempt that disabled it then finishes the
// disabling (FinishDisabling): its other deliveries are canceled and `webhook.disabled`
// is emitted. wh is the webhook as the attempt loaded it. Errors are the store's:
// store.ErrNotFound if the delivery is gone, store.ErrConflict if the attempt is no longer
// sending (it was closed as interrupted); and FinishDisabling's, once the attempt is
// recorded (its re-execution finishes the disabling: see store.RecordedAttempt).
func (s *Service) CompleteAttempt(ctx context.Context, wh store.Webhook, o Outcome) error {
	update := store.DeliveryUpdate{
		Status:         o.Decision.Status,
		DisableWebhook: o.Decision.DisableWebhook,
		WorkflowRunID:  o.RunID,
		LastError:      o.Decision.Reason,
	}
	if o.Decision.Status == delivery.StatusRetrying {
		next := s.now().Add(o.Decision.Delay)
		update.NextAttemptAt = &next
	}
	settled, err := s.store.SettleAttempt(ctx, o.Attempt, update)
	if err != nil || settled.DisabledWebhook == "" {
		return err
	}
	wh.Status, wh.UpdatedAt = store.WebhookDisabledDueToErrors, settled.WebhookUpdatedAt
	return s.FinishDisabling(ctx, wh, settled.DisabledWebhook, o.Attempt.Error)
}

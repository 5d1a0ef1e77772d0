package dispatch

import (
	"context"
	"fmt"

	"github.com/hookd/hookd/internal/store"
)

// DisabledByAdmin is the reason a webhook's deliveries in flight were canceled when an
// admin set it DISABLED.
const DisabledByAdmin = "an admin set it DISABLED"

// canceledReason is the last error of a delivery canceled because its webhook was
// disabled for why.
func canceledReason(why string) string { return "webhook disabled: " + why }

// FinishDisabling finishes what hookd disabling wh entails, once the store has set it
// DISABLED_DUE_TO_ERRORS (an attempt answered 410 Gone, or its consecutive failed
// deliveries reached its failureLimit: store.SettleAttempt), wh being the webhook as it
// is now: the webhook's other deliveries still to be sent stop (canceled, with "webhook
// disabled: " and reason as their last error, and their workflows told), and
// `webhook.disabled` is emitted with reason and lastError (the attempt's error) to the
// organization's webhooks subscribed to it (API.md "Details of the settings",
// failureLimit). A webhook that is not DISABLED_DUE_TO_ERRORS (an admin enabled or
// disabled it since) is left alone.
//
// It can be called again for the same disabling (an attempt executed again): the
// event's id names the disabling (the webhook's id and updated_at, which the disabling
// set), so it is emitted once, and only deliveries still in flight are canceled.
// Telling a workflow is best effort (a workflow not told abandons its delivery at its
// next attempt, activities.Attempt); errors are the store's and the emit's.
func (s *Service) FinishDisabling(ctx context.Context, wh store.Webhook, reason, lastError string) error {
	if wh.Status != store.WebhookDisabledDueToErrors {
		return nil
	}
	if err := s.stopDeliveries(ctx, wh, canceledReason(reason)); err != nil {
		return err
	}
	return s.emitWebhookDisabled(ctx, wh, WebhookDisabled{Reason: reason, LastError: lastError})
}

// Discard ends a pending or retrying delivery failed with reason, without an attempt:
// an automatic attempt was due at or past its discard deadline (API.md `discardAfter`:
// no attempt starts after that moment; see delivery.Policy.Discarded). It counts as a
// failed delivery towards the webhook's failureLimit, as one whose attempts failed does,
// and a disabling it causes is finished (FinishDisabling, lastError being reason). wh is
// the webhook as the attempt loaded it. A delivery in another status, or gone, is left
// alone.
func (s *Service) Discard(ctx context.Context, wh store.Webhook, deliveryID, reason string) error {
	settled, err := s.store.DiscardDelivery(ctx, deliveryID, reason)
	if err != nil || settled.DisabledWebhook == "" {
		return err
	}
	wh.Status, wh.UpdatedAt = store.WebhookDisabledDueToErrors, settled.WebhookUpdatedAt
	return s.FinishDisabling(ctx, wh, settled.DisabledWebhook, reason)
}

// WebhookGone is FinishDisabling for a webhook disabled because its receiver answered
// 410 Gone.
func (s *Service) WebhookGone(ctx context.Context, wh store.Webhook, lastError string) error {
	return s.FinishDisabling(ctx, wh, store.DisabledGone, lastError)
}

// WebhookUpdated finishes what an admin's change of a webhook from before to after
// entails: one that was ENABLED and is not any more has its deliveries still to be sent
// canceled (with "webhook disabled: " and DisabledByAdmin as their last error) and their
// workflows told, as when hookd disables it. Writing ENABLED needs nothing here: the
// store cleared the failure count and the failing flag (store.UpdateWebhook).
func (s *Service) WebhookUpdated(ctx context.Context, before, after store.Webhook) error {
	if before.Status != store.WebhookEnabled || after.Status == store.WebhookEnabled {
		return nil
	}
	return s.stopDeliveries(ctx, after, canceledReason(DisabledByAdmin))
}

// stopDeliveries cancels the pending and retrying deliveries of wh (pings aside) with
// reason and tells their workflows, best effort.
func (s *Service) stopDeliveries(ctx context.Context, wh store.Webhook, reason string) error {
	ds, err := s.store.CancelWebhookDeliveries(ctx, wh.ID, reason)
	if err != nil {
		return fmt.Errorf("stop deliveries of webhook %s: %w", wh.ID, err)
	}
	if len(ds) == 0 {
		return nil
	}
	ectx, cancel := s.engineContext(ctx)
	defer cancel()
	for _, d := range ds {
		if err := s.engine.Cancel(ectx, d); err != nil {
			s.log.WarnContext(ctx, "tell a canceled delivery's workflow failed; it abandons the delivery at its next attempt",
				"err", err, "delivery", d.ID, "webhook", wh.ID)
		}
	}
	return nil
}

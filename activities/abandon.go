package activities

import (
	"strings"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// abandonReason says why a delivery must not be sent, "" if it may (see
// store.Webhook.Receives): the delivery ends canceled with that reason. A delivery past
// its discardAfter ends failed instead (discardReason).
func abandonReason(ac store.AttemptContext) string {
	switch {
	case ac.Delivery.Status == store.StatusCanceled:
		return "delivery was canceled"
	case !ac.Webhook.Receives(ac.Event.Type):
		return "webhook is " + strings.ToLower(ac.Webhook.Status)
	}
	return ""
}

// discardReason says why an attempt of trigger starting at now must not start, the
// delivery ending failed with that reason (API.md `discardAfter`: no attempt starts
// after that moment), "" if it may. A manual retry or a replay is an admin's explicit
// ask: the deadline does not refuse it.
func discardReason(ac store.AttemptContext, trigger string, now time.Time) string {
	if trigger != delivery.TriggerAuto {
		return ""
	}
	return policyOf(ac).Discarded(now)
}

// policyOf is the retry policy of the delivery ac attempts: the webhook's, with the
// delivery's discard deadline (its creation plus the webhook's discardAfter).
func policyOf(ac store.AttemptContext) delivery.Policy {
	p := ac.Webhook.Policy()
	p.DiscardAfter, p.Created = time.Duration(ac.Webhook.DiscardAfter), ac.Delivery.CreatedAt
	return p
}

package activities

import (
	"strings"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// abandonReason says why a delivery must not be sent, "" if it may (see
// store.Webhook.Receives). TODO(failures): discardAfter.
func abandonReason(ac store.AttemptContext) string {
	switch {
	case ac.Delivery.Status == store.StatusCanceled:
		return "delivery was canceled"
	case !ac.Webhook.Receives(ac.Event.Type):
		return "webhook is " + strings.ToLower(ac.Webhook.Status)
	}
	return ""
}

// policyOf is the retry policy of the delivery ac attempts. TODO(failures): discardAfter.
func policyOf(ac store.AttemptContext) delivery.Policy {
	return ac.Webhook.Policy()
}

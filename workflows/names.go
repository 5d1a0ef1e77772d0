package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Names shared by the workflow, the API that steers it and operators in the Web UI.
const (
	// TaskQueue is the queue hookd's workers poll.
	TaskQueue = "hookd"
	// DeliveryWorkflow is the registered name of Delivery.
	DeliveryWorkflow = "Delivery"
	// BatchWorkflow is the registered name of Batch.
	BatchWorkflow = "Batch"
	// SignalRetry asks a delivery to attempt now; from then on it makes no automatic retries.
	// Its value is a RetrySignal (none, from hookd before replays, reads as the zero one).
	SignalRetry = "retry"
	// SignalCancel stops a pending or retrying delivery.
	SignalCancel = "cancel"
	// ReplayWorkflow is the registered name of Replay.
	ReplayWorkflow = "Replay"
	// RetentionWorkflow is the registered name of Retention.
	RetentionWorkflow = "Retention"
	// QueryStatus answers a DeliveryState (a Batch's too: the state its members share).
	QueryStatus = "status"
)

// RetrySignal is the value of SignalRetry. ReplayID names the replay that asks (the
// attempt is then recorded with trigger replay, at most once per delivery and replay);
// "" is an admin's manual retry.
type RetrySignal struct {
	ReplayID string `json:",omitempty"`
}

// Search attributes hookd sets on every Delivery (and Batch, all but the event type) so
// operators can filter in the Web UI.
// They must be registered on the namespace: hookd registers them at start and in
// `hookd migrate` (internal/searchattr), or names the command to run where it may not.
var (
	AttrWebhookID = temporal.NewSearchAttributeKeyKeyword("HookdWebhookId")
	AttrEventType = temporal.NewSearchAttributeKeyKeyword("HookdEventType")
	AttrStatus    = temporal.NewSearchAttributeKeyKeyword("HookdDeliveryStatus")
	AttrOrgID     = temporal.NewSearchAttributeKeyKeyword("HookdOrgId")
	AttrAttempts  = temporal.NewSearchAttributeKeyInt64("HookdAttempts")
)

// SearchAttributeTypes lists hookd's custom search attributes with their types, for
// registering them on a namespace.
func SearchAttributeTypes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		AttrWebhookID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrEventType.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrStatus.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrOrgID.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrAttempts.GetName():  enumspb.INDEXED_VALUE_TYPE_INT,
	}
}

// ErrTypeDeliveryFailed names the non-retryable application error a Delivery or Batch
// run closes with when its delivery failed (retries ran out, a 410 or a manual attempt
// failed, the deadline passed), so the Web UI shows the workflow Failed. Its details are
// the run's DeliveryState.
const ErrTypeDeliveryFailed = "DeliveryFailed"

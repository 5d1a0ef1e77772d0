package delivery

import "time"

// Delivery statuses, the one definition: the store's constants are these. They live here,
// not in store, so that workflow code can depend on them without pulling in pgx.
const (
	StatusPending   = "pending"
	StatusRetrying  = "retrying"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCanceled  = "canceled"
)

// WorkflowID is the deterministic Temporal workflow ID of a delivery, so a repeated start
// is a no-op and every run of one delivery shows under one ID in the Web UI.
func WorkflowID(deliveryID string) string { return "delivery-" + deliveryID }

// Outcome classifies one attempt: a 2xx succeeds, 410 disables the webhook, anything else is
// retried no sooner than Retry-After.
type Outcome string

// Outcomes of one attempt.
const (
	// OutcomeSucceeded: the receiver answered 2xx.
	OutcomeSucceeded Outcome = "succeeded"
	// OutcomeRetry: the attempt failed in a way worth retrying (3xx, 4xx other than 410,
	// 429, 5xx, timeout, connection error).
	OutcomeRetry Outcome = "retry"
	// OutcomeGone: the receiver answered 410 Gone; the delivery fails at once and the
	// webhook is disabled.
	OutcomeGone Outcome = "gone"
	// OutcomeFailed: a permanent failure found before or without a response (for example a
	// URL the SSRF guard refuses); the delivery fails at once without retries.
	OutcomeFailed Outcome = "failed"
)

// Classify maps an HTTP status code to an Outcome: 2xx → succeeded; 410 → gone; everything
// else, including redirects (which hookd never follows), 429, other 4xx and 5xx → retry.
// A status of 0 (no response) is a retry too.
func Classify(statusCode int) Outcome {
	switch {
	case statusCode >= 200 && statusCode <= 299:
		return OutcomeSucceeded
	case statusCode == 410:
		return OutcomeGone
	default:
		return OutcomeRetry
	}
}

// Next decides what follows an attempt whose outcome is o.
//
// retriesDone is the number of automatic retries already made before this attempt's
// follow-up (0 after the first attempt); manual means the delivery makes no automatic
// retries any more (after a manual retry). retryAfter is the receiver's Retry-After (0 when
// absent); it is a lower bound on the delay, capped at MaxRetryAfter.
//
//   - succeeded → (StatusSucceeded, 0)
//   - gone or failed → (StatusFailed, 0)
//   - retry (and any unknown outcome) → (StatusFailed, 0) when manual or when
//     retriesDone >= p.MaxRetries, else (StatusRetrying, max(p.Delay(retriesDone),
//     min(retryAfter, MaxRetryAfter))).
func Next(p Policy, retriesDone int, manual bool, o Outcome, retryAfter time.Duration) (status string, delay time.Duration) {
	switch o {
	case OutcomeSucceeded:
		return StatusSucceeded, 0
	case OutcomeGone, OutcomeFailed:
		return StatusFailed, 0
	}
	if manual || retriesDone >= p.MaxRetries {
		return StatusFailed, 0
	}
	return StatusRetrying, max(p.Delay(retriesDone), min(retryAfter, MaxRetryAfter))
}

// Triggers of an attempt, as recorded on it.
const (
	TriggerAuto   = "auto"   // the first attempt, or an automatic retry on the schedule
	TriggerManual = "manual" // an admin's retry (POST /v1/deliveries/{id}/retry)
	TriggerReplay = "replay" // a replay's retry
)

// Decision is what follows one attempt: the delivery's new status, the delay before the
// next automatic attempt (only when Status is StatusRetrying, else 0), and whether the
// webhook is to be disabled (410 Gone).
type Decision struct {
	Status         string
	Delay          time.Duration
	DisableWebhook bool
}

// Decide is the retry/outcome rule, applied once per attempt by the attempt activity,
// which records the decision; the workflow waits and ends as it says.
//
// number is the attempt's 1-based number within its delivery and trigger its trigger.
// Every attempt before an automatic one was automatic too (a manual retry or a replay
// ends automatic retries for good), so an automatic attempt number n follows n-1
// automatic retries; an attempt of any other trigger is followed by none. The rule itself
// is Next's.
func Decide(p Policy, number int, trigger string, o Outcome, retryAfter time.Duration) Decision {
	status, delay := Next(p, max(number-1, 0), trigger != TriggerAuto, o, retryAfter)
	return Decision{Status: status, Delay: delay, DisableWebhook: o == OutcomeGone}
}

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
	// Reason is why the delivery ended when its attempt's error does not say it (it was
	// discarded at its deadline: see DecideAt), else "".
	Reason string `json:",omitempty"`
}

// Decide is the retry/outcome rule, applied once per attempt by the attempt activity,
// which records the decision; the workflow waits and ends as it says.
//
// deliveryID and number (1-based, within the delivery) identify the attempt, trigger is
// its trigger, o its outcome and retryAfter the receiver's Retry-After (0 when absent).
// Every attempt before an automatic one was automatic too (a manual retry or a replay ends
// automatic retries for good), so an automatic attempt number n follows n-1 automatic
// retries; an attempt of any other trigger is followed by none.
//
//   - succeeded → StatusSucceeded
//   - gone → StatusFailed, and the webhook is disabled; failed → StatusFailed
//   - retry (and any unknown outcome) → StatusFailed when the trigger is not automatic or
//     n-1 >= p.MaxRetries; else StatusRetrying after
//     max(Jitter(p.Delay(n-1), p.Jitter, deliveryID, n), min(retryAfter, MaxRetryAfter)):
//     Retry-After is a lower bound that jitter never cuts.
func Decide(p Policy, deliveryID string, number int, trigger string, o Outcome, retryAfter time.Duration) Decision {
	retriesDone := max(number-1, 0)
	switch {
	case o == OutcomeSucceeded:
		return Decision{Status: StatusSucceeded}
	case o == OutcomeGone:
		return Decision{Status: StatusFailed, DisableWebhook: true}
	case o == OutcomeFailed, trigger != TriggerAuto, retriesDone >= p.MaxRetries:
		return Decision{Status: StatusFailed}
	}
	scheduled := Jitter(p.Delay(retriesDone), p.Jitter, deliveryID, number)
	return Decision{Status: StatusRetrying, Delay: max(scheduled, min(retryAfter, MaxRetryAfter))}
}

// DecideAt is Decide for an attempt that ended at `at`, under a policy that may give the
// delivery up (Policy.DiscardAfter; Decide ignores it): a retry Decide schedules at or
// past p.Deadline() is not scheduled, and the delivery ends StatusFailed at once with
// Reason saying why (API.md `discardAfter`: no attempt starts after that moment). Ending
// at once, rather than waiting until the deadline for nothing, shows the delivery's end
// when it is known. Only automatic retries are given up: an attempt of another trigger
// is followed by none anyway, and a manual retry past the deadline is an admin's explicit
// ask, which the deadline does not refuse.
func DecideAt(p Policy, deliveryID string, number int, trigger string, o Outcome, retryAfter time.Duration, at time.Time) Decision {
	d := Decide(p, deliveryID, number, trigger, o, retryAfter)
	if d.Status == StatusRetrying {
		if reason := p.Discarded(at.Add(d.Delay)); reason != "" {
			return Decision{Status: StatusFailed, Reason: reason}
		}
	}
	return d
}

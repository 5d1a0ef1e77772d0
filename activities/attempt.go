package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/endpointauth"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/tracing"
)

// Triggers of an attempt, as recorded on it (delivery's, named here for the workflow).
const (
	TriggerAuto   = delivery.TriggerAuto
	TriggerManual = delivery.TriggerManual
	TriggerReplay = delivery.TriggerReplay
)

// maxResponseBody is how much of a receiver's answer an attempt keeps.
const maxResponseBody = 64 << 10

// AttemptInput names the delivery to attempt and why. An attempt of any trigger but auto
// is followed by no automatic retry (delivery.Decide).
type AttemptInput struct {
	DeliveryID string
	Trigger    string
	// ReplayID names the replay an attempt with trigger replay is made for ("" otherwise).
	ReplayID string `json:",omitempty"`
}

// AttemptResult is what one attempt found out and what follows from it: the activity
// decides with delivery.Decide and records the decision; the workflow only obeys Status
// and Delay.
type AttemptResult struct {
	Number     int // the attempt's number within its delivery, 1-based
	Outcome    delivery.Outcome
	StatusCode int // 0 when no response came back
	RetryAfter time.Duration
	Status     string        // the delivery status recorded
	Delay      time.Duration // until the next automatic attempt; 0 unless Status is retrying
	Error      string
	// Abandoned: nothing was sent because the delivery was canceled or its webhook is
	// not enabled.
	Abandoned bool
	// Policy is set only in results recorded by hookd versions whose workflow decided
	// (they had no Delay); the workflow reads it to replay those histories. Never set now.
	Policy *delivery.Policy `json:",omitempty"`
}

// Names of the non-retryable application errors of an attempt: faults no retry can fix.
// The workflow records them as the delivery's end (see workflows.Delivery).
const (
	// ErrTypeDeliveryGone: the delivery no longer exists (its webhook was deleted).
	ErrTypeDeliveryGone = "DeliveryGone"
	// ErrTypeSecretUndecryptable: the webhook's signing secret cannot be decrypted with
	// this process's HOOKD_SECRET_KEY (the key changed, or the row was damaged).
	ErrTypeSecretUndecryptable = "SecretUndecryptable"
)

// attemptStore is what an attempt reads from PostgreSQL.
type attemptStore interface {
	LoadAttempt(ctx context.Context, deliveryID, activityKey string) (store.AttemptContext, error)
	ReplayAttempt(ctx context.Context, replayID, deliveryID string) (store.RecordedAttempt, string, error)
	batchStore
}

var _ attemptStore = (*store.Store)(nil)

// attemptService is what an attempt asks of the service (internal/dispatch) to change:
// the delivery's status, the webhook, the events hookd emits.
type attemptService interface {
	BeginAttempt(ctx context.Context, a store.Attempt, runID string) (int, error)
	CompleteAttempt(ctx context.Context, wh store.Webhook, o dispatch.Outcome) error
	WebhookGone(ctx context.Context, wh store.Webhook, lastError string) error
	Abandon(ctx context.Context, d store.Delivery, reason string) error
	Discard(ctx context.Context, wh store.Webhook, deliveryID, reason string) error
	FinishDisabling(ctx context.Context, wh store.Webhook, reason, lastError string) error
	FailDelivery(ctx context.Context, deliveryID, reason string) error
	EndReplayAttempt(ctx context.Context, replayID, deliveryID string) error
	batchService
}

var _ attemptService = (*dispatch.Service)(nil)

// Observer receives what each attempt and each finished delivery came to, for the
// Prometheus series of internal/metrics.
type Observer interface {
	// ObserveAttempt counts one attempt that was sent: statusCode 0 means no response,
	// elapsed is from the request's start to the end of reading the response.
	ObserveAttempt(statusCode int, elapsed time.Duration)
	// ObserveDelivery counts a delivery that reached a final status (succeeded, failed
	// or canceled).
	ObserveDelivery(status string)
}

// Activities holds the dependencies of hookd's activities; the worker registers one.
type Activities struct {
	Store   attemptStore
	Service attemptService
	Client  *http.Client // SSRF-safe, follows no redirects (netguard)
	// InsecureClient is Client without TLS verification, for the webhooks that allow
	// invalid certificates; nil sends them through Client.
	InsecureClient *http.Client
	// Tokens caches the OAuth2 tokens of webhooks; nil makes one over Client.
	Tokens    *endpointauth.Cache
	UserAgent string
	// Replays and Retention serve the Replay and Retention workflows' activities.
	Replays   replayService
	Retention retentionStore
	Metrics   Observer         // nil records nothing
	Logger    *slog.Logger     // nil means slog.Default()
	Now       func() time.Time // nil means time.Now
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Attempt sends one signed request for a delivery, decides what follows with
// delivery.Decide and has the service record both. It returns an error only for faults:
// infrastructure ones, which Temporal retries, and the permanent ones named by the
// ErrType constants, which it does not. Every answer of the receiver, including none at
// all, is an outcome.
//
// The attempt is recorded as sending before its request goes out and completed after
// (dispatch.Service.BeginAttempt, CompleteAttempt), so that a request whose worker dies
// in flight is on record: the next attempt of the delivery closes it as interrupted.
// Beginning takes the attempt's number, which is the one delivery.Decide judges it by: an
// interrupted attempt counts towards the retry budget.
//
// A re-execution of an attempt already completed (see attemptKey) sends nothing and
// returns what was recorded: the receiver gets each logical attempt once. A re-execution
// of one that never completed (its worker died, or recording the answer failed) sends
// again, as an attempt of its own.
func (a *Activities) Attempt(ctx context.Context, in AttemptInput) (AttemptResult, error) {
	key := attemptKey(ctx)
	ac, err := a.Store.LoadAttempt(ctx, in.DeliveryID, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return AttemptResult{}, temporal.NewNonRetryableApplicationError(
			"delivery "+in.DeliveryID+" no longer exists (its webhook was deleted)", ErrTypeDeliveryGone, err)
	case errors.Is(err, secretbox.ErrOpen):
		reason := "the webhook's signing secret cannot be decrypted: was HOOKD_SECRET_KEY changed?"
		if ferr := a.Service.FailDelivery(ctx, in.DeliveryID, reason); ferr != nil {
			return AttemptResult{}, fmt.Errorf("record undecryptable secret: %w", ferr)
		}
		a.observeDelivery(delivery.StatusFailed)
		return AttemptResult{}, temporal.NewNonRetryableApplicationError(reason, ErrTypeSecretUndecryptable, err)
	case err != nil:
		return AttemptResult{}, fmt.Errorf("load attempt: %w", err)
	}
	ctx = tracing.WithLogAttrs(ctx, slog.String("webhook_id", ac.Webhook.ID))
	// Before the abandon checks: the attempt was made, whatever happened to the delivery
	// since, and the workflow must hear what it found out.
	if rec := ac.Recorded; rec != nil {
		a.logger().InfoContext(ctx, "attempt already recorded, not sending again",
			"activity_key", key, "attempt", rec.Number)
		return a.recorded(ctx, ac, *rec, in)
	}
	if reason := abandonReason(ac); reason != "" {
		if err := a.Service.Abandon(ctx, ac.Delivery, reason); err != nil {
			return AttemptResult{}, err
		}
		a.observeDelivery(delivery.StatusCanceled)
		return AttemptResult{Abandoned: true, Status: delivery.StatusCanceled, Error: reason}, nil
	}
	if reason := discardReason(ac, in.Trigger, a.now()); reason != "" {
		if err := a.Service.Discard(ctx, ac.Webhook, in.DeliveryID, reason); err != nil {
			return AttemptResult{}, err
		}
		a.observeDelivery(delivery.StatusFailed)
		return AttemptResult{Number: ac.Delivery.AttemptCount, Status: delivery.StatusFailed, Error: reason}, nil
	}

	req, sent := a.prepare(ctx, ac, in.Trigger)
	sent.attempt.ActivityKey, sent.attempt.ReplayID = key, in.ReplayID
	// A conflict on the key means a concurrent execution of this attempt completed it
	// first: the error makes Temporal retry, and the retry finds that record.
	number, err := a.Service.BeginAttempt(ctx, sent.attempt, runID(ctx))
	if errors.Is(err, store.ErrReplayed) {
		return a.replayedAlready(ctx, ac, in)
	}
	if err != nil {
		return AttemptResult{}, fmt.Errorf("begin attempt: %w", err)
	}
	if req != nil {
		stop := keepHeartbeating(ctx)
		sent = a.send(req, ac.Webhook, sent)
		stop()
	}

	decision := delivery.DecideAt(policyOf(ac), in.DeliveryID, number, in.Trigger, sent.outcome, sent.retryAfter, a.now())
	sent.attempt.Number = number
	sent.attempt.Outcome = string(sent.outcome)
	// A conflict here means the attempt was closed as interrupted meanwhile (this worker
	// was presumed dead): the error makes Temporal retry, if it still waits for this one.
	if err := a.Service.CompleteAttempt(ctx, ac.Webhook, dispatch.Outcome{Attempt: sent.attempt, Decision: decision}); err != nil {
		return AttemptResult{}, fmt.Errorf("complete attempt %d: %w", number, err)
	}
	res := a.recordedOutcome(sent, number, decision, 1)
	res.Error = cmp.Or(decision.Reason, res.Error)
	return res, nil
}

// recordedOutcome counts an attempt that was sent and recorded, and the deliveries (one,
// or a batch's members) it ended, and returns what the workflow is told of it.
func (a *Activities) recordedOutcome(sent sendResult, number int, decision delivery.Decision, deliveries int) AttemptResult {
	if a.Metrics != nil {
		a.Metrics.ObserveAttempt(sent.statusCode, time.Duration(sent.attempt.DurationMs)*time.Millisecond)
	}
	for range deliveries {
		a.observeDelivery(decision.Status)
	}
	return AttemptResult{
		Number:     number,
		Outcome:    sent.outcome,
		StatusCode: sent.statusCode,
		RetryAfter: sent.retryAfter,
		Status:     decision.Status,
		Delay:      decision.Delay,
		Error:      hostOnly(sent.attempt.Error),
	}
}

// observeDelivery counts a delivery that ended.
func (a *Activities) observeDelivery(status string) {
	if a.Metrics != nil && status != delivery.StatusRetrying && status != delivery.StatusPending {
		a.Metrics.ObserveDelivery(status)
	}
}

// attemptKey names the logical attempt ctx executes: the workflow run and the activity id,
// which is deterministic within a run for local and regular activities alike. A replayed
// local activity, or a regular one whose completion was lost, runs again under the same
// key; the next attempt, a manual retry or a new run gets another. Outside a workflow's
// activity (a unit test calling Attempt, a standalone activity) there is no key: nothing
// is recognised as a re-execution and Attempt always sends.
func attemptKey(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	info := activity.GetInfo(ctx)
	if info.WorkflowExecution.RunID == "" || info.ActivityID == "" {
		return ""
	}
	return info.WorkflowExecution.RunID + "/" + info.ActivityID
}

// runID is the workflow run executing ctx, "" outside one.
func runID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	return activity.GetInfo(ctx).WorkflowExecution.RunID
}

// recorded answers for an attempt already recorded as the attempt itself answered,
// deciding again with delivery.Decide over the same facts (so the same decision), and
// finishes what the first execution may not have: announcing a webhook it disabled.
func (a *Activities) recorded(ctx context.Context, ac store.AttemptContext, rec store.RecordedAttempt, in AttemptInput) (AttemptResult, error) {
	res := AttemptResult{
		Number:  rec.Number,
		Outcome: delivery.Outcome(rec.Outcome),
		Error:   hostOnly(rec.Error),
	}
	if rec.ResponseStatus != nil {
		res.StatusCode = *rec.ResponseStatus
	}
	if rec.RetryAfterMs != nil {
		res.RetryAfter = time.Duration(*rec.RetryAfterMs) * time.Millisecond
	}
	d := delivery.DecideAt(policyOf(ac), in.DeliveryID, rec.Number, in.Trigger, res.Outcome, res.RetryAfter, a.now())
	res.Status, res.Delay = d.Status, d.Delay
	switch {
	case rec.DisabledWebhook != "":
		if err := a.Service.FinishDisabling(ctx, ac.Webhook, rec.DisabledWebhook, rec.Error); err != nil {
			return AttemptResult{}, err
		}
	case d.DisableWebhook: // recorded before attempts kept what they disabled
		if err := a.Service.WebhookGone(ctx, ac.Webhook, rec.Error); err != nil {
			return AttemptResult{}, err
		}
	}
	if d.Reason != "" {
		// Decided later than the first execution, the deadline may have passed since: end
		// the delivery as this decision says (nothing changes if it already ended).
		if err := a.Service.Discard(ctx, ac.Webhook, in.DeliveryID, d.Reason); err != nil {
			return AttemptResult{}, err
		}
		res.Error = d.Reason
	}
	return res, nil
}

// keepHeartbeating tells Temporal the attempt is alive while a slow receiver answers, so
// a dead worker is noticed after the heartbeat timeout instead of the attempt timeout. A
// local attempt has no heartbeat (its workflow task is kept alive instead): nothing to do.
func keepHeartbeating(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) || activity.GetInfo(ctx).IsLocalActivity {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(3 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

func flattenHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

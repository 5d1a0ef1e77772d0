package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// ErrTypeBatchGone: the batch no longer exists (its webhook was deleted). A
// non-retryable application error of BatchWindow and BatchAttempt.
const ErrTypeBatchGone = "BatchGone"

// BatchAttemptInput names the batch to attempt and why.
type BatchAttemptInput struct {
	BatchID string
	Trigger string
	// ReplayID names the replay an attempt with trigger replay is made for ("" otherwise).
	ReplayID string `json:",omitempty"`
}

// batchStore is what a batch's activities read from PostgreSQL (part of attemptStore).
type batchStore interface {
	BatchSendAt(ctx context.Context, id string) (time.Time, error)
	LoadBatch(ctx context.Context, id, activityKey string) (store.BatchContext, error)
}

var _ batchStore = (*store.Store)(nil)

// batchService is what a batch's activities ask of the service (part of attemptService).
type batchService interface {
	StartBatches(ctx context.Context, bs []store.Batch) error
	BeginBatchAttempt(ctx context.Context, batchID string, a store.Attempt) (int, error)
	CompleteBatchAttempt(ctx context.Context, wh store.Webhook, batchID string, memberIDs []string, o dispatch.Outcome) error
	EndBatch(ctx context.Context, batchID string, memberIDs []string, status, reason string) error
	WebhookGone(ctx context.Context, wh store.Webhook, lastError string) error
}

var _ batchService = (*dispatch.Service)(nil)

// BatchWindow returns when batch id's window ends: when its first attempt is due.
func (a *Activities) BatchWindow(ctx context.Context, batchID string) (time.Time, error) {
	at, err := a.Store.BatchSendAt(ctx, batchID)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, temporal.NewNonRetryableApplicationError(
			"batch "+batchID+" no longer exists (its webhook was deleted)", ErrTypeBatchGone, err)
	}
	return at, err
}

// CancelBatch ends the members of batch batchID still to be sent as canceled (the batch's
// workflow was signalled to cancel).
func (a *Activities) CancelBatch(ctx context.Context, batchID string) error {
	return a.Service.EndBatch(ctx, batchID, nil, delivery.StatusCanceled, "batch was canceled")
}

// BatchAttempt sends one signed request for a batch: `{"events": [{id, createdAt, type,
// data}, …]}` over its members still to be sent, in the order they were created, with
// webhook-id the batch id. It is Attempt for a batch: the first attempt closes the batch
// (store.LoadBatch; the members past the batch limits move to a new batch, started
// here), the attempt is recorded once for the batch and its outcome applied to every
// member it was sent for and to the webhook as for one delivery, and a re-execution of
// an attempt already completed sends nothing and answers as recorded.
//
// A batch with no member left to send (each canceled, or ended) sends nothing and ends
// canceled, as does one whose webhook is no longer enabled (its members are canceled with
// the reason).
func (a *Activities) BatchAttempt(ctx context.Context, in BatchAttemptInput) (AttemptResult, error) {
	st, svc := a.Store, a.Service
	key := attemptKey(ctx)
	bc, err := st.LoadBatch(ctx, in.BatchID, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return AttemptResult{}, temporal.NewNonRetryableApplicationError(
			"batch "+in.BatchID+" no longer exists (its webhook was deleted)", ErrTypeBatchGone, err)
	case errors.Is(err, secretbox.ErrOpen):
		reason := "the webhook's signing secret cannot be decrypted: was HOOKD_SECRET_KEY changed?"
		if ferr := svc.EndBatch(ctx, in.BatchID, nil, delivery.StatusFailed, reason); ferr != nil {
			return AttemptResult{}, fmt.Errorf("record undecryptable secret: %w", ferr)
		}
		return AttemptResult{}, temporal.NewNonRetryableApplicationError(reason, ErrTypeSecretUndecryptable, err)
	case err != nil:
		return AttemptResult{}, fmt.Errorf("load batch: %w", err)
	}
	if bc.Overflow != nil {
		// Committed: if this start fails, the reconciler makes it.
		if err := svc.StartBatches(ctx, []store.Batch{*bc.Overflow}); err != nil {
			a.logger().WarnContext(ctx, "start overflow batch failed; the reconciler will start it",
				"batch_id", in.BatchID, "overflow_id", bc.Overflow.ID, "err", err)
		}
	}
	if rec := bc.Recorded; rec != nil {
		res := recordedResult(*rec)
		d := delivery.DecideAt(batchPolicy(bc), in.BatchID, rec.Number, in.Trigger, res.Outcome, res.RetryAfter, a.now())
		res.Status, res.Delay = d.Status, d.Delay
		if d.DisableWebhook {
			if err := svc.WebhookGone(ctx, bc.Webhook, rec.Error); err != nil {
				return AttemptResult{}, err
			}
		}
		return res, nil
	}
	if reason := batchAbandonReason(bc); reason != "" {
		if err := svc.EndBatch(ctx, in.BatchID, nil, delivery.StatusCanceled, reason); err != nil {
			return AttemptResult{}, err
		}
		for range bc.Members {
			a.observeDelivery(delivery.StatusCanceled)
		}
		return AttemptResult{Abandoned: true, Status: delivery.StatusCanceled, Error: reason}, nil
	}

	if in.Trigger == TriggerAuto {
		// discardAfter is each delivery's: those past it end failed and are not sent.
		reason, done, err := a.discardMembers(ctx, svc, &bc)
		if err != nil {
			return AttemptResult{}, err
		}
		if done {
			return AttemptResult{Status: delivery.StatusFailed, Error: reason}, nil
		}
	}
	members := bc.MemberIDs()
	req, sent := a.prepareBatch(ctx, bc, in.Trigger)
	// A replay's attempt claims the members it matched (store.BeginBatchAttempt).
	sent.attempt.ActivityKey, sent.attempt.ReplayID = key, in.ReplayID
	number, err := svc.BeginBatchAttempt(ctx, in.BatchID, sent.attempt)
	if err != nil {
		return AttemptResult{}, fmt.Errorf("begin batch attempt: %w", err)
	}
	if req != nil {
		stop := keepHeartbeating(ctx)
		sent = a.send(req, bc.Webhook, sent)
		stop()
	}
	decision := delivery.DecideAt(batchPolicy(bc), in.BatchID, number, in.Trigger, sent.outcome, sent.retryAfter, a.now())
	sent.attempt.Number = number
	sent.attempt.Outcome = string(sent.outcome)
	if err := svc.CompleteBatchAttempt(ctx, bc.Webhook, in.BatchID, members, dispatch.Outcome{Attempt: sent.attempt, Decision: decision, RunID: runID(ctx)}); err != nil {
		return AttemptResult{}, fmt.Errorf("complete batch attempt %d: %w", number, err)
	}
	return a.recordedOutcome(sent, number, decision, len(members)), nil
}

// batchPolicy is the retry policy of batch bc: its webhook's, given up (discardAfter) when
// its newest member would be, since the batch goes on while any member may still be sent
// (each older member is left out once past its own deadline: discardMembers).
func batchPolicy(bc store.BatchContext) delivery.Policy {
	p := bc.Webhook.Policy()
	p.DiscardAfter = time.Duration(bc.Webhook.DiscardAfter)
	for _, m := range bc.Members {
		if m.Delivery.CreatedAt.After(p.Created) {
			p.Created = m.Delivery.CreatedAt
		}
	}
	return p
}

// discardMembers ends failed the members of bc past their discardAfter and leaves them
// out of bc. It reports done, with the reason, when no member is left to send.
func (a *Activities) discardMembers(ctx context.Context, svc batchService, bc *store.BatchContext) (reason string, done bool, err error) {
	p := bc.Webhook.Policy()
	p.DiscardAfter = time.Duration(bc.Webhook.DiscardAfter)
	now := a.now()
	var expired []string
	live := bc.Members[:0:0]
	for _, m := range bc.Members {
		p.Created = m.Delivery.CreatedAt
		if r := p.Discarded(now); r != "" {
			expired, reason = append(expired, m.Delivery.ID), r
			continue
		}
		live = append(live, m)
	}
	if len(expired) == 0 {
		return "", false, nil
	}
	if err := svc.EndBatch(ctx, bc.Batch.ID, expired, delivery.StatusFailed, reason); err != nil {
		return "", false, fmt.Errorf("end discarded batch members: %w", err)
	}
	for range expired {
		a.observeDelivery(delivery.StatusFailed)
	}
	bc.Members = live
	return reason, len(live) == 0, nil
}

// recordedResult is what an attempt recorded answered.
func recordedResult(rec store.RecordedAttempt) AttemptResult {
	res := AttemptResult{Number: rec.Number, Outcome: delivery.Outcome(rec.Outcome), Error: hostOnly(rec.Error)}
	if rec.ResponseStatus != nil {
		res.StatusCode = *rec.ResponseStatus
	}
	if rec.RetryAfterMs != nil {
		res.RetryAfter = time.Duration(*rec.RetryAfterMs) * time.Millisecond
	}
	return res
}

// batchAbandonReason says why a batch must not be sent, "" if it may.
func batchAbandonReason(bc store.BatchContext) string {
	switch {
	case len(bc.Members) == 0:
		return "no delivery of the batch is left to send (each was canceled or has ended)"
	case bc.Webhook.Status != store.WebhookEnabled:
		return "webhook is " + strings.ToLower(bc.Webhook.Status)
	}
	return ""
}

// prepareBatch renders, signs and authenticates batch bc's request, as prepare does for
// one delivery; the attempt it describes has no DeliveryID (it is the batch's).
func (a *Activities) prepareBatch(ctx context.Context, bc store.BatchContext, trigger string) (*http.Request, sendResult) {
	wh := bc.Webhook
	started := a.now()
	res := sendResult{outcome: delivery.OutcomeRetry, attempt: store.Attempt{
		ID:            ids.New(ids.Attempt),
		OrgID:         bc.Batch.OrgID,
		Trigger:       trigger,
		RequestedAt:   started.UTC(),
		RequestURL:    maskURL(wh.URL),
		RequestMethod: wh.Method,
	}}
	fail := func(err error, o delivery.Outcome) (*http.Request, sendResult) {
		res.outcome = o
		res.attempt.Error = err.Error()
		res.attempt.DurationMs = a.now().Sub(started).Milliseconds()
		return nil, res
	}
	target, err := batchURL(wh)
	if err != nil {
		return fail(err, delivery.OutcomeFailed) // no retry brings the value
	}
	res.attempt.RequestURL = maskURL(target)
	body, contentType := renderBatch(wh, bc.Members)
	req, err := a.newRequest(ctx, wh, message{ID: bc.Batch.ID, URL: target, Body: body, ContentType: contentType}, started)
	if err != nil {
		return fail(err, delivery.OutcomeRetry)
	}
	res.attempt.RequestHeaders = maskHeaders(req.Header)
	return req, res
}

var placeholder = regexp.MustCompile(`\{[A-Za-z0-9_.]+\}`)

// batchURL is a batched webhook's target: of the URL placeholders only {webhookId} has a
// value for a batch (the others are an event's); any other is an error naming it.
func batchURL(wh store.Webhook) (string, error) {
	u := strings.ReplaceAll(wh.URL, "{webhookId}", url.PathEscape(wh.ID))
	if p := placeholder.FindString(u); p != "" {
		return "", fmt.Errorf("url placeholder %s has no value in a batch of events (only {webhookId} has)", p)
	}
	return u, nil
}

// renderBatch is the body of a batch over its members and its Content-Type: seed 003's
// `{"events": [{"id", "createdAt", "type", "data"}, …]}`, each event's data byte for byte
// as it was posted; a form webhook gets the one field `events`, the JSON array. A batch
// has no body template: a template renders one event.
func renderBatch(wh store.Webhook, members []store.BatchMember) ([]byte, string) {
	var b bytes.Buffer
	b.WriteString(`{"events":`)
	start := b.Len()
	b.WriteByte('[')
	for i, m := range members {
		ev := m.Event
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		writeJSONString(&b, ev.ID)
		b.WriteString(`,"createdAt":"`)
		b.WriteString(ev.Timestamp.UTC().Format(time.RFC3339Nano))
		b.WriteString(`","type":`)
		writeJSONString(&b, ev.Type)
		b.WriteString(`,"data":`)
		if len(ev.Data) == 0 {
			b.WriteString(`{}`)
		} else {
			b.Write(ev.Data)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	if wh.ContentType == webhook.ContentTypeForm {
		return []byte(url.Values{"events": {string(b.Bytes()[start:])}}.Encode()), "application/x-www-form-urlencoded"
	}
	b.WriteByte('}')
	return b.Bytes(), "application/json"
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always encodes
	b.Write(q)
}

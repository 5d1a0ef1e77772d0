package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookd/hookd/internal/schema"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/validation"
)

// Publish validates a producer's event and, if it is valid, stores it with one pending
// delivery per matching webhook in one transaction, starts the deliveries' workflows and
// records that they started. shape holds what the caller already found wrong with the
// request's shape (nil for nothing); ev.Type is "" when the type itself was malformed
// and ev.Data nil when the data was, which skips the checks that need them.
//
// The event type must exist in ev.OrgID's catalog and not be built in (ping and
// webhook.disabled are hookd's own), and ev.Data must match the type's JSON Schema if it
// has one (API.md "Event types"). All problems come back together as *validation.Errors;
// nothing is written then.
//
// A repeated ev.ID returns the original event with Created false (whatever the repeat
// contained) and starts any of its deliveries still unstarted. Once the transaction
// commits Publish succeeds even if the engine is unreachable: the rows are durable and
// the reconciler starts their workflows.
//
// A valid event that finds Options.MaxInFlight publishes in flight waits for a slot; if
// none frees in time it is ErrOverloaded and nothing is stored (a repeated ev.ID is still
// answered).
//
// An event whose shape is fine is checked against its type in the transaction that
// stores it, together with the other publishes of that moment (committer,
// store.IngestEvents: one transaction for them all, each answered only after it commits,
// each refused or failing alone; nothing is stored for an event its check refuses); one
// with shape problems, or one that finds no publish slot, is checked first, so that all
// its problems are answered together.
func (s *Service) Publish(ctx context.Context, ev store.Event, shape *validation.Errors) (store.IngestResult, error) {
	var v validation.Errors
	v.Merge(shape)
	inTx := v.Err() == nil && ev.Type != "" && ev.Data != nil
	if !inTx {
		if err := s.invalid(ctx, ev, &v); err != nil {
			return store.IngestResult{}, err
		}
	}
	leave, ok := s.admission.enter(ctx)
	if !ok {
		if inTx { // not checked yet: an invalid event is answered as such
			if err := s.invalid(ctx, ev, &v); err != nil {
				return store.IngestResult{}, err
			}
		}
		return s.refused(ctx, ev)
	}
	defer leave()
	if !inTx {
		return s.ingest(ctx, ev)
	}
	check := func(et store.EventType, err error) error {
		var v validation.Errors // judged afresh each time: a group that fails judges again
		v.Merge(shape)
		if err := s.judgeType(ev, et, err, &v); err != nil {
			return err
		}
		return v.Err()
	}
	res, err := s.committer.ingest(ctx, ev, check)
	if err != nil {
		return store.IngestResult{}, err
	}
	s.startNow(ctx, res.Deliveries)
	return res, nil
}

// invalid returns what is wrong with ev (v holds its shape's problems): its type's and
// data's problems added to v's as *validation.Errors, an error reading the type, or nil
// when ev is valid.
func (s *Service) invalid(ctx context.Context, ev store.Event, v *validation.Errors) error {
	if ev.Type != "" {
		if err := s.checkType(ctx, ev, v); err != nil {
			return err
		}
	}
	return v.Err()
}

// checkType adds to v what is wrong with ev's type and, when the type is fine and ev has
// data, with the data against the type's schema.
func (s *Service) checkType(ctx context.Context, ev store.Event, v *validation.Errors) error {
	et, err := s.store.GetEventType(ctx, ev.OrgID, ev.Type)
	return s.judgeType(ev, et, err, v)
}

// judgeType is checkType given the type as GetEventType returned it (et, err).
func (s *Service) judgeType(ev store.Event, et store.EventType, err error, v *validation.Errors) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.Add("type", "unknown event type %q; create it with POST /v1/event-types", ev.Type)
		return nil
	case err != nil:
		return err
	case et.Builtin:
		v.Add("type", "%q is sent by hookd itself and cannot be posted", ev.Type)
		return nil
	}
	if ev.Data == nil {
		return nil
	}
	sch, err := s.schemas.Get(schema.Version{OrgID: et.OrgID, EventType: et.Name, UpdatedAt: et.UpdatedAt, Schema: et.Schema})
	if err != nil || sch == nil {
		return err
	}
	var dv *validation.Errors
	switch err := schema.Validate(sch, ev.Data, "data"); {
	case errors.Is(err, schema.ErrBusy):
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	case errors.As(err, &dv):
		v.Merge(dv)
	}
	return nil
}

// ingest stores an event with its fan-out and starts the deliveries: Publish after
// validation, and the path of the events hookd emits itself.
func (s *Service) ingest(ctx context.Context, ev store.Event) (store.IngestResult, error) {
	res, err := s.store.IngestEvent(ctx, ev)
	if err != nil {
		return store.IngestResult{}, err
	}
	s.startNow(ctx, res.Deliveries)
	return res, nil
}

// Ping stores a "ping" event with one delivery to the organization's webhook webhookID,
// whatever its status or subscriptions, and starts it. store.ErrNotFound if there is no
// such webhook; ErrOverloaded, with nothing stored, when no publish slot frees in time.
func (s *Service) Ping(ctx context.Context, orgID, webhookID string) (store.Event, store.Delivery, error) {
	leave, ok := s.admission.enter(ctx)
	if !ok {
		return store.Event{}, store.Delivery{}, ErrOverloaded
	}
	defer leave()
	ev, d, err := s.store.CreatePing(ctx, orgID, webhookID)
	if err != nil {
		return store.Event{}, store.Delivery{}, err
	}
	s.startNow(ctx, []store.Delivery{d})
	return ev, d, nil
}

// WebhookDisabled is the data of a `webhook.disabled` event (API.md "Details of the
// settings", failureLimit).
type WebhookDisabled struct {
	WebhookID string `json:"webhookId"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
	LastError string `json:"lastError"`
}

// emitWebhookDisabled publishes `webhook.disabled` for a webhook hookd has disabled, to
// the organization's webhooks subscribed to that type (the disabled one is no longer
// enabled, so never to it). The event id is derived from the webhook and the time it was
// disabled (its updated_at), so announcing one disabling again emits nothing new.
func (s *Service) emitWebhookDisabled(ctx context.Context, wh store.Webhook, why WebhookDisabled) error {
	why.WebhookID, why.Name = wh.ID, wh.Name
	data, err := json.Marshal(why)
	if err != nil {
		return fmt.Errorf("encode webhook.disabled: %w", err)
	}
	_, err = s.ingest(ctx, store.Event{
		OrgID:     wh.OrgID,
		ID:        fmt.Sprintf("%s.%s.%d", store.EventTypeWebhookDisabled, wh.ID, wh.UpdatedAt.UnixMicro()),
		Type:      store.EventTypeWebhookDisabled,
		Timestamp: s.now().UTC(),
		// Deliveries to the endpoint have stopped: an error, so that a webhook whose
		// level filters out lesser events still hears of it.
		Level: "error",
		Data:  data,
	})
	if err != nil {
		return fmt.Errorf("emit webhook.disabled for %s: %w", wh.ID, err)
	}
	return nil
}

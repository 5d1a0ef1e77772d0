// Package dispatch is hookd's service layer: every operation on events, deliveries and
// webhooks that takes more than one step lives here, once, for the API, the reconciler
// and the worker's activities. It publishes events (validate, ingest with fan-out, start
// the workflows, mark them started), makes every delivery state change that is not an
// attempt's own outcome (retry, reopen, cancel, abandon) with its compensation when the
// engine refuses, and records an attempt's consequences, disabling a webhook that is gone
// and emitting `webhook.disabled`.
//
// It talks to PostgreSQL through Store and to the workflow engine through Engine
// (internal/engine's Temporal), and imports neither Temporal nor HTTP: its callers
// declare the small interfaces they use.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/schema"
	"github.com/hookd/hookd/internal/store"
)

// ErrUnavailable is returned, wrapped, when the workflow engine could not be reached for
// an operation that needs it at once (retry, cancel); nothing was changed, so the caller
// can try again.
var ErrUnavailable = errors.New("the workflow engine is unreachable")

// ErrWebhookNotEnabled is returned, wrapped, by Retry for a delivery whose webhook is
// disabled: nothing would be sent (API.md: deliveries of a disabled webhook stop). It
// is a store.ErrConflict.
var ErrWebhookNotEnabled = fmt.Errorf("the delivery's webhook is not enabled: %w", store.ErrConflict)

// Store is what the service needs from PostgreSQL; *store.Store implements it.
type Store interface {
	GetEventType(ctx context.Context, orgID, name string) (store.EventType, error)
	IngestEvent(ctx context.Context, ev store.Event) (store.IngestResult, error)
	// IngestEvents stores several checked events in one transaction (group commit).
	IngestEvents(ctx context.Context, evs []store.CheckedEvent) []store.IngestOutcome
	GetEvent(ctx context.Context, orgID, id string) (store.Event, []store.Delivery, error)
	CreatePing(ctx context.Context, orgID, webhookID string) (store.Event, store.Delivery, error)
	MarkWorkflowsStarted(ctx context.Context, deliveryIDs []string) error
	UnstartedDeliveries(ctx context.Context, createdBefore time.Time, limit int) ([]store.Delivery, error)
	GetDelivery(ctx context.Context, orgID, id string) (store.Delivery, []store.Attempt, error)
	TransitionDelivery(ctx context.Context, orgID, id string, from []string, to string) (store.Delivery, error)
	RestoreDelivery(ctx context.Context, was store.Delivery, from string) error
	LockDelivery(ctx context.Context, id string) (unlock func(), err error)
	GetWebhook(ctx context.Context, orgID, id string) (store.Webhook, error)
	BeginAttempt(ctx context.Context, a store.Attempt, runID string) (int, error)
	CompleteAttempt(ctx context.Context, a store.Attempt, u store.DeliveryUpdate) error
	SettleAttempt(ctx context.Context, a store.Attempt, u store.DeliveryUpdate) (store.Settled, error)
	CancelWebhookDeliveries(ctx context.Context, webhookID, reason string) ([]store.Delivery, error)
	DiscardDelivery(ctx context.Context, id, reason string) (store.Settled, error)
	CloseStaleAttempts(ctx context.Context, requestedBefore time.Time) (int64, error)
	EndDelivery(ctx context.Context, id, status, reason string) error
	batchStore
	replayStore
}

var _ Store = (*store.Store)(nil)

// Engine runs deliveries as workflows; internal/engine's Temporal implements it.
type Engine interface {
	// Schedule starts the workflow that drives each delivery, once: its own, or for a
	// batched delivery (BatchID set) its batch's; starting an existing one is a no-op.
	Schedule(ctx context.Context, ds []store.Delivery) error
	// Retry asks a delivery to attempt now, in manual mode (signal-with-start); a batched
	// delivery asks its batch.
	Retry(ctx context.Context, d store.Delivery) error
	// Cancel tells a delivery's workflow to stop; a finished workflow is fine. A batched
	// delivery's batch goes on without it (it leaves out canceled members).
	Cancel(ctx context.Context, d store.Delivery) error
	// Ready reports whether the engine answers.
	Ready(ctx context.Context) error
	// StartReplay starts replay r's workflow, once; starting an existing one is a no-op.
	StartReplay(ctx context.Context, r store.Replay) error
	// CancelReplay stops replay id's workflow; a finished or missing one is fine.
	CancelReplay(ctx context.Context, id string) error
	// Replay asks a delivery to attempt now for replay replayID, as Retry does.
	Replay(ctx context.Context, d store.Delivery, replayID string) error
}

// Options tunes a Service; the zero value is usable.
type Options struct {
	// Logger receives what the service recovers from (a failed start the reconciler will
	// redo). Nil discards.
	Logger *slog.Logger
	// EngineTimeout bounds the engine calls made while answering a caller (default 10s):
	// past it a publish is answered anyway and the reconciler finishes.
	EngineTimeout time.Duration
	// Now is the clock of emitted events; nil means time.Now.
	Now func() time.Time
	// MaxInFlight bounds the publishes (Publish, Ping) storing and starting at once; one
	// past it waits up to QueueWait for a slot, then gets ErrOverloaded having stored
	// nothing. 0 means no bound (HOOKD_INGEST_MAX_IN_FLIGHT, HOOKD_INGEST_QUEUE_WAIT).
	MaxInFlight int
	QueueWait   time.Duration
}

// Service owns hookd's multi-step operations. Build it with New; it is safe for
// concurrent use.
type Service struct {
	store         Store
	engine        Engine
	log           *slog.Logger
	schemas       *schema.Cache
	engineTimeout time.Duration
	now           func() time.Time
	admission     admission
	committer     *committer
}

// New returns a Service over st and eng.
func New(st Store, eng Engine, o Options) *Service {
	s := &Service{store: st, engine: eng, log: o.Logger, schemas: schema.NewCache(), engineTimeout: o.EngineTimeout, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.engineTimeout <= 0 {
		s.engineTimeout = 10 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.admission = newAdmission(o.MaxInFlight, o.QueueWait)
	s.committer = &committer{st: st}
	return s
}

// Ready reports whether the workflow engine answers.
func (s *Service) Ready(ctx context.Context) error { return s.engine.Ready(ctx) }

// engineContext outlives a caller that hangs up, up to the engine timeout: a start or a
// signal half made is worse than one finished for nobody.
func (s *Service) engineContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.engineTimeout)
}

// start starts the workflows of the pending deliveries in ds that have none yet and
// records that they have one. An error leaves the rest to the reconciler: starts are
// idempotent (deterministic workflow IDs).
func (s *Service) start(ctx context.Context, ds []store.Delivery) error {
	var todo []store.Delivery
	for _, d := range ds {
		if !d.WorkflowStarted && d.Status == delivery.StatusPending {
			todo = append(todo, d)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := s.engine.Schedule(ctx, todo); err != nil {
		return err
	}
	if err := s.store.MarkWorkflowsStarted(ctx, store.DeliveryIDs(todo)); err != nil {
		return errors.Join(errMarkStarted, err)
	}
	return nil
}

var errMarkStarted = errors.New("mark workflows started")

// startNow is start for a caller waiting on an answer: the deliveries are committed, so a
// failure is logged, not returned, and the reconciler starts whatever is left.
func (s *Service) startNow(ctx context.Context, ds []store.Delivery) {
	ctx, cancel := s.engineContext(ctx)
	defer cancel()
	err := s.start(ctx, ds)
	switch {
	case errors.Is(err, errMarkStarted):
		s.log.WarnContext(ctx, "mark delivery workflows started failed; the reconciler will retry (starts are idempotent)",
			"err", err, "deliveries", len(ds))
	case err != nil:
		s.log.WarnContext(ctx, "start delivery workflows failed; the reconciler will start them",
			"err", err, "deliveries", len(ds), "first", ds[0].ID)
	}
}

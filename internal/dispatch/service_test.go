package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/validation"
	"github.com/hookd/hookd/internal/webhook"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// engine is the service's engine in these tests: it records what the service asked for
// and refuses on demand, which a real Temporal server cannot be made to do on cue.
// internal/e2e runs the same operations on Temporal.
type engine struct {
	mu                      sync.Mutex
	started, retried, ended []string
	down                    error
	slow                    time.Duration // how long a refusal takes, as a timeout would
}

func (e *engine) record(to *[]string, d ...store.Delivery) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down != nil {
		time.Sleep(e.slow)
		return e.down
	}
	*to = append(*to, store.DeliveryIDs(d)...)
	return nil
}

func (e *engine) Schedule(_ context.Context, ds []store.Delivery) error {
	return e.record(&e.started, ds...)
}
func (e *engine) Retry(_ context.Context, d store.Delivery) error  { return e.record(&e.retried, d) }
func (e *engine) Cancel(_ context.Context, d store.Delivery) error { return e.record(&e.ended, d) }
func (e *engine) Ready(context.Context) error                      { return e.record(new([]string)) }

func (e *engine) setDown(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = err
}

func (e *engine) calls() (started, retried, ended []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.started), slices.Clone(e.retried), slices.Clone(e.ended)
}

// fixture is one organization with event type order.created (its data must have a
// string orderId) and one webhook subscribed to it, on a fresh database.
// record begins and completes an attempt of the fixture's webhook, as the attempt
// activity does, and returns its number.
func (f *fixture) record(ctx context.Context, o dispatch.Outcome) (int, error) {
	o.Attempt.ID = ids.New(ids.Attempt)
	n, err := f.svc.BeginAttempt(ctx, o.Attempt, o.RunID)
	if err != nil {
		return 0, err
	}
	o.Attempt.Number = n
	return n, f.svc.CompleteAttempt(ctx, f.hook, o)
}

type fixture struct {
	st     *store.Store
	eng    *engine
	svc    *dispatch.Service
	org    string
	hook   store.Webhook
	offset time.Duration // added to the service's clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: storetest.New(t), eng: &engine{}}
	f.svc = dispatch.New(f.st, f.eng, dispatch.Options{Now: func() time.Time { return time.Now().Add(f.offset) }})
	org, err := f.st.CreateOrganization(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	f.org = org.ID
	if _, err := f.st.CreateEventType(ctx, store.EventType{OrgID: f.org, Name: "order.created",
		Schema: []byte(`{"type":"object","required":["orderId"],"properties":{"orderId":{"type":"string"}}}`)}); err != nil {
		t.Fatal(err)
	}
	f.hook = f.webhook(t, "orders", "order.created")
	return f
}

func (f *fixture) webhook(t *testing.T, name string, events ...string) store.Webhook {
	t.Helper()
	secret, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s := webhook.Defaults()
	s.Name, s.URL, s.Events = name, "https://example.test/"+name, events
	wh, err := f.st.CreateWebhook(context.Background(), store.Webhook{ID: "wh_" + name, OrgID: f.org, Settings: s, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

func (f *fixture) publish(t *testing.T, id string) store.Delivery {
	t.Helper()
	res, err := f.svc.Publish(context.Background(), store.Event{OrgID: f.org, ID: id, Type: "order.created",
		Timestamp: time.Now(), Data: []byte(`{"orderId":"o-1"}`)}, nil)
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("publish: %v (%d deliveries)", err, len(res.Deliveries))
	}
	return res.Deliveries[0]
}

func (f *fixture) delivery(t *testing.T, id string) store.Delivery {
	t.Helper()
	d, _, err := f.st.GetDelivery(context.Background(), f.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// retrying records a failed first attempt of delivery id, due again in an hour, and
// returns when.
func (f *fixture) retrying(t *testing.T, id string) time.Time {
	t.Helper()
	code := 503
	next := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	if _, err := f.st.RecordAttempt(context.Background(), store.Attempt{DeliveryID: id, OrgID: f.org, ResponseStatus: &code},
		store.DeliveryUpdate{Status: delivery.StatusRetrying, NextAttemptAt: &next}); err != nil {
		t.Fatal(err)
	}
	return next
}

func (f *fixture) setStatus(t *testing.T, id, status string) {
	t.Helper()
	all := []string{delivery.StatusPending, delivery.StatusRetrying, delivery.StatusSucceeded, delivery.StatusFailed, delivery.StatusCanceled}
	if _, err := f.st.TransitionDelivery(context.Background(), f.org, id, all, status); err != nil {
		t.Fatal(err)
	}
}

func fields(err error) []string {
	var v *validation.Errors
	if !errors.As(err, &v) {
		return nil
	}
	var out []string
	for _, fe := range v.Errors {
		out = append(out, fe.Field)
	}
	return out
}

func TestPublishValidatesThenStartsAndMarks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	shape := &validation.Errors{}
	shape.Add("id", "is not a valid id")
	tests := []struct {
		name  string
		ev    store.Event
		shape *validation.Errors
		want  []string
	}{
		{"unknown type", store.Event{Type: "order.deleted", Data: []byte(`{}`)}, nil, []string{"type"}},
		{"built-in type", store.Event{Type: store.EventTypeWebhookDisabled, Data: []byte(`{}`)}, nil, []string{"type"}},
		{"data against the schema", store.Event{Type: "order.created", Data: []byte(`{"orderId":7}`)}, nil, []string{"data.orderId"}},
		{"shape problems come along", store.Event{Type: "order.created", Data: []byte(`{}`)}, shape, []string{"id", "data"}},
		{"malformed type skips the type checks", store.Event{Data: []byte(`{}`)}, shape, []string{"id"}},
	}
	for _, tc := range tests {
		ev := tc.ev
		ev.OrgID, ev.ID, ev.Timestamp = f.org, "evt-"+tc.name[:4], time.Now()
		_, err := f.svc.Publish(ctx, ev, tc.shape)
		if got := fields(err); !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}
	if started, _, _ := f.eng.calls(); len(started) != 0 {
		t.Fatalf("refused events started %v", started)
	}
	if evs, _, _ := f.st.ListEvents(ctx, f.org, store.Page{Limit: 10}); len(evs) != 0 {
		t.Fatalf("refused events stored: %+v", evs)
	}

	d := f.publish(t, "order-1")
	if started, _, _ := f.eng.calls(); !slices.Equal(started, []string{d.ID}) {
		t.Fatalf("started %v, want %s", started, d.ID)
	}
	if !f.delivery(t, d.ID).WorkflowStarted {
		t.Fatal("delivery not marked started")
	}
	// A repeat creates and starts nothing.
	res, err := f.svc.Publish(ctx, store.Event{OrgID: f.org, ID: "order-1", Type: "order.created", Data: []byte(`{"orderId":"x"}`)}, nil)
	if err != nil || res.Created || len(res.Deliveries) != 1 || res.Deliveries[0].ID != d.ID {
		t.Fatalf("repeat: %+v, %v", res, err)
	}
	if started, _, _ := f.eng.calls(); len(started) != 1 {
		t.Fatalf("repeat started again: %v", started)
	}
}

func TestPublishWithEngineDownIsAcceptedAndReconciled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.eng.setDown(errors.New("temporal down"))
	d := f.publish(t, "order-1")
	if f.delivery(t, d.ID).WorkflowStarted {
		t.Fatal("delivery marked started though the engine refused")
	}
	f.eng.setDown(nil)
	// The reconciler leaves deliveries younger than its grace to the publisher.
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("reconcile within the grace: %d, %v", n, err)
	}
	f.offset = time.Minute
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d, %v", n, err)
	}
	if started, _, _ := f.eng.calls(); !slices.Equal(started, []string{d.ID}) || !f.delivery(t, d.ID).WorkflowStarted {
		t.Fatalf("started %v", started)
	}
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("second reconcile: %d, %v", n, err)
	}
}

func TestRetryAndCancelCompensateWhenTheEngineRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	down := errors.New("temporal down")

	t.Run("retry of a canceled delivery reopens it, and closes it again on refusal", func(t *testing.T) {
		d := f.publish(t, "retry-1")
		f.setStatus(t, d.ID, delivery.StatusCanceled)
		f.eng.setDown(down)
		if _, err := f.svc.Retry(ctx, f.org, d.ID); !errors.Is(err, dispatch.ErrUnavailable) {
			t.Fatalf("retry with the engine down: %v", err)
		}
		if got := f.delivery(t, d.ID).Status; got != delivery.StatusCanceled {
			t.Fatalf("status %s after a refused retry, want canceled", got)
		}
		f.eng.setDown(nil)
		got, err := f.svc.Retry(ctx, f.org, d.ID)
		if err != nil || got.Status != delivery.StatusPending || f.delivery(t, d.ID).Status != delivery.StatusPending {
			t.Fatalf("retry: %+v, %v", got, err)
		}
		if _, retried, _ := f.eng.calls(); !slices.Equal(retried, []string{d.ID}) {
			t.Fatalf("retried %v", retried)
		}
	})

	t.Run("retry of a retrying or failed delivery makes it pending, and puts it back exactly on refusal", func(t *testing.T) {
		for _, final := range []bool{false, true} {
			d := f.publish(t, fmt.Sprintf("retry-due-%v", final))
			f.retrying(t, d.ID)
			if final {
				f.setStatus(t, d.ID, delivery.StatusFailed)
			}
			before := f.delivery(t, d.ID)
			f.eng.setDown(down)
			if _, err := f.svc.Retry(ctx, f.org, d.ID); !errors.Is(err, dispatch.ErrUnavailable) {
				t.Fatalf("retry with the engine down: %v", err)
			}
			if got := f.delivery(t, d.ID); got.Status != before.Status || !reflect.DeepEqual(got.NextAttemptAt, before.NextAttemptAt) || !got.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("after a refused retry: %+v, want it as it was: %+v", got, before)
			}
			f.eng.setDown(nil)
			got, err := f.svc.Retry(ctx, f.org, d.ID)
			if err != nil || got.Status != delivery.StatusPending || got.NextAttemptAt != nil {
				t.Fatalf("retry of a %s delivery answered %+v, %v; want it pending with no next attempt time", before.Status, got, err)
			}
			if read := f.delivery(t, d.ID); read.Status != got.Status || !read.UpdatedAt.Equal(got.UpdatedAt) {
				t.Fatalf("retry answered %+v, a read after shows %+v", got, read)
			}
		}
	})

	t.Run("cancel puts the status back on refusal", func(t *testing.T) {
		d := f.publish(t, "cancel-1")
		next := f.retrying(t, d.ID)
		f.eng.setDown(down)
		if _, err := f.svc.Cancel(ctx, f.org, d.ID); !errors.Is(err, dispatch.ErrUnavailable) {
			t.Fatalf("cancel with the engine down: %v", err)
		}
		if got := f.delivery(t, d.ID); got.Status != delivery.StatusRetrying || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(next) {
			t.Fatalf("after a refused cancel: status %s, next attempt %v; want retrying at %v", got.Status, got.NextAttemptAt, next)
		}
		f.eng.setDown(nil)
		if got, err := f.svc.Cancel(ctx, f.org, d.ID); err != nil || got.Status != delivery.StatusCanceled {
			t.Fatalf("cancel: %+v, %v", got, err)
		}
		// A finished delivery cannot be canceled; the answer carries its status.
		got, err := f.svc.Cancel(ctx, f.org, d.ID)
		if !errors.Is(err, store.ErrConflict) || got.Status != delivery.StatusCanceled {
			t.Fatalf("second cancel: %+v, %v", got, err)
		}
	})

	t.Run("retry of a disabled webhook's delivery is refused, a ping's is not", func(t *testing.T) {
		d := f.publish(t, "disabled-1")
		wh := f.webhook(t, "paused")
		_, ping, err := f.svc.Ping(ctx, f.org, wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []store.Webhook{f.hook, wh} {
			w.Status = store.WebhookDisabled
			if _, err := f.st.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		_, before, _ := f.eng.calls()
		if _, err := f.svc.Retry(ctx, f.org, d.ID); !errors.Is(err, dispatch.ErrWebhookNotEnabled) || !errors.Is(err, store.ErrConflict) {
			t.Fatalf("retry to a disabled webhook: %v", err)
		}
		if _, err := f.svc.Retry(ctx, f.org, ping.ID); err != nil {
			t.Fatalf("retry of a ping to a disabled webhook: %v", err)
		}
		if _, retried, _ := f.eng.calls(); !slices.Equal(retried[len(before):], []string{ping.ID}) {
			t.Fatalf("retried %v, want only the ping %s", retried[len(before):], ping.ID)
		}
		for _, w := range []store.Webhook{f.hook, wh} {
			w.Status = store.WebhookEnabled
			if _, err := f.st.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("a cancel and a retry refused together leave the delivery as it was", func(t *testing.T) {
		d := f.publish(t, "both-1")
		f.retrying(t, d.ID)
		before := f.delivery(t, d.ID)
		f.eng.setDown(down)
		f.eng.mu.Lock()
		f.eng.slow = 300 * time.Millisecond
		f.eng.mu.Unlock()
		errs := make(chan error, 2)
		go func() { _, err := f.svc.Cancel(ctx, f.org, d.ID); errs <- err }()
		time.Sleep(100 * time.Millisecond) // the retry comes while the cancel waits on the engine
		go func() { _, err := f.svc.Retry(ctx, f.org, d.ID); errs <- err }()
		for range 2 {
			if err := <-errs; !errors.Is(err, dispatch.ErrUnavailable) {
				t.Fatalf("with the engine down: %v", err)
			}
		}
		f.eng.mu.Lock()
		f.eng.slow = 0
		f.eng.mu.Unlock()
		f.eng.setDown(nil)
		after := f.delivery(t, d.ID)
		if after.Status != before.Status || !after.NextAttemptAt.Equal(*before.NextAttemptAt) || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("after two refused operations: %s next %v updated %v; before: %s next %v updated %v",
				after.Status, after.NextAttemptAt, after.UpdatedAt, before.Status, before.NextAttemptAt, before.UpdatedAt)
		}
	})

	t.Run("unknown or another organization's delivery", func(t *testing.T) {
		d := f.publish(t, "other-1")
		other, err := f.st.CreateOrganization(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Retry(ctx, other.ID, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("retry across organizations: %v", err)
		}
		if _, err := f.svc.Cancel(ctx, other.ID, "dlv_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cancel of an unknown delivery: %v", err)
		}
	})
}

func TestGoneAttemptDisablesTheWebhookAndEmitsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	watcher := f.webhook(t, "ops", store.EventTypeWebhookDisabled)
	d := f.publish(t, "order-1")
	code := 410
	attempt := store.Attempt{DeliveryID: d.ID, OrgID: f.org, Trigger: delivery.TriggerAuto, RequestedAt: time.Now(),
		RequestURL: f.hook.URL, RequestMethod: "POST", ResponseStatus: &code, Error: "receiver answered 410"}
	decision := delivery.Decide(f.hook.Policy(), "dlv_gone", 1, delivery.TriggerAuto, delivery.OutcomeGone, 0)
	number, err := f.record(ctx, dispatch.Outcome{Attempt: attempt, Decision: decision})
	if err != nil || number != 1 {
		t.Fatalf("record: %d, %v", number, err)
	}
	wh, err := f.st.GetWebhook(ctx, f.org, f.hook.ID)
	if err != nil || wh.Status != store.WebhookDisabledDueToErrors {
		t.Fatalf("webhook after 410: %+v, %v", wh, err)
	}
	if got := f.delivery(t, d.ID).Status; got != delivery.StatusFailed {
		t.Fatalf("delivery %s, want failed", got)
	}
	emitted := func() []store.Delivery {
		t.Helper()
		ds, _, err := f.st.ListDeliveries(ctx, f.org, store.DeliveryFilter{EventType: store.EventTypeWebhookDisabled}, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	ds := emitted()
	if len(ds) != 1 || ds[0].WebhookID != watcher.ID || !ds[0].WorkflowStarted {
		t.Fatalf("webhook.disabled deliveries %+v, want one started to %s", ds, watcher.ID)
	}
	ev, _, err := f.st.GetEvent(ctx, f.org, ds[0].EventID)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Data) != `{"webhookId":"wh_orders","name":"orders","reason":"the endpoint answered 410 Gone","lastError":"receiver answered 410"}` {
		t.Fatalf("event data %s", ev.Data)
	}
	// The attempt re-executed (its record found) announces again: nothing new.
	if err := f.svc.WebhookGone(ctx, wh, attempt.Error); err != nil {
		t.Fatal(err)
	}
	if again := emitted(); len(again) != 1 {
		t.Fatalf("re-announcing emitted again: %+v", again)
	}
}

func TestConcurrentGoneAttemptsAnnounceOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.webhook(t, "ops", store.EventTypeWebhookDisabled)
	const n = 8
	ds := make([]store.Delivery, n)
	for i := range ds {
		ds[i] = f.publish(t, "order-"+string(rune('a'+i)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := 410
			_, err := f.record(ctx, dispatch.Outcome{
				Attempt:  store.Attempt{DeliveryID: d.ID, OrgID: f.org, ResponseStatus: &code, Error: "receiver answered 410"},
				Decision: delivery.Decide(f.hook.Policy(), "dlv_gone", 1, delivery.TriggerAuto, delivery.OutcomeGone, 0),
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	events, _, err := f.st.ListEvents(ctx, f.org, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	announced := 0
	for _, ev := range events {
		if ev.Type == store.EventTypeWebhookDisabled {
			announced++
		}
	}
	if announced != 1 {
		t.Fatalf("%d webhook.disabled events for one disabling, want 1", announced)
	}
}

package activities

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// holder answers the first request only once released, and every later one with later
// at once; held is closed when the first arrives.
type holder struct {
	held, release chan struct{}
	first         chan struct{}
	once          sync.Once
}

func newHolder() *holder {
	h := &holder{held: make(chan struct{}), release: make(chan struct{}), first: make(chan struct{}, 1)}
	h.first <- struct{}{}
	return h
}

func (h *holder) handler(later int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-h.first:
			close(h.held)
			<-h.release
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(later)
		}
	}
}

// releaseOn releases the held request when t ends (before its receiver closes, which
// waits for it), unless done before.
func (h *holder) releaseOn(t *testing.T) { t.Cleanup(h.releaseNow) }

func (h *holder) releaseNow() { h.once.Do(func() { close(h.release) }) }

// runAttempt runs the Attempt activity in a fresh environment (so with the key of the
// run's first attempt) in the background and delivers its result or error.
func (f *fixture) runAttempt() <-chan error {
	done := make(chan error, 1)
	go func() {
		v, err := f.activityEnv().ExecuteActivity(f.acts.Attempt, AttemptInput{DeliveryID: f.dlv.ID, Trigger: TriggerAuto})
		if err == nil {
			var res AttemptResult
			err = v.Get(&res)
		}
		done <- err
	}()
	return done
}

func TestAttemptIsRecordedWhileItsRequestIsInFlight(t *testing.T) {
	t.Parallel()
	h := newHolder()
	f := newFixture(t, h.handler(http.StatusOK), nil)
	h.releaseOn(t)
	done := f.runAttempt()
	<-h.held

	d, atts, wh := f.load(t)
	if len(atts) != 1 {
		t.Fatalf("%d attempts while the request is in flight, want 1", len(atts))
	}
	a := atts[0]
	if a.State != store.AttemptSending || a.Number != 1 || a.ResponseStatus != nil || a.DurationMs != 0 || a.Error != "" ||
		a.RequestURL != f.webhook.URL || a.RequestHeaders["Webhook-Id"] != f.dlv.ID || a.ActivityKey == "" ||
		d.AttemptCount != 1 || d.Status != store.StatusPending || wh.AttemptCount != 1 {
		t.Fatalf("in flight: attempt %+v, delivery %+v", a, d)
	}

	h.releaseNow()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d, atts, _ = f.load(t)
	if len(atts) != 1 || atts[0].State != store.AttemptCompleted || atts[0].ResponseStatus == nil ||
		*atts[0].ResponseStatus != 200 || d.Status != store.StatusSucceeded || f.hits.Load() != 1 {
		t.Fatalf("after: %d requests, delivery %s, attempts %+v", f.hits.Load(), d.Status, atts)
	}
}

// TestAttemptReExecutionAfterAnInterruptionSendsAgain plays a worker presumed dead with
// its request in flight: the same logical attempt runs again (as Temporal re-runs it)
// and is a new attempt, which closes the first as interrupted, and whose number, one
// more, spends the retry budget the interrupted one used. The first worker's late answer
// is refused.
func TestAttemptReExecutionAfterAnInterruptionSendsAgain(t *testing.T) {
	t.Parallel()
	h := newHolder()
	f := newFixture(t, h.handler(http.StatusInternalServerError), func(w *store.Webhook) {
		w.MaxRetries = 1
	})
	h.releaseOn(t)
	stale := f.runAttempt()
	<-h.held

	res := f.attempt(t, AttemptInput{})
	if res.Number != 2 || res.StatusCode != 500 || res.Status != delivery.StatusFailed {
		t.Fatalf("re-execution %+v, want attempt 2 failed (its 500 was the one retry allowed)", res)
	}
	h.releaseNow()
	// The test environment hands the activity's error back as a message, not a chain.
	if err := <-stale; err == nil || !strings.Contains(err.Error(), store.ErrConflict.Error()) {
		t.Fatalf("the interrupted execution's completion: %v, want a conflict", err)
	}

	d, atts, _ := f.load(t)
	if f.hits.Load() != 2 || len(atts) != 2 || d.AttemptCount != 2 || d.Status != store.StatusFailed {
		t.Fatalf("%d requests, %d attempts, delivery %+v; want 2, 2, failed", f.hits.Load(), len(atts), d)
	}
	if a := atts[0]; a.State != store.AttemptInterrupted || a.Error != store.InterruptedError || a.ResponseStatus != nil {
		t.Fatalf("first attempt %+v, want interrupted with no response", a)
	}
	if a := atts[1]; a.State != store.AttemptCompleted || a.ActivityKey != atts[0].ActivityKey || *a.ResponseStatus != 500 {
		t.Fatalf("second attempt %+v, want completed 500 under the same key", a)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestAttemptInFlightThenInterrupted begins an attempt and never completes it, as a
// worker that dies with the request in flight: the attempt shows as sending, then as
// interrupted once the re-execution of the same logical attempt begins, which is an
// attempt of its own with the next number.
func TestAttemptInFlightThenInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	states := func() []string {
		t.Helper()
		_, as, err := s.GetDelivery(ctx, o.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, a := range as {
			if a.Number != i+1 {
				t.Fatalf("attempt numbers %+v: want 1..%d, gap-free", as, len(as))
			}
			out = append(out, a.State)
		}
		return out
	}
	begin := func(key string, at time.Time) (store.Attempt, int, error) {
		t.Helper()
		a := store.Attempt{ID: "att_" + fmt.Sprint(at.UnixNano()), DeliveryID: d.ID, RequestedAt: at, RequestURL: w.URL,
			RequestMethod: "POST", RequestHeaders: map[string]string{"webhook-id": d.ID}, ActivityKey: key}
		n, err := s.BeginAttempt(ctx, a, "run-1")
		return a, n, err
	}

	at := time.Now().UTC().Truncate(time.Microsecond)
	first, n, err := begin("run-1/1", at)
	if err != nil || n != 1 {
		t.Fatalf("begin: %d, %v", n, err)
	}
	got, as, err := s.GetDelivery(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := as[0]
	if got.AttemptCount != 1 || !got.LastAttemptAt.Equal(at) || got.Status != store.StatusPending || got.WorkflowRunID != "run-1" ||
		a.State != store.AttemptSending || a.ResponseStatus != nil || a.DurationMs != 0 || a.Error != "" ||
		a.RequestURL != w.URL || a.RequestHeaders["webhook-id"] != d.ID || !a.RequestedAt.Equal(at) {
		t.Fatalf("in flight: delivery %+v, attempt %+v", got, a)
	}
	if wh, err := s.GetWebhook(ctx, o.ID, w.ID); err != nil || wh.AttemptCount != 1 || !wh.LastTriggeredAt.Equal(at) {
		t.Fatalf("webhook while in flight: %+v, %v", wh, err)
	}
	// An attempt in flight is not a recorded one: its re-execution sends again.
	if ac, err := s.LoadAttempt(ctx, d.ID, "run-1/1"); err != nil || ac.Recorded != nil {
		t.Fatalf("load in flight: %+v, %v", ac.Recorded, err)
	}

	second, n, err := begin("run-1/1", at.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("begin the re-execution: %d, %v", n, err)
	}
	if st := states(); !slices.Equal(st, []string{store.AttemptInterrupted, store.AttemptSending}) {
		t.Fatalf("states %v", st)
	}
	_, as, _ = s.GetDelivery(ctx, o.ID, d.ID)
	if as[0].Error != store.InterruptedError || as[0].ResponseStatus != nil || as[0].ActivityKey != "run-1/1" {
		t.Fatalf("interrupted attempt %+v", as[0])
	}

	// The worker of the first comes back too late: refused, nothing changes.
	code := 200
	first.ResponseStatus = &code
	err = s.CompleteAttempt(ctx, first, store.DeliveryUpdate{Status: store.StatusSucceeded})
	wantErr(t, err, store.ErrConflict)
	if got, _, _ := s.GetDelivery(ctx, o.ID, d.ID); got.Status != store.StatusPending || got.LastStatusCode != nil {
		t.Fatalf("delivery after a late completion: %+v", got)
	}

	code2, retryAfter := 503, int64(3000)
	next := at.Add(time.Minute)
	second.DurationMs, second.ResponseStatus, second.Error, second.RetryAfterMs, second.Outcome = 42, &code2, "receiver answered 503", &retryAfter, "retry"
	second.ResponseHeaders = map[string]string{"Retry-After": "3"}
	if err := s.CompleteAttempt(ctx, second, store.DeliveryUpdate{Status: store.StatusRetrying, NextAttemptAt: &next}); err != nil {
		t.Fatal(err)
	}
	got, as, _ = s.GetDelivery(ctx, o.ID, d.ID)
	if got.Status != store.StatusRetrying || got.AttemptCount != 2 || *got.LastStatusCode != 503 || got.LastError != "receiver answered 503" ||
		!got.NextAttemptAt.Equal(next) || as[1].State != store.AttemptCompleted || as[1].DurationMs != 42 ||
		*as[1].ResponseStatus != 503 || as[1].ResponseHeaders["Retry-After"] != "3" || as[1].Outcome != "retry" {
		t.Fatalf("completed: delivery %+v, attempt %+v", got, as[1])
	}
	if ac, err := s.LoadAttempt(ctx, d.ID, "run-1/1"); err != nil || ac.Recorded == nil || ac.Recorded.Number != 2 {
		t.Fatalf("load completed: %+v, %v", ac.Recorded, err)
	}
	// Completing twice, or beginning a logical attempt already made, changes nothing.
	wantErr(t, s.CompleteAttempt(ctx, second, store.DeliveryUpdate{Status: store.StatusFailed}), store.ErrConflict)
	_, _, err = begin("run-1/1", at.Add(2*time.Second))
	wantErr(t, err, store.ErrConflict)

	// The next attempt begins; its worker dies; no attempt follows: the reconciler's sweep
	// closes it once it is stale, and only then.
	if _, n, err = begin("run-1/3", at.Add(3*time.Second)); err != nil || n != 3 {
		t.Fatalf("begin third: %d, %v", n, err)
	}
	if closed, err := s.CloseStaleAttempts(ctx, at.Add(3*time.Second)); err != nil || closed != 0 {
		t.Fatalf("sweep before it is stale: %d, %v", closed, err)
	}
	if closed, err := s.CloseStaleAttempts(ctx, at.Add(4*time.Second)); err != nil || closed != 1 {
		t.Fatalf("sweep: %d, %v", closed, err)
	}
	if st := states(); !slices.Equal(st, []string{store.AttemptInterrupted, store.AttemptCompleted, store.AttemptInterrupted}) {
		t.Fatalf("states %v", st)
	}
	if got, _, _ := s.GetDelivery(ctx, o.ID, d.ID); got.AttemptCount != 3 {
		t.Fatalf("attempt count %d, want 3", got.AttemptCount)
	}

	_, err = s.BeginAttempt(ctx, store.Attempt{DeliveryID: "dlv_nope"}, "")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.CompleteAttempt(ctx, store.Attempt{ID: "att_nope", DeliveryID: d.ID}, store.DeliveryUpdate{Status: store.StatusFailed}), store.ErrNotFound)
}

// TestAttemptsBegunConcurrently begins and completes attempts of one delivery from many
// goroutines at once, as a stale worker and its replacement might: numbers stay unique
// and gap-free, nothing deadlocks, and an attempt is either completed or was interrupted
// by one begun after it (its completion then refused).
func TestAttemptsBegunConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	const n = 10
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		numbers  []int
		refused  = map[int]bool{}
		failures []error
	)
	for i := range n {
		wg.Go(func() {
			a := store.Attempt{DeliveryID: d.ID, ActivityKey: fmt.Sprint("run/", i)}
			a.ID = fmt.Sprint("att_c", i)
			num, err := s.BeginAttempt(ctx, a, "")
			if err == nil {
				code := 500
				a.ResponseStatus = &code
				err = s.CompleteAttempt(ctx, a, store.DeliveryUpdate{Status: store.StatusFailed})
			}
			mu.Lock()
			defer mu.Unlock()
			numbers = append(numbers, num)
			switch {
			case errors.Is(err, store.ErrConflict):
				refused[num] = true
			case err != nil:
				failures = append(failures, err)
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("errors other than a refused completion: %v", failures)
	}
	slices.Sort(numbers)
	for i, num := range numbers {
		if num != i+1 {
			t.Fatalf("numbers %v, want 1..%d", numbers, n)
		}
	}
	_, as, err := s.GetDelivery(ctx, o.ID, d.ID)
	if err != nil || len(as) != n {
		t.Fatalf("%d attempts, %v", len(as), err)
	}
	for _, a := range as {
		want := store.AttemptCompleted
		if refused[a.Number] {
			want = store.AttemptInterrupted
		}
		if a.State != want {
			t.Fatalf("attempt %d is %s, want %s (refused completions: %v)", a.Number, a.State, want, refused)
		}
	}
}

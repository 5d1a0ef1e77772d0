package dispatch_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
)

// TestAttemptLeftInFlightIsClosed begins attempts that never complete, as a worker that
// dies with its request in flight leaves them: the next attempt of the delivery closes
// one as interrupted, and the reconciler's sweep closes one that no attempt follows, once
// it is stale. Numbers stay unique and gap-free, the interrupted ones counted.
func TestAttemptLeftInFlightIsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	d := f.publish(t, "evt_inflight")
	begun := 0
	begin := func(key string) store.Attempt {
		t.Helper()
		begun++
		a := store.Attempt{ID: fmt.Sprint("att_", begun), DeliveryID: d.ID, OrgID: f.org, RequestedAt: time.Now(),
			RequestURL: f.hook.URL, RequestMethod: "POST", ActivityKey: "run/" + key}
		n, err := f.svc.BeginAttempt(ctx, a, "run")
		if err != nil {
			t.Fatal(err)
		}
		a.Number = n
		return a
	}
	states := func() (out []string) {
		t.Helper()
		_, as, err := f.st.GetDelivery(ctx, f.org, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range as {
			if a.Number != i+1 {
				t.Fatalf("numbers of %+v: want 1..%d", as, len(as))
			}
			out = append(out, a.State)
		}
		return out
	}
	sweep := func() int64 {
		t.Helper()
		n, err := f.svc.CloseStaleAttempts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	begin("1")
	if n := sweep(); n != 0 {
		t.Fatalf("the sweep closed %d fresh attempts", n)
	}
	if st := states(); !slices.Equal(st, []string{store.AttemptSending}) {
		t.Fatalf("states %v", st)
	}
	second := begin("1") // the re-execution of the same logical attempt
	code := 503
	second.ResponseStatus, second.Error = &code, "receiver answered 503"
	decision := delivery.Decide(f.hook.Policy(), d.ID, second.Number, delivery.TriggerAuto, delivery.OutcomeRetry, 0)
	if err := f.svc.CompleteAttempt(ctx, f.hook, dispatch.Outcome{Attempt: second, Decision: decision}); err != nil {
		t.Fatal(err)
	}
	if st := states(); !slices.Equal(st, []string{store.AttemptInterrupted, store.AttemptCompleted}) {
		t.Fatalf("states %v", st)
	}
	if got := f.delivery(t, d.ID); got.Status != delivery.StatusRetrying || got.AttemptCount != 2 || got.NextAttemptAt == nil {
		t.Fatalf("delivery %+v, want retrying after 2 attempts", got)
	}

	begin("3") // and then the worker dies for good: no attempt follows
	f.offset = dispatch.StaleAttemptAge - time.Second
	if n := sweep(); n != 0 {
		t.Fatalf("the sweep closed %d attempts younger than %v", n, dispatch.StaleAttemptAge)
	}
	f.offset = dispatch.StaleAttemptAge + time.Second
	if n := sweep(); n != 1 {
		t.Fatalf("the sweep closed %d stale attempts, want 1", n)
	}
	if st := states(); !slices.Equal(st, []string{store.AttemptInterrupted, store.AttemptCompleted, store.AttemptInterrupted}) {
		t.Fatalf("states %v", st)
	}
}

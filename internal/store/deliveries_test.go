package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

func TestListDeliveriesFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	w1 := newWebhook(t, s, o.ID, nil, "a.b", "c.d")
	w2 := newWebhook(t, s, o.ID, nil, "a.b")
	newWebhook(t, s, other.ID, nil, "a.b")
	ingest(t, s, other.ID, "e1", "a.b")

	e1 := ingest(t, s, o.ID, "e1", "a.b") // → w1, w2
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	e2 := ingest(t, s, o.ID, "e2", "c.d") // → w1
	failed := e1.Deliveries[0]
	if _, err := s.TransitionDelivery(ctx, o.ID, failed.ID, []string{store.StatusPending}, store.StatusFailed); err != nil {
		t.Fatal(err)
	}
	byWebhook := func(ds []store.Delivery, w string) string {
		for _, d := range ds {
			if d.WebhookID == w {
				return d.ID
			}
		}
		t.Fatalf("no delivery to %s", w)
		return ""
	}
	e1w1, e1w2, e2w1 := byWebhook(e1.Deliveries, w1.ID), byWebhook(e1.Deliveries, w2.ID), e2.Deliveries[0].ID

	for _, tc := range []struct {
		name string
		f    store.DeliveryFilter
		want []string // newest first
	}{
		{"none", store.DeliveryFilter{}, []string{e2w1, e1.Deliveries[1].ID, e1.Deliveries[0].ID}},
		{"status", store.DeliveryFilter{Status: store.StatusFailed}, []string{failed.ID}},
		{"webhook", store.DeliveryFilter{WebhookID: w1.ID}, []string{e2w1, e1w1}},
		{"event", store.DeliveryFilter{EventID: "e1"}, []string{e1.Deliveries[1].ID, e1.Deliveries[0].ID}},
		{"type", store.DeliveryFilter{EventType: "c.d"}, []string{e2w1}},
		{"since", store.DeliveryFilter{Since: &mid}, []string{e2w1}},
		{"until", store.DeliveryFilter{Until: &mid}, []string{e1.Deliveries[1].ID, e1.Deliveries[0].ID}},
		{"webhook and type", store.DeliveryFilter{WebhookID: w2.ID, EventType: "a.b"}, []string{e1w2}},
		{"no match", store.DeliveryFilter{WebhookID: w2.ID, EventType: "c.d"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, next, err := s.ListDeliveries(ctx, o.ID, tc.f, store.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				if d.OrgID != o.ID {
					t.Fatalf("listed another org's delivery %+v", d)
				}
				got = append(got, d.ID)
			}
			if !slices.Equal(got, tc.want) || next != "" {
				t.Fatalf("listed %q (next %q), want %q", got, next, tc.want)
			}
		})
	}
	_, _, err := s.ListDeliveries(ctx, o.ID, store.DeliveryFilter{}, store.Page{Cursor: "czEuMTIz=="})
	wantErr(t, err, store.ErrInvalidCursor)
}

func TestListDeliveriesPagesUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	var initial []string
	for i := range 25 {
		initial = append(initial, ingest(t, s, o.ID, fmt.Sprint("e", i), "a.b").Deliveries[0].ID)
	}
	slices.Reverse(initial)
	known := map[string]bool{}
	for _, id := range initial {
		known[id] = true
	}

	stop := ingestMeanwhile(t, s, o.ID)
	seen := map[string]bool{}
	var got []string
	for cursor := ""; ; {
		ds, next, err := s.ListDeliveries(ctx, o.ID, store.DeliveryFilter{WebhookID: w.ID}, store.Page{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if seen[d.ID] {
				t.Fatalf("delivery %s listed twice", d.ID)
			}
			seen[d.ID] = true
			if known[d.ID] {
				got = append(got, d.ID)
			}
		}
		time.Sleep(2 * time.Millisecond)
		if cursor = next; cursor == "" {
			break
		}
	}
	stop()
	if !slices.Equal(got, initial) {
		t.Fatalf("pages held %q, want %q", got, initial)
	}
}

func TestTransitionDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	active := []string{store.StatusPending, store.StatusRetrying}

	got, err := s.TransitionDelivery(ctx, o.ID, d.ID, active, store.StatusCanceled)
	if err != nil || got.Status != store.StatusCanceled || got.ID != d.ID {
		t.Fatalf("cancel = %+v, %v", got, err)
	}
	got, err = s.TransitionDelivery(ctx, o.ID, d.ID, active, store.StatusCanceled)
	wantErr(t, err, store.ErrConflict)
	if got.ID != d.ID || got.Status != store.StatusCanceled {
		t.Fatalf("conflict returned %+v, want the current delivery", got)
	}
	_, err = s.TransitionDelivery(ctx, other.ID, d.ID, []string{store.StatusCanceled}, store.StatusPending)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TransitionDelivery(ctx, o.ID, "dlv_nope", active, store.StatusCanceled)
	wantErr(t, err, store.ErrNotFound)
	got, err = s.TransitionDelivery(ctx, o.ID, d.ID, []string{store.StatusCanceled, store.StatusFailed}, store.StatusPending)
	if err != nil || got.Status != store.StatusPending {
		t.Fatalf("retry = %+v, %v", got, err)
	}
}

func TestGetDeliveryAndLoadAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	res := ingest(t, s, o.ID, "e1", "a.b")
	d := res.Deliveries[0]

	ac, err := s.LoadAttempt(ctx, d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if ac.Delivery.ID != d.ID || ac.Webhook.ID != w.ID || ac.Webhook.Secret != w.Secret ||
		ac.Webhook.Headers["X-Team"] != "core" || ac.Event.ID != "e1" || string(ac.Event.Data) != `{"n":1}` {
		t.Fatalf("attempt context = %+v", ac)
	}
	_, err = s.LoadAttempt(ctx, "dlv_nope", "")
	wantErr(t, err, store.ErrNotFound)

	status := 500
	for i := range 2 {
		if _, err := s.RecordAttempt(ctx, store.Attempt{
			DeliveryID: d.ID, RequestedAt: time.Now(), DurationMs: 12, RequestURL: w.URL, RequestMethod: "POST",
			RequestHeaders: map[string]string{"webhook-id": d.ID}, ResponseStatus: &status,
			ResponseHeaders: map[string]string{"Retry-After": "5"}, ResponseBody: fmt.Sprint("oops ", i, "\x00\xff"),
		}, store.DeliveryUpdate{Status: store.StatusRetrying}); err != nil {
			t.Fatal(err)
		}
	}
	got, attempts, err := s.GetDelivery(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || got.AttemptCount != 2 || len(attempts) != 2 {
		t.Fatalf("delivery = %+v with %d attempts", got, len(attempts))
	}
	for i, a := range attempts {
		if a.Number != i+1 || a.Trigger != "auto" || a.OrgID != o.ID || *a.ResponseStatus != 500 ||
			a.ResponseHeaders["Retry-After"] != "5" || a.RequestHeaders["webhook-id"] != d.ID ||
			a.ResponseBody != fmt.Sprint("oops ", i, "\uFFFD\uFFFD") {
			t.Fatalf("attempt %d = %+v", i, a)
		}
	}
	_, _, err = s.GetDelivery(ctx, other.ID, d.ID)
	wantErr(t, err, store.ErrNotFound)
}

func TestRecordAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ok, bad := 200, 503
	next := time.Now().Add(time.Minute).UTC().Truncate(time.Microsecond)

	type step struct {
		cancelFirst bool
		status      *int
		update      store.DeliveryUpdate
		// expectations after the step
		deliveryStatus string
		failures       int
		webhookStatus  string
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"retry then succeed", []step{
			{status: &bad, update: store.DeliveryUpdate{Status: store.StatusRetrying, NextAttemptAt: &next},
				deliveryStatus: store.StatusRetrying, failures: 0, webhookStatus: store.WebhookEnabled},
			{status: &ok, update: store.DeliveryUpdate{Status: store.StatusSucceeded},
				deliveryStatus: store.StatusSucceeded, failures: 0, webhookStatus: store.WebhookEnabled},
		}},
		{"fail counts against the webhook, success resets", []step{
			{status: &bad, update: store.DeliveryUpdate{Status: store.StatusFailed},
				deliveryStatus: store.StatusFailed, failures: 1, webhookStatus: store.WebhookEnabled},
			{status: &ok, update: store.DeliveryUpdate{Status: store.StatusSucceeded},
				deliveryStatus: store.StatusSucceeded, failures: 0, webhookStatus: store.WebhookEnabled},
		}},
		{"disable webhook", []step{
			{status: &bad, update: store.DeliveryUpdate{Status: store.StatusFailed, DisableWebhook: true},
				deliveryStatus: store.StatusFailed, failures: 1, webhookStatus: store.WebhookDisabledDueToErrors},
		}},
		{"canceled stays canceled on failure", []step{
			{cancelFirst: true, status: &bad, update: store.DeliveryUpdate{Status: store.StatusRetrying, NextAttemptAt: &next},
				deliveryStatus: store.StatusCanceled, failures: 0, webhookStatus: store.WebhookEnabled},
			{status: nil, update: store.DeliveryUpdate{Status: store.StatusFailed},
				deliveryStatus: store.StatusCanceled, failures: 0, webhookStatus: store.WebhookEnabled},
		}},
		{"canceled becomes succeeded", []step{
			{cancelFirst: true, status: &ok, update: store.DeliveryUpdate{Status: store.StatusSucceeded},
				deliveryStatus: store.StatusSucceeded, failures: 0, webhookStatus: store.WebhookEnabled},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := storetest.New(t)
			o := newOrg(t, s)
			w := newWebhook(t, s, o.ID, nil, "a.b")
			d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
			for i, st := range tc.steps {
				if st.cancelFirst {
					if _, err := s.TransitionDelivery(ctx, o.ID, d.ID, []string{store.StatusPending}, store.StatusCanceled); err != nil {
						t.Fatal(err)
					}
				}
				at := time.Now().UTC().Truncate(time.Microsecond)
				st.update.WorkflowRunID = fmt.Sprint("run-", i)
				n, err := s.RecordAttempt(ctx, store.Attempt{
					DeliveryID: d.ID, Trigger: "manual", RequestedAt: at, ResponseStatus: st.status, Error: "e",
				}, st.update)
				if err != nil {
					t.Fatal(err)
				}
				if n != i+1 {
					t.Fatalf("step %d: attempt number %d, want %d", i, n, i+1)
				}
				got, attempts, err := s.GetDelivery(ctx, o.ID, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantNext := st.update.NextAttemptAt
				if st.deliveryStatus == store.StatusCanceled {
					wantNext = nil
				}
				if got.Status != st.deliveryStatus || got.AttemptCount != i+1 || !got.LastAttemptAt.Equal(at) ||
					!equalPtr(got.LastStatusCode, st.status) ||
					got.LastError != "e" || got.WorkflowRunID != st.update.WorkflowRunID ||
					(wantNext == nil) != (got.NextAttemptAt == nil) || (wantNext != nil && !got.NextAttemptAt.Equal(*wantNext)) {
					t.Fatalf("step %d: delivery = %+v", i, got)
				}
				if len(attempts) != i+1 || attempts[i].Trigger != "manual" {
					t.Fatalf("step %d: attempts = %+v", i, attempts)
				}
				wh, err := s.GetWebhook(ctx, o.ID, w.ID)
				if err != nil {
					t.Fatal(err)
				}
				if wh.AttemptCount != int64(i+1) || wh.ConsecutiveFailures != st.failures || wh.Status != st.webhookStatus ||
					wh.LastTriggeredAt == nil || !wh.LastTriggeredAt.Equal(at) {
					t.Fatalf("step %d: webhook = %+v", i, wh)
				}
			}
		})
	}
}

func TestRecordAttemptKeepsManualDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	w.Status = store.WebhookDisabled
	if _, err := s.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAttempt(ctx, store.Attempt{DeliveryID: d.ID},
		store.DeliveryUpdate{Status: store.StatusFailed, DisableWebhook: true}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || got.Status != store.WebhookDisabled {
		t.Fatalf("webhook = %+v, %v; want it still DISABLED", got, err)
	}
}

func TestRecordAttemptNumbersConcurrentAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	const n = 12
	numbers := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			numbers[i], err = s.RecordAttempt(ctx, store.Attempt{DeliveryID: d.ID},
				store.DeliveryUpdate{Status: store.StatusFailed})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	for i, num := range numbers {
		if num != i+1 {
			t.Fatalf("numbers %v, want 1..%d", numbers, n)
		}
	}
	wh, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || wh.AttemptCount != n || wh.ConsecutiveFailures != n {
		t.Fatalf("webhook = %+v, %v", wh, err)
	}
	_, err = s.RecordAttempt(ctx, store.Attempt{DeliveryID: "dlv_nope"}, store.DeliveryUpdate{Status: store.StatusFailed})
	wantErr(t, err, store.ErrNotFound)
}

func TestRecordAttemptActivityKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	status, retryAfter := 503, int64(120_000)
	record := func(a store.Attempt) error {
		t.Helper()
		a.DeliveryID = d.ID
		_, err := s.RecordAttempt(ctx, a, store.DeliveryUpdate{Status: store.StatusRetrying})
		return err
	}
	for _, a := range []store.Attempt{
		{ActivityKey: "run-1/1", Outcome: "retry", ResponseStatus: &status, RetryAfterMs: &retryAfter,
			Error: "receiver answered 503"},
		{Error: "no key, no outcome"},
		{ActivityKey: "run-1/7", Outcome: "failed", Error: "blocked"},
	} {
		if err := record(a); err != nil {
			t.Fatal(err)
		}
	}

	_, attempts, err := s.GetDelivery(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stored [][2]string
	for _, a := range attempts {
		stored = append(stored, [2]string{a.ActivityKey, a.Outcome})
	}
	if want := [][2]string{{"run-1/1", "retry"}, {"", ""}, {"run-1/7", "failed"}}; !slices.Equal(stored, want) {
		t.Fatalf("stored (key, outcome) = %v, want %v", stored, want)
	}

	for _, tc := range []struct {
		key  string
		want *store.RecordedAttempt
	}{
		{"run-1/1", &store.RecordedAttempt{Number: 1, ResponseStatus: &status, Error: "receiver answered 503",
			RetryAfterMs: &retryAfter, Outcome: "retry"}},
		{"run-1/7", &store.RecordedAttempt{Number: 3, Error: "blocked", Outcome: "failed"}},
		{"run-2/1", nil},
		{"", nil}, // not the attempt recorded without a key
	} {
		t.Run("key "+tc.key, func(t *testing.T) {
			ac, err := s.LoadAttempt(ctx, d.ID, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if ac.Delivery.ID != d.ID || !reflect.DeepEqual(ac.Recorded, tc.want) {
				t.Fatalf("delivery %s, recorded %+v, want %+v", ac.Delivery.ID, ac.Recorded, tc.want)
			}
		})
	}

	// A second record of one logical attempt is refused and changes nothing.
	err = record(store.Attempt{ActivityKey: "run-1/1", Outcome: "succeeded"})
	wantErr(t, err, store.ErrConflict)
	got, attempts, err := s.GetDelivery(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AttemptCount != 3 || len(attempts) != 3 {
		t.Fatalf("after the duplicate: attempt count %d, %d attempts; want 3", got.AttemptCount, len(attempts))
	}
}

func equalPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func TestLockDeliveryIsExclusiveUntilUnlocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	unlock, err := s.LockDelivery(ctx, "dlv_a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.LockDelivery(ctx, "dlv_b") // another delivery is not held up
	if err != nil {
		t.Fatal(err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := s.LockDelivery(short, "dlv_a"); err == nil {
		t.Fatal("a second lock on the same delivery was granted while the first is held")
	}
	unlock()
	again, err := s.LockDelivery(ctx, "dlv_a")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}

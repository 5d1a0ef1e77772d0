package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// failing reads a webhook's failing flag, which no read of the API shows.
func failing(t *testing.T, s *store.Store, webhookID string) bool {
	t.Helper()
	var f bool
	if err := s.Pool().QueryRow(context.Background(), `SELECT failing FROM webhooks WHERE id = $1`, webhookID).Scan(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

// settle begins and completes one attempt of d with outcome and code, the delivery going
// to status, and returns what the store did.
func settle(t *testing.T, s *store.Store, d store.Delivery, key, outcome string, code int, status string) (store.Settled, error) {
	t.Helper()
	ctx := context.Background()
	a := store.Attempt{DeliveryID: d.ID, ActivityKey: key, RequestedAt: time.Now()}
	a.ID = "att_" + key
	if _, err := s.BeginAttempt(ctx, a, ""); err != nil {
		return store.Settled{}, err
	}
	a.ResponseStatus, a.Outcome, a.Error = &code, outcome, fmt.Sprint("HTTP ", code)
	var next *time.Time
	if status == store.StatusRetrying {
		at := time.Now().Add(time.Minute)
		next = &at
	}
	return s.SettleAttempt(ctx, a, store.DeliveryUpdate{Status: status, NextAttemptAt: next, DisableWebhook: code == 410})
}

// TestFailureLimit: failed deliveries count, a retrying one does not, a success resets;
// the delivery that reaches the limit disables the webhook (recorded on its attempt, for
// a re-execution), later ones do not again; every non-success outcome marks the webhook
// failing and a success clears it; writing ENABLED clears the count and the flag.
func TestFailureLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.FailureLimit = 3 }, "a.b")
	deliveries := make([]store.Delivery, 7)
	for i := range deliveries {
		deliveries[i] = ingest(t, s, o.ID, fmt.Sprint("e", i), "a.b").Deliveries[0]
	}
	check := func(step string, wantFailures int, wantStatus string, wantFailing bool) store.Webhook {
		t.Helper()
		got, err := s.GetWebhook(ctx, o.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ConsecutiveFailures != wantFailures || got.Status != wantStatus || failing(t, s, w.ID) != wantFailing {
			t.Fatalf("%s: failures %d, status %s, failing %v; want %d, %s, %v",
				step, got.ConsecutiveFailures, got.Status, failing(t, s, w.ID), wantFailures, wantStatus, wantFailing)
		}
		return got
	}

	mustSettle := func(i int, key, outcome string, code int, status string) store.Settled {
		t.Helper()
		st, err := settle(t, s, deliveries[i], key, outcome, code, status)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := mustSettle(0, "k0", "retry", 500, store.StatusRetrying); st.DisabledWebhook != "" {
		t.Fatalf("a retrying delivery disabled: %+v", st)
	}
	check("retrying", 0, store.WebhookEnabled, true)
	mustSettle(0, "k0b", "succeeded", 200, store.StatusSucceeded)
	check("succeeded", 0, store.WebhookEnabled, false)
	mustSettle(1, "k1", "retry", 500, store.StatusFailed)
	mustSettle(2, "k2", "failed", 0, store.StatusFailed)
	check("two failed", 2, store.WebhookEnabled, true)
	st := mustSettle(3, "k3", "retry", 503, store.StatusFailed)
	if want := "3 consecutive deliveries failed (failureLimit)"; st.DisabledWebhook != want {
		t.Fatalf("third failure: disabled %q, want %q", st.DisabledWebhook, want)
	}
	disabled := check("third failed", 3, store.WebhookDisabledDueToErrors, true)
	if !disabled.UpdatedAt.Equal(st.WebhookUpdatedAt) {
		t.Fatalf("updated_at %v, settled says %v", disabled.UpdatedAt, st.WebhookUpdatedAt)
	}
	// A re-execution of the attempt learns it disabled the webhook.
	if ac, err := s.LoadAttempt(ctx, deliveries[3].ID, "k3"); err != nil || ac.Recorded == nil ||
		ac.Recorded.DisabledWebhook != st.DisabledWebhook {
		t.Fatalf("recorded: %+v, %v", ac.Recorded, err)
	}
	if ac, err := s.LoadAttempt(ctx, deliveries[2].ID, "k2"); err != nil || ac.Recorded == nil || ac.Recorded.DisabledWebhook != "" {
		t.Fatalf("recorded attempt that did not disable: %+v, %v", ac.Recorded, err)
	}
	if st := mustSettle(4, "k4", "gone", 410, store.StatusFailed); st.DisabledWebhook != "" {
		t.Fatalf("a disabled webhook disabled again: %+v", st)
	}
	check("failed while disabled", 4, store.WebhookDisabledDueToErrors, true)

	disabled.Status = store.WebhookEnabled
	if _, err := s.UpdateWebhook(ctx, disabled); err != nil {
		t.Fatal(err)
	}
	check("enabled", 0, store.WebhookEnabled, false)

	// 410 disables at once, whatever the count.
	if st := mustSettle(5, "k5", "gone", 410, store.StatusFailed); st.DisabledWebhook != store.DisabledGone {
		t.Fatalf("410: disabled %q", st.DisabledWebhook)
	}
	check("gone", 1, store.WebhookDisabledDueToErrors, true)

	// An admin's DISABLED stays so.
	disabled.Status = store.WebhookDisabled
	if _, err := s.UpdateWebhook(ctx, disabled); err != nil {
		t.Fatal(err)
	}
	if st := mustSettle(6, "k6", "gone", 410, store.StatusFailed); st.DisabledWebhook != "" {
		t.Fatalf("an admin's DISABLED webhook disabled: %+v", st)
	}
	check("admin's disabled", 2, store.WebhookDisabled, true)
}

// TestFailureLimitNever: a failure limit of 0, and a webhook stored before the setting
// existed (no key), never disable.
func TestFailureLimitNever(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	zero := newWebhook(t, s, o.ID, nil, "a.b")
	old := newWebhook(t, s, o.ID, nil, "a.b")
	if _, err := s.Pool().Exec(ctx, `UPDATE webhooks SET settings = settings - 'failureLimit' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for _, d := range ingest(t, s, o.ID, fmt.Sprint("e", i), "a.b").Deliveries {
			if st, err := settle(t, s, d, d.ID, "retry", 500, store.StatusFailed); err != nil || st.DisabledWebhook != "" {
				t.Fatalf("settle: %+v, %v", st, err)
			}
		}
	}
	for _, w := range []store.Webhook{zero, old} {
		got, err := s.GetWebhook(ctx, o.ID, w.ID)
		if err != nil || got.Status != store.WebhookEnabled || got.ConsecutiveFailures != 3 {
			t.Fatalf("%+v, %v", got, err)
		}
	}
}

// TestCountersUnderConcurrency: n deliveries of one webhook attempted at once, each
// failing: the webhook's attempt count and consecutive failures are exactly n, its last
// triggered time the latest attempt's, and exactly one attempt disabled it, at its limit.
//
// The store has a connection per delivery, so the completions really meet in PostgreSQL.
// (The deadlock of a completion that locked and updated the webhook within one statement
// showed only under `hookd bench --scenarios max`, as 27.8/s with duplicates.)
func TestCountersUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openWithPool(t, 50)
	o := newOrg(t, s)
	const n, limit = 50, 10
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.FailureLimit = limit }, "a.b")
	ds := make([]store.Delivery, n)
	for i := range ds {
		ds[i] = ingest(t, s, o.ID, fmt.Sprint("e", i), "a.b").Deliveries[0]
	}
	base := time.Now().UTC().Truncate(time.Microsecond)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		disabled []string
		errs     []error
	)
	for i, d := range ds {
		wg.Go(func() {
			code := 500
			a := store.Attempt{ID: fmt.Sprint("att_", i), DeliveryID: d.ID, RequestedAt: base.Add(time.Duration(i) * time.Millisecond)}
			_, err := s.BeginAttempt(ctx, a, "")
			var st store.Settled
			if err == nil {
				a.ResponseStatus, a.Outcome, a.Error = &code, "retry", "HTTP 500"
				st, err = s.SettleAttempt(ctx, a, store.DeliveryUpdate{Status: store.StatusFailed})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if st.DisabledWebhook != "" {
				disabled = append(disabled, st.DisabledWebhook)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AttemptCount != n || got.ConsecutiveFailures != n || got.Status != store.WebhookDisabledDueToErrors ||
		!got.LastTriggeredAt.Equal(base.Add((n-1)*time.Millisecond)) {
		t.Fatalf("webhook after %d concurrent failures: attempts %d, failures %d, status %s, last triggered %v",
			n, got.AttemptCount, got.ConsecutiveFailures, got.Status, got.LastTriggeredAt)
	}
	if len(disabled) != 1 || disabled[0] != store.DisabledFailures(limit) {
		t.Fatalf("disablings %q, want one %q", disabled, store.DisabledFailures(limit))
	}
}

// TestSuccessesUnderConcurrency: successes, which complete without locking their
// webhook's row (see store.SettleAttempt), meeting failures that lock it. Every round
// ends with the webhook as some order of its completions leaves it: failing exactly when
// it has consecutive failures (a failure sets both, a success clears both), no more of
// them than failed since the round began, and every attempt counted; a round of only
// successes leaves it clean whatever it was.
func TestSuccessesUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openWithPool(t, 40)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b") // no failureLimit: never disabled
	var attempts int64
	type state struct {
		attempts, failures int64
		failing            bool
		status             string
	}
	round := func(r, n int, fails func(i int) bool) state {
		t.Helper()
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for i := range n {
			d := ingest(t, s, o.ID, fmt.Sprintf("r%d-%d", r, i), "a.b").Deliveries[0]
			wg.Go(func() {
				var err error
				if fails(i) {
					_, err = settle(t, s, d, fmt.Sprintf("r%d-%d", r, i), "retry", 500, store.StatusFailed)
				} else {
					_, err = settle(t, s, d, fmt.Sprintf("r%d-%d", r, i), "succeeded", 200, store.StatusSucceeded)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		attempts += int64(n)
		var got state
		if err := s.Pool().QueryRow(ctx, `SELECT attempt_count, consecutive_failures, failing, status FROM webhooks WHERE id = $1`,
			w.ID).Scan(&got.attempts, &got.failures, &got.failing, &got.status); err != nil {
			t.Fatal(err)
		}
		if got.attempts != attempts || got.status != store.WebhookEnabled {
			t.Fatalf("round %d: attempts %d (want %d), status %s", r, got.attempts, attempts, got.status)
		}
		return got
	}
	for r := range 6 {
		const n = 30
		before := round(100+r, 0, nil).failures
		got := round(r, n, func(i int) bool { return (i+r)%2 == 0 })
		if got.failing != (got.failures > 0) || got.failures > before+n/2 {
			t.Fatalf("round %d: %d consecutive failures (%d before, %d failed), failing %v",
				r, got.failures, before, n/2, got.failing)
		}
	}
	if got := round(10, 5, func(int) bool { return true }); got.failures < 5 || !got.failing {
		t.Fatalf("after failures only: %d consecutive failures, failing %v", got.failures, got.failing)
	}
	if got := round(11, 20, func(int) bool { return false }); got.failures != 0 || got.failing {
		t.Fatalf("after successes only: %d consecutive failures, failing %v", got.failures, got.failing)
	}
}

// TestSuccessKeepsCleanWebhookRow: completing a success of a webhook with no failures
// writes no new version of the webhook's row (its xmin stays the one BeginAttempt left);
// one after a failure does, clearing it.
func TestSuccessKeepsCleanWebhookRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	xmin := func() (x string, failures int64, failing bool) {
		t.Helper()
		if err := s.Pool().QueryRow(ctx, `SELECT xmin::text, consecutive_failures, failing FROM webhooks WHERE id = $1`,
			w.ID).Scan(&x, &failures, &failing); err != nil {
			t.Fatal(err)
		}
		return x, failures, failing
	}
	for i, tc := range []struct {
		outcome, status string
		code            int
		written         bool // the completion writes the webhook's row
		failures        int64
	}{
		{"succeeded", store.StatusSucceeded, 200, false, 0},
		{"retry", store.StatusFailed, 500, true, 1},
		{"succeeded", store.StatusSucceeded, 200, true, 0},
		{"succeeded", store.StatusSucceeded, 204, false, 0},
	} {
		d := ingest(t, s, o.ID, fmt.Sprint("e", i), "a.b").Deliveries[0]
		a := store.Attempt{ID: fmt.Sprint("att_", i), DeliveryID: d.ID, RequestedAt: time.Now()}
		if _, err := s.BeginAttempt(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
		begun, _, _ := xmin()
		code := tc.code
		a.ResponseStatus, a.Outcome = &code, tc.outcome
		if _, err := s.SettleAttempt(ctx, a, store.DeliveryUpdate{Status: tc.status}); err != nil {
			t.Fatal(err)
		}
		after, failures, failing := xmin()
		if (after != begun) != tc.written || failures != tc.failures || failing != (tc.outcome != "succeeded") {
			t.Fatalf("%d (%s): row written %v, want %v; %d failures, failing %v", i, tc.outcome, after != begun, tc.written, failures, failing)
		}
		if got, _, err := s.GetDelivery(ctx, o.ID, d.ID); err != nil || got.Status != tc.status || got.LastStatusCode == nil || *got.LastStatusCode != code {
			t.Fatalf("%d: delivery %+v, %v", i, got, err)
		}
	}
}

// TestCancelWebhookDeliveries: a disabling cancels the webhook's pending and retrying
// deliveries with the reason, not its finished ones, its pings or another webhook's.
func TestCancelWebhookDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	other := newWebhook(t, s, o.ID, nil, "a.b")
	byHook := func(res store.IngestResult, id string) store.Delivery {
		for _, d := range res.Deliveries {
			if d.WebhookID == id {
				return d
			}
		}
		t.Fatalf("no delivery to %s", id)
		return store.Delivery{}
	}
	e0, e1, e2 := ingest(t, s, o.ID, "e0", "a.b"), ingest(t, s, o.ID, "e1", "a.b"), ingest(t, s, o.ID, "e2", "a.b")
	pending, retrying, done := byHook(e0, w.ID), byHook(e1, w.ID), byHook(e2, w.ID)
	if _, err := settle(t, s, retrying, "r", "retry", 500, store.StatusRetrying); err != nil {
		t.Fatal(err)
	}
	if _, err := settle(t, s, done, "d", "succeeded", 200, store.StatusSucceeded); err != nil {
		t.Fatal(err)
	}
	_, ping, err := s.CreatePing(ctx, o.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	const reason = "webhook disabled: testing"
	got, err := s.CancelWebhookDeliveries(ctx, w.ID, reason)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, d := range got {
		ids[d.ID] = true
		if d.Status != store.StatusCanceled || d.LastError != reason || d.NextAttemptAt != nil {
			t.Fatalf("returned %+v", d)
		}
	}
	if len(got) != 2 || !ids[pending.ID] || !ids[retrying.ID] {
		t.Fatalf("canceled %v, want %s and %s", ids, pending.ID, retrying.ID)
	}
	for id, want := range map[string]string{
		pending.ID: store.StatusCanceled, retrying.ID: store.StatusCanceled, done.ID: store.StatusSucceeded,
		ping.ID: store.StatusPending, byHook(e0, other.ID).ID: store.StatusPending,
	} {
		d, _, err := s.GetDelivery(ctx, o.ID, id)
		if err != nil || d.Status != want {
			t.Fatalf("%s: %s, %v; want %s", id, d.Status, err, want)
		}
	}
	if again, err := s.CancelWebhookDeliveries(ctx, w.ID, reason); err != nil || len(again) != 0 {
		t.Fatalf("again: %v, %v", again, err)
	}
}

// TestSettleLastError: a decision's reason (a delivery discarded) is the delivery's last
// error; the attempt keeps its own.
func TestSettleLastError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	d := ingest(t, s, o.ID, "e0", "a.b").Deliveries[0]
	a := store.Attempt{ID: "att_x", DeliveryID: d.ID}
	if _, err := s.BeginAttempt(ctx, a, ""); err != nil {
		t.Fatal(err)
	}
	a.Outcome, a.Error = "retry", "HTTP 500"
	const reason = "discarded: not delivered within 5m of the event (discardAfter)"
	if _, err := s.SettleAttempt(ctx, a, store.DeliveryUpdate{Status: store.StatusFailed, LastError: reason}); err != nil {
		t.Fatal(err)
	}
	got, as, err := s.GetDelivery(ctx, o.ID, d.ID)
	if err != nil || got.Status != store.StatusFailed || got.LastError != reason || len(as) != 1 || as[0].Error != "HTTP 500" {
		t.Fatalf("delivery %+v, attempts %+v, %v", got, as, err)
	}
}

// TestDiscardDelivery: a discarded delivery ends failed with the reason and counts as a
// failed delivery, disabling the webhook at its limit; one already ended is left alone.
func TestDiscardDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.FailureLimit = 2 }, "a.b")
	d0 := ingest(t, s, o.ID, "e0", "a.b").Deliveries[0]
	d1 := ingest(t, s, o.ID, "e1", "a.b").Deliveries[0]
	if _, err := settle(t, s, d0, "k0", "retry", 500, store.StatusRetrying); err != nil {
		t.Fatal(err)
	}
	const reason = "discarded: not delivered within 5m of the event (discardAfter)"
	st, err := s.DiscardDelivery(ctx, d0.ID, reason)
	if err != nil || st.DisabledWebhook != "" {
		t.Fatalf("discard the retrying one: %+v, %v", st, err)
	}
	if got, _, err := s.GetDelivery(ctx, o.ID, d0.ID); err != nil || got.Status != store.StatusFailed || got.LastError != reason || got.NextAttemptAt != nil {
		t.Fatalf("discarded: %+v, %v", got, err)
	}
	if st, err = s.DiscardDelivery(ctx, d1.ID, reason); err != nil || st.DisabledWebhook != store.DisabledFailures(2) {
		t.Fatalf("discard the pending one: %+v, %v", st, err)
	}
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || got.Status != store.WebhookDisabledDueToErrors || got.ConsecutiveFailures != 2 || !got.UpdatedAt.Equal(st.WebhookUpdatedAt) {
		t.Fatalf("webhook: %+v, %v (settled %+v)", got, err, st)
	}
	if st, err = s.DiscardDelivery(ctx, d1.ID, "again"); err != nil || st.DisabledWebhook != "" {
		t.Fatalf("discard again: %+v, %v", st, err)
	}
	if got, _ := s.GetWebhook(ctx, o.ID, w.ID); got.ConsecutiveFailures != 2 {
		t.Fatalf("an ended delivery discarded again counted: %d", got.ConsecutiveFailures)
	}
	if d, _, _ := s.GetDelivery(ctx, o.ID, d1.ID); d.LastError != reason {
		t.Fatalf("an ended delivery discarded again changed: %+v", d)
	}
	if _, err := s.DiscardDelivery(ctx, "dlv_nope", reason); err != nil {
		t.Fatalf("a delivery that is gone: %v", err)
	}
}

// openWithPool opens a store on a fresh database with a pool of conns connections, so
// that that many completions can really meet in PostgreSQL.
func openWithPool(t *testing.T, conns int) *store.Store {
	t.Helper()
	url := storetest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := store.Open(context.Background(), url+sep+fmt.Sprintf("pool_max_conns=%d", conns), storetest.Box())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

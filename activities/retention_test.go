package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

// DeleteExpired stops at its statement bound, not done, and later calls, each starting
// its events where the last stopped, finish the work: together they delete each old
// finished row once, and nothing newer or still retrying.
func TestDeleteExpiredStopsAtItsBoundAndResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	org, err := st.CreateOrganization(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEventType(ctx, store.EventType{OrgID: org.ID, Name: "a.b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateWebhook(ctx, store.Webhook{
		ID: "wh_ret", OrgID: org.ID, Status: store.WebhookEnabled, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Settings: webhook.Settings{Name: "r", URL: "https://example.com/", Events: []string{"a.b"}, EventsPolicy: "include",
			TimeoutSeconds: 5, MaxRetries: 1},
	}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	// add stores an event with one delivery that had one attempt leaving it with status,
	// all of it created and last changed at (the zero time: now).
	add := func(id, status string, at time.Time) {
		t.Helper()
		res, err := st.IngestEvent(ctx, store.Event{OrgID: org.ID, ID: id, Type: "a.b", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		code := 500
		if _, err := st.RecordAttempt(ctx, store.Attempt{DeliveryID: res.Deliveries[0].ID, ResponseStatus: &code},
			store.DeliveryUpdate{Status: status}); err != nil {
			t.Fatal(err)
		}
		if at.IsZero() {
			return
		}
		if _, err := st.Pool().Exec(ctx, `UPDATE deliveries SET created_at = $2, updated_at = $2 WHERE id = $1`,
			res.Deliveries[0].ID, at); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `UPDATE events SET created_at = $2 WHERE id = $1`, id, at); err != nil {
			t.Fatal(err)
		}
	}
	// The oldest events are kept (their deliveries still retry), more of them than one
	// call examines: later calls go on from where the last stopped.
	for i := range 3 {
		add(fmt.Sprint("kept", i), store.StatusRetrying, old.Add(-time.Hour))
	}
	const oldOnes = 5
	for i := range oldOnes {
		add(fmt.Sprint("e", i), store.StatusFailed, old)
	}
	add("new", store.StatusFailed, time.Time{})

	acts := &Activities{Retention: st}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	in := DeleteExpiredInput{Before: time.Now().Add(-24 * time.Hour), BatchSize: 2, MaxStatements: 3}
	var total Deleted
	calls := 0
	for done := false; !done; {
		if calls++; calls > 10 {
			t.Fatalf("not done after 10 calls; deleted %+v", total)
		}
		v, err := env.ExecuteActivity(acts.DeleteExpired, in)
		if err != nil {
			t.Fatal(err)
		}
		var res DeleteExpiredResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		total.Add(res.Deleted)
		done, in.EventsAfter = res.Done, res.EventsAfter
	}
	// Call 1: deliveries 2, 2, 1, batches 0, events kept0-1 (a full window past the
	// bound: stop). Calls 2-4: deliveries 0, batches 0, events kept2 e0, e1-2, e3-4.
	// Call 5: deliveries, batches, events (none left before the cutoff), replays: done.
	if want := (Deleted{Deliveries: oldOnes, Attempts: oldOnes, Events: oldOnes}); total != want || calls != 5 {
		t.Errorf("deleted %+v in %d calls, want %+v in 5", total, calls, want)
	}
	var events, deliveries int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries)`).
		Scan(&events, &deliveries); err != nil {
		t.Fatal(err)
	}
	if events != 4 || deliveries != 4 {
		t.Errorf("%d events and %d deliveries left, want the 3 retrying and the new one", events, deliveries)
	}
}

func TestDeleteExpiredRefusesNoBound(t *testing.T) {
	t.Parallel()
	acts := &Activities{Retention: (*store.Store)(nil)}
	if _, err := acts.DeleteExpired(context.Background(), DeleteExpiredInput{BatchSize: 0, MaxStatements: 1}); err == nil {
		t.Fatal("batch size 0 accepted")
	}
}

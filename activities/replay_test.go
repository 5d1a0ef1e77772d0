package activities

import (
	"context"
	"net/http"
	"testing"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// replayOf records a replay of f's delivery and reopens it for the replay, as the
// service does before signalling it.
func (f *fixture) replayOf(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.st.Pool().Exec(ctx, `UPDATE deliveries SET status = 'failed' WHERE id = $1`, f.dlv.ID); err != nil {
		t.Fatal(err)
	}
	r, err := f.st.CreateReplay(ctx, store.Replay{OrgID: f.dlv.OrgID, RatePerSecond: 1,
		Filter: store.ReplayFilter{DeliveryIDs: []string{f.dlv.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := f.st.ReopenForReplay(ctx, r.ID, f.dlv.ID, []string{store.StatusFailed}); err != nil || claimed {
		t.Fatalf("reopen: %v %v", claimed, err)
	}
	return r.ID
}

// A replay's attempt asked for a second time (its signal came twice) sends nothing and
// answers what the first recorded; the delivery is left as the first left it.
func TestReplayAttemptAskedTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {}, nil)
	replay := f.replayOf(t)
	env := f.activityEnv() // one run: the second attempt has an activity key of its own
	in := AttemptInput{Trigger: TriggerReplay, ReplayID: replay}
	first := f.attemptIn(t, env, in)
	second := f.attemptIn(t, env, in)
	if f.hits.Load() != 1 || first.Status != delivery.StatusSucceeded || second.Status != delivery.StatusSucceeded ||
		second.Number != first.Number || second.StatusCode != 200 {
		t.Fatalf("%d requests; first %+v, second %+v", f.hits.Load(), first, second)
	}
	d, as, _ := f.load(t)
	if d.Status != store.StatusSucceeded || len(as) != 1 || as[0].Trigger != TriggerReplay {
		t.Fatalf("delivery %s with %d attempts", d.Status, len(as))
	}

	// Made pending since by an admin's retry (whose signal came with the replay's): that
	// attempt is made, as a manual one.
	if _, err := f.st.TransitionDelivery(context.Background(), f.dlv.OrgID, f.dlv.ID, []string{store.StatusSucceeded}, store.StatusPending); err != nil {
		t.Fatal(err)
	}
	third := f.attemptIn(t, env, in)
	d, as, _ = f.load(t)
	if f.hits.Load() != 2 || third.Status != delivery.StatusSucceeded || len(as) != 2 || as[1].Trigger != TriggerManual {
		t.Fatalf("%d requests, %+v, %d attempts", f.hits.Load(), third, len(as))
	}
	if got, err := f.st.GetReplay(context.Background(), f.dlv.OrgID, replay); err != nil || got.Succeeded != 1 || got.Failed != 0 {
		t.Fatalf("replay %+v %v", got, err)
	}
}

// A replay's attempt cut off in flight (its worker stopped) is not sent again by the
// attempt's retry: it is closed interrupted and the delivery ends failed.
func TestReplayAttemptCutOffIsNotSentAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {}, nil)
	replay := f.replayOf(t)
	if _, err := f.st.BeginAttempt(context.Background(), store.Attempt{DeliveryID: f.dlv.ID, Trigger: TriggerReplay, ReplayID: replay}, ""); err != nil {
		t.Fatal(err)
	}
	res := f.attempt(t, AttemptInput{Trigger: TriggerReplay, ReplayID: replay})
	d, as, _ := f.load(t)
	if f.hits.Load() != 0 || res.Status != delivery.StatusFailed || res.Error != store.InterruptedError ||
		d.Status != store.StatusFailed || len(as) != 1 || as[0].State != store.AttemptInterrupted {
		t.Fatalf("%d requests, %+v, delivery %s, attempts %+v", f.hits.Load(), res, d.Status, as)
	}
	if got, _ := f.st.GetReplay(context.Background(), f.dlv.OrgID, replay); got.Failed != 1 {
		t.Fatalf("replay %+v", got)
	}
}

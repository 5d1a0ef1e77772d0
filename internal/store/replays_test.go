package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/validation"
	"github.com/hookd/hookd/internal/webhook"
)

// replayFixture is one organization with webhooks w1 (a.b, c.d) and w2 (a.b) and seven
// deliveries, each with a status and a creation time chosen by hand (minutes after base),
// plus another organization with one failed delivery in the same minutes.
type replayFixture struct {
	s      *store.Store
	org    string
	other  string
	base   time.Time
	byName map[string]string // "ev1/w1" → delivery id
}

func newReplayFixture(t *testing.T) *replayFixture {
	t.Helper()
	s := storetest.New(t)
	f := &replayFixture{s: s, org: newOrg(t, s).ID, other: newOrg(t, s).ID,
		base: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), byName: map[string]string{}}
	w1 := newWebhook(t, s, f.org, nil, "a.b", "c.d")
	w2 := newWebhook(t, s, f.org, nil, "a.b")
	hooks := map[string]string{w1.ID: "w1", w2.ID: "w2"}
	for _, ev := range []struct {
		id, typ string
		minute  int
	}{{"ev1", "a.b", 0}, {"ev2", "a.b", 10}, {"ev3", "c.d", 20}, {"ev4", "a.b", 30}} {
		for _, d := range ingest(t, s, f.org, ev.id, ev.typ).Deliveries {
			f.byName[ev.id+"/"+hooks[d.WebhookID]] = d.ID
			f.set(t, d.ID, store.StatusPending, ev.minute)
		}
	}
	for name, status := range map[string]string{
		"ev1/w1": store.StatusFailed, "ev1/w2": store.StatusSucceeded, "ev2/w1": store.StatusFailed,
		"ev2/w2": store.StatusFailed, "ev3/w1": store.StatusFailed, "ev4/w1": store.StatusCanceled, "ev4/w2": store.StatusFailed,
	} {
		f.set(t, f.byName[name], status, -1)
	}
	newWebhook(t, s, f.other, nil, "a.b")
	od := ingest(t, s, f.other, "ev1", "a.b").Deliveries[0]
	f.byName["other"] = od.ID
	f.set(t, od.ID, store.StatusFailed, 10)
	if len(f.byName) != 8 {
		t.Fatalf("fixture: %v", f.byName)
	}
	return f
}

// set gives delivery id status and, unless minute < 0, a creation time minute minutes
// after base.
func (f *replayFixture) set(t *testing.T, id, status string, minute int) {
	t.Helper()
	_, err := f.s.Pool().Exec(context.Background(), `
        UPDATE deliveries SET status = $2,
            created_at = CASE WHEN $3::int < 0 THEN created_at ELSE $4::timestamptz + $3::int * interval '1 minute' END
        WHERE id = $1`, id, status, minute, f.base)
	if err != nil {
		t.Fatal(err)
	}
}

func (f *replayFixture) at(minute int) *time.Time {
	t := f.base.Add(time.Duration(minute) * time.Minute)
	return &t
}

// listed is what replay id lists, by fixture name, in position order.
func (f *replayFixture) listed(t *testing.T, id string) []string {
	t.Helper()
	names := map[string]string{}
	for n, d := range f.byName {
		names[d] = n
	}
	rows, err := f.s.Pool().Query(context.Background(),
		`SELECT position, delivery_id FROM replay_deliveries WHERE replay_id = $1 ORDER BY position`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for want := int64(1); rows.Next(); want++ {
		var (
			pos int64
			d   string
		)
		if err := rows.Scan(&pos, &d); err != nil {
			t.Fatal(err)
		}
		if pos != want {
			t.Fatalf("position %d, want %d", pos, want)
		}
		out = append(out, names[d])
	}
	return out
}

func TestCreateReplayByFilter(t *testing.T) {
	t.Parallel()
	f := newReplayFixture(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		filter store.ReplayFilter
		want   []string // in creation order
	}{
		{"failed in range", store.ReplayFilter{Since: f.at(0), Until: f.at(40), Status: "failed"},
			[]string{"ev1/w1", "ev2/w1", "ev2/w2", "ev3/w1", "ev4/w2"}},
		{"status defaults to failed", store.ReplayFilter{Since: f.at(0), Until: f.at(40)},
			[]string{"ev1/w1", "ev2/w1", "ev2/w2", "ev3/w1", "ev4/w2"}},
		{"all in range", store.ReplayFilter{Since: f.at(0), Until: f.at(40), Status: "all"},
			[]string{"ev1/w1", "ev1/w2", "ev2/w1", "ev2/w2", "ev3/w1", "ev4/w1", "ev4/w2"}},
		{"since inclusive, until exclusive", store.ReplayFilter{Since: f.at(10), Until: f.at(30), Status: "all"},
			[]string{"ev2/w1", "ev2/w2", "ev3/w1"}},
		{"one webhook", store.ReplayFilter{Since: f.at(0), Until: f.at(40), WebhookID: f.webhookOf(t, "ev2/w2")},
			[]string{"ev2/w2", "ev4/w2"}},
		{"event types", store.ReplayFilter{Since: f.at(0), Until: f.at(40), EventTypes: []string{"c.d"}, Status: "all"},
			[]string{"ev3/w1"}},
		{"webhook and type, all", store.ReplayFilter{Since: f.at(0), Until: f.at(40), WebhookID: f.webhookOf(t, "ev1/w1"),
			EventTypes: []string{"a.b"}, Status: "all"}, []string{"ev1/w1", "ev2/w1", "ev4/w1"}},
		{"nothing in range", store.ReplayFilter{Since: f.at(50), Until: f.at(60), Status: "all"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := f.s.CreateReplay(ctx, store.Replay{OrgID: f.org, Filter: tt.filter, RatePerSecond: 7})
			if err != nil {
				t.Fatal(err)
			}
			if r.Matched != int64(len(tt.want)) || r.OrgID != f.org || r.RatePerSecond != 7 || !ids.HasPrefix(r.ID, ids.Replay) {
				t.Fatalf("replay %+v, want %d matched", r, len(tt.want))
			}
			wantStatus := store.ReplayRunning
			if len(tt.want) == 0 {
				wantStatus = store.ReplayCompleted
			}
			if r.Status != wantStatus || (r.FinishedAt != nil) != (len(tt.want) == 0) {
				t.Fatalf("status %s finished %v", r.Status, r.FinishedAt)
			}
			got := f.listed(t, r.ID)
			// Deliveries of one event are created together: compare within an event as sets.
			if !sameItems(got, tt.want) || !slices.IsSortedFunc(got, func(a, b string) int { return compareEvent(a, b) }) {
				t.Fatalf("listed %v, want %v", got, tt.want)
			}
			read, err := f.s.GetReplay(ctx, f.org, r.ID)
			if err != nil || read.Matched != r.Matched || !read.Filter.Until.Equal(*tt.filter.Until) || read.Filter.WebhookID != tt.filter.WebhookID {
				t.Fatalf("read %+v, %v", read, err)
			}
			if _, err := f.s.GetReplay(ctx, f.other, r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("another organization reads it: %v", err)
			}
		})
	}
}

func compareEvent(a, b string) int {
	switch {
	case a[:3] < b[:3]:
		return -1
	case a[:3] > b[:3]:
		return 1
	}
	return 0
}

func sameItems(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func (f *replayFixture) webhookOf(t *testing.T, name string) string {
	t.Helper()
	var w string
	if err := f.s.Pool().QueryRow(context.Background(), `SELECT webhook_id FROM deliveries WHERE id = $1`, f.byName[name]).Scan(&w); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCreateReplayByIDs(t *testing.T) {
	t.Parallel()
	f := newReplayFixture(t)
	ctx := context.Background()
	ids := []string{f.byName["ev4/w1"], f.byName["ev1/w2"], f.byName["ev2/w2"]}
	r, err := f.s.CreateReplay(ctx, store.Replay{OrgID: f.org, Filter: store.ReplayFilter{DeliveryIDs: ids}, RatePerSecond: 50})
	if err != nil {
		t.Fatal(err)
	}
	// Whatever their status (canceled, succeeded, failed), in the order given.
	if got := f.listed(t, r.ID); r.Matched != 3 || !slices.Equal(got, []string{"ev4/w1", "ev1/w2", "ev2/w2"}) {
		t.Fatalf("matched %d, listed %v", r.Matched, got)
	}

	before := count(t, f.s, "replays")
	bad := []string{f.byName["ev1/w1"], "dlv_unknown", f.byName["ev2/w1"], f.byName["other"]}
	_, err = f.s.CreateReplay(ctx, store.Replay{OrgID: f.org, Filter: store.ReplayFilter{DeliveryIDs: bad}, RatePerSecond: 50})
	var v *validation.Errors
	if !errors.As(err, &v) || len(v.Errors) != 2 || v.Errors[0].Field != "deliveryIds[1]" || v.Errors[1].Field != "deliveryIds[3]" {
		t.Fatalf("unknown ids: %v", err)
	}
	if count(t, f.s, "replays") != before {
		t.Fatal("a refused replay was recorded")
	}
}

// TestReplayProgress walks a replay as its workflow does: pages after the cursor, each
// delivery reopened, attempted once (a second attempt refused), recorded as replayed or
// skipped; a deleted delivery counts as skipped; the outcomes come from the attempts.
func TestReplayProgress(t *testing.T) {
	t.Parallel()
	f := newReplayFixture(t)
	ctx := context.Background()
	names := []string{"ev1/w1", "ev2/w1", "ev2/w2", "ev3/w1", "ev4/w2"}
	var dids []string
	for _, n := range names {
		dids = append(dids, f.byName[n])
	}
	r, err := f.s.CreateReplay(ctx, store.Replay{OrgID: f.org, Filter: store.ReplayFilter{DeliveryIDs: dids}, RatePerSecond: 10})
	if err != nil {
		t.Fatal(err)
	}

	page := func(limit int) []int64 {
		t.Helper()
		_, items, err := f.s.ReplayPage(ctx, r.ID, limit)
		if err != nil {
			t.Fatal(err)
		}
		var pos []int64
		for _, it := range items {
			pos = append(pos, it.Position)
			if it.Delivery.ID != dids[it.Position-1] || it.WebhookStatus != store.WebhookEnabled {
				t.Fatalf("item %+v", it)
			}
		}
		return pos
	}
	cursor := int64(0)
	advance := func(pos, replayed int64) {
		t.Helper()
		if st, err := f.s.AdvanceReplay(ctx, r.ID, cursor, pos, replayed); err != nil || st != store.ReplayRunning {
			t.Fatalf("advance %d: %s, %v", pos, st, err)
		}
		cursor = pos
	}
	attempt := func(d string, code int) store.Attempt {
		t.Helper()
		a := store.Attempt{ID: ids.New(ids.Attempt), DeliveryID: d, Trigger: "replay", ReplayID: r.ID}
		if _, err := f.s.BeginAttempt(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			a.ResponseStatus = &code
			status := store.StatusSucceeded
			if code >= 300 {
				status = store.StatusFailed
			}
			if err := f.s.CompleteAttempt(ctx, a, store.DeliveryUpdate{Status: status}); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}

	if got := page(2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("first page %v", got)
	}
	// Position 1: reopened (failed → pending), attempted, answered 200.
	d, claimed, err := f.s.ReopenForReplay(ctx, r.ID, dids[0], []string{store.StatusFailed})
	if err != nil || claimed || d.Status != store.StatusPending {
		t.Fatalf("reopen: %+v %v %v", d, claimed, err)
	}
	attempt(dids[0], 200)
	// Position 1 replayed, position 2 skipped (say its webhook was disabled).
	advance(2, 1)
	if got := page(2); !slices.Equal(got, []int64{3, 4}) {
		t.Fatalf("second page %v", got)
	}

	// Redone after a restart: the attempt has begun, so position 1 is not reopened, and a
	// second attempt for the replay is refused.
	if d, claimed, err := f.s.ReopenForReplay(ctx, r.ID, dids[0], []string{store.StatusFailed, store.StatusSucceeded}); err != nil || !claimed || d.ID != "" {
		t.Fatalf("reopen after the attempt: %+v %v %v", d, claimed, err)
	}
	dup := store.Attempt{ID: ids.New(ids.Attempt), DeliveryID: dids[0], Trigger: "replay", ReplayID: r.ID}
	if _, err := f.s.BeginAttempt(ctx, dup, ""); !errors.Is(err, store.ErrReplayed) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second replay attempt: %v", err)
	}
	if got, as, _ := f.s.GetDelivery(ctx, f.org, dids[0]); got.Status != store.StatusSucceeded || len(as) != 1 || as[0].Trigger != "replay" {
		t.Fatalf("after the refused attempt: %+v, %d attempts", got, len(as))
	}
	if rec, state, err := f.s.ReplayAttempt(ctx, r.ID, dids[0]); err != nil || state != store.AttemptCompleted || *rec.ResponseStatus != 200 || rec.Number != 1 {
		t.Fatalf("recorded replay attempt: %+v %s %v", rec, state, err)
	}
	// A failed delivery reached, reopened, then not failed any more: a conflict with it.
	if d, _, err := f.s.ReopenForReplay(ctx, r.ID, dids[2], []string{store.StatusSucceeded}); !errors.Is(err, store.ErrConflict) || d.Status != store.StatusFailed {
		t.Fatalf("reopen from another status: %+v %v", d, err)
	}

	attempt(dids[2], 500) // position 3 failed
	advance(3, 1)
	// Position 4 is deleted before it is reached: the page leaves it out, the next
	// position counts it skipped.
	if _, err := f.s.Pool().Exec(ctx, `DELETE FROM deliveries WHERE id = $1`, dids[3]); err != nil {
		t.Fatal(err)
	}
	if got := page(10); !slices.Equal(got, []int64{5}) {
		t.Fatalf("page past a deleted delivery %v", got)
	}
	a5 := attempt(dids[4], 0) // still sending
	advance(5, 1)
	// Recorded from a cursor that moved on (another execution of the page): refused.
	if st, err := f.s.AdvanceReplay(ctx, r.ID, 3, 5, 1); !errors.Is(err, store.ErrConflict) || st != store.ReplayRunning {
		t.Fatalf("advance from an old cursor: %s %v", st, err)
	}

	got, err := f.s.GetReplay(ctx, f.org, r.ID)
	if err != nil || got.Cursor != 5 || got.Replayed != 3 || got.Skipped != 2 || got.Succeeded != 1 || got.Failed != 1 {
		t.Fatalf("progress %+v, %v", got, err)
	}
	// The sending attempt is interrupted (a later attempt began): it failed.
	if _, err := f.s.BeginAttempt(ctx, store.Attempt{DeliveryID: a5.DeliveryID, Trigger: "manual"}, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.GetReplay(ctx, f.org, r.ID); got.Failed != 2 || got.Succeeded != 1 {
		t.Fatalf("after an interrupted attempt %+v", got)
	}
	if got := page(10); len(got) != 0 {
		t.Fatalf("page after the last %v", got)
	}
	if err := f.s.FinishReplay(ctx, r.ID, store.ReplayCompleted, ""); err != nil {
		t.Fatal(err)
	}
	got, _ = f.s.GetReplay(ctx, f.org, r.ID)
	if got.Status != store.ReplayCompleted || got.FinishedAt == nil || got.Replayed+got.Skipped != got.Matched {
		t.Fatalf("completed %+v", got)
	}
	// A finished replay is not canceled, nor finished again.
	if c, err := f.s.CancelReplay(ctx, f.org, r.ID); !errors.Is(err, store.ErrConflict) || c.Status != store.ReplayCompleted {
		t.Fatalf("cancel a completed replay: %+v %v", c, err)
	}
	if err := f.s.FinishReplay(ctx, r.ID, store.ReplayFailed, "late"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.GetReplay(ctx, f.org, r.ID); got.Status != store.ReplayCompleted || got.Error != "" {
		t.Fatalf("finished twice %+v", got)
	}
}

func TestCancelAndListReplays(t *testing.T) {
	t.Parallel()
	f := newReplayFixture(t)
	ctx := context.Background()
	var made []string
	for range 3 {
		r, err := f.s.CreateReplay(ctx, store.Replay{OrgID: f.org, Filter: store.ReplayFilter{DeliveryIDs: []string{f.byName["ev1/w1"]}}, RatePerSecond: 1})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, r.ID)
	}
	if _, err := f.s.CancelReplay(ctx, f.other, made[1]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancel another organization's replay: %v", err)
	}
	c, err := f.s.CancelReplay(ctx, f.org, made[1])
	if err != nil || c.Status != store.ReplayCanceled || c.FinishedAt == nil {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	// The replay's workflow learns it as it reopens its next delivery, or records its
	// progress.
	if _, _, err := f.s.ReopenForReplay(ctx, made[1], f.byName["ev1/w1"], []string{store.StatusFailed}); !errors.Is(err, store.ErrReplayNotRunning) {
		t.Fatalf("reopen for a canceled replay: %v", err)
	}
	if d, _, _ := f.s.GetDelivery(ctx, f.org, f.byName["ev1/w1"]); d.Status != store.StatusFailed {
		t.Fatalf("a canceled replay reopened its delivery: %s", d.Status)
	}
	if st, err := f.s.AdvanceReplay(ctx, made[1], 0, 1, 0); err != nil || st != store.ReplayCanceled {
		t.Fatalf("advance a canceled replay: %s %v", st, err)
	}
	if un, err := f.s.UnstartedReplays(ctx, time.Now().Add(time.Minute), 10); err != nil || len(un) != 2 {
		t.Fatalf("unstarted %d, %v", len(un), err)
	}
	if err := f.s.MarkReplayStarted(ctx, made[0]); err != nil {
		t.Fatal(err)
	}
	if un, _ := f.s.UnstartedReplays(ctx, time.Now().Add(time.Minute), 10); len(un) != 1 || un[0].ID != made[2] {
		t.Fatalf("unstarted after a start %+v", un)
	}

	first, next, err := f.s.ListReplays(ctx, f.org, store.Page{Limit: 2})
	if err != nil || len(first) != 2 || next == "" || first[0].ID != made[2] || first[1].ID != made[1] || first[1].Status != store.ReplayCanceled {
		t.Fatalf("first page %+v %q %v", first, next, err)
	}
	rest, next, err := f.s.ListReplays(ctx, f.org, store.Page{Limit: 2, Cursor: next})
	if err != nil || len(rest) != 1 || next != "" || rest[0].ID != made[0] {
		t.Fatalf("second page %+v %q %v", rest, next, err)
	}
	if other, _, err := f.s.ListReplays(ctx, f.other, store.Page{}); err != nil || len(other) != 0 {
		t.Fatalf("another organization lists %+v %v", other, err)
	}
}

// A batched delivery's replay attempt is its batch's: the batch attempt begun for the
// replay claims the replayed members it sends (so the replay reopens none of them again),
// and the replay counts each member by that attempt's outcome.
func TestReplayOfBatchedDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	newEventType(t, s, org.ID, "order.created")
	wh := newWebhook(t, s, org.ID, throttled(time.Second), "order.created")
	var members []store.Delivery
	for _, ev := range []string{"e1", "e2", "e3"} {
		members = append(members, deliveryOf(t, ingest(t, s, org.ID, ev, "order.created"), wh.ID))
	}
	bid := members[0].BatchID
	if _, err := s.Pool().Exec(ctx, `UPDATE deliveries SET status = 'failed' WHERE batch_id = $1`, bid); err != nil {
		t.Fatal(err)
	}
	// The replay matches two of the three.
	r, err := s.CreateReplay(ctx, store.Replay{OrgID: org.ID, RatePerSecond: 5,
		Filter: store.ReplayFilter{DeliveryIDs: []string{members[0].ID, members[2].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []store.Delivery{members[0], members[2]} {
		if _, claimed, err := s.ReopenForReplay(ctx, r.ID, d.ID, []string{store.StatusFailed}); err != nil || claimed {
			t.Fatalf("reopen %s: %v %v", d.ID, claimed, err)
		}
	}
	bc, err := s.LoadBatch(ctx, bid, "")
	if err != nil || len(bc.Members) != 2 {
		t.Fatalf("batch members %d, %v", len(bc.Members), err)
	}
	a := store.Attempt{ID: ids.New(ids.Attempt), OrgID: org.ID, Trigger: "replay", ReplayID: r.ID}
	if _, err := s.BeginBatchAttempt(ctx, bid, a); err != nil {
		t.Fatal(err)
	}
	for _, d := range []store.Delivery{members[0], members[2]} {
		if _, claimed, err := s.ReopenForReplay(ctx, r.ID, d.ID, []string{store.StatusFailed, store.StatusPending}); err != nil || !claimed {
			t.Fatalf("reopen %s after the batch attempt began: %v %v", d.ID, claimed, err)
		}
	}
	code := 200
	a.ResponseStatus, a.Outcome = &code, "succeeded"
	if _, err := s.CompleteBatchAttempt(ctx, bid, bc.MemberIDs(), a, store.DeliveryUpdate{Status: store.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetReplay(ctx, org.ID, r.ID); err != nil || got.Succeeded != 2 || got.Failed != 0 {
		t.Fatalf("replay %+v %v", got, err)
	}
	if d, _, _ := s.GetDelivery(ctx, org.ID, members[1].ID); d.Status != store.StatusFailed {
		t.Fatalf("the member the replay did not match is %s", d.Status)
	}
}

// A filter matching more than MaxReplayDeliveries is refused, naming until, and records
// nothing.
func TestCreateReplayCapsWhatItMatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	wh := newWebhook(t, s, org.ID, nil, "a.b")
	if _, err := s.Pool().Exec(ctx, `
        WITH e AS (
            INSERT INTO events (org_id, id, type, occurred_at, data)
            SELECT $1, 'e' || g, 'a.b', now(), '{}' FROM generate_series(1, $3::int) g
            RETURNING id
        )
        INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status)
        SELECT 'dlv_' || e.id, $1, $2, e.id, 'a.b', 'failed' FROM e`, org.ID, wh.ID, store.MaxReplayDeliveries+1); err != nil {
		t.Fatal(err)
	}
	since, until := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	start := time.Now()
	_, err := s.CreateReplay(ctx, store.Replay{OrgID: org.ID, RatePerSecond: 50, Filter: store.ReplayFilter{Since: &since, Until: &until}})
	t.Logf("refusing %d matches took %v", store.MaxReplayDeliveries+1, time.Since(start))
	var v *validation.Errors
	if !errors.As(err, &v) || len(v.Errors) != 1 || v.Errors[0].Field != "until" {
		t.Fatalf("over the cap: %v", err)
	}
	if count(t, s, "replays") != 0 || count(t, s, "replay_deliveries") != 0 {
		t.Fatal("a refused replay was recorded")
	}
}

// BenchmarkReplayOf100k creates a replay of MaxReplayDeliveries failed deliveries (its
// time is reported as create-ms) and, once each has a replay attempt (two thirds 2xx),
// reads the replay with its outcomes counted (the loop), logging that query's plan.
func BenchmarkReplayOf100k(b *testing.B) {
	ctx := context.Background()
	s := storetest.New(b)
	org, err := s.CreateOrganization(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateEventType(ctx, store.EventType{OrgID: org.ID, Name: "a.b"}); err != nil {
		b.Fatal(err)
	}
	w, err := s.CreateWebhook(ctx, store.Webhook{ID: ids.New(ids.Webhook), OrgID: org.ID, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Settings: webhook.Settings{Name: "b", URL: "https://example.com/hook", Events: []string{"a.b"}, EventsPolicy: "include",
			TimeoutSeconds: 30, RetrySchedule: []time.Duration{time.Minute}}})
	if err != nil {
		b.Fatal(err)
	}
	wh := w.ID
	if _, err := s.Pool().Exec(ctx, `
        WITH e AS (
            INSERT INTO events (org_id, id, type, occurred_at, data)
            SELECT $1, 'e' || g, 'a.b', now(), '{}' FROM generate_series(1, $3::int) g
            RETURNING id
        )
        INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status)
        SELECT 'dlv_' || e.id, $1, $2, e.id, 'a.b', 'failed' FROM e`, org.ID, wh, store.MaxReplayDeliveries); err != nil {
		b.Fatal(err)
	}
	since, until := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	start := time.Now()
	r, err := s.CreateReplay(ctx, store.Replay{OrgID: org.ID, RatePerSecond: 50, Filter: store.ReplayFilter{Since: &since, Until: &until}})
	created := time.Since(start)
	if err != nil || r.Matched != store.MaxReplayDeliveries {
		b.Fatalf("create: %+v %v", r.Matched, err)
	}
	if _, err := s.Pool().Exec(ctx, `
        INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, state, response_status, replay_id)
        SELECT 'att_' || rd.position, rd.delivery_id, $2, 1, 'replay', now(), 'completed',
            CASE WHEN rd.position % 3 = 0 THEN 500 ELSE 200 END, $1
        FROM replay_deliveries rd WHERE rd.replay_id = $1`, r.ID, org.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE attempts`); err != nil {
		b.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FILTER (WHERE a.state = 'completed' AND a.response_status BETWEEN 200 AND 299)
        FROM attempts a WHERE a.replay_id = $1`, r.ID)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("create %v; counting plan:\n%s", created, strings.Join(plan, "\n"))
	b.ResetTimer()
	for b.Loop() {
		got, err := s.GetReplay(ctx, org.ID, r.ID)
		if err != nil || got.Succeeded+got.Failed != store.MaxReplayDeliveries {
			b.Fatalf("%+v %v", got, err)
		}
	}
	b.ReportMetric(float64(created.Milliseconds()), "create-ms")
}

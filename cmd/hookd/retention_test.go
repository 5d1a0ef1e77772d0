//go:build !nodev

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
	"github.com/hookd/hookd/worker"
	"github.com/hookd/hookd/workflows"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// scheduledRetention reads the retention schedule's interval, overlap policy, paused
// state and the retention its action carries.
func scheduledRetention(t *testing.T, c client.Client) (every time.Duration, overlap enumspb.ScheduleOverlapPolicy, paused bool, retention time.Duration) {
	t.Helper()
	d, err := c.ScheduleClient().GetHandle(context.Background(), retentionScheduleID).Describe(context.Background())
	if err != nil {
		t.Fatalf("describe the retention schedule: %v", err)
	}
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || act.Workflow != workflows.RetentionWorkflow || act.TaskQueue != workflows.TaskQueue || len(act.Args) != 1 {
		t.Fatalf("schedule action %#v: want Retention on %s with one input", d.Schedule.Action, workflows.TaskQueue)
	}
	var in workflows.RetentionInput
	if err := converter.GetDefaultDataConverter().FromPayload(act.Args[0].(*commonpb.Payload), &in); err != nil {
		t.Fatal(err)
	}
	if len(d.Schedule.Spec.Intervals) != 1 {
		t.Fatalf("schedule spec %+v: want one interval", d.Schedule.Spec)
	}
	return d.Schedule.Spec.Intervals[0].Every, d.Schedule.Policy.Overlap, d.Schedule.State.Paused, in.Retention
}

// TestRetentionSchedule registers the retention schedule on a real Temporal server as a
// worker does at start, again with another retention, from several workers at once and
// with HOOKD_RETENTION=0, and triggers it against a real PostgreSQL.
func TestRetentionSchedule(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, c := startTemporal(t, workflows.SearchAttributeTypes())
	st := storetest.New(t)
	svc := func(retention time.Duration) *services {
		return &services{cfg: config.Config{Retention: retention}, log: quiet, store: st, temporal: c}
	}

	// Created at the first start, updated (not refused) at the next.
	if err := svc(720 * time.Hour).registerRetention(ctx); err != nil {
		t.Fatalf("first registration: %v", err)
	}
	if every, overlap, paused, r := scheduledRetention(t, c); every != time.Hour || overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP ||
		paused || r != 720*time.Hour {
		t.Fatalf("schedule every %s, overlap %s, paused %v, retention %s", every, overlap, paused, r)
	}
	if err := svc(48 * time.Hour).registerRetention(ctx); err != nil {
		t.Fatalf("second registration: %v", err)
	}
	if _, _, _, r := scheduledRetention(t, c); r != 48*time.Hour {
		t.Fatalf("retention after the update %s, want 48h", r)
	}
	// An operator's pause outlives a restart.
	h := c.ScheduleClient().GetHandle(ctx, retentionScheduleID)
	if err := h.Pause(ctx, client.SchedulePauseOptions{Note: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := svc(720 * time.Hour).registerRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, paused, r := scheduledRetention(t, c); !paused || r != 720*time.Hour {
		t.Fatalf("after a restart: paused %v, retention %s; want still paused, 720h", paused, r)
	}

	// HOOKD_RETENTION=0 removes it (twice: nothing to remove is fine).
	for range 2 {
		if err := svc(0).registerRetention(ctx); err != nil {
			t.Fatalf("registration with retention 0: %v", err)
		}
		var notFound *serviceerror.NotFound
		if _, err := h.Describe(ctx); !errors.As(err, &notFound) {
			t.Fatalf("describe after retention 0: %v, want not found", err)
		}
	}

	// Workers starting together all succeed; one of them wins.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = svc(time.Duration(720+i) * time.Hour).registerRetention(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent registrations: %v", err)
	}
	if _, _, _, r := scheduledRetention(t, c); r < 720*time.Hour || r > 723*time.Hour {
		t.Fatalf("retention after concurrent registrations %s", r)
	}

	// Triggered, it deletes what finished before the cutoff, and only that.
	oldID, newID := retentionFixture(t, st)
	w := worker.New(c, workflows.TaskQueue, &activities.Activities{Retention: st, Logger: quiet}, sdkworker.Options{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	run := triggeredRun(t, h)
	var deleted activities.Deleted
	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.GetWorkflow(runCtx, run.WorkflowID, run.FirstExecutionRunID).Get(runCtx, &deleted); err != nil {
		t.Fatalf("retention run %s: %v", run.WorkflowID, err)
	}
	if want := (activities.Deleted{Events: 1, Deliveries: 1, Attempts: 2}); deleted != want {
		t.Errorf("the run deleted %+v, want %+v", deleted, want)
	}
	var events, deliveries []string
	if err := st.Pool().QueryRow(ctx, `SELECT ARRAY(SELECT id FROM events ORDER BY id), ARRAY(SELECT event_id FROM deliveries)`).
		Scan(&events, &deliveries); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(events) != fmt.Sprint([]string{newID}) || fmt.Sprint(deliveries) != fmt.Sprint([]string{newID}) {
		t.Errorf("left events %v and deliveries of %v; want only %s (not %s)", events, deliveries, newID, oldID)
	}
}

// triggeredRun waits (boundedly) for the schedule's first action and returns its run.
func triggeredRun(t *testing.T, h client.ScheduleHandle) *client.ScheduleWorkflowExecution {
	t.Helper()
	for range 600 {
		d, err := h.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(d.Info.RecentActions); n > 0 && d.Info.RecentActions[n-1].StartWorkflowResult != nil {
			return d.Info.RecentActions[n-1].StartWorkflowResult
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the triggered schedule took no action")
	return nil
}

// retentionFixture stores two events with one failed delivery each (two attempts): one
// finished 40 days ago, one now. It returns their ids.
func retentionFixture(t *testing.T, st *store.Store) (oldID, newID string) {
	t.Helper()
	ctx := context.Background()
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
	for _, id := range []string{"evt_old", "evt_new"} {
		res, err := st.IngestEvent(ctx, store.Event{OrgID: org.ID, ID: id, Type: "a.b", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		code := 500
		for _, status := range []string{store.StatusRetrying, store.StatusFailed} {
			if _, err := st.RecordAttempt(ctx, store.Attempt{DeliveryID: res.Deliveries[0].ID, ResponseStatus: &code},
				store.DeliveryUpdate{Status: status}); err != nil {
				t.Fatal(err)
			}
		}
		if id == "evt_old" {
			if _, err := st.Pool().Exec(ctx, `UPDATE deliveries SET created_at = $2, updated_at = $2 WHERE event_id = $1`, id, old); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Pool().Exec(ctx, `UPDATE events SET created_at = $2 WHERE id = $1`, id, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	return "evt_old", "evt_new"
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/internal/engine"
)

// replayRange posts a replay of the failed deliveries created since then until now at
// rate, and returns it as the 202 answered it.
func (in *instance) replayRange(since time.Time, rate int) replayView {
	in.t.Helper()
	r := in.must(http.StatusAccepted, http.MethodPost, "/v1/replays", map[string]any{
		"since": since.UTC().Format(time.RFC3339Nano), "until": time.Now().UTC().Format(time.RFC3339Nano),
		"ratePerSecond": rate,
	})
	rp := asReplay(r)
	if rp.Status != "running" && rp.Status != "completed" {
		in.t.Fatalf("POST /v1/replays answered %s", r.raw)
	}
	return rp
}

// TestReplayResendsEachFailedDeliveryOnce: 2,500 deliveries fail (the receiver answers
// 500, no retries); once the receiver is back, a replay of the failed ones sends each
// exactly once more, as one attempt with trigger replay, and completes with every one
// replayed and succeeded. Deliveries that had succeeded are not resent.
func TestReplayResendsEachFailedDeliveryOnce(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	since := time.Now().Add(-time.Second)
	rc := newReceiver(t, always(http.StatusInternalServerError, nil))
	ok := newReceiver(t, nil)
	in.webhook(ok.URL, map[string]any{"name": "healthy"})

	const webhooks, events = 5, 500
	failed := in.failedDeliveries(rc, "mass", webhooks, events)
	// The failing deliveries have failed; the healthy ones may still be arriving.
	eventually(t, time.Minute, func() string {
		if got := len(ok.requests()); got != events {
			return fmt.Sprintf("the healthy receiver got %d requests, want %d", got, events)
		}
		return ""
	})
	rc.setAnswer(always(http.StatusOK, nil))

	started := time.Now()
	rp := in.replayRange(since, 500)
	if rp.Matched != webhooks*events {
		t.Fatalf("matched %d, want %d: %s", rp.Matched, webhooks*events, rp.raw)
	}
	in.waitReplay(rp.ID, 5*time.Minute, func(r replayView) string {
		if r.Status != "completed" || r.Replayed != r.Matched || r.Skipped != 0 {
			return "replay not completed with every delivery replayed"
		}
		return ""
	})
	signalled := time.Since(started)
	in.waitReplay(rp.ID, 5*time.Minute, func(r replayView) string {
		if r.Succeeded != r.Matched || r.Failed != 0 {
			return "not every replayed attempt succeeded"
		}
		return ""
	})
	t.Logf("%d deliveries replayed at 500/s: every one asked for in %v, every attempt back in %v",
		rp.Matched, signalled.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
	in.waitStatus(failed, "succeeded", time.Minute)
	time.Sleep(time.Second) // room for a duplicate to show up
	in.wantSentOnceMore(rc, failed, rp.ID)
	if got := len(ok.requests()); got != events {
		t.Fatalf("the healthy receiver got %d requests after the replay, want %d (succeeded deliveries are not replayed)", got, events)
	}
}

// TestReplayCancelStopsIt: a slow replay canceled after some progress is canceled, its
// workflow ends Canceled, it sends nothing once its last attempts are in, and it has
// resent fewer deliveries than it matched, each of those once.
func TestReplayCancelStopsIt(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	since := time.Now().Add(-time.Second)
	rc := newReceiver(t, always(http.StatusServiceUnavailable, nil))
	failed := in.failedDeliveries(rc, "cancel", 2, 100)
	rc.setAnswer(always(http.StatusOK, nil))
	sentBefore := len(rc.requests())

	rp := in.replayRange(since, 5)
	in.waitReplay(rp.ID, time.Minute, func(r replayView) string {
		if r.Replayed < 10 {
			return "fewer than 10 replayed"
		}
		return ""
	})
	c := asReplay(in.must(http.StatusAccepted, http.MethodPost, "/v1/replays/"+rp.ID+"/cancel", nil))
	if c.Status != "canceled" {
		t.Fatalf("cancel answered %s", c.raw)
	}
	if r := in.call(http.MethodPost, "/v1/replays/"+rp.ID+"/cancel", in.adminKey, nil); r.status != http.StatusConflict {
		t.Fatalf("a second cancel = %d: %s", r.status, r.raw)
	}

	// Settled: the replay's workflow has ended (Canceled), and every attempt it asked for
	// has reached the receiver and come back.
	eventually(t, time.Minute, func() string {
		desc, err := in.temporalClient().DescribeWorkflowExecution(context.Background(), engine.ReplayWorkflowID(rp.ID), "")
		if err != nil {
			return err.Error()
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
			return "the replay's workflow is " + st.String()
		}
		return ""
	})
	settled := in.waitReplay(rp.ID, time.Minute, func(r replayView) string {
		if got := int64(len(rc.requests()) - sentBefore); got != r.Replayed || r.Succeeded != r.Replayed {
			return fmt.Sprintf("receiver got %d replayed requests", got)
		}
		return ""
	})
	// The deliveries it was resending when the cancel came still count: it stopped
	// halfway.
	if settled.Status != "canceled" || settled.Replayed >= settled.Matched || settled.Matched != int64(len(failed)) {
		t.Fatalf("canceled as %s, then settled as %s", c.raw, settled.raw)
	}
	t.Logf("replayed %d when the cancel answered, %d once settled, of %d", c.Replayed, settled.Replayed, settled.Matched)
	time.Sleep(2 * time.Second) // at 5 a second, room for ten more sends to show up
	if after := in.getReplay(rp.ID); after.Replayed != settled.Replayed || after.Status != "canceled" {
		t.Fatalf("the replay went on after its cancel: %s, then %s", settled.raw, after.raw)
	}
	resent := 0
	for id, n := range sends(rc, failed) {
		switch n {
		case 1:
		case 2:
			resent++
		default:
			t.Errorf("delivery %s sent %d times", id, n)
		}
	}
	if int64(resent) != settled.Replayed {
		t.Fatalf("%d deliveries resent, the replay says %d", resent, settled.Replayed)
	}
}

// TestReplaySurvivesAKill: hookd is killed (SIGKILL) in the middle of a replay and
// started again on the same data dir; the replay finishes, and every delivery it matched
// was sent exactly once more.
func TestReplaySurvivesAKill(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	since := time.Now().Add(-time.Second)
	rc := newReceiver(t, always(http.StatusBadGateway, nil))
	failed := in.failedDeliveries(rc, "kill", 3, 100)
	rc.setAnswer(always(http.StatusOK, nil))

	rp := in.replayRange(since, 20)
	in.waitReplay(rp.ID, time.Minute, func(r replayView) string {
		if r.Replayed < 60 {
			return "fewer than 60 replayed"
		}
		return ""
	})
	in.kill()
	killedAt := in.replayedInDB(rp.ID)
	in.start()

	done := in.waitReplay(rp.ID, 3*time.Minute, func(r replayView) string {
		if r.Status != "completed" || r.Replayed != r.Matched {
			return "replay not completed"
		}
		return ""
	})
	if done.Matched != int64(len(failed)) || done.Skipped != 0 || killedAt >= done.Matched {
		t.Fatalf("replay %s (%d replayed when killed)", done.raw, killedAt)
	}
	// An attempt in flight at the kill may be recorded as interrupted rather than
	// succeeded: what counts is what the receiver got.
	eventually(t, time.Minute, func() string {
		for id, n := range sends(rc, failed) {
			if n < 2 {
				return "delivery " + id + " not sent again yet"
			}
		}
		return ""
	})
	time.Sleep(time.Second) // room for a duplicate to show up
	in.wantSentOnceMore(rc, failed, rp.ID)
}

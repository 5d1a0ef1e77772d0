package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/store"
)

// heldReceiver is a receiver that holds its first request until released (or for hold,
// if hold is not 0) and answers every request 200.
func heldReceiver(t *testing.T, hold time.Duration) (rc *receiver, release func()) {
	t.Helper()
	released := make(chan struct{})
	release = sync.OnceFunc(func() { close(released) })
	rc = newReceiver(t, func(n int, _ received) (int, map[string]string) {
		if n == 1 {
			if hold > 0 {
				time.Sleep(hold)
			} else {
				<-released
			}
		}
		return http.StatusOK, nil
	})
	t.Cleanup(release) // before the receiver closes, which waits for its handlers
	return rc, release
}

// attemptsOf waits until delivery id is succeeded and its workflow has completed (so
// nothing more will be sent), and returns its attempts as the API shows them.
func (in *instance) attemptsOf(id string) []map[string]any {
	in.t.Helper()
	in.deliveryStatus(id, delivery.StatusSucceeded, 90*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := in.temporalClient().GetWorkflow(ctx, delivery.WorkflowID(id), "").Get(ctx, nil); err != nil {
		in.t.Fatalf("workflow of %s: %v", id, err)
	}
	return in.must(http.StatusOK, http.MethodGet, "/v1/deliveries/"+id, nil).list("attempts")
}

// postHeld posts an event to a webhook at rc, waits until its request is at rc and
// checks that the API shows the attempt in flight.
func (in *instance) postHeld(rc *receiver, event string) (deliveryID string) {
	in.t.Helper()
	in.webhook(rc.URL, map[string]any{"timeoutSeconds": 30, "retrySchedule": []string{"1s"}})
	r := in.postEvent(event, map[string]any{"orderId": event})
	if r.status != http.StatusAccepted || len(deliveryIDs(r)) != 1 {
		in.t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	id := deliveryIDs(r)[0]
	rc.waitFor(in.t, 1, 30*time.Second)
	d := in.must(http.StatusOK, http.MethodGet, "/v1/deliveries/"+id, nil)
	atts := d.list("attempts")
	if len(atts) != 1 || atts[0]["state"] != store.AttemptSending || atts[0]["response"] != nil ||
		atts[0]["durationMs"] != nil || atts[0]["error"] != nil || d.body["attemptCount"] != float64(1) {
		in.t.Fatalf("with the request in flight, the delivery shows %s; want one attempt sending", d.raw)
	}
	return id
}

// TestCleanStopLetsTheRequestInFlightFinish stops hookd (SIGTERM) while the receiver holds
// a request: the worker lets it finish and records it before it stops, so after a restart
// the delivery has one attempt for the one request, and nothing is sent again.
func TestCleanStopLetsTheRequestInFlightFinish(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{env: []string{"HOOKD_WORKER_STOP_TIMEOUT=40s"}})
	rc, _ := heldReceiver(t, 3*time.Second)
	id := in.postHeld(rc, "held-at-stop")

	in.stop()
	in.start()
	atts := in.attemptsOf(id)
	if got := len(rc.requests()); got != 1 || len(atts) != 1 {
		t.Fatalf("receiver got %d requests, delivery has %d attempts (%v); want 1 and 1", got, len(atts), atts)
	}
	resp, _ := atts[0]["response"].(map[string]any)
	if atts[0]["state"] != store.AttemptCompleted || resp["status"] != float64(200) || atts[0]["durationMs"] == nil {
		t.Fatalf("attempt %v, want completed with the receiver's 200", atts[0])
	}
}

// TestHardStopLeavesTheHistoryTheReceiverSaw kills hookd (SIGKILL) while the receiver
// holds a request. The attempt in flight is on record; after a restart the attempt runs
// again, closes it as interrupted and sends again: the delivery has as many attempts as
// the receiver got requests.
func TestHardStopLeavesTheHistoryTheReceiverSaw(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc, release := heldReceiver(t, 0)
	id := in.postHeld(rc, "held-at-kill")

	in.kill()
	release()
	in.start()
	atts := in.attemptsOf(id)
	if got := len(rc.requests()); got != len(atts) || got != 2 {
		t.Fatalf("receiver got %d requests, delivery has %d attempts (%v); want 2 and 2", got, len(atts), atts)
	}
	if atts[0]["state"] != store.AttemptInterrupted || atts[0]["error"] != store.InterruptedError ||
		atts[0]["response"] != nil || atts[0]["number"] != float64(1) {
		t.Fatalf("first attempt %v, want number 1 interrupted", atts[0])
	}
	if atts[1]["state"] != store.AttemptCompleted || atts[1]["number"] != float64(2) {
		t.Fatalf("second attempt %v, want number 2 completed", atts[1])
	}
}

// TestSecondSignalStopsAtOnce: a second SIGTERM while the worker waits for an attempt in
// flight gives up that wait, and the rest of the stop still runs: hookd exits and its
// private PostgreSQL is shut down, not left behind.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{ownPostgres: true, env: []string{"HOOKD_WORKER_STOP_TIMEOUT=10m", "HOOKD_LOG_LEVEL=info"}})
	rc, _ := heldReceiver(t, 0)
	in.postHeld(rc, "held-at-second-signal")

	pid := in.dev.PID()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() string {
		if log := in.dev.LogTail(0); !strings.Contains(log, "signal again to stop at once") {
			return "the worker has not begun to stop:\n" + log[max(len(log)-3000, 0):]
		}
		return ""
	})
	if in.dev.Exited() {
		t.Fatal("hookd exited on the first signal with a request in flight and a 10 minute stop timeout")
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Without the second signal the stop would wait up to 10 minutes.
	eventually(t, 90*time.Second, func() string {
		if !in.dev.Exited() {
			return "hookd still running after the second SIGTERM"
		}
		return ""
	})
	if pg, err := devenv.PostmasterPID(filepath.Join(in.dataDir, "postgres")); err == nil {
		t.Fatalf("hookd left its PostgreSQL running (pid %d):\n%s", pg, in.dev.LogTail(4000))
	}
}

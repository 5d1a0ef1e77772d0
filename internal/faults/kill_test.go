//go:build faults

package faults

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/devenv"
)

// Pacing of the kill faults: events flow for killAfter before each kill, a killed
// process stays down for downFor, and the stream goes on for killAfter after the last
// restart. Accepted deliveries must all arrive within settleWithin of the stream's end.
const (
	kills        = 3
	killAfter    = 3 * time.Second
	downFor      = 2 * time.Second
	settleWithin = 3 * time.Minute
	// answerAfter is how long the kill faults' receivers take to answer: a kill finds
	// attempts in flight.
	answerAfter = 100 * time.Millisecond
)

// streamWebhook is how the kill faults' webhooks retry: soon and often, so a delivery
// whose attempt a kill cut short is tried again within the suite's time.
var streamWebhook = map[string]any{"retrySchedule": []string{"1s"}, "maxRetries": 20, "timeoutSeconds": 10}

// killHookd SIGKILLs hookd dev (API, worker and embedded Temporal server in one process)
// three times while events are posted, restarting it each time on the same data dir.
func killHookd(t *testing.T, e *env) {
	r := record(&row{Fault: "kill -9 of `hookd dev`", Times: kills})
	rc := newSlowReceiver(t, answerAfter)
	e.webhook(e.adminKey, "kill-hookd", rc.URL, "fault.kill_hookd", streamWebhook)
	s := e.startStream(e.adminKey, "fault.kill_hookd")
	var downtime time.Duration
	for k := 0; k < kills; k++ {
		time.Sleep(killAfter)
		if err := e.hookd.Kill(); err != nil {
			s.finish()
			r.Failed = true
			t.Fatal(err)
		}
		killed := time.Now()
		time.Sleep(downFor)
		e.startHookd()
		downtime += time.Since(killed)
	}
	time.Sleep(killAfter)
	ids := s.finish()
	s.settle(t, r, rc, ids, settleWithin)
	r.note("`hookd dev` (API, worker and embedded Temporal server in one process, on an external private PostgreSQL) was SIGKILLed %d times while one event was posted every %v (its receiver answering after %v), and started again on the same data dir after %v; it was down %.0fs in all, start-up included.",
		kills, streamEvery, answerAfter, downFor, downtime.Seconds())
	r.note("Refused here are posts that found no API listening; the producer sent each again with the same event id until it was accepted.")
}

// killPostgres SIGKILLs hookd's PostgreSQL (the postmaster; its backends then exit)
// three times while events are posted, restarting it each time on the same data dir and
// port; hookd itself keeps running.
func killPostgres(t *testing.T, e *env) {
	r := record(&row{Fault: "kill -9 of PostgreSQL", Times: kills})
	rc := newSlowReceiver(t, answerAfter)
	e.webhook(e.adminKey, "kill-postgres", rc.URL, "fault.kill_postgres", streamWebhook)
	s := e.startStream(e.adminKey, "fault.kill_postgres")
	hookdPID := e.hookd.PID()
	var recovered []string
	for k := 0; k < kills; k++ {
		time.Sleep(killAfter)
		pid, err := devenv.PostmasterPID(e.pgDir)
		if err == nil {
			err = syscall.Kill(pid, syscall.SIGKILL)
		}
		if err != nil {
			s.finish()
			r.Failed = true
			t.Fatalf("kill the postmaster: %v", err)
		}
		killed := time.Now()
		waitGone(t, pid, 30*time.Second)
		time.Sleep(downFor)
		e.startPostgres(e.pgPort)
		e.waitReady(time.Minute)
		recovered = append(recovered, fmt.Sprintf("%.1fs", time.Since(killed).Seconds()))
	}
	time.Sleep(killAfter)
	ids := s.finish()
	s.settle(t, r, rc, ids, settleWithin)
	if e.hookd.PID() != hookdPID || e.hookd.Exited() {
		r.Failed = true
		t.Errorf("hookd dev exited while its PostgreSQL was down:\n%s", e.hookd.LogTail(4000))
	}
	r.note("The postmaster of hookd's PostgreSQL (external to `hookd dev`, DATABASE_URL) was SIGKILLed %d times while one event was posted every %v (its receiver answering after %v), and started again on the same data dir and port %v later; hookd was ready again (/readyz 200) %v after each kill, without a restart of its own.",
		kills, streamEvery, answerAfter, downFor, recovered)
	r.note("Refused here are posts answered 503 problem+json with Retry-After while PostgreSQL was down (nothing was accepted; the producer sent each again with the same event id). Before commit aaa63ff they were 500s: the API took a lost database for an internal error.")
}

// waitGone waits until process pid has exited (at most within).
func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running %v after SIGKILL", pid, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

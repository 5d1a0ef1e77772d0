//go:build faults

package faults

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/prodshape"
)

// shapeWorkers is how many `hookd worker` processes the production shape runs.
const shapeWorkers = 2

// killWorker starts the production shape (PostgreSQL, `hookd temporal`, `hookd api`, two
// `hookd worker`) and SIGKILLs a worker three times while events are posted, the two in
// turn, starting each again after a moment.
func killWorker(t *testing.T) {
	r := record(&row{Fault: "kill -9 of a worker (production shape)", Times: kills})
	dir, err := os.MkdirTemp("", "hookd-shape-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s (each process's log) for a look", dir)
			return
		}
		os.RemoveAll(dir)
	})
	ctx := context.Background()
	started := time.Now()
	shape, err := prodshape.Start(ctx, prodshape.Options{
		Binary: hookdBin, Dir: dir, Workers: shapeWorkers, Env: []string{"HOOKD_RECONCILE_INTERVAL=1s"}, Logf: t.Logf,
	})
	if err != nil {
		r.Failed = true
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shape.Stop(); err != nil {
			t.Errorf("stop the production shape: %v", err)
		}
	})
	startup := time.Since(started)
	e := &env{t: t, adminKey: shape.AdminKey, base: shape.APIURL, client: &http.Client{Timeout: 30 * time.Second}}

	rc := newSlowReceiver(t, answerAfter)
	e.webhook(e.adminKey, "kill-worker", rc.URL, "fault.kill_worker", streamWebhook)
	s := e.startStream(e.adminKey, "fault.kill_worker")
	for k := 0; k < kills; k++ {
		time.Sleep(killAfter)
		i := k % shapeWorkers
		if err := shape.KillWorker(i); err != nil {
			s.finish()
			r.Failed = true
			t.Fatal(err)
		}
		time.Sleep(downFor)
		if err := shape.StartWorker(ctx, i); err != nil {
			s.finish()
			r.Failed = true
			t.Fatal(err)
		}
	}
	time.Sleep(killAfter)
	ids := s.finish()
	s.settle(t, r, rc, ids, settleWithin)
	r.note("The production shape from this repository's binaries (a private PostgreSQL; `hookd temporal` persisted in it; one `hookd api`; %d `hookd worker`, production settings but for plain-HTTP loopback receivers) started in %.0fs. One worker was SIGKILLed %d times, the two in turn, while one event was posted every %v (its receiver answering after %v), and started again %v later; the other kept working.",
		shapeWorkers, startup.Seconds(), kills, streamEvery, answerAfter, downFor)
	r.note("Attempts the killed worker had in flight are taken up by the other once Temporal's activity timeout passes; a receiver may then get a delivery twice (counted as duplicated; `webhook-id` is the same).")
}

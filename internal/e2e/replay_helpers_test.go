package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/delivery"
)

// failedDeliveries makes webhooks × events deliveries that end failed: webhooks that
// never retry (maxRetries 0) nor disable themselves (failureLimit 0) at rc, which must
// answer non-2xx, and events posted by a few producers at once. It waits until every
// one of those deliveries has failed and returns their ids (not those of the events'
// other webhooks).
func (in *instance) failedDeliveries(rc *receiver, prefix string, webhooks, events int) []string {
	in.t.Helper()
	hooks := make([]string, webhooks)
	for i := range hooks {
		hooks[i], _ = in.webhook(rc.URL, map[string]any{
			"name": fmt.Sprintf("%s-%d", prefix, i), "maxRetries": 0, "failureLimit": 0, "timeoutSeconds": 5,
		})
	}
	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := in.postEventAsAProducerWould(fmt.Sprintf("%s-%d", prefix, i), map[string]any{"i": i})
				if r.status != http.StatusAccepted {
					in.t.Errorf("POST /v1/events = %d: %s", r.status, r.raw)
					continue
				}
				mu.Lock()
				for _, d := range r.list("deliveries") {
					if id, _ := d["webhookId"].(string); slices.Contains(hooks, id) {
						ids = append(ids, d["id"].(string))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := range events {
		next <- i
	}
	close(next)
	wg.Wait()
	if in.t.Failed() {
		in.t.FailNow()
	}
	if len(ids) != webhooks*events {
		in.t.Fatalf("%d deliveries made, want %d", len(ids), webhooks*events)
	}
	in.waitStatus(ids, delivery.StatusFailed, 5*time.Minute)
	return ids
}

// waitStatus waits until every delivery of ids has status.
func (in *instance) waitStatus(ids []string, status string, within time.Duration) {
	in.t.Helper()
	db := in.db()
	eventually(in.t, within, func() string {
		var n int
		err := db.QueryRow(context.Background(),
			`SELECT count(*) FROM deliveries WHERE id = ANY($1) AND status = $2`, ids, status).Scan(&n)
		if err != nil {
			return err.Error()
		}
		if n != len(ids) {
			return fmt.Sprintf("%d of %d deliveries are %s", n, len(ids), status)
		}
		return ""
	})
}

// replayView is GET /v1/replays/{id} as the tests read it.
type replayView struct {
	ID                                            string
	Status                                        string
	Matched, Replayed, Skipped, Succeeded, Failed int64
	raw                                           []byte
}

func (in *instance) getReplay(id string) replayView {
	in.t.Helper()
	r := in.must(http.StatusOK, http.MethodGet, "/v1/replays/"+id, nil)
	return asReplay(r)
}

func asReplay(r response) replayView {
	n := func(k string) int64 { f, _ := r.body[k].(float64); return int64(f) }
	return replayView{
		ID: r.str("id"), Status: r.str("status"), Matched: n("matched"), Replayed: n("replayed"),
		Skipped: n("skipped"), Succeeded: n("succeeded"), Failed: n("failed"), raw: r.raw,
	}
}

// waitReplay polls the replay until done says it is ("" means done) and returns it.
func (in *instance) waitReplay(id string, within time.Duration, done func(replayView) string) replayView {
	in.t.Helper()
	var rp replayView
	eventually(in.t, within, func() string {
		rp = in.getReplay(id)
		if why := done(rp); why != "" {
			return why + ": " + string(rp.raw)
		}
		return ""
	})
	return rp
}

// sends counts the requests rc got for each of ids (by webhook-id); ids it never got
// count 0, and requests for other ids are not counted.
func sends(rc *receiver, ids []string) map[string]int {
	out := make(map[string]int, len(ids))
	for _, id := range ids {
		out[id] = 0
	}
	for _, r := range rc.requests() {
		id := r.header.Get("webhook-id")
		if _, ok := out[id]; ok {
			out[id]++
		}
	}
	return out
}

// replayAttempts counts, for each delivery of ids, its attempts with trigger replay and
// those made for replayID.
func (in *instance) replayAttempts(ids []string, replayID string) (byTrigger, byReplay map[string]int) {
	in.t.Helper()
	rows, err := in.db().Query(context.Background(), `
		SELECT delivery_id, count(*) FILTER (WHERE trigger = 'replay'), count(*) FILTER (WHERE replay_id = $2)
		FROM attempts WHERE delivery_id = ANY($1) GROUP BY delivery_id`, ids, replayID)
	if err != nil {
		in.t.Fatal(err)
	}
	defer rows.Close()
	byTrigger, byReplay = map[string]int{}, map[string]int{}
	for rows.Next() {
		var id string
		var t, r int
		if err := rows.Scan(&id, &t, &r); err != nil {
			in.t.Fatal(err)
		}
		byTrigger[id], byReplay[id] = t, r
	}
	if err := rows.Err(); err != nil {
		in.t.Fatal(err)
	}
	return byTrigger, byReplay
}

// wantSentOnceMore fails unless rc got every delivery of ids exactly twice (its failed
// attempt and the replay's) and each has exactly one attempt, with trigger replay, for
// replayID.
func (in *instance) wantSentOnceMore(rc *receiver, ids []string, replayID string) {
	in.t.Helper()
	bad := 0
	byTrigger, byReplay := in.replayAttempts(ids, replayID)
	for id, n := range sends(rc, ids) {
		if n != 2 || byTrigger[id] != 1 || byReplay[id] != 1 {
			if bad++; bad <= 10 {
				in.t.Errorf("delivery %s: sent %d times (want 2), %d replay attempts, %d of this replay (want 1)", id, n, byTrigger[id], byReplay[id])
			}
		}
	}
	if bad > 0 {
		in.t.Fatalf("%d of %d deliveries were not sent exactly once more", bad, len(ids))
	}
}

// replayedInDB reads the replay's replayed count from the database, for when hookd is down.
func (in *instance) replayedInDB(id string) int64 {
	in.t.Helper()
	var n int64
	if err := in.db().QueryRow(context.Background(), `SELECT replayed FROM replays WHERE id = $1`, id).Scan(&n); err != nil {
		in.t.Fatal(err)
	}
	return n
}

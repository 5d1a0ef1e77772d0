package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// org is one organization of the running hookd, with an admin key, that a test sets up
// through the API.
type org struct {
	t   *testing.T
	s   *suite
	id  string
	key string // admin
}

var orgSeq atomic.Int64

// newOrg creates an organization of its own for the test (`hookd keys create` creates
// it with an admin key), so that its lists hold only what the test made.
func (s *suite) newOrg(t *testing.T) *org {
	t.Helper()
	id := fmt.Sprintf("org_bt%d", orgSeq.Add(1))
	cmd := exec.Command(s.bin, "keys", "create", "--role", "admin", "--org", id)
	cmd.Env = s.hookd.Env
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("hookd keys create: %v %s", err, stderr)
	}
	return &org{t: t, s: s, id: id, key: strings.TrimSpace(string(out))}
}

// withT is the organization for a subtest t.
func (o *org) withT(t *testing.T) *org {
	c := *o
	c.t = t
	return &c
}

// answer is an API answer with its JSON body.
type answer struct {
	status int
	raw    []byte
	body   map[string]any
}

func (a answer) str(key string) string {
	s, _ := a.body[key].(string)
	return s
}

func (a answer) list(key string) []map[string]any {
	items, _ := a.body[key].([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// call sends a JSON request to the API with the organization's admin key.
func (o *org) call(method, path string, body any) answer {
	o.t.Helper()
	var rd io.Reader
	if body != nil {
		enc, err := json.Marshal(body)
		if err != nil {
			o.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, o.s.hookd.APIURL+path, rd)
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// must calls and fails the test unless the answer has the wanted status.
func (o *org) must(want int, method, path string, body any) answer {
	o.t.Helper()
	a := o.call(method, path, body)
	if a.status != want {
		o.t.Fatalf("%s %s = %d, want %d: %s", method, path, a.status, want, a.raw)
	}
	return a
}

// eventType is the one event type the tests' webhooks subscribe to.
const eventType = "order.created"

// webhook creates a webhook of the organization at url, subscribed to eventType, with
// the given settings over the defaults, and returns its id.
func (o *org) webhook(name, url string, settings map[string]any) string {
	o.t.Helper()
	if a := o.call(http.MethodGet, "/v1/event-types/"+eventType, nil); a.status == http.StatusNotFound {
		o.must(http.StatusCreated, http.MethodPost, "/v1/event-types", map[string]any{
			"name": eventType, "description": "an order was placed",
		})
	}
	body := map[string]any{"name": name, "url": url, "events": []string{eventType}}
	for k, v := range settings {
		body[k] = v
	}
	return o.must(http.StatusCreated, http.MethodPost, "/v1/webhooks", body).str("id")
}

// failFast are webhook settings under which a delivery fails at its first failed
// attempt and the webhook stays enabled.
var failFast = map[string]any{"maxRetries": 0, "failureLimit": 0, "timeoutSeconds": 5}

// postEvent posts an eventType event and returns its deliveries' ids by webhook id.
func (o *org) postEvent(data map[string]any) map[string]string {
	o.t.Helper()
	a := o.must(http.StatusAccepted, http.MethodPost, "/v1/events", map[string]any{"type": eventType, "data": data})
	ids := map[string]string{}
	for _, d := range a.list("deliveries") {
		webhookID, _ := d["webhookId"].(string)
		ids[webhookID], _ = d["id"].(string)
	}
	return ids
}

// waitStatus waits until the delivery has status and returns it as the API shows it.
func (o *org) waitStatus(id, status string) answer {
	o.t.Helper()
	var a answer
	eventually(o.t, time.Minute, func() string {
		a = o.call(http.MethodGet, "/v1/deliveries/"+id, nil)
		if got := a.str("status"); got != status {
			return fmt.Sprintf("delivery %s is %q, want %q", id, got, status)
		}
		return ""
	})
	return a
}

// outcomes is a failed and a succeeded delivery of one event, each at a webhook of its
// own, and the receivers the webhooks send to.
type outcomes struct {
	failing, healthy         *receiver
	failingHook, healthyHook string
	failed, succeeded        string // delivery ids
}

// failedAndSucceeded sets up outcomes in the organization: the failing receiver
// answers 500 (until told otherwise), its webhook never retries.
func (o *org) failedAndSucceeded() outcomes {
	o.t.Helper()
	x := outcomes{failing: newReceiver(o.t, true), healthy: newReceiver(o.t, false)}
	x.failingHook = o.webhook("orders", x.failing.URL, failFast)
	x.healthyHook = o.webhook("audit log", x.healthy.URL, nil)
	ids := o.postEvent(map[string]any{"order": "A-1"})
	x.failed, x.succeeded = ids[x.failingHook], ids[x.healthyHook]
	if x.failed == "" || x.succeeded == "" {
		o.t.Fatalf("the event made deliveries %v, want one to each of %s and %s", ids, x.failingHook, x.healthyHook)
	}
	o.waitStatus(x.failed, "failed")
	o.waitStatus(x.succeeded, "succeeded")
	return x
}

// seed writes n deliveries of the organization's webhooks (round robin), one a second
// back from now, one in ten failed (500) and the others succeeded (200), each with its
// event and one attempt: what hookd would have written for them, in three statements
// instead of n events through the engine. Nothing is left for the engine to do
// (workflow_started, final statuses).
func (o *org) seed(webhooks []string, n int) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// $1 org, $2 n: row g (1 = newest) is created at now() - g seconds; inserted oldest
	// first, so that the list's order (by insertion) is the time order.
	const rows = `(SELECT g, now() - g * interval '1 second' AS ts, g % 10 = 0 AS failed
	               FROM generate_series(1, $2::int) g ORDER BY g DESC) x`
	statements := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO events (org_id, id, type, occurred_at, data, created_at)
		  SELECT $1, 'evt_seed' || g, '` + eventType + `', ts, json_build_object('order', 'S-' || g), ts FROM ` + rows,
			[]any{o.id, n}},
		{`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count,
		                          last_attempt_at, last_status_code, workflow_started, created_at, updated_at)
		  SELECT 'dlv_' || $1 || '_' || g, $1, ($3::text[])[1 + g % cardinality($3::text[])], 'evt_seed' || g, '` + eventType + `',
		         CASE WHEN failed THEN 'failed' ELSE 'succeeded' END, 1,
		         ts, CASE WHEN failed THEN 500 ELSE 200 END, true, ts, ts
		  FROM ` + rows, []any{o.id, n, webhooks}},
		{`INSERT INTO attempts (id, delivery_id, org_id, webhook_id, number, trigger, requested_at, duration_ms, state,
		                        request_url, request_method, request_headers, response_status, response_body, outcome)
		  SELECT 'att_' || $1 || '_' || g, 'dlv_' || $1 || '_' || g, $1, ($3::text[])[1 + g % cardinality($3::text[])], 1, 'auto', ts,
		         20 + g % 200, 'completed', 'http://127.0.0.1/hook', 'POST', '{"Content-Type": "application/json"}',
		         CASE WHEN failed THEN 500 ELSE 200 END,
		         CASE WHEN failed THEN 'the receiver is told to fail' ELSE '' END,
		         CASE WHEN failed THEN 'failed' ELSE 'succeeded' END
		  FROM ` + rows, []any{o.id, n, webhooks}},
	}
	for _, st := range statements {
		if _, err := o.s.db.Exec(ctx, st.sql, st.args...); err != nil {
			o.t.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
	for _, table := range []string{"events", "deliveries", "attempts"} {
		if _, err := o.s.db.Exec(ctx, "ANALYZE "+table); err != nil {
			o.t.Fatal(err)
		}
	}
}

// seeded is the id of the delivery seed made as row g (1 = newest).
func (o *org) seeded(g int) string { return fmt.Sprintf("dlv_%s_%d", o.id, g) }

// ticket is the answer of POST /v1/portal/tickets.
type ticket struct {
	Ticket    string `json:"ticket"`
	URL       string `json:"url"`
	ExpiresAt string `json:"expiresAt"`
}

// ticket mints a portal ticket of the organization for role and returns it with an
// absolute url.
func (o *org) ticket(role string) ticket {
	o.t.Helper()
	a := o.must(http.StatusCreated, http.MethodPost, "/v1/portal/tickets", map[string]any{"role": role})
	var tk ticket
	if err := json.Unmarshal(a.raw, &tk); err != nil || tk.Ticket == "" || tk.URL == "" {
		o.t.Fatalf("POST /v1/portal/tickets: want {ticket, url, expiresAt}, got %s (%v)", a.raw, err)
	}
	if strings.HasPrefix(tk.URL, "/") {
		tk.URL = o.s.hookd.APIURL + tk.URL
	}
	return tk
}

// receiver is a webhook target on 127.0.0.1 that answers 500 while failing is set and
// 200 otherwise, and counts the requests per delivery (its webhook-id header).
type receiver struct {
	*httptest.Server
	failing atomic.Bool
	mu      sync.Mutex
	got     map[string]int
	total   int
}

func newReceiver(t *testing.T, failing bool) *receiver {
	t.Helper()
	rc := &receiver{got: map[string]int{}}
	rc.failing.Store(failing)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.got[r.Header.Get("webhook-id")]++
		rc.total++
		rc.mu.Unlock()
		if rc.failing.Load() {
			http.Error(w, "the receiver is told to fail", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// requests is how many requests the receiver got for the delivery; "" counts all.
func (rc *receiver) requests(deliveryID string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if deliveryID == "" {
		return rc.total
	}
	return rc.got[deliveryID]
}

// eventually polls check every 50 ms until it returns "" or within has passed, and then
// fails the test with check's last answer.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		last := check()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

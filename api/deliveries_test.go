package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// seedDeliveries posts n events of type free.form to one webhook and returns the webhook
// id and the delivery ids, oldest first.
func (e *env) seedDeliveries(n int) (webhookID string, deliveryIDs []string) {
	e.t.Helper()
	e.createEventType(e.admin, "free.form", nil)
	webhookID = str(e.createWebhook(e.admin, webhookBody("free.form"))["id"])
	for i := range n {
		got := e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"id": "e" + string(rune('a'+i)), "type": "free.form", "data": map[string]any{}})
		deliveryIDs = append(deliveryIDs, str(got["deliveries"].([]any)[0].(map[string]any)["id"]))
	}
	return webhookID, deliveryIDs
}

func (e *env) setStatus(id, status string) {
	e.t.Helper()
	all := []string{store.StatusPending, store.StatusRetrying, store.StatusSucceeded, store.StatusFailed, store.StatusCanceled}
	if _, err := e.store.TransitionDelivery(context.Background(), e.org, id, all, status); err != nil {
		e.t.Fatal(err)
	}
}

func listIDs(page map[string]any) []string {
	var out []string
	for _, it := range page["data"].([]any) {
		out = append(out, str(it.(map[string]any)["id"]))
	}
	return out
}

func TestDeliveryList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh, ids := e.seedDeliveries(5)
	e.setStatus(ids[1], store.StatusFailed)
	e.createEventType(e.admin, "other.type", nil)
	other := str(e.createWebhook(e.admin, webhookBody("other.type"))["id"])
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"id": "late", "type": "other.type", "data": map[string]any{}})

	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	tests := []struct {
		query string
		want  []string // nil: just count
		count int
	}{
		{"webhookId=" + wh + "&status=failed", []string{ids[1]}, 1},
		{"webhookId=" + wh, newestFirst, 5},
		{"webhookId=" + other, nil, 1},
		{"eventId=ec", []string{ids[2]}, 1},
		{"eventType=free.form", newestFirst, 5},
		{"eventType=other.type", nil, 1},
		{"eventType=no.such", nil, 0},
		{"since=" + future, nil, 0},
		{"until=" + future, nil, 6},
		{"status=pending", nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			page := e.must(http.StatusOK, "GET", "/v1/deliveries?"+tt.query, e.viewer, nil)
			conformsValue(t, "DeliveryList", page)
			got := listIDs(page)
			if len(got) != tt.count || (tt.want != nil && !slices.Equal(got, tt.want)) {
				t.Fatalf("got %v, want %d %v", got, tt.count, tt.want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var got []string
		cursor := ""
		for {
			page := e.must(http.StatusOK, "GET", "/v1/deliveries?webhookId="+wh+"&limit=2&cursor="+cursor, e.admin, nil)
			got = append(got, listIDs(page)...)
			if page["nextCursor"] == nil {
				break
			}
			cursor = url.QueryEscape(str(page["nextCursor"]))
		}
		if !slices.Equal(got, newestFirst) {
			t.Fatalf("paged %v, want %v", got, newestFirst)
		}
	})

	bad := []struct {
		query  string
		fields []string
	}{
		{"status=done", []string{"status"}},
		{"webhookId=hook1", []string{"webhookId"}},
		{"eventId=a%20b", []string{"eventId"}},
		{"eventType=Free", []string{"eventType"}},
		{"since=yesterday&until=2025-13-01T00:00:00Z", []string{"since", "until"}},
		{"since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z", []string{"until"}},
		{"limit=0", []string{"limit"}},
		{"limit=300&status=x&cursor=%21%21", []string{"limit", "status"}},
		{"cursor=bm90LWEtY3Vyc29y", []string{"cursor"}},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.query, func(t *testing.T) {
			p := decodeProblem(t, e.do("GET", "/v1/deliveries?"+tt.query, e.admin, nil), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.fields...)
		})
	}
}

func TestDeliveryDetail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ids := e.seedDeliveries(1)
	id := ids[0]
	status, retryAfter := 503, int64(30_000)
	next := time.Now().Add(time.Minute).UTC().Truncate(time.Microsecond)
	_, err := e.store.RecordAttempt(context.Background(), store.Attempt{
		DeliveryID: id, Trigger: "auto", RequestedAt: time.Now(), DurationMs: 42,
		RequestURL: "https://example.com/hook", RequestMethod: "POST",
		RequestHeaders: map[string]string{"Webhook-Signature": "v1,****"},
		ResponseStatus: &status, ResponseHeaders: map[string]string{"Retry-After": "30"},
		ResponseBody: "busy", RetryAfterMs: &retryAfter,
	}, store.DeliveryUpdate{Status: store.StatusRetrying, NextAttemptAt: &next, WorkflowRunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.RecordAttempt(context.Background(), store.Attempt{
		DeliveryID: id, Trigger: "manual", RequestedAt: time.Now(), RequestURL: "https://example.com/hook",
		RequestMethod: "POST", Error: "connection refused",
	}, store.DeliveryUpdate{Status: store.StatusRetrying, NextAttemptAt: &next})
	if err != nil {
		t.Fatal(err)
	}
	d := e.must(http.StatusOK, "GET", "/v1/deliveries/"+id, e.viewer, nil)
	wantJSON(t, d, map[string]any{
		"id": id, "status": "retrying", "attemptCount": 2, "workflowId": "delivery-" + id,
		"workflowRunId": "run-1", "nextAttemptAt": next.Format(time.RFC3339Nano), "lastError": "connection refused",
	})
	conformsValue(t, "DeliveryDetail", d)
	attempts := d["attempts"].([]any)
	if len(attempts) != 2 {
		t.Fatalf("%d attempts", len(attempts))
	}
	wantJSON(t, attempts[0].(map[string]any), map[string]any{
		"number": 1, "trigger": "auto", "durationMs": 42, "error": nil, "retryAfter": "30s",
		"request":  map[string]any{"url": "https://example.com/hook", "method": "POST", "headers": map[string]any{"Webhook-Signature": "v1,****"}},
		"response": map[string]any{"status": 503, "headers": map[string]any{"Retry-After": "30"}, "body": "busy"},
	})
	wantJSON(t, attempts[1].(map[string]any), map[string]any{"number": 2, "trigger": "manual", "response": nil, "error": "connection refused", "retryAfter": nil})
	decodeProblem(t, e.do("GET", "/v1/deliveries/dlv_nope", e.admin, nil), http.StatusNotFound)
}

func TestRetryAndCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ids := e.seedDeliveries(3)
	a, b, c := ids[0], ids[1], ids[2]
	status := func(id string) string {
		return str(e.must(http.StatusOK, "GET", "/v1/deliveries/"+id, e.admin, nil)["status"])
	}

	// Cancel a pending delivery, then again (409: it is finished).
	got := e.must(http.StatusAccepted, "POST", "/v1/deliveries/"+a+"/cancel", e.admin, nil)
	conformsValue(t, "Delivery", got)
	if got["status"] != "canceled" || status(a) != "canceled" {
		t.Fatalf("cancel: %v", got)
	}
	p := decodeProblem(t, e.do("POST", "/v1/deliveries/"+a+"/cancel", e.admin, nil), http.StatusConflict)
	if !strings.Contains(p.Detail, "canceled") {
		t.Errorf("409 detail %q", p.Detail)
	}
	// A finished delivery cannot be canceled.
	e.setStatus(b, store.StatusSucceeded)
	decodeProblem(t, e.do("POST", "/v1/deliveries/"+b+"/cancel", e.admin, nil), http.StatusConflict)
	e.setStatus(b, store.StatusFailed)
	decodeProblem(t, e.do("POST", "/v1/deliveries/"+b+"/cancel", e.admin, nil), http.StatusConflict)

	// Retry: a canceled or failed delivery becomes pending (its attempt is due now), and
	// the 202 shows it as a read right after does.
	for _, id := range []string{a, b} {
		got = e.must(http.StatusAccepted, "POST", "/v1/deliveries/"+id+"/retry", e.admin, nil)
		conformsValue(t, "Delivery", got)
		after := e.must(http.StatusOK, "GET", "/v1/deliveries/"+id, e.admin, nil)
		if got["status"] != "pending" || got["nextAttemptAt"] != nil || after["status"] != "pending" || got["updatedAt"] != after["updatedAt"] {
			t.Fatalf("retry answered %v; a read after shows %v", got, after)
		}
	}
	_, retried, canceled := e.sched.calls()
	if !slices.Equal(retried, []string{a, b}) || !slices.Equal(canceled, []string{a}) {
		t.Fatalf("retried %v canceled %v", retried, canceled)
	}

	// Temporal down: 503 and the status is as it was.
	e.sched.set(func(r *recordingScheduler) {
		r.cancelErr, r.retryErr = errors.New("unavailable"), errors.New("unavailable")
	})
	decodeProblem(t, e.do("POST", "/v1/deliveries/"+c+"/cancel", e.admin, nil), http.StatusServiceUnavailable)
	if s := status(c); s != "pending" {
		t.Fatalf("after failed cancel: %s", s)
	}
	e.setStatus(c, store.StatusCanceled)
	decodeProblem(t, e.do("POST", "/v1/deliveries/"+c+"/retry", e.admin, nil), http.StatusServiceUnavailable)
	if s := status(c); s != "canceled" {
		t.Fatalf("after failed retry: %s", s)
	}

	decodeProblem(t, e.do("POST", "/v1/deliveries/dlv_nope/retry", e.admin, nil), http.StatusNotFound)
	decodeProblem(t, e.do("POST", "/v1/deliveries/dlv_nope/cancel", e.admin, nil), http.StatusNotFound)
}

func TestPing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Subscribed to nothing and disabled: a ping still goes to it.
	wh := str(e.createWebhook(e.admin, map[string]any{"name": "x", "url": "https://example.com/x", "status": "DISABLED"})["id"])
	got := e.must(http.StatusAccepted, "POST", "/v1/webhooks/"+wh+"/ping", e.admin, nil)
	id := str(got["deliveryId"])
	if !strings.HasPrefix(id, "dlv_") || !strings.HasPrefix(str(got["eventId"]), "evt_") {
		t.Fatalf("ping: %v", got)
	}
	d := e.must(http.StatusOK, "GET", "/v1/deliveries/"+id, e.admin, nil)
	wantJSON(t, d, map[string]any{"webhookId": wh, "eventType": "ping", "status": "pending"})
	if s, _, _ := e.sched.calls(); !slices.Equal(s, []string{id}) {
		t.Fatalf("scheduled %v", s)
	}
	if n := e.unstarted(); n != 0 {
		t.Fatalf("%d unstarted", n)
	}
	decodeProblem(t, e.do("POST", "/v1/webhooks/wh_nope/ping", e.admin, nil), http.StatusNotFound)
}

func TestRetryOfADisabledWebhooksDeliveryIsAConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh, ids := e.seedDeliveries(1)
	e.setStatus(ids[0], store.StatusFailed)
	e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+wh, e.admin, map[string]any{"status": "DISABLED"})
	got := e.must(http.StatusConflict, "POST", "/v1/deliveries/"+ids[0]+"/retry", e.admin, nil)
	if d := str(got["detail"]); !strings.Contains(d, wh) || !strings.Contains(d, "not enabled") {
		t.Fatalf("detail %q, want it to name the webhook and say it is not enabled", d)
	}
	if _, retried, _ := e.sched.calls(); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+wh, e.admin, map[string]any{"status": "ENABLED"})
	e.must(http.StatusAccepted, "POST", "/v1/deliveries/"+ids[0]+"/retry", e.admin, nil)
}

package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEventIngest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	e.createEventType(e.admin, "device.deleted", nil)
	include := str(e.createWebhook(e.admin, webhookBody("device.created"))["id"])
	exclude := e.createWebhook(e.admin, map[string]any{"name": "all but deletes", "url": "https://example.com/b", "events": []string{"device.deleted"}, "eventsPolicy": "exclude"})
	e.createWebhook(e.admin, map[string]any{"name": "disabled", "url": "https://example.com/c", "events": []string{"device.created"}, "status": "DISABLED"})
	e.createWebhook(e.admin, webhookBody("device.deleted"))

	body := map[string]any{"id": "order-1", "type": "device.created", "timestamp": "2025-03-04T05:06:07.123456789+02:00", "data": map[string]any{"deviceId": "d1"}}
	conformsValue(t, "EventCreate", body)
	rec := e.do("POST", "/v1/events", e.pub, body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	first := rec.Body.String()
	got := decodeJSON(t, rec)
	conformsValue(t, "EventAccepted", got)
	wantJSON(t, got, map[string]any{"id": "order-1", "type": "device.created", "timestamp": "2025-03-04T03:06:07.123456Z"})
	ds := got["deliveries"].([]any)
	hooks := []string{}
	var deliveryIDs []string
	for _, d := range ds {
		hooks = append(hooks, str(d.(map[string]any)["webhookId"]))
		deliveryIDs = append(deliveryIDs, str(d.(map[string]any)["id"]))
	}
	slices.Sort(hooks)
	want := []string{include, str(exclude["id"])}
	slices.Sort(want)
	if !slices.Equal(hooks, want) {
		t.Fatalf("delivered to %v, want %v", hooks, want)
	}
	scheduled, _, _ := e.sched.calls()
	slices.Sort(scheduled)
	slices.Sort(deliveryIDs)
	if !slices.Equal(scheduled, deliveryIDs) {
		t.Fatalf("scheduled %v, want %v", scheduled, deliveryIDs)
	}
	if n := e.unstarted(); n != 0 {
		t.Fatalf("%d deliveries not marked started", n)
	}

	// The same id again: nothing new, 200, the same body, nothing scheduled.
	before := e.counts()
	body["data"] = map[string]any{"deviceId": "changed"}
	rec = e.do("POST", "/v1/events", e.pub, body)
	if rec.Code != http.StatusOK || rec.Body.String() != first {
		t.Fatalf("repeat: %d %s, want 200 %s", rec.Code, rec.Body, first)
	}
	e.assertUnchanged(before)
	if again, _, _ := e.sched.calls(); len(again) != len(scheduled) {
		t.Fatalf("repeat scheduled again: %v", again)
	}

	// Reads: publishers and viewers see events with their deliveries.
	ev := e.must(http.StatusOK, "GET", "/v1/events/order-1", e.viewer, nil)
	conformsValue(t, "EventDetail", ev)
	wantJSON(t, ev, map[string]any{"id": "order-1", "data": map[string]any{"deviceId": "d1"}})
	if n := len(ev["deliveries"].([]any)); n != 2 {
		t.Fatalf("event shows %d deliveries", n)
	}
	d0 := ev["deliveries"].([]any)[0].(map[string]any)
	wantJSON(t, d0, map[string]any{"status": "pending", "eventId": "order-1", "eventType": "device.created", "workflowId": "delivery-" + str(d0["id"])})
	list := e.must(http.StatusOK, "GET", "/v1/events", e.pub, nil)
	conformsValue(t, "EventList", list)
	if n := len(list["data"].([]any)); n != 1 {
		t.Fatalf("list has %d events", n)
	}

	// No id: hookd mints one; no timestamp: now.
	got = e.must(http.StatusAccepted, "POST", "/v1/events", e.admin, map[string]any{"type": "device.deleted", "data": map[string]any{}})
	if !strings.HasPrefix(str(got["id"]), "evt_") || len(got["deliveries"].([]any)) != 1 {
		t.Fatalf("minted event %v", got)
	}
	if ts, err := time.Parse(time.RFC3339Nano, str(got["timestamp"])); err != nil || time.Since(ts) > time.Minute {
		t.Fatalf("default timestamp %v (%v)", got["timestamp"], err)
	}
}

func TestEventValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", map[string]any{
		"type":     "object",
		"required": []string{"deviceId"},
		"properties": map[string]any{
			"deviceId": map[string]any{"type": "string"},
			"tags":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		},
	})
	e.createEventType(e.admin, "free.form", nil)
	e.createWebhook(e.admin, webhookBody("device.created", "free.form"))
	tests := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"unknown type", map[string]any{"type": "device.exploded", "data": map[string]any{}}, []string{"type"}},
		{"builtin ping", map[string]any{"type": "ping", "data": map[string]any{}}, []string{"type"}},
		{"builtin webhook.disabled", map[string]any{"type": "webhook.disabled", "data": map[string]any{}}, []string{"type"}},
		{"missing type and data", map[string]any{}, []string{"type", "data"}},
		{"bad type name", map[string]any{"type": "Device!", "data": map[string]any{}}, []string{"type"}},
		{"data not an object", map[string]any{"type": "free.form", "data": []int{1}}, []string{"data"}},
		{"data null", map[string]any{"type": "free.form", "data": nil}, []string{"data"}},
		{"bad id", map[string]any{"id": "has space", "type": "free.form", "data": map[string]any{}}, []string{"id"}},
		{"long id", map[string]any{"id": strings.Repeat("x", 256), "type": "free.form", "data": map[string]any{}}, []string{"id"}},
		{"bad timestamp", map[string]any{"type": "free.form", "timestamp": "yesterday", "data": map[string]any{}}, []string{"timestamp"}},
		{"schema: missing and wrong", map[string]any{"type": "device.created", "data": map[string]any{"tags": []any{"a", 2}}}, []string{"data", "data.tags[1]"}},
		{"schema: wrong type", map[string]any{"type": "device.created", "data": map[string]any{"deviceId": 7}}, []string{"data.deviceId"}},
		{"unknown field", map[string]any{"type": "free.form", "data": map[string]any{}, "payload": 1}, []string{"payload"}},
		{"everything", map[string]any{"id": "", "type": "nope.nope", "timestamp": 5, "data": "x"}, []string{"id", "type", "timestamp", "data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts()
			p := decodeProblem(t, e.do("POST", "/v1/events", e.pub, tt.body), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.fields...)
			e.assertUnchanged(before)
		})
	}
	if s, _, _ := e.sched.calls(); len(s) != 0 {
		t.Fatalf("refused events scheduled %v", s)
	}
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"type": "device.created", "data": map[string]any{"deviceId": "d1", "tags": []string{"x"}}})
}

func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "free.form", nil)
	e.createWebhook(e.admin, webhookBody("free.form"))
	routes := [][2]string{{"POST", "/v1/events"}, {"POST", "/v1/webhooks"}, {"POST", "/v1/event-types"}, {"PUT", "/v1/event-types/free.form"}}
	bodies := []raw{"", "{", `{"type": "free.form",}`, "[]", `"text"`, "null", "42", `{"type": "free.form"} {}`}
	for _, route := range routes {
		for _, body := range bodies {
			t.Run(route[0]+" "+route[1]+" "+string(body), func(t *testing.T) {
				before := e.counts()
				p := decodeProblem(t, e.do(route[0], route[1], e.admin, body), http.StatusBadRequest)
				if p.Detail == "" {
					t.Error("400 without detail")
				}
				e.assertUnchanged(before)
			})
		}
	}
}

func TestOversizeBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "free.form", nil)
	e.createWebhook(e.admin, webhookBody("free.form"))
	filler := func(n int) raw {
		prefix := `{"type": "free.form", "data": {"blob": "`
		suffix := `"}}`
		return raw(prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix)
	}
	before := e.counts()
	decodeProblem(t, e.do("POST", "/v1/events", e.pub, filler(256<<10+1)), http.StatusRequestEntityTooLarge)
	decodeProblem(t, e.do("POST", "/v1/webhooks", e.admin, filler(1<<20)), http.StatusRequestEntityTooLarge)
	e.assertUnchanged(before)
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, filler(256<<10))
}

// TestEventScheduleFailure: once the event is committed the answer is 202 even when
// Temporal is down; the deliveries stay unstarted for the reconciler, and a repeat of
// the event starts them.
func TestEventScheduleFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "free.form", nil)
	e.createWebhook(e.admin, webhookBody("free.form"))
	e.sched.set(func(r *recordingScheduler) { r.scheduleErr = errors.New("temporal down") })
	body := map[string]any{"id": "e1", "type": "free.form", "data": map[string]any{}}
	first := e.do("POST", "/v1/events", e.pub, body)
	if first.Code != http.StatusAccepted {
		t.Fatalf("post: %d %s", first.Code, first.Body)
	}
	if n := e.unstarted(); n != 1 {
		t.Fatalf("%d unstarted deliveries, want 1", n)
	}
	if !strings.Contains(e.logs.String(), "temporal down") {
		t.Errorf("schedule failure not logged: %s", e.logs)
	}
	e.sched.set(func(r *recordingScheduler) { r.scheduleErr = nil })
	repeat := e.do("POST", "/v1/events", e.pub, body)
	if repeat.Code != http.StatusOK || repeat.Body.String() != first.Body.String() {
		t.Fatalf("repeat: %d %s", repeat.Code, repeat.Body)
	}
	if n := e.unstarted(); n != 0 {
		t.Fatalf("%d unstarted deliveries after the repeat", n)
	}
	if s, _, _ := e.sched.calls(); len(s) != 1 {
		t.Fatalf("scheduled %v", s)
	}
}

// unstarted counts deliveries still waiting for their workflow.
func (e *env) unstarted() int {
	e.t.Helper()
	ds, err := e.store.UnstartedDeliveries(context.Background(), time.Now().Add(time.Hour), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ds)
}

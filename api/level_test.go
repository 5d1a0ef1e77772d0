package api_test

import (
	"net/http"
	"slices"
	"testing"
)

// levels are API.md's severities, lowest first.
var levels = []string{"trace", "debug", "info", "warn", "error"}

// TestEventLevels: POST /v1/events takes a `level` (default info), shown on reads, and
// its deliveries go to exactly the enabled, subscribed webhooks whose `level` (default
// trace) it reaches; an unknown level is a 422 naming `level` that stores nothing.
func TestEventLevels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "mail.event", nil)
	atLevel := map[string]string{} // webhook id → level
	for _, level := range levels {
		body := webhookBody("mail.event")
		body["level"] = level
		w := e.createWebhook(e.admin, body)
		if w["level"] != level {
			t.Fatalf("created with level %s, reads %v", level, w["level"])
		}
		atLevel[str(w["id"])] = level
	}
	def := e.createWebhook(e.admin, webhookBody("mail.event"))
	if def["level"] != "trace" {
		t.Fatalf("a webhook without a level reads %v, want trace", def["level"])
	}
	conformsValue(t, "Webhook", def)
	atLevel[str(def["id"])] = "trace"

	for _, level := range append(slices.Clone(levels), "") {
		body := map[string]any{"id": "ev-" + level, "type": "mail.event", "data": map[string]any{}}
		effective := "info"
		if level != "" {
			body["level"], effective = level, level
		}
		conformsValue(t, "EventCreate", body)
		got := e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, body)
		var hooks, want []string
		for _, d := range got["deliveries"].([]any) {
			hooks = append(hooks, str(d.(map[string]any)["webhookId"]))
		}
		for id, l := range atLevel {
			if slices.Index(levels, l) <= slices.Index(levels, effective) {
				want = append(want, id)
			}
		}
		slices.Sort(hooks)
		slices.Sort(want)
		if !slices.Equal(hooks, want) {
			t.Errorf("a %s event went to %d webhooks, want %d (%v, want %v)", effective, len(hooks), len(want), hooks, want)
		}
		ev := e.must(http.StatusOK, "GET", "/v1/events/ev-"+level, e.viewer, nil)
		conformsValue(t, "EventDetail", ev)
		if ev["level"] != effective {
			t.Errorf("event posted with level %q reads level %v, want %s", level, ev["level"], effective)
		}
	}

	before := e.counts()
	for _, bad := range []any{"fatal", "", "INFO", "warning", 3, true, []string{"info"}} {
		rec := e.do("POST", "/v1/events", e.pub, map[string]any{"type": "mail.event", "level": bad, "data": map[string]any{}})
		if rec.Code == http.StatusBadRequest { // a value of the wrong JSON type may be refused as malformed
			decodeProblem(t, rec, http.StatusBadRequest)
			continue
		}
		wantFields(t, decodeProblem(t, rec, http.StatusUnprocessableEntity), "level")
	}
	e.assertUnchanged(before)
}

// TestWebhookLevelSetting: `level` is written and read on webhooks (default trace),
// changed by PATCH, kept when absent or null, and a value outside the five levels is a
// 422 naming `level` that changes nothing.
func TestWebhookLevelSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "mail.event", nil)
	body := webhookBody("mail.event")
	body["level"] = "warn"
	id := str(e.createWebhook(e.admin, body)["id"])

	got := e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"name": "renamed"})
	if got["level"] != "warn" {
		t.Errorf("level after a PATCH without it: %v", got["level"])
	}
	got = e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"level": nil})
	if got["level"] != "warn" {
		t.Errorf("level after a PATCH with null: %v", got["level"])
	}
	got = e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"level": "error"})
	if got["level"] != "error" {
		t.Errorf("level after PATCH error: %v", got["level"])
	}
	conformsValue(t, "Webhook", got)

	before := e.counts()
	for _, bad := range []string{"fatal", "", "WARN", "information"} {
		b := webhookBody("mail.event")
		b["level"] = bad
		wantFields(t, decodeProblem(t, e.do("POST", "/v1/webhooks", e.admin, b), http.StatusUnprocessableEntity), "level")
		wantFields(t, decodeProblem(t, e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"level": bad}), http.StatusUnprocessableEntity), "level")
	}
	e.assertUnchanged(before)
	if got := e.must(http.StatusOK, "GET", "/v1/webhooks/"+id, e.admin, nil); got["level"] != "error" {
		t.Errorf("level after refused changes: %v", got["level"])
	}

	// Only the webhook at or below the event's level gets it.
	e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"level": "warn"})
	if ds := e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"type": "mail.event", "level": "info", "data": map[string]any{}})["deliveries"].([]any); len(ds) != 0 {
		t.Errorf("an info event went to a warn webhook: %v", ds)
	}
	if ds := e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"type": "mail.event", "level": "warn", "data": map[string]any{}})["deliveries"].([]any); len(ds) != 1 {
		t.Errorf("a warn event went to %d webhooks, want the warn one", len(ds))
	}
}

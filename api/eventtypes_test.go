package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestEventTypeLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	schema := map[string]any{
		"type":       "object",
		"required":   []string{"deviceId"},
		"properties": map[string]any{"deviceId": map[string]any{"type": "string"}},
	}
	rec := e.do("POST", "/v1/event-types", e.admin, map[string]any{"name": "device.created", "description": "a device", "schema": schema})
	if rec.Code != http.StatusCreated || rec.Header().Get("Location") != "/v1/event-types/device.created" {
		t.Fatalf("create: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	got := e.must(http.StatusOK, "GET", "/v1/event-types/device.created", e.viewer, nil)
	conformsValue(t, "EventType", got)
	if got["name"] != "device.created" || got["description"] != "a device" || got["builtin"] != false || got["schema"] == nil {
		t.Fatalf("get: %v", got)
	}

	p := decodeProblem(t, e.do("POST", "/v1/event-types", e.admin, map[string]any{"name": "device.created"}), http.StatusConflict)
	if !strings.Contains(p.Detail, "already exists") {
		t.Errorf("conflict detail %q", p.Detail)
	}

	// PUT replaces: no schema given, so the schema is removed.
	got = e.must(http.StatusOK, "PUT", "/v1/event-types/device.created", e.admin, map[string]any{"description": "changed"})
	if got["description"] != "changed" || got["schema"] != nil {
		t.Fatalf("put: %v", got)
	}
	p = decodeProblem(t, e.do("PUT", "/v1/event-types/device.created", e.admin, map[string]any{"name": "other.name"}), http.StatusUnprocessableEntity)
	wantFields(t, p, "name")
	decodeProblem(t, e.do("PUT", "/v1/event-types/no.such", e.admin, map[string]any{}), http.StatusNotFound)

	list := e.must(http.StatusOK, "GET", "/v1/event-types", e.admin, nil)
	conformsValue(t, "EventTypeList", list)
	names := map[string]bool{}
	for _, it := range list["data"].([]any) {
		names[str(it.(map[string]any)["name"])] = true
	}
	for _, n := range []string{"ping", "webhook.disabled", "device.created"} {
		if !names[n] {
			t.Errorf("list lacks %s: %v", n, names)
		}
	}
	if list["nextCursor"] != nil {
		t.Errorf("nextCursor %v on a short list", list["nextCursor"])
	}

	for _, builtin := range []string{"ping", "webhook.disabled"} {
		decodeProblem(t, e.do("DELETE", "/v1/event-types/"+builtin, e.admin, nil), http.StatusConflict)
		decodeProblem(t, e.do("PUT", "/v1/event-types/"+builtin, e.admin, map[string]any{"description": "x"}), http.StatusConflict)
		decodeProblem(t, e.do("POST", "/v1/event-types", e.admin, map[string]any{"name": builtin}), http.StatusConflict)
	}

	if rec := e.do("DELETE", "/v1/event-types/device.created", e.admin, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	decodeProblem(t, e.do("GET", "/v1/event-types/device.created", e.admin, nil), http.StatusNotFound)
	decodeProblem(t, e.do("DELETE", "/v1/event-types/device.created", e.admin, nil), http.StatusNotFound)
}

func TestEventTypeValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name   string
		body   any
		fields []string
	}{
		{"missing name", map[string]any{"description": "x"}, []string{"name"}},
		{"upper case", map[string]any{"name": "Device.Created"}, []string{"name"}},
		{"empty segment", map[string]any{"name": "device..created"}, []string{"name"}},
		{"too long", map[string]any{"name": strings.Repeat("a", 101)}, []string{"name"}},
		{"name not a string", map[string]any{"name": 42}, []string{"name"}},
		{"long description", map[string]any{"name": "a.b", "description": strings.Repeat("x", 1001)}, []string{"description"}},
		{"schema not an object", map[string]any{"name": "a.b", "schema": "string"}, []string{"schema"}},
		{"schema invalid", map[string]any{"name": "a.b", "schema": map[string]any{"type": "banana"}}, []string{"schema.type"}},
		{"remote ref", map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "https://example.com/s.json"}}, []string{"schema"}},
		{"file ref", map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "file:///etc/passwd"}}, []string{"schema"}},
		{"unknown and read-only fields", map[string]any{"name": "a.b", "builtin": true, "colour": "red"}, []string{"builtin", "colour"}},
		{"everything wrong", map[string]any{"name": "A", "description": 7, "schema": map[string]any{"minimum": "x"}}, []string{"name", "description", "schema.minimum"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts()
			p := decodeProblem(t, e.do("POST", "/v1/event-types", e.admin, tt.body), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.fields...)
			e.assertUnchanged(before)
		})
	}
}

// TestDeleteEventTypeInUse: deleting a type that webhooks name, in an include or an
// exclude list, is a 409 naming them (detail and `webhooks`) that changes nothing, so
// they still save back as read; once no webhook names it, it is deleted.
func TestDeleteEventTypeInUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "mail.sent", nil)
	e.createEventType(e.admin, "mail.bounced", nil)
	sentBody := webhookBody("mail.sent")
	sentBody["name"] = "sent only"
	sent := e.createWebhook(e.admin, sentBody)
	allButBody := webhookBody("mail.sent", "mail.bounced")
	allButBody["name"], allButBody["eventsPolicy"] = "all but sent", "exclude"
	allBut := e.createWebhook(e.admin, allButBody)
	e.createWebhook(e.admin, map[string]any{"name": "everything", "url": "https://example.com/all", "eventsPolicy": "exclude"})

	before := e.counts()
	rec := e.do("DELETE", "/v1/event-types/mail.sent", e.admin, nil)
	p := decodeProblem(t, rec, http.StatusConflict)
	var refs struct {
		Webhooks []struct{ ID, Name string } `json:"webhooks"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &refs); err != nil {
		t.Fatal(err)
	}
	want := []struct{ ID, Name string }{{str(sent["id"]), "sent only"}, {str(allBut["id"]), "all but sent"}}
	if !slices.Equal(refs.Webhooks, want) {
		t.Errorf("webhooks = %+v, want %+v", refs.Webhooks, want)
	}
	for _, w := range want {
		if !strings.Contains(p.Detail, w.ID) || !strings.Contains(p.Detail, w.Name) {
			t.Errorf("detail %q does not name %s (%s)", p.Detail, w.ID, w.Name)
		}
	}
	e.assertUnchanged(before)
	e.must(http.StatusOK, "GET", "/v1/event-types/mail.sent", e.admin, nil)
	for _, w := range []map[string]any{sent, allBut} { // they save back as read
		id := str(w["id"])
		got := e.must(http.StatusOK, "GET", "/v1/webhooks/"+id, e.admin, nil)
		e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"events": got["events"], "eventsPolicy": got["eventsPolicy"]})
	}

	e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+str(sent["id"]), e.admin, map[string]any{"events": []string{"mail.bounced"}})
	rec = e.do("DELETE", "/v1/event-types/mail.sent", e.admin, nil)
	p = decodeProblem(t, rec, http.StatusConflict)
	if !strings.Contains(p.Detail, str(allBut["id"])) || strings.Contains(p.Detail, str(sent["id"])) {
		t.Errorf("detail %q, want only %s named", p.Detail, allBut["id"])
	}
	e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+str(allBut["id"]), e.admin, map[string]any{"events": []string{"mail.bounced"}})
	if rec := e.do("DELETE", "/v1/event-types/mail.sent", e.admin, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete once no webhook names it: %d %s", rec.Code, rec.Body)
	}
	decodeProblem(t, e.do("GET", "/v1/event-types/mail.sent", e.admin, nil), http.StatusNotFound)
	p = decodeProblem(t, e.do("DELETE", "/v1/event-types/mail.bounced", e.admin, nil), http.StatusConflict)
	if !strings.Contains(p.Detail, "2 webhook") {
		t.Errorf("detail %q, want both webhooks counted", p.Detail)
	}
}

package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookd/hookd/api"
)

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	e.createEventType(e.admin, "device.deleted", nil)

	body := webhookBody("device.created", "device.deleted", "device.created")
	body["headers"] = map[string]any{"x-api-key": "s3cret"}
	body["retrySchedule"] = []string{"30s", "90s"}
	conformsValue(t, "WebhookCreate", body)
	rec := e.do("POST", "/v1/webhooks", e.admin, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	created := e.must(http.StatusOK, "GET", rec.Header().Get("Location"), e.admin, nil)
	w := decodeJSON(t, rec)
	conformsValue(t, "WebhookWithSecret", w)
	conformsValue(t, "Webhook", created)
	id := str(w["id"])
	secret := str(w["secret"])
	if !strings.HasPrefix(id, "wh_") || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create answered id %q secret %q", id, secret)
	}
	if w["secretPrefix"] != secret[:10] {
		t.Errorf("secretPrefix %v, secret %s", w["secretPrefix"], secret[:10])
	}
	wantJSON(t, w, map[string]any{
		"name": "receiver", "description": "", "url": "https://example.com/hook",
		"events": []any{"device.created", "device.deleted"}, "eventsPolicy": "include",
		"headers": map[string]any{"X-Api-Key": "********"}, "timeoutSeconds": 30.0, "maxRetries": 5.0,
		"retrySchedule": []any{"30s", "1m30s"}, "status": "ENABLED", "attemptCount": 0.0,
		"consecutiveFailures": 0.0, "lastTriggeredAt": nil,
	})

	// Reads never show the secret, nor a credential header's value (webhook_headers_test.go).
	if _, ok := created["secret"]; ok {
		t.Error("GET shows the secret")
	}
	viewed := e.must(http.StatusOK, "GET", "/v1/webhooks/"+id, e.viewer, nil)
	conformsValue(t, "Webhook", viewed)
	if h := viewed["headers"].(map[string]any); h["X-Api-Key"] != "********" {
		t.Errorf("viewer sees header value %v", h["X-Api-Key"])
	}

	// PATCH changes only what it names.
	patched := e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"name": "renamed", "status": "DISABLED", "description": nil})
	wantJSON(t, patched, map[string]any{"name": "renamed", "status": "DISABLED", "url": "https://example.com/hook", "retrySchedule": []any{"30s", "1m30s"}})
	patched = e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"status": "ENABLED", "events": []string{}, "eventsPolicy": "exclude"})
	wantJSON(t, patched, map[string]any{"name": "renamed", "status": "ENABLED", "events": []any{}, "eventsPolicy": "exclude"})

	before := e.counts()
	p := decodeProblem(t, e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"status": "DISABLED_DUE_TO_ERRORS", "events": []string{"nope.nope"}}), http.StatusUnprocessableEntity)
	wantFields(t, p, "status", "events[0]")
	e.assertUnchanged(before)
	again := e.must(http.StatusOK, "GET", "/v1/webhooks/"+id, e.admin, nil)
	wantJSON(t, again, map[string]any{"status": "ENABLED", "eventsPolicy": "exclude"})

	if rec := e.do("DELETE", "/v1/webhooks/"+id, e.admin, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	decodeProblem(t, e.do("GET", "/v1/webhooks/"+id, e.admin, nil), http.StatusNotFound)
	decodeProblem(t, e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"name": "x"}), http.StatusNotFound)
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	with := func(edit map[string]any) map[string]any {
		b := webhookBody("device.created")
		for k, v := range edit {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	tests := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"missing name and url", with(map[string]any{"name": nil, "url": nil}), []string{"name", "url"}},
		{"blank name", with(map[string]any{"name": "   "}), []string{"name"}},
		{"long name", with(map[string]any{"name": strings.Repeat("n", 101)}), []string{"name"}},
		{"http url", with(map[string]any{"url": "http://example.com/hook"}), []string{"url"}},
		{"loopback url", with(map[string]any{"url": "https://127.0.0.1/hook"}), []string{"url"}},
		{"relative url", with(map[string]any{"url": "/hook"}), []string{"url"}},
		{"long url", with(map[string]any{"url": "https://example.com/" + strings.Repeat("a", 600)}), []string{"url"}},
		{"unknown events", with(map[string]any{"events": []string{"device.created", "nope.one", "nope.two"}}), []string{"events[1]", "events[2]"}},
		{"bad event name", with(map[string]any{"events": []string{"Device"}}), []string{"events[0]"}},
		{"policy", with(map[string]any{"eventsPolicy": "all"}), []string{"eventsPolicy"}},
		{"forbidden headers", with(map[string]any{"headers": map[string]any{"Host": "x", "content-length": "1", "Webhook-Signature": "v1,x", "ok": "fine"}}), []string{"headers.Host", "headers.content-length", "headers.Webhook-Signature"}},
		{"bad header name", with(map[string]any{"headers": map[string]any{"bad name": "x"}}), []string{"headers.bad name"}},
		{"bad header value", with(map[string]any{"headers": map[string]any{"X-A": "a\r\nb"}}), []string{"headers.X-A"}},
		{"header values not strings", with(map[string]any{"headers": map[string]any{"X-A": 1}}), []string{"headers"}},
		{"timeout", with(map[string]any{"timeoutSeconds": 61}), []string{"timeoutSeconds"}},
		{"timeout zero", with(map[string]any{"timeoutSeconds": 0}), []string{"timeoutSeconds"}},
		{"timeout not an integer", with(map[string]any{"timeoutSeconds": "30"}), []string{"timeoutSeconds"}},
		{"max retries", with(map[string]any{"maxRetries": 21}), []string{"maxRetries"}},
		{"negative retries", with(map[string]any{"maxRetries": -1}), []string{"maxRetries"}},
		{"schedule entry", with(map[string]any{"retrySchedule": []string{"1m", "soon"}}), []string{"retrySchedule[1]"}},
		{"schedule empty", with(map[string]any{"retrySchedule": []string{}}), []string{"retrySchedule"}},
		{"status by hookd", with(map[string]any{"status": "DISABLED_DUE_TO_ERRORS"}), []string{"status"}},
		{"status unknown", with(map[string]any{"status": "PAUSED"}), []string{"status"}},
		{"read-only and unknown fields", with(map[string]any{"secretPrefix": "whsec_x", "colour": "red"}), []string{"secretPrefix", "colour"}},
		{"secret not whsec", with(map[string]any{"secret": "whsec_x"}), []string{"secret"}},
		{"many at once", with(map[string]any{"name": 5, "url": "ftp://x", "events": []string{"nope.nope"}, "timeoutSeconds": 0, "maxRetries": 99, "headers": map[string]any{"Host": "h"}}),
			[]string{"name", "url", "events[0]", "timeoutSeconds", "maxRetries", "headers.Host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts()
			p := decodeProblem(t, e.do("POST", "/v1/webhooks", e.admin, tt.body), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.fields...)
			for _, f := range p.Errors {
				if f.Message == "" {
					t.Errorf("field %s without message", f.Field)
				}
			}
			e.assertUnchanged(before)
		})
	}
}

func TestWebhookDevModeURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config) { c.AllowHTTP, c.AllowPrivate = true, true })
	w := e.createWebhook(e.admin, map[string]any{"name": "local", "url": "http://127.0.0.1:9999/hook"})
	if w["url"] != "http://127.0.0.1:9999/hook" {
		t.Fatalf("url %v", w["url"])
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for range 5 {
		ids = append(ids, str(e.createWebhook(e.admin, webhookBody())["id"]))
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		page := e.must(http.StatusOK, "GET", "/v1/webhooks?limit=2&cursor="+cursor, e.viewer, nil)
		conformsValue(t, "WebhookList", page)
		data := page["data"].([]any)
		if len(data) > 2 {
			t.Fatalf("page of %d with limit 2", len(data))
		}
		for _, it := range data {
			got = append(got, str(it.(map[string]any)["id"]))
		}
		if page["nextCursor"] == nil {
			break
		}
		cursor = str(page["nextCursor"])
	}
	if len(got) != 5 {
		t.Fatalf("paged %d webhooks, want 5: %v", len(got), got)
	}
	for i := range got { // newest first
		if got[i] != ids[len(ids)-1-i] {
			t.Fatalf("order %v, created %v", got, ids)
		}
	}
	for _, q := range []string{"limit=0", "limit=251", "limit=ten", "cursor=garbage"} {
		p := decodeProblem(t, e.do("GET", "/v1/webhooks?"+q, e.admin, nil), http.StatusUnprocessableEntity)
		wantFields(t, p, strings.SplitN(q, "=", 2)[0])
	}
}

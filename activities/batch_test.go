package activities

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

func batchMembers() []store.BatchMember {
	at := time.Date(2023, 6, 21, 14, 55, 0, 0, time.FixedZone("CEST", 2*3600))
	return []store.BatchMember{
		{Event: store.Event{ID: "12345", Type: "auth.success", Timestamp: at, Data: json.RawMessage(`{ "user" : "a\u00e9" }`)}},
		{Event: store.Event{ID: `quote"d`, Type: "store.ingest", Timestamp: at.Add(time.Millisecond), Data: json.RawMessage(`{}`)}},
	}
}

func TestRenderBatchIsSeed003sShape(t *testing.T) {
	t.Parallel()
	body, ct := renderBatch(store.Webhook{Settings: webhook.Settings{ContentType: webhook.ContentTypeJSON}}, batchMembers())
	want := `{"events":[{"id":"12345","createdAt":"2023-06-21T12:55:00Z","type":"auth.success","data":{ "user" : "a\u00e9" }},` +
		`{"id":"quote\"d","createdAt":"2023-06-21T12:55:00.001Z","type":"store.ingest","data":{}}]}`
	if string(body) != want || ct != "application/json" {
		t.Fatalf("body %s (%s)\nwant %s", body, ct, want)
	}
	if !json.Valid(body) {
		t.Fatal("body is not JSON")
	}
}

func TestRenderBatchAsAForm(t *testing.T) {
	t.Parallel()
	body, ct := renderBatch(store.Webhook{Settings: webhook.Settings{ContentType: webhook.ContentTypeForm}}, batchMembers())
	if ct != "application/x-www-form-urlencoded" {
		t.Fatalf("content type %s", ct)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil || len(v) != 1 {
		t.Fatalf("form %s: %v", body, err)
	}
	var events []map[string]any
	if err := json.Unmarshal([]byte(v.Get("events")), &events); err != nil || len(events) != 2 || events[1]["id"] != `quote"d` {
		t.Fatalf("events field %s: %v", v.Get("events"), err)
	}
}

func TestBatchURLFillsOnlyTheWebhookID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want, err string }{
		{"https://example.com/hook", "https://example.com/hook", ""},
		{"https://example.com/hooks/{webhookId}?x=1", "https://example.com/hooks/wh_1?x=1", ""},
		{"https://example.com/devices/{device_id}", "", "{device_id}"},
		{"https://example.com/{eventId}", "", "{eventId}"},
	} {
		got, err := batchURL(store.Webhook{ID: "wh_1", Settings: webhook.Settings{URL: tc.url}})
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.url, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one naming %s", tc.url, err, tc.err)
		}
	}
}

package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// counts reads how many rows each product table holds.
func (in *instance) counts() map[string]int {
	in.t.Helper()
	out := map[string]int{}
	db := in.db()
	for _, table := range []string{"events", "deliveries", "webhooks", "event_types", "attempts"} {
		var n int
		if err := db.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			in.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	in.webhook(rc.URL, nil)
	before := in.counts()

	oversize := []byte(`{"type":"order.created","data":{"blob":"` + strings.Repeat("x", 300<<10) + `"}}`)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		fields             []string // must be named in errors[].field
	}{
		{"malformed JSON", http.MethodPost, "/v1/events", []byte(`{"type": "order.created",`), 400, nil},
		{"unknown event type", http.MethodPost, "/v1/events", map[string]any{"type": "no.such.type", "data": map[string]any{}}, 422, []string{"type"}},
		{"data not an object", http.MethodPost, "/v1/events", map[string]any{"type": "order.created", "data": 7}, 422, []string{"data"}},
		{"oversize event", http.MethodPost, "/v1/events", oversize, 413, nil},
		{"invalid webhook", http.MethodPost, "/v1/webhooks", map[string]any{
			"name": "", "url": "ftp://example.com", "events": []string{"no.such.type"},
			"timeoutSeconds": 0, "maxRetries": 99, "retrySchedule": []string{"soon"},
		}, 422, []string{"name", "url", "events", "timeoutSeconds", "maxRetries", "retrySchedule"}},
		{"bad event type name", http.MethodPost, "/v1/event-types", map[string]any{"name": "Not A Name"}, 422, []string{"name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := in.call(tc.method, tc.path, in.adminKey, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if !strings.HasPrefix(r.contentType, "application/problem+json") {
				t.Fatalf("content type %q, want application/problem+json", r.contentType)
			}
			if r.body["status"] != float64(tc.status) || r.str("title") == "" {
				t.Fatalf("problem %s lacks status/title", r.raw)
			}
			for _, f := range tc.fields {
				if !namesField(r.list("errors"), f) {
					t.Errorf("errors %s do not name field %q", r.raw, f)
				}
			}
		})
	}
	if after := in.counts(); !equalCounts(before, after) {
		t.Fatalf("refused requests changed the database: before %v, after %v", before, after)
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("receiver got %d requests from refused input", n)
	}
}

// namesField reports whether a problem's errors name field or a part of it (events[0]).
func namesField(errs []map[string]any, field string) bool {
	for _, e := range errs {
		f, _ := e["field"].(string)
		if f == field || strings.HasPrefix(f, field+"[") || strings.HasPrefix(f, field+".") {
			return true
		}
	}
	return false
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestOtherOrganizationSeesNotFound(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	whID, _ := in.webhook(rc.URL, nil)
	r := in.postEvent("mine", map[string]any{})
	dlvID := deliveryIDs(r)[0]
	in.deliveryStatus(dlvID, "succeeded", 20*time.Second)

	other := in.keysCreate("org_other", "admin")
	for _, path := range []string{
		"/v1/webhooks/" + whID, "/v1/events/mine", "/v1/deliveries/" + dlvID, "/v1/event-types/order.created",
	} {
		if got := in.call(http.MethodGet, path, other, nil); got.status != http.StatusNotFound {
			t.Errorf("GET %s with another org's key = %d, want 404: %s", path, got.status, got.raw)
		}
	}
	for _, path := range []string{"/v1/deliveries/" + dlvID + "/retry", "/v1/deliveries/" + dlvID + "/cancel", "/v1/webhooks/" + whID + "/ping"} {
		if got := in.call(http.MethodPost, path, other, nil); got.status != http.StatusNotFound {
			t.Errorf("POST %s with another org's key = %d, want 404: %s", path, got.status, got.raw)
		}
	}
	if got := in.call(http.MethodGet, "/v1/deliveries", other, nil); len(got.list("data")) != 0 {
		t.Errorf("another org lists deliveries %s, want none", got.raw)
	}
	// And its own publisher may post but not manage webhooks.
	pub := in.keysCreate("org_other", "publisher")
	if got := in.call(http.MethodPost, "/v1/webhooks", pub, map[string]any{"name": "x", "url": rc.URL}); got.status != http.StatusForbidden {
		t.Errorf("publisher creating a webhook = %d, want 403", got.status)
	}
	if got := in.call(http.MethodGet, "/v1/deliveries", "hk_not_a_key", nil); got.status != http.StatusUnauthorized {
		t.Errorf("unknown key = %d, want 401", got.status)
	}
}

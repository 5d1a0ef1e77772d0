package activities

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// renderCapture records what the receiver got, as it came off the wire.
type renderCapture struct {
	mu       sync.Mutex
	requests []renderRequest
}

type renderRequest struct {
	method, path, query, contentType string
	body                             []byte
}

func (c *renderCapture) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, renderRequest{
		method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery,
		contentType: r.Header.Get("Content-Type"), body: body,
	})
	w.WriteHeader(http.StatusNoContent)
}

func (c *renderCapture) all() []renderRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]renderRequest(nil), c.requests...)
}

// renderEventData has a value that needs escaping in a path, in a query and in JSON.
const renderEventData = `{"device_id": "dev 1/ä?#", "count": 3, "name": "a\"b & c", "device": {"model": "x-9"}}`

// newRenderFixture is newFixture with the webhook's url made from target (a path and
// query on the receiver, placeholders and all) and the rest of its request shape set, and
// with f.dlv the delivery of one event of data renderEventData.
func newRenderFixture(t *testing.T, c *renderCapture, target, method, contentType, tmpl string) *fixture {
	t.Helper()
	f := newFixture(t, c.handle, func(wh *store.Webhook) {
		wh.URL = strings.TrimSuffix(wh.URL, "/hook") + target
		wh.Method, wh.ContentType, wh.BodyTemplate = method, contentType, tmpl
		wh.MaxRetries = 3
	})
	res, err := f.st.IngestEvent(context.Background(), store.Event{
		OrgID: f.dlv.OrgID, ID: "evt_render", Type: "order.created",
		Timestamp: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), Data: []byte(renderEventData),
	})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("ingest: %v (%d deliveries)", err, len(res.Deliveries))
	}
	f.dlv = res.Deliveries[0]
	return f
}

// TestAttemptRendersRequestShape: the receiver gets the URL with its placeholders filled
// and escaped for their place, the method, the body of the template (or the envelope) as
// JSON or form fields, and the matching Content-Type.
func TestAttemptRendersRequestShape(t *testing.T) {
	t.Parallel()
	const target = "/devices/{device_id}?t={eventType}&m={device.model}"
	const wantPath, wantQuery = "/devices/dev%201%2F%C3%A4%3F%23", "t=order.created&m=x-9"
	tmpl := `{"device_id": "{device_id}", "n": {count}, "name": "{name}", "device": {device}, "event": "{eventId}"}`
	tests := []struct {
		name, method, contentType, tmpl string
		wantBody, wantContentType       string
	}{
		{
			name: "PUT with a JSON template", method: http.MethodPut, contentType: webhook.ContentTypeJSON, tmpl: tmpl,
			wantBody:        `{"device_id": "dev 1/ä?#", "n": 3, "name": "a\"b & c", "device": {"model":"x-9"}, "event": "evt_render"}`,
			wantContentType: "application/json",
		},
		{
			name: "PATCH with a form template", method: http.MethodPatch, contentType: webhook.ContentTypeForm, tmpl: tmpl,
			wantBody:        "device_id=dev+1%2F%C3%A4%3F%23&n=3&name=a%22b+%26+c&device=%7B%22model%22%3A%22x-9%22%7D&event=evt_render",
			wantContentType: "application/x-www-form-urlencoded",
		},
		{
			name: "POST form of the envelope", method: http.MethodPost, contentType: webhook.ContentTypeForm,
			wantContentType: "application/x-www-form-urlencoded", // body checked field by field below
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c renderCapture
			f := newRenderFixture(t, &c, target, tc.method, tc.contentType, tc.tmpl)
			res := f.attempt(t, AttemptInput{})
			if res.Status != delivery.StatusSucceeded {
				t.Fatalf("result %+v, want succeeded", res)
			}
			got := c.all()
			if len(got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(got))
			}
			r := got[0]
			if r.method != tc.method || r.path != wantPath || r.query != wantQuery || r.contentType != tc.wantContentType {
				t.Fatalf("receiver got %s %s?%s (%s), want %s %s?%s (%s)", r.method, r.path, r.query, r.contentType,
					tc.method, wantPath, wantQuery, tc.wantContentType)
			}
			if tc.wantBody != "" && string(r.body) != tc.wantBody {
				t.Fatalf("body\n%s\nwant\n%s", r.body, tc.wantBody)
			}
			if tc.tmpl == "" {
				checkEnvelopeForm(t, r.body, f)
			}
			_, atts, _ := f.load(t)
			if len(atts) != 1 || !strings.HasSuffix(atts[0].RequestURL, wantPath+"?"+wantQuery) || atts[0].RequestMethod != tc.method {
				t.Fatalf("attempts %+v, want one recording the filled URL", atts)
			}
		})
	}
}

// checkEnvelopeForm checks a form body of the envelope: its members as fields, in order.
func checkEnvelopeForm(t *testing.T, body []byte, f *fixture) {
	t.Helper()
	var keys []string
	for field := range strings.SplitSeq(string(body), "&") {
		k, _, _ := strings.Cut(field, "=")
		keys = append(keys, k)
	}
	if strings.Join(keys, ",") != "timestamp,deliveryAttemptedAt,webhookId,eventId,payload" {
		t.Fatalf("form fields %q, want the envelope's members in order", keys)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("form body %s: %v", body, err)
	}
	wantPayload := `{"type":"order.created","device_id":"dev 1/ä?#","count":3,"name":"a\"b & c","device":{"model":"x-9"}}`
	if q.Get("timestamp") != "2026-03-04T10:00:00Z" || q.Get("webhookId") != f.webhook.ID ||
		q.Get("eventId") != "evt_render" || q.Get("payload") != wantPayload {
		t.Fatalf("form fields %v", q)
	}
}

// TestAttemptMissingPlaceholderFailsAtOnce: an event without a placeholder's value ends
// the delivery failed after one attempt naming the placeholder; nothing is sent.
func TestAttemptMissingPlaceholderFailsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, target, tmpl, missing string }{
		{"in the url path", "/devices/{serial}", "", "serial"},
		{"in the url query", "/devices?m={device.color}", "", "device.color"},
		{"in the body template", "/devices/{device_id}", `{"id": "{device_id}", "owner": {owner.id}}`, "owner.id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c renderCapture
			f := newRenderFixture(t, &c, tc.target, http.MethodPost, webhook.ContentTypeJSON, tc.tmpl)
			res := f.attempt(t, AttemptInput{})
			if res.Status != delivery.StatusFailed || res.Outcome != delivery.OutcomeFailed || res.Number != 1 {
				t.Fatalf("result %+v, want failed after attempt 1", res)
			}
			if !strings.Contains(res.Error, "{"+tc.missing+"}") {
				t.Fatalf("error %q does not name {%s}", res.Error, tc.missing)
			}
			d, atts, _ := f.load(t)
			if d.Status != store.StatusFailed || d.NextAttemptAt != nil || len(atts) != 1 ||
				!strings.Contains(atts[0].Error, "{"+tc.missing+"}") || atts[0].ResponseStatus != nil {
				t.Fatalf("delivery %s (next %v), attempts %+v; want failed with one attempt naming {%s}",
					d.Status, d.NextAttemptAt, atts, tc.missing)
			}
			if n := len(c.all()); n != 0 || f.hits.Load() != 0 {
				t.Fatalf("receiver got %d requests, want none", n)
			}
		})
	}
}

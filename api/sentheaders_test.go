package api_test

import (
	"net/http"
	"reflect"
	"testing"
)

// TestHeadersHookdSetsThroughTheAPI: Content-Type and User-Agent given as custom headers
// are kept and read back (they replace hookd's on the wire); a Standard Webhooks header
// or one the transport sets is a 422 naming it as given, on create and on update, and
// changes nothing.
func TestHeadersHookdSetsThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)

	body := webhookBody("device.created")
	body["headers"] = map[string]any{"content-type": "application/cloudevents+json", "User-Agent": "acme-relay/2"}
	created := e.createWebhook(e.admin, body)
	want := map[string]any{"Content-Type": "application/cloudevents+json", "User-Agent": "acme-relay/2"}
	got := e.must(http.StatusOK, "GET", "/v1/webhooks/"+str(created["id"]), e.viewer, nil)
	if !reflect.DeepEqual(got["headers"], want) {
		t.Fatalf("headers read back as %v, want %v", got["headers"], want)
	}

	for _, tc := range []struct {
		header string
		method string
		path   string
	}{
		{header: "webhook-signature", method: "POST", path: "/v1/webhooks"},
		{header: "Webhook-Id", method: "PATCH", path: "/v1/webhooks/" + str(created["id"])},
		{header: "Host", method: "POST", path: "/v1/webhooks"},
		{header: "transfer-encoding", method: "PATCH", path: "/v1/webhooks/" + str(created["id"])},
	} {
		before := e.counts()
		body := webhookBody("device.created")
		if tc.method == "PATCH" {
			body = map[string]any{}
		}
		body["headers"] = map[string]any{tc.header: "v1,forged", "X-Tenant": "t1"}
		wantFields(t, decodeProblem(t, e.do(tc.method, tc.path, e.admin, body), http.StatusUnprocessableEntity),
			"headers."+tc.header)
		e.assertUnchanged(before)
	}
	got = e.must(http.StatusOK, "GET", "/v1/webhooks/"+str(created["id"]), e.viewer, nil)
	if !reflect.DeepEqual(got["headers"], want) {
		t.Fatalf("after the refused updates the headers are %v, want %v", got["headers"], want)
	}
}

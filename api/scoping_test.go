package api_test

import (
	"net/http"
	"testing"
)

// TestOrgScoping: another organization's ids answer 404 on every route, its records never
// show up in lists, and its event types cannot be subscribed to or posted.
func TestOrgScoping(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ids := e.seedDeliveries(1)
	wh := str(e.must(http.StatusOK, "GET", "/v1/deliveries/"+ids[0], e.admin, nil)["webhookId"])
	_, otherAdmin, otherPub, _ := e.newOrg()

	before := e.counts()
	for _, r := range [][2]string{
		{"GET", "/v1/event-types/free.form"},
		{"PUT", "/v1/event-types/free.form"},
		{"DELETE", "/v1/event-types/free.form"},
		{"GET", "/v1/webhooks/" + wh},
		{"PATCH", "/v1/webhooks/" + wh},
		{"DELETE", "/v1/webhooks/" + wh},
		{"POST", "/v1/webhooks/" + wh + "/ping"},
		{"GET", "/v1/events/ea"},
		{"GET", "/v1/deliveries/" + ids[0]},
		{"POST", "/v1/deliveries/" + ids[0] + "/retry"},
		{"POST", "/v1/deliveries/" + ids[0] + "/cancel"},
	} {
		t.Run(r[0]+" "+r[1], func(t *testing.T) {
			var body any
			if r[0] == "PUT" || r[0] == "PATCH" {
				body = map[string]any{"description": "mine now"}
			}
			decodeProblem(t, e.do(r[0], r[1], otherAdmin, body), http.StatusNotFound)
		})
	}
	for _, path := range []string{"/v1/webhooks", "/v1/events", "/v1/deliveries", "/v1/deliveries?webhookId=" + wh, "/v1/deliveries?eventId=ea"} {
		if n := len(e.must(http.StatusOK, "GET", path, otherAdmin, nil)["data"].([]any)); n != 0 {
			t.Errorf("GET %s shows %d of another organization's records", path, n)
		}
	}
	p := decodeProblem(t, e.do("POST", "/v1/webhooks", otherAdmin, webhookBody("free.form")), http.StatusUnprocessableEntity)
	wantFields(t, p, "events[0]")
	p = decodeProblem(t, e.do("POST", "/v1/events", otherPub, map[string]any{"type": "free.form", "data": map[string]any{}}), http.StatusUnprocessableEntity)
	wantFields(t, p, "type")
	e.assertUnchanged(before)
	if _, retried, canceled := e.sched.calls(); len(retried)+len(canceled) != 0 {
		t.Fatalf("signalled another organization's delivery: %v %v", retried, canceled)
	}

	// The same event id in another organization is a different event.
	e.must(http.StatusCreated, "POST", "/v1/event-types", otherAdmin, map[string]any{"name": "free.form"})
	e.must(http.StatusAccepted, "POST", "/v1/events", otherPub, map[string]any{"id": "ea", "type": "free.form", "data": map[string]any{}})
}

//go:build faults

package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// validBodies are bodies each id route with a request body would take, keyed by
// operationId, so that its answer to another organization's id can only be about the
// organization. A new route with a body and an id gets an entry here (the test says so).
var validBodies = map[string]any{
	"updateEventType":     map[string]any{"description": "taken over"},
	"updateWebhook":       map[string]any{"name": "taken over"},
	"rotateWebhookSecret": map[string]any{"gracePeriodSeconds": 0},
}

// crossOrganization makes two organizations with admin keys of their own, objects of
// every kind in B, and from A sends every route with an id in its path (from
// api/openapi.yaml) B's ids, B's ids inside bodies and as list filters: each must be a
// 404 (422 for an id in a body), no list or statistic of A may show B's objects, and the
// database must be the same afterwards.
func crossOrganization(t *testing.T, e *env) {
	r := record(&row{Fault: "cross-organization probes", Accepted: notApplicable, Delivered: notApplicable,
		Lost: notApplicable, Duplicated: notApplicable, Refused: notApplicable})
	routes, _, err := apiSpec()
	if err != nil {
		r.Failed = true
		t.Fatal(err)
	}
	keyA := e.keysCreate(t, "org_faults_a", "admin")
	keyB := e.keysCreate(t, "org_faults_b", "admin")
	b := e.seedObjects(t, keyB, "crossorg_b", newReceiver(t))
	// A's own webhook, so its lists and statistics are not empty by construction.
	e.seedObjects(t, keyA, "crossorg_a", newReceiver(t))
	bIDs := []string{b.webhook, b.event, b.delivery, b.replay}

	type check struct {
		method, path string
		body         any
		ok           func(answer) string // "" when the answer is right
	}
	notFound := func(a answer) string { return refusedAsProblem(a, http.StatusNotFound) }
	refused := func(a answer) string {
		if a.status != http.StatusNotFound && a.status != http.StatusUnprocessableEntity {
			return "want 404 or 422"
		}
		return refusedAsProblem(a, 0)
	}
	showsNoneOfB := func(a answer) string {
		if a.status != http.StatusOK {
			return "want 200"
		}
		for _, id := range append(bIDs, b.eventType) {
			if strings.Contains(string(a.body), id) {
				return "shows B's " + id
			}
		}
		return ""
	}
	countsNothing := func(a answer) string {
		var v struct {
			Deliveries struct {
				Total int `json:"total"`
			} `json:"deliveries"`
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &v) != nil {
			return "want 200 with deliveries"
		}
		if v.Deliveries.Total != 0 {
			return fmt.Sprintf("counts %d of B's deliveries", v.Deliveries.Total)
		}
		return ""
	}

	var checks []check
	idRoutes := 0
	for _, rt := range routes {
		if !strings.HasPrefix(rt.Path, "/v1/") || len(rt.pathParams()) == 0 {
			continue
		}
		idRoutes++
		path, err := b.fill(rt.Path)
		if err != nil {
			r.Failed = true
			t.Fatal(err)
		}
		c := check{method: rt.Method, path: path, ok: notFound}
		if rt.Body != nil {
			body, ok := validBodies[rt.Op.ID]
			if !ok {
				r.Failed = true
				t.Fatalf("%s (%s) takes a body: add a valid one to validBodies", rt, rt.Op.ID)
			}
			c.body = body
		}
		checks = append(checks, c)
	}
	now := time.Now().UTC()
	since, until := now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339)
	checks = append(checks,
		check{http.MethodPost, "/v1/replays", map[string]any{"deliveryIds": []string{b.delivery}}, refused},
		check{http.MethodPost, "/v1/replays", map[string]any{"since": since, "until": until, "webhookId": b.webhook, "status": "all"}, refused},
		check{http.MethodPost, "/v1/events", map[string]any{"type": b.eventType, "data": map[string]any{}}, refused},
		check{http.MethodPost, "/v1/webhooks", map[string]any{"name": "x", "url": "http://127.0.0.1:9/", "events": []string{b.eventType}}, refused},
	)
	for _, list := range []string{"/v1/webhooks", "/v1/events", "/v1/deliveries", "/v1/replays", "/v1/event-types",
		"/v1/deliveries?webhookId=" + b.webhook, "/v1/deliveries?eventId=" + b.event, "/v1/deliveries?eventType=" + b.eventType} {
		checks = append(checks, check{http.MethodGet, list, nil, showsNoneOfB})
	}
	checks = append(checks,
		check{http.MethodGet, "/v1/stats?webhookId=" + b.webhook, nil, countsNothing},
		check{http.MethodGet, "/v1/stats?eventType=" + b.eventType, nil, countsNothing},
	)

	before := e.fingerprint()
	var bad []string
	// Control: B reads its own objects through the same paths, so a 404 above is about
	// the organization, not a path the suite got wrong.
	for _, c := range checks[:idRoutes] {
		if c.method != http.MethodGet {
			continue
		}
		if a, err := e.send(c.method, c.path, keyB, nil, nil); err != nil || a.status != http.StatusOK {
			bad = append(bad, fmt.Sprintf("control: B's own GET %s: %v %v", c.path, a, err))
		}
	}
	for _, c := range checks {
		var raw []byte
		if c.body != nil {
			raw, _ = json.Marshal(c.body)
		}
		a, err := e.send(c.method, c.path, keyA, raw, nil)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s %s: %v", c.method, c.path, err))
			continue
		}
		if a.status >= 500 {
			r.Other5xx++
		}
		if why := c.ok(a); why != "" {
			bad = append(bad, fmt.Sprintf("%s %s: %s: %s", c.method, c.path, why, a))
		}
	}
	changed := changedTables(before, e.fingerprint())
	r.Times = len(checks)
	r.note("Two organizations with admin keys of their own (`hookd keys create --org`); in B an event type, a webhook, an event, its delivery and a replay. From A: each of the %d operations with an id in its path (from api/openapi.yaml) with B's id, and a valid body where it takes one (404 expected); B's ids inside bodies (a replay of B's delivery or webhook, an event of B's type, a webhook subscribing to it: 404 or 422); A's lists unfiltered and filtered by B's ids (none of B's objects shown) and A's statistics filtered by them (nothing counted).", idRoutes)
	r.note("Every table was compared before and after: %s.", orNone(changed, "nothing changed"))
	r.judge(t, "cross-organization probes", len(checks), bad, changed)
}

package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/api"
)

// newWatchedEnv is newEnv with the request metrics in reg, so a test can assert what the
// API answered, whatever reached the client.
func newWatchedEnv(t *testing.T) (*env, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return newEnv(t, func(c *api.Config) { c.Metrics = reg }), reg
}

// answer is one row of hookd_http_requests_total.
type answer struct{ method, route, status string }

// answers returns how many requests the API answered, by method, route and status.
func answers(t *testing.T, reg *prometheus.Registry) map[answer]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[answer]float64{}
	for _, f := range families {
		if f.GetName() != "hookd_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[answer{labels["method"], labels["route"], labels["status"]}] = m.GetCounter().GetValue()
		}
	}
	return out
}

// assertNoServerFault fails if the API answered any request with a 5xx or logged an error.
func assertNoServerFault(t *testing.T, e *env, reg *prometheus.Registry) {
	t.Helper()
	for a, n := range answers(t, reg) {
		if strings.HasPrefix(a.status, "5") {
			t.Errorf("%v requests answered %s on %s %s", n, a.status, a.method, a.route)
		}
	}
	for line := range strings.SplitSeq(e.logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("error logged: %s", line)
		}
	}
}

// hostile is one request a caller should not be able to turn into a 5xx or a stored row.
type hostile struct {
	name, method, path string
	body               any    // nil, raw or a value to encode
	status             int    // 404, 422, 400, 401
	field              string // for 422: the field the problem must name
}

// Strings PostgreSQL cannot store, as they reach the API in a URL and in a JSON body.
var (
	badPathValues  = []string{"%00", "%FF", "%C3%28", "wh_%00x", "%ED%A0%80"}
	badQueryValues = []string{"%00", "%FF", "x%C3%28"}
)

// TestHostileInputIsRefusedNamingTheField sends, to every route that takes input, path
// ids, query values and bodies holding what PostgreSQL refuses (invalid UTF-8, NUL, an
// unpaired surrogate escape): each must be a 4xx problem naming the field, change nothing,
// answer no 5xx and log no error.
func TestHostileInputIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	e, reg := newWatchedEnv(t)
	e.createEventType(e.admin, "device.seen", map[string]any{"type": "object"})
	webhookID := str(e.createWebhook(e.admin, webhookBody("device.seen"))["id"])
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"id": "seen-1", "type": "device.seen", "data": map[string]any{}})

	var cases []hostile
	for _, bad := range badPathValues {
		for _, r := range []struct{ method, path string }{
			{"GET", "/v1/event-types/"}, {"PUT", "/v1/event-types/"}, {"DELETE", "/v1/event-types/"},
			{"GET", "/v1/webhooks/"}, {"PATCH", "/v1/webhooks/"}, {"DELETE", "/v1/webhooks/"},
			{"GET", "/v1/events/"}, {"GET", "/v1/deliveries/"},
		} {
			cases = append(cases, hostile{name: r.method + " " + r.path + bad, method: r.method, path: r.path + bad, body: map[string]any{"description": "d"}, status: http.StatusNotFound})
		}
		for _, p := range []string{"/v1/webhooks/%s/ping", "/v1/deliveries/%s/retry", "/v1/deliveries/%s/cancel"} {
			path := strings.Replace(p, "%s", bad, 1)
			cases = append(cases, hostile{name: "POST " + path, method: "POST", path: path, status: http.StatusNotFound})
		}
	}
	for _, bad := range badQueryValues {
		for _, q := range []string{
			"/v1/event-types?limit=", "/v1/event-types?cursor=", "/v1/webhooks?cursor=", "/v1/events?cursor=",
			"/v1/deliveries?status=", "/v1/deliveries?eventType=", "/v1/deliveries?webhookId=",
			"/v1/deliveries?eventId=", "/v1/deliveries?since=", "/v1/deliveries?until=", "/v1/webhooks?unknown=",
		} {
			param := q[strings.Index(q, "?")+1 : len(q)-1]
			cases = append(cases, hostile{name: "GET " + q + bad, method: "GET", path: q + bad, status: http.StatusUnprocessableEntity, field: param})
		}
	}
	const nul, lone = `\u0000`, `\ud800`
	body := func(method, path, json, field string) hostile {
		return hostile{name: method + " " + path + " " + json, method: method, path: path, body: raw(json), status: http.StatusUnprocessableEntity, field: field}
	}
	wh, et := "/v1/webhooks/"+webhookID, "/v1/event-types/device.seen"
	cases = append(cases,
		body("POST", "/v1/event-types", `{"name": "a`+nul+`"}`, "name"),
		body("POST", "/v1/event-types", `{"name": "a.b", "description": "d`+nul+`"}`, "description"),
		body("POST", "/v1/event-types", "{\"name\": \"a.b\", \"description\": \"\xff\"}", "description"),
		body("POST", "/v1/event-types", "{\"name\": \"a.b\", \"schema\": {\"type\": \"object\", \"title\": \"\xc3\x28\"}}", "schema.title"),
		body("POST", "/v1/event-types", `{"name": "a.b", "schema": {"enum": ["x", "`+nul+`"]}}`, "schema.enum[1]"),
		body("POST", "/v1/event-types", "{\"name\": \"a.b\", \"schema\": {\"properties\": {\"\xff\": {}}}}", "schema.properties"),
		body("PUT", et, `{"description": "`+lone+`"}`, "description"),
		body("PUT", et, "{\"schema\": {\"$comment\": \"\xff\"}}", "schema.$comment"),

		body("POST", "/v1/webhooks", `{"name": "`+nul+`", "url": "https://example.com/hook"}`, "name"),
		body("POST", "/v1/webhooks", "{\"name\": \"n\", \"description\": \"\xff\", \"url\": \"https://example.com/hook\"}", "description"),
		body("POST", "/v1/webhooks", `{"name": "n", "url": "https://example.com/`+nul+`"}`, "url"),
		body("POST", "/v1/webhooks", "{\"name\": \"n\", \"url\": \"https://example.com/hook\", \"headers\": {\"X-A\": \"\xff\"}}", "headers.X-A"),
		body("POST", "/v1/webhooks", `{"name": "n", "url": "https://example.com/hook", "headers": {"X-`+nul+`": "v"}}`, "headers"),
		body("POST", "/v1/webhooks", `{"name": "n", "url": "https://example.com/hook", "events": ["device.seen", "`+lone+`"]}`, "events[1]"),
		body("POST", "/v1/webhooks", `{"name": "n", "url": "https://example.com/hook", "retrySchedule": ["1m`+nul+`"]}`, "retrySchedule[0]"),
		body("POST", "/v1/webhooks", `{"name": "n", "url": "https://example.com/hook", "eventsPolicy": "`+nul+`"}`, "eventsPolicy"),
		body("PATCH", wh, `{"name": "`+nul+`"}`, "name"),
		body("PATCH", wh, "{\"description\": \"\xed\xa0\x80\"}", "description"),
		body("PATCH", wh, `{"status": "`+nul+`"}`, "status"),
		body("PATCH", wh, `{"headers": {"X-A": "`+lone+`"}}`, "headers.X-A"),

		body("POST", "/v1/events", `{"id": "`+nul+`", "type": "device.seen", "data": {}}`, "id"),
		body("POST", "/v1/events", "{\"type\": \"\xff\", \"data\": {}}", "type"),
		body("POST", "/v1/events", `{"type": "device.seen", "timestamp": "`+nul+`", "data": {}}`, "timestamp"),
		body("POST", "/v1/events", "{\"type\": \"device.seen\", \"data\": {\"device\": {\"name\": \"\xff\"}}}", "data.device.name"),
		body("POST", "/v1/events", `{"type": "device.seen", "data": {"a": "x`+nul+`"}}`, "data.a"),
		body("POST", "/v1/events", `{"type": "device.seen", "data": {"a": ["ok", "\udc00"]}}`, "data.a[1]"),
		body("POST", "/v1/events", "{\"type\": \"device.seen\", \"data\": {\"\xc3\x28\": 1}}", "data"),
		body("POST", "/v1/events", `{"type": "device.seen", "data": {"`+nul+`": 1}}`, "data"),
		body("POST", "/v1/events", `{"`+nul+`": 1, "type": "device.seen", "data": {}}`, "\x00"),
		// A repeated name: what is stored would differ from what a parser reads.
		body("POST", "/v1/events", `{"type": "device.seen", "data": {"a": 1, "a": "s"}}`, "data.a"),
		body("POST", "/v1/events", `{"type": "device.seen", "data": {"d": [{"x": 1, "x": 2}]}}`, "data.d[0].x"),
		body("POST", "/v1/events", `{"type": "device.seen", "type": "other.type", "data": {}}`, "type"),
		body("PATCH", wh, `{"headers": {"X-A": "1", "X-A": "2"}}`, "headers.X-A"),
		body("POST", "/v1/event-types", `{"name": "a.b", "schema": {"type": "object", "type": "string"}}`, "schema.type"),
	)

	before := e.counts()
	snapshot := func() string {
		return e.do("GET", wh, e.admin, nil).Body.String() + e.do("GET", et, e.admin, nil).Body.String()
	}
	stored := snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := e.admin
			if tc.path == "/v1/events" && tc.method == "POST" {
				key = e.pub
			}
			p := decodeProblem(t, e.do(tc.method, tc.path, key, tc.body), tc.status)
			if tc.field != "" {
				if msg := p.fields()[tc.field]; msg == "" {
					t.Errorf("field %q not named; problem %+v", tc.field, p)
				}
			}
		})
	}
	// The role comes first: a key that may not use a route learns nothing of its ids.
	decodeProblem(t, e.do("DELETE", "/v1/webhooks/%00", e.pub, nil), http.StatusForbidden)
	e.assertUnchanged(before)
	if now := snapshot(); now != stored {
		t.Errorf("a refused request changed the stored webhook or event type:\nbefore %s\nafter  %s", stored, now)
	}
	assertNoServerFault(t, e, reg)
}

// TestStorableLookalikesAreAccepted keeps the rule from refusing what PostgreSQL stores: an
// escaped backslash before "u0000", escaped non-ASCII and a surrogate pair.
func TestStorableLookalikesAreAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.seen", nil)
	data := raw(`{"type": "device.seen", "data": {"path": "C:\\u0000", "name": "caf\u00e9 \ud83c\udf89"}}`)
	got := e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, data)
	ev := e.must(http.StatusOK, "GET", "/v1/events/"+str(got["id"]), e.pub, nil)
	d := ev["data"].(map[string]any)
	if d["path"] != `C:\u0000` || d["name"] != "café 🎉" {
		t.Errorf("stored data %v", d)
	}
	e.must(http.StatusOK, "GET", "/v1/webhooks?unknown=caf%C3%A9", e.admin, nil)
}

package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// replayCounts snapshots every table a replay request could write, the replays' own with
// the others.
func (e *env) replayCounts() map[string]int {
	e.t.Helper()
	out := e.counts()
	for _, table := range []string{"replays", "replay_deliveries"} {
		out[table] = e.count(table)
	}
	return out
}

// replaysUnchanged fails unless every table of replayCounts has as many rows as before.
func (e *env) replaysUnchanged(before map[string]int) {
	e.t.Helper()
	for table, n := range e.replayCounts() {
		if before[table] != n {
			e.t.Errorf("%s: %d rows, was %d: a refused request wrote something", table, n, before[table])
		}
	}
}

// TestReplayRefusesBadInput: each bad body is a 422 naming exactly the bad fields (400
// for one that is not a JSON object), and a refused request writes nothing.
func TestReplayRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh, dids := e.seedDeliveries(2)
	_, otherAdmin, _, _ := e.newOrg()
	e.createEventType(otherAdmin, "other.org.type", nil)
	otherWebhook := str(e.createWebhook(otherAdmin, webhookBody("other.org.type"))["id"])

	now := time.Now().UTC()
	since, until := now.Add(-time.Hour).Format(time.RFC3339), now.Format(time.RFC3339)
	byRange := func(kv ...any) map[string]any {
		body := map[string]any{"since": since, "until": until}
		for i := 0; i < len(kv); i += 2 {
			body[kv[i].(string)] = kv[i+1]
		}
		return body
	}
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("dlv_%026d", i)
	}
	tests := []struct {
		name   string
		body   any
		fields []string
	}{
		{"nothing to replay", map[string]any{}, []string{"since", "until"}},
		{"only ratePerSecond", map[string]any{"ratePerSecond": 5}, []string{"since", "until"}},
		{"since without until", map[string]any{"since": since}, []string{"until"}},
		{"until without since", map[string]any{"until": until}, []string{"since"}},
		{"ids and a range", map[string]any{"deliveryIds": dids, "since": since, "until": until}, []string{"since", "until"}},
		{"ids and since", map[string]any{"deliveryIds": dids, "since": since}, []string{"since"}},
		{"ids with a status", map[string]any{"deliveryIds": dids, "status": "all"}, []string{"status"}},
		{"ids with range filters", map[string]any{"deliveryIds": dids, "webhookId": wh, "eventTypes": []string{"free.form"}}, []string{"webhookId", "eventTypes"}},
		{"no ids", map[string]any{"deliveryIds": []string{}}, []string{"deliveryIds"}},
		{"too many ids", map[string]any{"deliveryIds": tooMany}, []string{"deliveryIds"}},
		{"ids not an array", map[string]any{"deliveryIds": dids[0]}, []string{"deliveryIds"}},
		{"an id not a string", map[string]any{"deliveryIds": []any{dids[0], 7}}, []string{"deliveryIds"}},
		{"malformed ids", map[string]any{"deliveryIds": []string{dids[0], "evt_1", ""}}, []string{"deliveryIds[1]", "deliveryIds[2]"}},
		{"a repeated id", map[string]any{"deliveryIds": []string{dids[0], dids[1], dids[0]}}, []string{"deliveryIds[2]"}},
		{"since equals until", byRange("until", since), []string{"until"}},
		{"since after until", byRange("since", until, "until", since), []string{"until"}},
		{"until in the future", byRange("until", now.Add(time.Hour).Format(time.RFC3339)), []string{"until"}},
		{"since not a time", byRange("since", "yesterday"), []string{"since"}},
		{"until not a string", byRange("until", 1700000000), []string{"until"}},
		{"since with a leap second at noon", byRange("since", "2016-12-31T12:00:60Z"), []string{"since"}},
		{"status not failed or all", byRange("status", "succeeded"), []string{"status"}},
		{"status empty", byRange("status", ""), []string{"status"}},
		{"webhookId malformed", byRange("webhookId", "orders"), []string{"webhookId"}},
		{"webhookId unknown", byRange("webhookId", "wh_01jb8m3x9x1q2w3e4r5t6y7u8i"), []string{"webhookId"}},
		{"webhookId of another organization", byRange("webhookId", otherWebhook), []string{"webhookId"}},
		{"no event types", byRange("eventTypes", []string{}), []string{"eventTypes"}},
		{"event types malformed", byRange("eventTypes", []string{"free.form", "Free Form"}), []string{"eventTypes[1]"}},
		{"an event type repeated", byRange("eventTypes", []string{"free.form", "free.form"}), []string{"eventTypes[1]"}},
		{"an event type unknown", byRange("eventTypes", []string{"free.form", "nope.nothing"}), []string{"eventTypes[1]"}},
		{"an event type of another organization", byRange("eventTypes", []string{"other.org.type"}), []string{"eventTypes[0]"}},
		{"rate zero", byRange("ratePerSecond", 0), []string{"ratePerSecond"}},
		{"rate too high", byRange("ratePerSecond", 1001), []string{"ratePerSecond"}},
		{"rate negative", byRange("ratePerSecond", -5), []string{"ratePerSecond"}},
		{"rate a fraction", byRange("ratePerSecond", 1.5), []string{"ratePerSecond"}},
		{"rate a string", byRange("ratePerSecond", "50"), []string{"ratePerSecond"}},
		{"an unknown field", byRange("dryRun", true), []string{"dryRun"}},
		{"a read-only field", byRange("id", "rpl_1"), []string{"id"}},
		{"a field given twice", raw(`{"since":"` + since + `","until":"` + until + `","status":"all","status":"failed"}`), []string{"status"}},
		{"everything wrong at once", map[string]any{
			"since": "soon", "until": now.Add(time.Hour).Format(time.RFC3339), "webhookId": "x",
			"eventTypes": []string{"a b"}, "status": "some", "ratePerSecond": 0,
		}, []string{"since", "until", "webhookId", "eventTypes[0]", "status", "ratePerSecond"}},
	}
	before := e.replayCounts()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodeProblem(t, e.do("POST", "/v1/replays", e.admin, tt.body), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.fields...)
		})
	}
	for _, body := range []raw{"", "{", "[]", `"replay"`, "null", `{"since": }`} {
		t.Run("malformed "+string(body), func(t *testing.T) {
			decodeProblem(t, e.do("POST", "/v1/replays", e.admin, body), http.StatusBadRequest)
		})
	}
	e.replaysUnchanged(before)
}

// TestReplayRoles: only an admin starts or cancels a replay; admins and viewers read
// them; a publisher reads none; no key is a 401. A refused start writes nothing.
func TestReplayRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, dids := e.seedDeliveries(1)
	body := map[string]any{"deliveryIds": dids}
	before := e.replayCounts()
	for _, key := range []string{e.pub, e.viewer} {
		decodeProblem(t, e.do("POST", "/v1/replays", key, body), http.StatusForbidden)
	}
	decodeProblem(t, e.do("POST", "/v1/replays", "", body), http.StatusUnauthorized)
	e.replaysUnchanged(before)

	id := str(e.must(http.StatusAccepted, "POST", "/v1/replays", e.admin, body)["id"])
	for _, key := range []string{e.admin, e.viewer} {
		e.must(http.StatusOK, "GET", "/v1/replays", key, nil)
		e.must(http.StatusOK, "GET", "/v1/replays/"+id, key, nil)
	}
	for _, path := range []string{"/v1/replays", "/v1/replays/" + id} {
		decodeProblem(t, e.do("GET", path, e.pub, nil), http.StatusForbidden)
		decodeProblem(t, e.do("GET", path, "", nil), http.StatusUnauthorized)
	}
	for _, key := range []string{e.pub, e.viewer} {
		decodeProblem(t, e.do("POST", "/v1/replays/"+id+"/cancel", key, nil), http.StatusForbidden)
	}
	if got := str(e.must(http.StatusOK, "GET", "/v1/replays/"+id, e.admin, nil)["status"]); got != store.ReplayRunning {
		t.Fatalf("after refused cancels the replay is %s", got)
	}
}

// TestReplayByIDs: a replay by ids answers 202 with the documented shape and Location;
// it reads back the same by id and in the list.
func TestReplayByIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, dids := e.seedDeliveries(3)
	rec := e.do("POST", "/v1/replays", e.admin, map[string]any{"deliveryIds": dids[:2], "ratePerSecond": 7})
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /v1/replays = %d: %s", rec.Code, rec.Body)
	}
	conforms(t, "Replay", rec.Body.Bytes())
	got := decodeJSON(t, rec)
	id := str(got["id"])
	if !strings.HasPrefix(id, "rpl_") || rec.Header().Get("Location") != "/v1/replays/"+id {
		t.Fatalf("id %q, Location %q", id, rec.Header().Get("Location"))
	}
	wantJSON(t, got, map[string]any{
		"status": "running", "ratePerSecond": 7, "matched": 2, "finishedAt": nil, "error": nil,
		"filter": map[string]any{"deliveryIds": dids[:2], "since": nil, "until": nil, "webhookId": nil, "eventTypes": nil, "status": nil},
	})

	read := e.do("GET", "/v1/replays/"+id, e.viewer, nil)
	conforms(t, "Replay", read.Body.Bytes())
	wantJSON(t, decodeJSON(t, read), map[string]any{"id": id, "matched": 2, "ratePerSecond": 7, "filter": got["filter"]})

	list := e.do("GET", "/v1/replays", e.viewer, nil)
	conforms(t, "ReplayList", list.Body.Bytes())
	if ids := listIDs(decodeJSON(t, list)); !slices.Equal(ids, []string{id}) {
		t.Fatalf("list %v, want [%s]", ids, id)
	}
}

// TestReplayByRange: a replay by since and until counts the failed deliveries of the
// range by default, every delivery with status all, narrowed by webhook and event type.
func TestReplayByRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	start := time.Now().UTC().Add(-time.Minute)
	wh, dids := e.seedDeliveries(4)
	e.setStatus(dids[0], store.StatusFailed)
	e.setStatus(dids[2], store.StatusFailed)
	e.setStatus(dids[3], store.StatusSucceeded)
	e.createEventType(e.admin, "other.type", nil)
	e.createWebhook(e.admin, webhookBody("other.type"))
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"id": "other", "type": "other.type", "data": map[string]any{}})
	until := time.Now().UTC().Add(time.Second)

	since, untilS := start.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano)
	tests := []struct {
		name    string
		extra   map[string]any
		matched int
	}{
		{"failed by default", nil, 2},
		{"all", map[string]any{"status": "all"}, 5},
		{"all of one webhook", map[string]any{"status": "all", "webhookId": wh}, 4},
		{"all of one event type", map[string]any{"status": "all", "eventTypes": []string{"other.type"}}, 1},
		{"failed of another event type", map[string]any{"eventTypes": []string{"other.type"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"since": since, "until": untilS}
			for k, v := range tt.extra {
				body[k] = v
			}
			rec := e.do("POST", "/v1/replays", e.admin, body)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("POST /v1/replays = %d: %s", rec.Code, rec.Body)
			}
			conforms(t, "Replay", rec.Body.Bytes())
			got := decodeJSON(t, rec)
			wantStatus := "failed"
			if s, ok := tt.extra["status"].(string); ok {
				wantStatus = s
			}
			wantJSON(t, got, map[string]any{"matched": tt.matched, "ratePerSecond": 50})
			// Nothing matched: nothing to run, the replay is completed at once.
			if done := tt.matched == 0; (str(got["status"]) == store.ReplayCompleted) != done || (got["finishedAt"] != nil) != done {
				t.Errorf("matched %d: status %v, finishedAt %v", tt.matched, got["status"], got["finishedAt"])
			}
			f, _ := got["filter"].(map[string]any)
			if str(f["status"]) != wantStatus || f["deliveryIds"] != nil || str(f["since"]) == "" || str(f["until"]) == "" {
				t.Fatalf("filter %v", f)
			}
		})
	}
}

// TestReplayListPages: the list is newest first and pages with the cursor.
func TestReplayListPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, dids := e.seedDeliveries(1)
	var made []string
	for range 3 {
		made = append(made, str(e.must(http.StatusAccepted, "POST", "/v1/replays", e.admin, map[string]any{"deliveryIds": dids})["id"]))
	}
	slices.Reverse(made)
	var got []string
	path := "/v1/replays?limit=2"
	for range 3 {
		page := e.must(http.StatusOK, "GET", path, e.viewer, nil)
		got = append(got, listIDs(page)...)
		next := str(page["nextCursor"])
		if next == "" {
			break
		}
		path = "/v1/replays?limit=2&cursor=" + next
	}
	if !slices.Equal(got, made) {
		t.Fatalf("pages %v, want %v", got, made)
	}
	for _, q := range []string{"limit=0", "limit=251", "cursor=nonsense"} {
		p := decodeProblem(t, e.do("GET", "/v1/replays?"+q, e.viewer, nil), http.StatusUnprocessableEntity)
		wantFields(t, p, strings.SplitN(q, "=", 2)[0])
	}
}

// TestReplayCancel: cancel stops a running replay (202, canceled, finishedAt set); a
// second cancel is a 409 that changes nothing.
func TestReplayCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, dids := e.seedDeliveries(2)
	id := str(e.must(http.StatusAccepted, "POST", "/v1/replays", e.admin, map[string]any{"deliveryIds": dids, "ratePerSecond": 1})["id"])
	rec := e.do("POST", "/v1/replays/"+id+"/cancel", e.admin, nil)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("cancel = %d: %s", rec.Code, rec.Body)
	}
	conforms(t, "Replay", rec.Body.Bytes())
	got := decodeJSON(t, rec)
	if str(got["status"]) != store.ReplayCanceled || got["finishedAt"] == nil {
		t.Fatalf("after cancel: %v", got)
	}
	p := decodeProblem(t, e.do("POST", "/v1/replays/"+id+"/cancel", e.admin, nil), http.StatusConflict)
	if !strings.Contains(p.Detail, "canceled") {
		t.Fatalf("409 detail %q does not say the replay is canceled", p.Detail)
	}
	wantJSON(t, e.must(http.StatusOK, "GET", "/v1/replays/"+id, e.admin, nil), map[string]any{"status": "canceled", "finishedAt": got["finishedAt"]})
}

// seedDeliveriesOf posts n events of type org.form to a new webhook of the organization
// of admin (which also publishes them) and returns the webhook and delivery ids.
func (e *env) seedDeliveriesOf(admin string, n int) (webhookID string, deliveryIDs []string) {
	e.t.Helper()
	e.createEventType(admin, "org.form", nil)
	webhookID = str(e.createWebhook(admin, webhookBody("org.form"))["id"])
	for i := range n {
		got := e.must(http.StatusAccepted, "POST", "/v1/events", admin, map[string]any{"id": fmt.Sprintf("org-%d", i), "type": "org.form", "data": map[string]any{}})
		deliveryIDs = append(deliveryIDs, str(got["deliveries"].([]any)[0].(map[string]any)["id"]))
	}
	return webhookID, deliveryIDs
}

// TestReplaysOfOtherOrganizations: another organization's replay and deliveries are
// unknown: 404 to read or cancel, a 422 naming the id to replay, and nothing written.
func TestReplaysOfOtherOrganizations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, dids := e.seedDeliveries(2)
	id := str(e.must(http.StatusAccepted, "POST", "/v1/replays", e.admin, map[string]any{"deliveryIds": dids})["id"])
	_, otherAdmin, _, otherViewer := e.newOrg()

	before := e.replayCounts()
	for _, path := range []string{"/v1/replays/" + id, "/v1/replays/rpl_01jb8m3x9x1q2w3e4r5t6y7u8i", "/v1/replays/nonsense"} {
		decodeProblem(t, e.do("GET", path, otherViewer, nil), http.StatusNotFound)
		decodeProblem(t, e.do("POST", path+"/cancel", otherAdmin, nil), http.StatusNotFound)
	}
	if list := listIDs(e.must(http.StatusOK, "GET", "/v1/replays", otherViewer, nil)); len(list) != 0 {
		t.Fatalf("another organization lists %v", list)
	}
	p := decodeProblem(t, e.do("POST", "/v1/replays", otherAdmin, map[string]any{"deliveryIds": []string{dids[1]}}), http.StatusUnprocessableEntity)
	wantFields(t, p, "deliveryIds[0]")
	e.replaysUnchanged(before)
	// Its own id among them changes nothing: the replay is refused whole.
	_, own := e.seedDeliveriesOf(otherAdmin, 1)
	before = e.replayCounts()
	p = decodeProblem(t, e.do("POST", "/v1/replays", otherAdmin, map[string]any{
		"deliveryIds": []string{own[0], dids[0], "dlv_01jb8m3x9x1q2w3e4r5t6y7u8i"},
	}), http.StatusUnprocessableEntity)
	wantFields(t, p, "deliveryIds[1]", "deliveryIds[2]")
	e.replaysUnchanged(before)
	if got := str(e.must(http.StatusOK, "GET", "/v1/replays/"+id, e.admin, nil)["status"]); got != store.ReplayRunning {
		t.Fatalf("the replay is %s after another organization's cancel", got)
	}
}

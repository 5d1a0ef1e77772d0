package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEventIDTravelsInAURL: a caller's event id is 1 to 255 letters, digits and
// . _ : ~ -, not "." or "..", and every id accepted is fetched back by its URL as is.
func TestEventIDTravelsInAURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "free.form", nil)
	post := func(id string) *http.Response {
		rec := e.do("POST", "/v1/events", e.pub, map[string]any{"id": id, "type": "free.form", "data": map[string]any{}})
		return rec.Result()
	}

	for _, id := range []string{strings.Repeat("x", 255), "...", ".hidden", "a.b_c:d~e-F9", strings.Repeat(".", 255)} {
		t.Run("accepted "+id[:min(len(id), 20)], func(t *testing.T) {
			if got := post(id).StatusCode; got != http.StatusAccepted {
				t.Fatalf("POST with id %q: status %d, want 202", id, got)
			}
			got := e.must(http.StatusOK, "GET", "/v1/events/"+id, e.viewer, nil)
			if str(got["id"]) != id {
				t.Fatalf("GET /v1/events/%s answered id %q", id, got["id"])
			}
			conformsValue(t, "EventDetail", got)
		})
	}

	for _, id := range []string{".", "..", strings.Repeat("x", 256), "a/b", "a b", "é", "a%2Fb", ""} {
		t.Run("refused "+id[:min(len(id), 20)], func(t *testing.T) {
			before := e.counts()
			rec := e.do("POST", "/v1/events", e.pub, map[string]any{"id": id, "type": "free.form", "data": map[string]any{}})
			wantFields(t, decodeProblem(t, rec, http.StatusUnprocessableEntity), "id")
			e.assertUnchanged(before)
		})
	}

	t.Run("refused as a filter", func(t *testing.T) {
		for _, id := range []string{"..", strings.Repeat("x", 256)} {
			rec := e.do("GET", "/v1/deliveries?eventId="+id, e.admin, nil)
			wantFields(t, decodeProblem(t, rec, http.StatusUnprocessableEntity), "eventId")
		}
	})
}

package api_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

// TestCursorIsBoundToItsList: a cursor works only for the list and filters that issued
// it (API.md, Lists): any other use is a 422 naming cursor; the limit may change.
func TestCursorIsBoundToItsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ids := e.seedDeliveries(5)
	for _, id := range ids[:3] {
		e.setStatus(id, store.StatusFailed)
	}
	first := func(path string) string {
		t.Helper()
		page := e.must(http.StatusOK, "GET", path, e.admin, nil)
		if page["nextCursor"] == nil {
			t.Fatalf("%s: no nextCursor", path)
		}
		return url.QueryEscape(str(page["nextCursor"]))
	}
	events := first("/v1/events?limit=1")
	failed := first("/v1/deliveries?status=failed&limit=1")
	since := first("/v1/deliveries?since=2000-01-01T00:00:00Z&limit=1")
	webhooks := func() string {
		e.createWebhook(e.admin, webhookBody())
		return first("/v1/webhooks?limit=1")
	}()
	old := base64.RawURLEncoding.EncodeToString([]byte("s1.9999"))

	refused := []string{
		"/v1/deliveries?cursor=" + events,
		"/v1/deliveries?status=succeeded&cursor=" + failed,
		"/v1/deliveries?cursor=" + failed,
		"/v1/deliveries?status=failed&eventType=free.form&cursor=" + failed,
		"/v1/deliveries?since=2000-01-01T00:00:00.000001Z&cursor=" + since,
		"/v1/events?cursor=" + failed,
		"/v1/webhooks?cursor=" + events,
		"/v1/event-types?cursor=" + webhooks,
		"/v1/events?cursor=" + old,
	}
	for _, path := range refused {
		t.Run(path, func(t *testing.T) {
			p := decodeProblem(t, e.do("GET", path, e.admin, nil), http.StatusUnprocessableEntity)
			wantFields(t, p, "cursor")
		})
	}

	t.Run("another organization", func(t *testing.T) {
		_, admin, _, _ := e.newOrg()
		p := decodeProblem(t, e.do("GET", "/v1/events?cursor="+events, admin, nil), http.StatusUnprocessableEntity)
		wantFields(t, p, "cursor")
	})

	t.Run("paging through with the same filters and a changing limit", func(t *testing.T) {
		want := slices.Clone(ids[:3])
		slices.Reverse(want)
		var got []string
		cursor := ""
		for limit := 1; ; limit++ {
			page := e.must(http.StatusOK, "GET", "/v1/deliveries?status=failed&limit="+string(rune('0'+limit))+"&cursor="+cursor, e.viewer, nil)
			got = append(got, listIDs(page)...)
			if page["nextCursor"] == nil {
				break
			}
			cursor = url.QueryEscape(str(page["nextCursor"]))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
	})

	t.Run("the same instant spelled otherwise is the same filter", func(t *testing.T) {
		page := e.must(http.StatusOK, "GET", "/v1/deliveries?since="+url.QueryEscape("2000-01-01t01:00:00+01:00")+"&limit=1&cursor="+since, e.admin, nil)
		if got := listIDs(page); len(got) != 1 || got[0] != ids[3] {
			t.Fatalf("second page %v, want [%s]", got, ids[3])
		}
	})
}

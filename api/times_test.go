package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestTimeSpellings: every time a caller sends (event timestamp, since, until) is read as
// RFC 3339 §5.6 in full and answered in UTC; what cannot be read, or answered, is a 422
// naming the field.
func TestTimeSpellings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "free.form", nil)
	e.createWebhook(e.admin, webhookBody("free.form"))

	accepted := []struct{ in, answer string }{
		{"2025-01-02T15:04:05Z", "2025-01-02T15:04:05Z"},
		{"2025-01-02t15:04:05z", "2025-01-02T15:04:05Z"},
		{"2025-01-02T15:04:05z", "2025-01-02T15:04:05Z"},
		{"2025-01-02T16:04:05+01:00", "2025-01-02T15:04:05Z"},
		{"2025-01-02T10:34:05.5-04:30", "2025-01-02T15:04:05.5Z"},
		{"2025-01-02T15:04:05-00:00", "2025-01-02T15:04:05Z"},
		{"2025-01-03T15:03:05+23:59", "2025-01-02T15:04:05Z"},
		{"2025-01-02T15:04:05.123456789123456Z", "2025-01-02T15:04:05.123456Z"},
		{"2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999Z"},
		{"2016-12-31t23:59:60.5z", "2016-12-31T23:59:59.999999Z"},
		{"2017-01-01T00:59:60+01:00", "2016-12-31T23:59:59.999999Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999Z"},
		{"9999-12-31T23:59:59+01:00", "9999-12-31T22:59:59Z"},
	}
	refused := []string{
		"2025-01-02 15:04:05Z",
		"2025-01-02T15:04:05",
		"2025-01-02",
		"2025-01-02T15:04:05,5Z",
		"2025-01-02T15:04:05.Z",
		"2025-01-02T1:04:05Z",
		"2025-01-02T15:04:05+24:00",
		"2025-01-02T15:04:05+00:60",
		"2025-01-02T15:04:05+0100",
		"2025-02-29T00:00:00Z",
		"2025-01-02T24:00:00Z",
		"2016-12-31T12:00:60Z",
		"2016-12-31T23:59:60+01:00",
		"9999-12-31T23:59:59-01:00",
		"0000-01-01T00:00:00+01:00",
		"+12025-01-02T15:04:05Z",
	}

	for i, tt := range accepted {
		t.Run("timestamp "+tt.in, func(t *testing.T) {
			id := fmt.Sprint("t", i)
			got := e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, map[string]any{"id": id, "type": "free.form", "timestamp": tt.in, "data": map[string]any{}})
			if str(got["timestamp"]) != tt.answer {
				t.Errorf("answered timestamp %v, want %s", got["timestamp"], tt.answer)
			}
			again := e.must(http.StatusOK, "GET", "/v1/events/"+id, e.viewer, nil)
			if str(again["timestamp"]) != tt.answer {
				t.Errorf("read back timestamp %v, want %s", again["timestamp"], tt.answer)
			}
		})
	}
	for _, in := range refused {
		t.Run("timestamp refused "+in, func(t *testing.T) {
			before := e.counts()
			rec := e.do("POST", "/v1/events", e.pub, map[string]any{"type": "free.form", "timestamp": in, "data": map[string]any{}})
			wantFields(t, decodeProblem(t, rec, http.StatusUnprocessableEntity), "timestamp")
			e.assertUnchanged(before)
		})
	}

	// Every delivery was created just now: each accepted time (all in the past) lets all
	// of them through as since and none as until.
	all := len(accepted)
	for _, tt := range accepted {
		for param, want := range map[string]int{"since": all, "until": 0} {
			t.Run(param+" "+tt.in, func(t *testing.T) {
				page := e.must(http.StatusOK, "GET", "/v1/deliveries?limit=250&"+param+"="+url.QueryEscape(tt.in), e.viewer, nil)
				if tt.in[0] == '9' { // the year 9999: in the future
					want = all - want
				}
				if got := len(listIDs(page)); got != want {
					t.Fatalf("%d deliveries, want %d", got, want)
				}
			})
		}
	}
	for _, in := range refused {
		for _, param := range []string{"since", "until"} {
			t.Run(param+" refused "+in, func(t *testing.T) {
				rec := e.do("GET", "/v1/deliveries?"+param+"="+url.QueryEscape(in), e.viewer, nil)
				wantFields(t, decodeProblem(t, rec, http.StatusUnprocessableEntity), param)
			})
		}
	}
}

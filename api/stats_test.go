package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd/api"
)

// statsDay is the fixtures' day at hh:mm:ss plus micro microseconds, UTC.
func statsDay(hh, mm, ss, micro int) time.Time {
	return time.Date(2026, 11, 30, hh, mm, ss, micro*1000, time.UTC)
}

// seedStatsAPI writes, over [10:00, 13:00) of the fixture day (hourly buckets 10, 11, 12):
//
//	d1 W1 a.b succeeded 10:15        attempts 10:16 100 ms, 10:17 200 ms, 10:18 still sending
//	d2 W1 a.b failed    10:45        attempt  10:46 300 ms
//	d3 W2 c.d canceled  12:00        attempt  12:05 400 ms
//	d4 W2 c.d pending   12:59:59.999999
//	d5 W1 a.b succeeded 09:59:59.999999 (before since) attempt 13:00 (at until: out)
//
// and in another organization a succeeded delivery at 10:30 with an attempt of 5 ms.
func seedStatsAPI(t *testing.T, e *env) (w1, w2 string) {
	t.Helper()
	e.createEventType(e.admin, "a.b", nil)
	e.createEventType(e.admin, "c.d", nil)
	w1 = str(e.createWebhook(e.admin, webhookBody("a.b"))["id"])
	w2 = str(e.createWebhook(e.admin, webhookBody("c.d"))["id"])
	otherOrg, otherAdmin, _, _ := e.newOrg()
	e.createEventType(otherAdmin, "a.b", nil)
	wOther := str(e.createWebhook(otherAdmin, webhookBody("a.b"))["id"])

	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := e.store.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	delivery := func(org, id, webhookID, typ, status string, created time.Time) {
		t.Helper()
		exec(`INSERT INTO events (org_id, id, type, occurred_at, data) VALUES ($1, $2, $3, $4, '{}')`, org, "e"+id, typ, created)
		exec(`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at)
              VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, org, webhookID, "e"+id, typ, status, created)
	}
	n := 0
	attempt := func(org, deliveryID, state string, requested time.Time, ms int) {
		t.Helper()
		n++
		exec(`INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, duration_ms, state)
              VALUES ($1, $2, $3, $4, 'auto', $5, $6, $7)`, fmt.Sprint("att_", n), deliveryID, org, n, requested, ms, state)
	}
	delivery(e.org, "d1", w1, "a.b", "succeeded", statsDay(10, 15, 0, 0))
	attempt(e.org, "d1", "completed", statsDay(10, 16, 0, 0), 100)
	attempt(e.org, "d1", "completed", statsDay(10, 17, 0, 0), 200)
	attempt(e.org, "d1", "sending", statsDay(10, 18, 0, 0), 0)
	delivery(e.org, "d2", w1, "a.b", "failed", statsDay(10, 45, 0, 0))
	attempt(e.org, "d2", "completed", statsDay(10, 46, 0, 0), 300)
	delivery(e.org, "d3", w2, "c.d", "canceled", statsDay(12, 0, 0, 0))
	attempt(e.org, "d3", "completed", statsDay(12, 5, 0, 0), 400)
	delivery(e.org, "d4", w2, "c.d", "pending", statsDay(12, 59, 59, 999999))
	delivery(e.org, "d5", w1, "a.b", "succeeded", statsDay(9, 59, 59, 999999))
	attempt(e.org, "d5", "completed", statsDay(13, 0, 0, 0), 9)
	delivery(otherOrg, "x1", wOther, "a.b", "succeeded", statsDay(10, 30, 0, 0))
	attempt(otherOrg, "x1", "completed", statsDay(10, 31, 0, 0), 5)
	return w1, w2
}

// statsRange is the query of the fixture's range plus extra parameters.
func statsRange(extra ...string) string {
	q := url.Values{"since": {"2026-11-30T10:00:00Z"}, "until": {"2026-11-30T13:00:00Z"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q.Encode()
}

// wantBody fails unless the JSON answer equals want (JSON text), whole.
func wantBody(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("answer\n %s\nwant\n %s", got, want)
	}
}

// TestStats: GET /v1/stats answers the hand count of seedStatsAPI, for the organization,
// a webhook, an event type and an unknown webhook; another organization's rows never count.
func TestStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w1, _ := seedStatsAPI(t, e)
	const none = `{"p50": null, "p95": null, "p99": null}`
	tests := []struct {
		name, query, want string
	}{
		{"organization", statsRange(), `{"since": "2026-11-30T10:00:00Z", "until": "2026-11-30T13:00:00Z",
            "deliveries": {"total": 4, "pending": 1, "retrying": 0, "succeeded": 1, "failed": 1, "canceled": 1},
            "successRate": 0.5,
            "attempts": {"total": 5, "latencyMs": {"p50": 200, "p95": 400, "p99": 400}}}`},
		{"webhook", statsRange("webhookId", w1), `{"since": "2026-11-30T10:00:00Z", "until": "2026-11-30T13:00:00Z",
            "deliveries": {"total": 2, "pending": 0, "retrying": 0, "succeeded": 1, "failed": 1, "canceled": 0},
            "successRate": 0.5,
            "attempts": {"total": 4, "latencyMs": {"p50": 200, "p95": 300, "p99": 300}}}`},
		{"event type", statsRange("eventType", "c.d"), `{"since": "2026-11-30T10:00:00Z", "until": "2026-11-30T13:00:00Z",
            "deliveries": {"total": 2, "pending": 1, "retrying": 0, "succeeded": 0, "failed": 0, "canceled": 1},
            "successRate": 0,
            "attempts": {"total": 1, "latencyMs": {"p50": 400, "p95": 400, "p99": 400}}}`},
		{"unknown webhook", statsRange("webhookId", "wh_nope"), `{"since": "2026-11-30T10:00:00Z", "until": "2026-11-30T13:00:00Z",
            "deliveries": {"total": 0, "pending": 0, "retrying": 0, "succeeded": 0, "failed": 0, "canceled": 0},
            "successRate": 0, "attempts": {"total": 0, "latencyMs": ` + none + `}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do("GET", "/v1/stats?"+tt.query, e.viewer, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			wantBody(t, rec.Body.Bytes(), tt.want)
			conforms(t, "Stats", rec.Body.Bytes())
		})
	}
}

// TestStatsTimeseries: every bucket of the range, the empty one included, each with its
// hand count; by day one bucket from midnight holding the whole range.
func TestStatsTimeseries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedStatsAPI(t, e)
	const zero = `{"total": 0, "pending": 0, "retrying": 0, "succeeded": 0, "failed": 0, "canceled": 0}`

	rec := e.do("GET", "/v1/stats/timeseries?"+statsRange("interval", "hour"), e.viewer, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	wantBody(t, rec.Body.Bytes(), `{"interval": "hour", "since": "2026-11-30T10:00:00Z", "until": "2026-11-30T13:00:00Z", "buckets": [
        {"start": "2026-11-30T10:00:00Z",
         "deliveries": {"total": 2, "pending": 0, "retrying": 0, "succeeded": 1, "failed": 1, "canceled": 0},
         "successRate": 0.5, "attempts": {"total": 4, "latencyMs": {"p50": 200, "p95": 300, "p99": 300}}},
        {"start": "2026-11-30T11:00:00Z", "deliveries": `+zero+`,
         "successRate": 0, "attempts": {"total": 0, "latencyMs": {"p50": null, "p95": null, "p99": null}}},
        {"start": "2026-11-30T12:00:00Z",
         "deliveries": {"total": 2, "pending": 1, "retrying": 0, "succeeded": 0, "failed": 0, "canceled": 1},
         "successRate": 0, "attempts": {"total": 1, "latencyMs": {"p50": 400, "p95": 400, "p99": 400}}}]}`)
	conforms(t, "StatsTimeseries", rec.Body.Bytes())

	rec = e.do("GET", "/v1/stats/timeseries?"+statsRange("interval", "day"), e.viewer, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	wantBody(t, rec.Body.Bytes(), `{"interval": "day", "since": "2026-11-30T10:00:00Z", "until": "2026-11-30T13:00:00Z", "buckets": [
        {"start": "2026-11-30T00:00:00Z",
         "deliveries": {"total": 4, "pending": 1, "retrying": 0, "succeeded": 1, "failed": 1, "canceled": 1},
         "successRate": 0.5, "attempts": {"total": 5, "latencyMs": {"p50": 200, "p95": 400, "p99": 400}}}]}`)

	t.Run("empty range of minutes", func(t *testing.T) {
		got := e.must(http.StatusOK, "GET", "/v1/stats/timeseries?interval=minute&since=2026-11-30T11:00:30Z&until=2026-11-30T11:05:00Z", e.viewer, nil)
		buckets, _ := got["buckets"].([]any)
		if len(buckets) != 5 {
			t.Fatalf("%d buckets, want 5 (11:00 to 11:04): %v", len(buckets), got)
		}
		for k, b := range buckets {
			b := b.(map[string]any)
			if want := fmt.Sprintf("2026-11-30T11:%02d:00Z", k); b["start"] != want {
				t.Errorf("bucket %d starts %v, want %s", k, b["start"], want)
			}
			if d := b["deliveries"].(map[string]any); d["total"] != 0.0 {
				t.Errorf("bucket %d: %v deliveries, want 0", k, d["total"])
			}
		}
	})
	t.Run("a thousand buckets", func(t *testing.T) {
		q := url.Values{"interval": {"minute"}, "since": {"2026-11-30T00:00:00Z"}, "until": {statsDay(0, 0, 0, 0).Add(1000 * time.Minute).Format(time.RFC3339)}}
		got := e.must(http.StatusOK, "GET", "/v1/stats/timeseries?"+q.Encode(), e.viewer, nil)
		if n := len(got["buckets"].([]any)); n != 1000 {
			t.Errorf("%d buckets, want 1000", n)
		}
	})
}

// TestStatsDefaults: until defaults to the clock's now, since to a span before until (24
// hours for /v1/stats; per interval for the timeseries, hour by default).
func TestStatsDefaults(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 34, 56, 789000000, time.UTC) // a Monday
	e := newEnv(t, func(c *api.Config) { c.Now = func() time.Time { return now } })

	got := e.must(http.StatusOK, "GET", "/v1/stats", e.viewer, nil)
	wantJSON(t, got, map[string]any{"since": "2026-11-29T12:34:56.789Z", "until": "2026-11-30T12:34:56.789Z"})
	got = e.must(http.StatusOK, "GET", "/v1/stats?since=2026-11-30T12:00:00Z", e.viewer, nil)
	wantJSON(t, got, map[string]any{"since": "2026-11-30T12:00:00Z", "until": "2026-11-30T12:34:56.789Z"})
	got = e.must(http.StatusOK, "GET", "/v1/stats?until=2026-11-30T00:00:00Z", e.viewer, nil)
	wantJSON(t, got, map[string]any{"since": "2026-11-29T00:00:00Z", "until": "2026-11-30T00:00:00Z"})

	tests := []struct {
		query         string
		interval      string
		since         string
		buckets       int
		first, last   string
		untilExpected string
	}{
		{"", "hour", "2026-11-29T12:34:56.789Z", 25, "2026-11-29T12:00:00Z", "2026-11-30T12:00:00Z", ""},
		{"interval=minute", "minute", "2026-11-30T11:34:56.789Z", 61, "2026-11-30T11:34:00Z", "2026-11-30T12:34:00Z", ""},
		{"interval=day", "day", "2026-10-31T12:34:56.789Z", 31, "2026-10-31T00:00:00Z", "2026-11-30T00:00:00Z", ""},
		{"interval=week", "week", "2026-09-07T12:34:56.789Z", 13, "2026-09-07T00:00:00Z", "2026-11-30T00:00:00Z", ""},
		{"interval=hour&until=2026-11-30T00:00:00Z", "hour", "2026-11-29T00:00:00Z", 24, "2026-11-29T00:00:00Z", "2026-11-29T23:00:00Z", "2026-11-30T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run("timeseries "+tt.query, func(t *testing.T) {
			got := e.must(http.StatusOK, "GET", "/v1/stats/timeseries?"+tt.query, e.viewer, nil)
			until := tt.untilExpected
			if until == "" {
				until = "2026-11-30T12:34:56.789Z"
			}
			wantJSON(t, got, map[string]any{"interval": tt.interval, "since": tt.since, "until": until})
			buckets := got["buckets"].([]any)
			if len(buckets) != tt.buckets {
				t.Fatalf("%d buckets, want %d", len(buckets), tt.buckets)
			}
			first, last := buckets[0].(map[string]any)["start"], buckets[len(buckets)-1].(map[string]any)["start"]
			if first != tt.first || last != tt.last {
				t.Errorf("buckets from %v to %v, want %s to %s", first, last, tt.first, tt.last)
			}
		})
	}
}

// TestStatsValidation: every bad parameter is a 422 naming it (all of them at once), on
// both routes; extreme but valid ranges are answered, never a 5xx.
func TestStatsValidation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, func(c *api.Config) { c.Now = func() time.Time { return now } })
	both := []string{"/v1/stats", "/v1/stats/timeseries"}
	series := []string{"/v1/stats/timeseries"}
	tests := []struct {
		name   string
		routes []string
		query  string
		fields []string
	}{
		{"since not RFC 3339", both, "since=2026-11-30", []string{"since"}},
		{"until not RFC 3339", both, "until=2026-13-01T00:00:00Z", []string{"until"}},
		{"since equals until", both, "since=2026-11-30T10:00:00Z&until=2026-11-30T10:00:00Z", []string{"until"}},
		{"since after until", both, "since=2026-11-30T11:00:00Z&until=2026-11-30T10:00:00Z", []string{"until"}},
		{"since after now, until not given", both, "since=2026-11-30T13:00:00Z", []string{"since"}},
		{"since at now, until not given", both, "since=2026-11-30T12:00:00Z", []string{"since"}},
		{"malformed webhook id", both, "webhookId=hook_1", []string{"webhookId"}},
		{"malformed event type", both, "eventType=Not%20A%20Type", []string{"eventType"}},
		{"all at once", both, "since=x&until=y&webhookId=z&eventType=", []string{"since", "until", "webhookId", "eventType"}},
		{"unknown interval", series, "interval=month", []string{"interval"}},
		{"empty interval", series, "interval=", []string{"interval"}},
		{"interval and times", series, "interval=year&since=x", []string{"interval", "since"}},
		{"1,001 minutes", series, "interval=minute&since=2026-11-30T00:00:00Z&until=2026-11-30T16:40:00.000001Z", []string{"since"}},
		{"1,001 hours", series, "interval=hour&since=2026-10-01T00:00:00Z&until=2026-11-11T16:00:01Z", []string{"since"}},
		{"centuries of weeks", series, "interval=week&since=0000-01-01T00:00:00Z&until=9999-12-31T23:59:59Z", []string{"since"}},
		{"a week before the year 0000", series, "interval=week&since=0000-01-01T00:00:00Z&until=0000-01-02T00:00:00Z", []string{"since"}},
	}
	for _, tt := range tests {
		for _, route := range tt.routes {
			t.Run(tt.name+" "+route, func(t *testing.T) {
				p := decodeProblem(t, e.do("GET", route+"?"+tt.query, e.viewer, nil), http.StatusUnprocessableEntity)
				wantFields(t, p, tt.fields...)
			})
		}
	}

	answered := []string{
		"/v1/stats?since=0000-01-01T00:00:00Z&until=9999-12-31T23:59:59.999999Z",
		"/v1/stats?until=0000-01-01T00:00:00.000001Z",
		"/v1/stats/timeseries?interval=day&since=0000-01-01T00:00:00Z&until=0000-01-02T00:00:00Z",
		"/v1/stats/timeseries?interval=hour&since=9999-12-31T00:00:00Z&until=9999-12-31T23:59:59.999999Z",
		"/v1/stats?webhookId=wh_x&eventType=a.b",
	}
	for _, path := range answered {
		t.Run(path, func(t *testing.T) {
			rec := e.do("GET", path, e.viewer, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}

	t.Run("no key", func(t *testing.T) {
		for _, route := range both {
			decodeProblem(t, e.do("GET", route, "", nil), http.StatusUnauthorized)
		}
	})
}

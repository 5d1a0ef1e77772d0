package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
)

// frozen is a clock that never moves, so a bucket never refills during a test.
func frozen() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func wantTooMany(t *testing.T, rec *httptest.ResponseRecorder) problem {
	t.Helper()
	p := decodeProblem(t, rec, http.StatusTooManyRequests)
	if ra := rec.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1 (whole seconds, at least 1)", ra)
	}
	return p
}

// Each key has its own bucket of RateLimit requests: past it 429 with Retry-After, for
// that key only. An unknown key is a 401 and spends nothing; the routes without a key
// are not limited.
func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config) { c.RateLimit, c.Now = 3, frozen })
	for i := range 3 {
		e.must(http.StatusOK, "GET", "/v1/event-types", e.admin, nil)
		// Unknown keys never reach a bucket, and do not drain the others.
		if rec := e.do("GET", "/v1/event-types", "hk_unknown"+strings.Repeat("x", i), nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("unknown key: %d, want 401", rec.Code)
		}
	}
	for range 2 { // a refused request takes no token, and the next is refused too
		p := wantTooMany(t, e.do("GET", "/v1/event-types", e.admin, nil))
		if !strings.Contains(p.Detail, "3 requests per second") {
			t.Errorf("detail %q does not say the limit", p.Detail)
		}
	}
	// The limit is the key's, whatever the route and method.
	wantTooMany(t, e.do("POST", "/v1/webhooks", e.admin, webhookBody()))

	// Another key of the same organization has its own bucket.
	for range 3 {
		e.must(http.StatusOK, "GET", "/v1/webhooks", e.viewer, nil)
	}
	wantTooMany(t, e.do("GET", "/v1/webhooks", e.viewer, nil))
	e.must(http.StatusOK, "GET", "/v1/events", e.pub, nil)

	for _, path := range []string{"/healthz", "/openapi.yaml", "/metrics"} {
		for range 5 {
			if rec := e.do("GET", path, "", nil); rec.Code == http.StatusTooManyRequests {
				t.Fatalf("GET %s: 429, but it is not limited", path)
			}
		}
	}
}

// RateLimit 0 is no limit.
func TestRateLimitZeroIsOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config) { c.RateLimit, c.Now = 0, frozen })
	for range 50 {
		e.must(http.StatusOK, "GET", "/v1/event-types", e.admin, nil)
	}
}

// stuckScheduler holds the first Schedule call until release is closed, as a Temporal
// that starts workflows slower than events arrive; later calls go through.
type stuckScheduler struct {
	*recordingScheduler
	first   chan struct{} // one token: the call that takes it gets stuck
	stuck   chan struct{}
	release chan struct{}
}

func (s *stuckScheduler) Schedule(ctx context.Context, ds []store.Delivery) error {
	select {
	case <-s.first:
		s.stuck <- struct{}{}
		<-s.release
	default:
	}
	return s.recordingScheduler.Schedule(ctx, ds)
}

// With the one publish slot held by an event whose workflow start is stuck, a new event
// and a ping get 429 with Retry-After and store nothing; a repeat of the stuck event's
// id still gets its 200; once the engine catches up, 202 again.
func TestIngestPastTheInFlightBound(t *testing.T) {
	t.Parallel()
	sched := &stuckScheduler{recordingScheduler: &recordingScheduler{},
		first: make(chan struct{}, 1), stuck: make(chan struct{}), release: make(chan struct{})}
	sched.first <- struct{}{}
	e := newEnv(t, func(c *api.Config) {
		c.Service = dispatch.New(c.Store.(*store.Store), sched, dispatch.Options{MaxInFlight: 1})
	})
	e.createEventType(e.admin, "order.created", nil)
	hook := e.createWebhook(e.admin, webhookBody("order.created"))
	event := func(id string) map[string]any {
		return map[string]any{"id": id, "type": "order.created", "data": map[string]any{"n": 1}}
	}

	stuck := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(`{"id":"stuck","type":"order.created","data":{"n":1}}`))
		req.Header.Set("Authorization", "Bearer "+e.pub)
		req.Header.Set("Content-Type", "application/json")
		stuck <- serve(e, req)
	}()
	<-sched.stuck
	before := e.counts()

	p := wantTooMany(t, e.do("POST", "/v1/events", e.pub, event("refused")))
	if !strings.Contains(p.Detail, "nothing was stored") {
		t.Errorf("detail %q does not say nothing was stored", p.Detail)
	}
	wantTooMany(t, e.do("POST", "/v1/webhooks/"+str(hook["id"])+"/ping", e.admin, nil))
	e.assertUnchanged(before)
	e.must(http.StatusNotFound, "GET", "/v1/events/refused", e.pub, nil)

	repeat := e.must(http.StatusOK, "POST", "/v1/events", e.pub, event("stuck"))
	e.assertUnchanged(before)

	close(sched.release)
	first := <-stuck
	if first.Code != http.StatusAccepted {
		t.Fatalf("stuck event: %d %s, want 202", first.Code, first.Body)
	}
	wantJSON(t, repeat, decodeJSON(t, first))
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, event("after"))
	e.must(http.StatusAccepted, "POST", "/v1/webhooks/"+str(hook["id"])+"/ping", e.admin, nil)
}

// Every /v1 operation documents its 429 with a Retry-After header; the routes without a
// key document none.
func TestOpenAPIDocumentsTooManyRequests(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Responses map[string]struct {
				Headers map[string]any `yaml:"headers"`
			} `yaml:"responses"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Components.Responses["TooManyRequests"].Headers["Retry-After"]; !ok {
		t.Fatal("components.responses.TooManyRequests has no Retry-After header")
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			o, ok := op.(map[string]any)
			if !ok { // parameters
				continue
			}
			responses, _ := o["responses"].(map[string]any)
			tooMany, _ := responses["429"].(map[string]any)
			ref, _ := tooMany["$ref"].(string)
			limited := strings.HasPrefix(path, "/v1/")
			if limited && ref != "#/components/responses/TooManyRequests" {
				t.Errorf("%s %s: 429 is %v, want the TooManyRequests response", method, path, responses["429"])
			}
			if !limited && responses["429"] != nil {
				t.Errorf("%s %s documents a 429, but it is not limited", method, path)
			}
		}
	}
}

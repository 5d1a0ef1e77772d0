package api_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hookd/hookd/api"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if got := e.must(http.StatusOK, "GET", "/healthz", "", nil); got["status"] != "ok" {
		t.Fatalf("healthz %v", got)
	}
	conformsValue(t, "Status", e.must(http.StatusOK, "GET", "/healthz", "", nil))
	if got := e.must(http.StatusOK, "GET", "/readyz", "", nil); got["status"] != "ready" {
		t.Fatalf("readyz %v", got)
	}
	e.sched.set(func(r *recordingScheduler) { r.readyErr = errors.New("dial tcp 10.0.0.7:7233: refused") })
	p := decodeProblem(t, e.do("GET", "/readyz", "", nil), http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "temporal") || strings.Contains(p.Detail, "10.0.0.7") {
		t.Fatalf("readyz detail %q", p.Detail)
	}
	e.store.Close()
	p = decodeProblem(t, e.do("GET", "/readyz", "", nil), http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "postgres and temporal") {
		t.Fatalf("readyz detail %q", p.Detail)
	}
}

// TestInternalErrorsAreNotLeaked: a failing database gives the caller "internal error"
// and the log the cause.
func TestInternalErrorsAreNotLeaked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store.Close()
	p := decodeProblem(t, e.do("GET", "/v1/webhooks", e.admin, nil), http.StatusInternalServerError)
	if p.Detail != "internal error" {
		t.Fatalf("500 detail %q", p.Detail)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "closed pool") || !strings.Contains(logs, "request failed") {
		t.Fatalf("cause not logged: %s", logs)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("GET", "/v1/webhooks/wh_nope", e.admin, nil)
	e.do("GET", "/nowhere", "", nil)
	rec := e.do("GET", "/metrics", "", nil)
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`hookd_http_requests_total{method="GET",route="/v1/webhooks/:id",status="404"} 1`,
		`hookd_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`hookd_http_request_duration_seconds_bucket{method="GET",route="/v1/webhooks/:id"`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	decodeProblem(t, e.do("GET", "/v2/anything", e.admin, nil), http.StatusNotFound)
	decodeProblem(t, e.do("PUT", "/v1/webhooks", e.admin, nil), http.StatusMethodNotAllowed)
}

func TestNewRequiresDependencies(t *testing.T) {
	t.Parallel()
	if _, err := api.New(api.Config{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

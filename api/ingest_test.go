package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/metrics"
)

// POST /v1/events counts what it committed: a new event with its deliveries, a repeated
// id as a repeat, a refused event not at all. Config.Middleware runs on every request.
func TestIngestIsCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var seen []string
	e := newEnv(t, func(cfg *api.Config) {
		cfg.Metrics, cfg.Ingest = m.Registry, m
		cfg.Middleware = []gin.HandlerFunc{func(c *gin.Context) {
			seen = append(seen, c.Request.Method+" "+c.Request.URL.Path) // requests are serial here
			c.Next()
		}}
	})
	e.createEventType(e.admin, "order.created", nil)
	e.createWebhook(e.admin, webhookBody("order.created"))
	e.createWebhook(e.admin, webhookBody("order.created"))

	body := map[string]any{"id": "order-1", "type": "order.created", "data": map[string]any{"n": 1}}
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, body)
	e.must(http.StatusOK, "POST", "/v1/events", e.pub, body)
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/events", e.pub, map[string]any{"type": "order.created"})

	want := `
# HELP hookd_deliveries_created_total Deliveries created by the fan-out of new events accepted by POST /v1/events.
# TYPE hookd_deliveries_created_total counter
hookd_deliveries_created_total 2
# HELP hookd_events_ingested_total Events accepted by POST /v1/events, by result: new (stored, 202) or repeat (an id already stored, answered 200 with the original).
# TYPE hookd_events_ingested_total counter
hookd_events_ingested_total{result="new"} 1
hookd_events_ingested_total{result="repeat"} 1
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "hookd_events_ingested_total", "hookd_deliveries_created_total"); err != nil {
		t.Error(err)
	}
	if got := strings.Join(seen, ","); !strings.Contains(got, "POST /v1/webhooks,POST /v1/webhooks,POST /v1/events,POST /v1/events,POST /v1/events") {
		t.Errorf("the middleware saw %s", got)
	}
}

package api

import (
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookd/hookd/internal/auth"
)

// routes registers every route; openapi.yaml must describe each one (a test checks).
func (s *server) routes(r *gin.Engine, reg *prometheus.Registry) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	r.GET("/openapi.yaml", serveOpenAPI)

	con := r.Group("/console", consoleHeaders)
	con.GET("", s.consoleIndex)
	con.GET("/", redirectConsole)
	con.GET("/static/*path", s.consoleStatic)
	con.POST("/session", s.signIn)
	con.GET("/session", s.getSession)
	con.DELETE("/session", s.signOut)

	v1 := r.Group("/v1", s.authenticate, s.limitRate)
	read, readEvents, publish, manage := require(auth.Read), require(auth.ReadEvents), require(auth.Publish), require(auth.Manage)

	v1.GET("/event-types", read, s.listEventTypes)
	v1.POST("/event-types", manage, s.createEventType)
	v1.GET("/event-types/:name", read, s.getEventType)
	v1.PUT("/event-types/:name", manage, s.updateEventType)
	v1.DELETE("/event-types/:name", manage, s.deleteEventType)

	v1.GET("/webhooks", read, s.listWebhooks)
	v1.POST("/webhooks", manage, s.createWebhook)
	v1.GET("/webhooks/:id", read, s.getWebhook)
	v1.PATCH("/webhooks/:id", manage, s.updateWebhook)
	v1.DELETE("/webhooks/:id", manage, s.deleteWebhook)
	v1.POST("/webhooks/:id/ping", manage, s.pingWebhook)
	v1.POST("/webhooks/:id/rotate-secret", manage, s.rotateSecret)

	v1.POST("/events", publish, s.createEvent)
	v1.GET("/events", readEvents, s.listEvents)
	v1.GET("/events/:id", readEvents, s.getEvent)

	v1.GET("/deliveries", read, s.listDeliveries)
	v1.GET("/deliveries/:id", read, s.getDelivery)
	v1.POST("/deliveries/:id/retry", manage, s.retryDelivery)
	v1.POST("/deliveries/:id/cancel", manage, s.cancelDelivery)

	v1.POST("/replays", manage, s.createReplay)
	v1.GET("/replays", read, s.listReplays)
	v1.GET("/replays/:id", read, s.getReplay)
	v1.POST("/replays/:id/cancel", manage, s.cancelReplay)

	v1.GET("/stats", read, s.getStats)
	v1.GET("/stats/timeseries", read, s.getTimeseries)

	v1.POST("/portal/tickets", manage, s.createPortalTicket)
}

package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hookd/hookd/internal/console"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/store"
)

// Store is what the API needs from PostgreSQL; *store.Store implements it. Every method
// taking an orgID only sees that organization's rows and answers store.ErrNotFound for
// anything else.
type Store interface {
	Ping(ctx context.Context) error
	APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error)

	CreateEventType(ctx context.Context, et store.EventType) (store.EventType, error)
	ListEventTypes(ctx context.Context, orgID string, p store.Page) ([]store.EventType, string, error)
	GetEventType(ctx context.Context, orgID, name string) (store.EventType, error)
	UpdateEventType(ctx context.Context, et store.EventType) (store.EventType, error)
	DeleteEventType(ctx context.Context, orgID, name string) error
	MissingEventTypes(ctx context.Context, orgID string, names []string) ([]string, error)

	CreateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error)
	ListWebhooks(ctx context.Context, orgID string, p store.Page) ([]store.Webhook, string, error)
	GetWebhook(ctx context.Context, orgID, id string) (store.Webhook, error)
	UpdateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, orgID, id string) error
	secretRotator

	GetEvent(ctx context.Context, orgID, id string) (store.Event, []store.Delivery, error)
	ListEvents(ctx context.Context, orgID string, p store.Page) ([]store.Event, string, error)

	ListDeliveries(ctx context.Context, orgID string, f store.DeliveryFilter, p store.Page) ([]store.Delivery, string, error)
	GetDelivery(ctx context.Context, orgID, id string) (store.Delivery, []store.Attempt, error)

	statsReader
	consoleStore
}

// Service is the service layer (internal/dispatch) as the API uses it: each handler goes
// through the one small interface of its concern. *dispatch.Service implements it.
type Service interface {
	publisher
	deliverySteerer
	webhookUpdater
	replayer
	Ready(ctx context.Context) error
}

// publisher publishes events: the producers' and the pings admins send.
type publisher interface {
	// Publish validates ev (adding to the problems the request's shape already had),
	// stores it with its fan-out and starts the deliveries.
	Publish(ctx context.Context, ev store.Event, shape *ValidationError) (store.IngestResult, error)
	// Ping stores and starts a ping to one webhook.
	Ping(ctx context.Context, orgID, webhookID string) (store.Event, store.Delivery, error)
}

// deliverySteerer changes a delivery on an admin's request.
type deliverySteerer interface {
	// Retry asks for an attempt now (reopening a canceled delivery).
	Retry(ctx context.Context, orgID, id string) (store.Delivery, error)
	// Cancel stops a pending or retrying delivery.
	Cancel(ctx context.Context, orgID, id string) (store.Delivery, error)
}

// Config is what New needs. Store and Service are required.
type Config struct {
	Store   Store
	Service Service
	// Logger receives request failures (with their causes). Nil discards.
	Logger *slog.Logger
	// AllowHTTP accepts http:// webhook URLs; AllowPrivate accepts loopback and private
	// addresses. Both are for `hookd dev` and tests only.
	AllowHTTP    bool
	AllowPrivate bool
	// Now is the clock for default event timestamps and the rate limits' buckets; nil
	// means time.Now.
	Now func() time.Time
	// RateLimit is how many requests per second each API key may make to this process,
	// with a burst of as many (HOOKD_API_RATE_LIMIT); 0 means no limit.
	RateLimit int
	// Metrics is the registry the request metrics are registered in and /metrics serves.
	// Nil means a fresh registry with the Go and process collectors, so several servers
	// can live in one process (tests). Pass a shared one to expose worker metrics too.
	Metrics *prometheus.Registry
	// Ingest counts the events POST /v1/events commits (*metrics.Metrics); nil counts
	// nothing.
	Ingest IngestObserver
	// PublicURL is the API's base URL as browsers reach it (HOOKD_PUBLIC_URL), for the
	// console links portal tickets carry; "" builds them from each request's Host.
	PublicURL string
	// TemporalUIURL is the Temporal Web UI's base URL (HOOKD_TEMPORAL_UI_URL) and
	// TemporalNamespace hookd's namespace: the console links each delivery to its workflow
	// at TemporalUIURL/namespaces/TemporalNamespace/workflows/<workflowId>. "" means no link.
	TemporalUIURL     string
	TemporalNamespace string
	// Middleware runs first on every request, before the request metrics: hookd's
	// tracing (internal/tracing) opens each request's server span there. Nil adds nothing.
	Middleware []gin.HandlerFunc
}

// IngestObserver counts what POST /v1/events committed: an event, new (created) or a
// repeated id, and the deliveries a new one fanned out to.
type IngestObserver interface {
	ObserveIngest(created bool, deliveries int)
}

// server holds the handlers' dependencies.
type server struct {
	store   Store
	svc     Service
	log     *slog.Logger
	now     func() time.Time
	urlOpts netguard.Options
	limits  *keyLimits // nil: no rate limit
	ingest  IngestObserver

	// The console's: its embedded files by path, the CSRF check of cookie requests, and
	// what the console's links need.
	consoleFiles      map[string]consoleFile
	crossOrigin       *http.CrossOriginProtection
	publicURL         string
	temporalUIURL     string
	temporalNamespace string
}

// New builds the router with every route of the OpenAPI document. Unless GIN_MODE is set,
// Gin runs in release mode (no route dump on stdout).
func New(cfg Config) (*gin.Engine, error) {
	if cfg.Store == nil || cfg.Service == nil {
		return nil, errors.New("api: Config.Store and Config.Service are required")
	}
	s := &server{
		store:   cfg.Store,
		svc:     cfg.Service,
		log:     cfg.Logger,
		now:     cfg.Now,
		urlOpts: netguard.Options{AllowHTTP: cfg.AllowHTTP, AllowPrivate: cfg.AllowPrivate},
		limits:  newKeyLimits(cfg.RateLimit),
		ingest:  cfg.Ingest,

		crossOrigin:       http.NewCrossOriginProtection(),
		publicURL:         strings.TrimRight(cfg.PublicURL, "/"),
		temporalUIURL:     cfg.TemporalUIURL,
		temporalNamespace: cfg.TemporalNamespace,
	}
	files, err := loadConsoleAssets(console.Assets())
	if err != nil {
		return nil, fmt.Errorf("load console assets: %w", err)
	}
	s.consoleFiles = files
	if origin, ok := originOf(s.publicURL); ok {
		// Behind a proxy that rewrites Host, the browser's Origin is the public one.
		if err := s.crossOrigin.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("api: Config.PublicURL %q: %w", cfg.PublicURL, err)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register api metrics: %w", err)
	}

	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	r := gin.New()
	// Every answer is the API's own: a path that matches no route is 404 (not a redirect
	// to the path with or without a trailing slash, nor a case-fixed one), a known path
	// with another method 405 with Allow; both problem+json, below.
	r.RedirectTrailingSlash, r.RedirectFixedPath = false, false
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(nil); err != nil { // hookd never uses the client IP
		return nil, fmt.Errorf("configure gin: %w", err)
	}
	r.Use(cfg.Middleware...)
	r.Use(m.middleware, s.recoverPanic, s.handleErrors)
	r.NoRoute(func(c *gin.Context) {
		fail(c, errorf(http.StatusNotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	s.routes(r, reg)
	return r, nil
}

// originOf is the origin (scheme://host[:port]) of an absolute http(s) URL; false for "" or
// anything else.
func originOf(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

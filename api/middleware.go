package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/validation"
)

// principalKey is where authenticate leaves the caller in the Gin context.
const principalKey = "hookd.principal"

// principal is the authenticated caller: whose key, in which organization, with which role.
// KeyID names the rate limits' bucket: the Bearer key's id; for a console session the API
// key it signed in with, or "ses_<id>" for a session from a portal ticket
// (sessionPrincipal). APIKeyID is the API key behind the request: the Bearer key, or the
// key that signed in or minted the session's ticket.
type principal struct {
	KeyID    string
	APIKeyID string
	OrgID    string
	Role     store.Role
}

// caller returns the principal authenticate stored; routes without authenticate must not
// call it.
func caller(c *gin.Context) principal {
	return c.MustGet(principalKey).(principal)
}

// authenticate resolves the Bearer key to its organization and role: 401 when the header
// is missing or the key unknown (or revoked). A request without an Authorization header
// but with the console's session cookie is the session's (authenticateSession): a
// cross-origin one with an unsafe method (POST, PUT, PATCH, DELETE) is 403, since a
// browser sends the cookie whoever made the page; a Bearer key is never sent by itself.
func (s *server) authenticate(c *gin.Context) {
	header := c.GetHeader("Authorization")
	if header == "" {
		if cookie, err := c.Request.Cookie(sessionCookie); err == nil {
			s.authenticateSession(c, cookie.Value)
			return
		}
	}
	token, ok := auth.BearerToken(header)
	if !ok {
		fail(c, errorf(http.StatusUnauthorized, `missing or malformed Authorization header; send "Authorization: Bearer <api key>"`))
		return
	}
	key, err := s.store.APIKeyByHash(c.Request.Context(), auth.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		fail(c, errorf(http.StatusUnauthorized, "unknown or revoked API key"))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(principalKey, principal{KeyID: key.ID, APIKeyID: key.ID, OrgID: key.OrgID, Role: key.Role})
	c.Next()
}

// require answers 403 unless the caller's role allows p, then refuses what PostgreSQL could
// not store in the path and query (refuseUnstorable): every /v1 route passes here once,
// and a role that may not use a route learns nothing about its ids.
func require(p auth.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		who := caller(c)
		if !auth.Allowed(who.Role, p) {
			fail(c, errorf(http.StatusForbidden, "an API key with role %q may not %s", who.Role, p))
			return
		}
		refuseUnstorable(c)
	}
}

// refuseUnstorable refuses, before any handler reads them, a path parameter or query value
// that PostgreSQL could not store (validation.TextProblem: invalid UTF-8 such as %FF or
// %C3%28, or a NUL from %00): 404 for a path parameter, since nothing can have that id or
// name, and 422 naming each query parameter. Bodies are checked by decodeObject.
func refuseUnstorable(c *gin.Context) {
	for _, p := range c.Params {
		if validation.TextProblem(p.Value) != "" {
			fail(c, errorf(http.StatusNotFound, "nothing has the %s %q", p.Key, p.Value))
			return
		}
	}
	if c.Request.URL.RawQuery != "" {
		var v ValidationError
		query := c.Request.URL.Query()
		for _, key := range slices.Sorted(maps.Keys(query)) {
			for _, value := range query[key] {
				if problem := validation.TextProblem(value); problem != "" {
					v.Add(key, "%s", problem)
				}
			}
		}
		if err := v.Err(); err != nil {
			fail(c, err)
			return
		}
	}
	c.Next()
}

// metrics counts and times requests by route template (never the raw path, which would
// explode label cardinality) and status.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_http_requests_total",
			Help: "HTTP requests answered by the hookd API, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookd_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests to the hookd API, by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := c.Request.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
}

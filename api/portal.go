package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/store"
)

// Bounds of a portal ticket's ttlSeconds: ten minutes by default, long enough to hand a
// link over; at least 30 s, at most a day, since a ticket is a credential in a URL.
const (
	defaultTicketTTLSeconds = 10 * 60
	minTicketTTLSeconds     = 30
	maxTicketTTLSeconds     = 24 * 60 * 60
)

// ticketPrefix starts every portal ticket, so a leaked one is recognisable.
const ticketPrefix = "hkt_"

// ticketInput is the body of POST /v1/portal/tickets.
type ticketInput struct {
	// Role is the session's role: admin or viewer (a publisher has no console).
	Role string `json:"role"`
	// TTLSeconds is how long the ticket may be exchanged: 30 to 86400, default 600.
	TTLSeconds *int64 `json:"ttlSeconds"`
}

// ticketView is the answer of POST /v1/portal/tickets.
type ticketView struct {
	Ticket    string    `json:"ticket"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// createPortalTicket answers POST /v1/portal/tickets (admin): 201 with a single-use
// ticket for the caller's organization and the link to hand out
// (GET /console/session?ticket=…), which leads to the console's ticket page, where
// Continue exchanges it (POST /console/session) for an 8-hour session with the given role.
// The link starts with PublicURL, or the request's scheme and Host when it is "".
func (s *server) createPortalTicket(c *gin.Context) {
	var in ticketInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	switch store.Role(in.Role) {
	case store.RoleAdmin, store.RoleViewer:
	default:
		v.Add("role", "must be %q or %q", store.RoleAdmin, store.RoleViewer)
	}
	ttl := int64(defaultTicketTTLSeconds)
	if in.TTLSeconds != nil {
		ttl = *in.TTLSeconds
		if ttl < minTicketTTLSeconds || ttl > maxTicketTTLSeconds {
			v.Add("ttlSeconds", "must be from %d to %d (a day)", minTicketTTLSeconds, maxTicketTTLSeconds)
		}
	}
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	secret, _ := newSecret()
	ticket := ticketPrefix + secret
	who := caller(c)
	now := s.now()
	t := store.PortalTicket{
		Hash:      auth.Hash(ticket),
		OrgID:     who.OrgID,
		Role:      store.Role(in.Role),
		KeyID:     who.APIKeyID,
		ExpiresAt: now.Add(time.Duration(ttl) * time.Second).UTC().Truncate(time.Microsecond),
	}
	ctx := c.Request.Context()
	if err := s.store.InsertPortalTicket(ctx, t); err != nil {
		fail(c, err)
		return
	}
	s.purgeExpired(ctx, now)
	c.JSON(http.StatusCreated, ticketView{
		Ticket:    ticket,
		URL:       s.baseURL(c) + "/console/session?ticket=" + url.QueryEscape(ticket),
		ExpiresAt: t.ExpiresAt,
	})
}

// baseURL is PublicURL, or the scheme and Host the request came with.
func (s *server) baseURL(c *gin.Context) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/store"
)

// The web console (issue 13) is served at /console from the embedded assets
// (internal/console); it signs in at /console/session and then calls /v1 with the
// session cookie.
const (
	// sessionCookie names the console session: 32 random bytes, base64url. Only their
	// SHA-256 is stored (store.ConsoleSession.Hash).
	sessionCookie = "hookd_session"
	// sessionLifetime is how long a console session lives from its creation; it is not
	// extended by use.
	sessionLifetime = 8 * time.Hour
	// sessionBytes of randomness make a cookie (and a portal ticket) unguessable.
	sessionBytes = 32
	// maxSecretLen bounds what is worth hashing from a cookie, a ticket or a sign-in key.
	maxSecretLen = 256
	// ticketPage is where a ticket link (GET /console/session?ticket=) sends the browser:
	// the console's page that asks before it exchanges the ticket.
	ticketPage = "/console#/ticket"
)

// consoleStore keeps console sessions and portal tickets (*store.Store).
type consoleStore interface {
	InsertPortalTicket(ctx context.Context, t store.PortalTicket) error
	ExchangePortalTicket(ctx context.Context, ticketHash, sessionHash []byte, now, expiresAt time.Time) (store.ConsoleSession, error)
	InsertConsoleSession(ctx context.Context, cs store.ConsoleSession) (store.ConsoleSession, error)
	ConsoleSessionByHash(ctx context.Context, hash []byte, now time.Time) (store.ConsoleSession, error)
	DeleteConsoleSession(ctx context.Context, hash []byte) error
	DeleteExpiredConsole(ctx context.Context, now time.Time) (int64, error)
}

var _ consoleStore = (*store.Store)(nil)

// newSecret returns 32 random bytes in base64url (43 characters) and their SHA-256.
func newSecret() (plaintext string, hash []byte) {
	b := make([]byte, sessionBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program rather than return an error)
	plaintext = base64.RawURLEncoding.EncodeToString(b)
	return plaintext, auth.Hash(plaintext)
}

// sessionInfo is the answer of POST and GET /console/session.
type sessionInfo struct {
	OrgID     string    `json:"orgId"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// sessionView adds what the console needs to link to the Temporal UI.
type sessionView struct {
	sessionInfo
	TemporalUIURL     string `json:"temporalUIURL"`
	TemporalNamespace string `json:"temporalNamespace"`
}

// signInInput is the body of POST /console/session: exactly one of the two.
type signInInput struct {
	APIKey string `json:"apiKey"`
	Ticket string `json:"ticket"`
}

// refuseCrossOrigin answers 403 when a browser sent r from another origin
// (http.CrossOriginProtection: Sec-Fetch-Site, else Origin against Host).
func (s *server) refuseCrossOrigin(c *gin.Context) bool {
	if err := s.crossOrigin.Check(c.Request); err != nil {
		fail(c, errorf(http.StatusForbidden, "cross-origin request refused: %v", err))
		return true
	}
	return false
}

// signIn answers POST /console/session with exactly one of {"apiKey"} (signInKey) or
// {"ticket"} (exchangeTicket), 201 {orgId, role, expiresAt} with the cookie set. Both,
// neither, or a member that is not a non-empty string is 422 naming the field.
func (s *server) signIn(c *gin.Context) {
	if s.refuseCrossOrigin(c) {
		return
	}
	var in signInInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		var herr *httpError
		if !errors.As(err, &herr) || herr.status != http.StatusBadRequest {
			fail(c, err)
			return
		}
		v.Add("apiKey", "is required: send a JSON object {\"apiKey\": \"hk_…\"} or {\"ticket\": \"…\"}")
	}
	if len(v.Errors) == 0 {
		switch {
		case in.APIKey != "" && in.Ticket != "":
			v.Add("ticket", "cannot be sent with apiKey: send one of them")
		case in.APIKey == "" && in.Ticket == "":
			v.Add("apiKey", "is required (or ticket, from a sign-in link)")
		}
	}
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	if in.Ticket != "" {
		s.exchangeTicket(c, in.Ticket)
		return
	}
	s.signInKey(c, in.APIKey)
}

// signInKey makes an 8-hour session of the organization and role of an admin or viewer
// key. A key that is unknown or revoked is 401 and a publisher key 403 (the console
// reads), both naming apiKey.
func (s *server) signInKey(c *gin.Context, apiKey string) {
	ctx := c.Request.Context()
	key, err := store.APIKey{}, store.ErrNotFound
	if len(apiKey) <= maxSecretLen {
		key, err = s.store.APIKeyByHash(ctx, auth.Hash(apiKey))
	}
	if errors.Is(err, store.ErrNotFound) {
		failField(c, http.StatusUnauthorized, "apiKey", "is not a known API key (or it was revoked)")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if !auth.Allowed(key.Role, auth.Read) {
		failField(c, http.StatusForbidden, "apiKey", "is a "+string(key.Role)+" key; the console needs an admin or viewer key")
		return
	}
	s.dropCookieSession(c)
	plain, hash := newSecret()
	now := s.now()
	cs, err := s.store.InsertConsoleSession(ctx, store.ConsoleSession{
		Hash: hash, OrgID: key.OrgID, Role: key.Role, KeyID: key.ID, ExpiresAt: now.Add(sessionLifetime),
	})
	if err != nil {
		fail(c, err)
		return
	}
	s.purgeExpired(ctx, now)
	s.startSession(c, plain, cs)
}

// exchangeTicket consumes a portal ticket (single use, atomically) for an 8-hour session
// of the ticket's organization and role. A ticket that is unknown, used, expired or of a
// revoked key is 401 naming ticket, and sets no cookie.
func (s *server) exchangeTicket(c *gin.Context, ticket string) {
	ctx := c.Request.Context()
	plain, hash := newSecret()
	now := s.now()
	cs, err := store.ConsoleSession{}, store.ErrNotFound
	if len(ticket) <= maxSecretLen {
		cs, err = s.store.ExchangePortalTicket(ctx, auth.Hash(ticket), hash, now, now.Add(sessionLifetime))
	}
	if errors.Is(err, store.ErrNotFound) {
		failField(c, http.StatusUnauthorized, "ticket", "is invalid, already used, or expired")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	s.dropCookieSession(c)
	s.startSession(c, plain, cs)
}

// startSession sets the cookie of the new session cs and answers 201 with it.
func (s *server) startSession(c *gin.Context, plain string, cs store.ConsoleSession) {
	s.setSessionCookie(c, plain, cs.ExpiresAt)
	c.JSON(http.StatusCreated, sessionInfo{OrgID: cs.OrgID, Role: string(cs.Role), ExpiresAt: cs.ExpiresAt})
}

// getSession answers GET /console/session: 200 with the cookie's session, 401 when there
// is none. With ?ticket= (a portal ticket's link) it consumes nothing: 303 to the
// console's ticket page with the ticket in the fragment, which browsers neither send nor
// put in a Referer. Exchanging on GET would let any cross-site page (location = link)
// swap a victim's session for the attacker's organization (login CSRF: SameSite=Strict
// hides the victim's cookie from such a request), and let link previews use the ticket up.
func (s *server) getSession(c *gin.Context) {
	if q := c.Request.URL.Query(); q.Has("ticket") {
		c.Redirect(http.StatusSeeOther, ticketPage+"?"+url.Values{"ticket": {q.Get("ticket")}}.Encode())
		return
	}
	cs, err := s.cookieSession(c)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sessionView{
		sessionInfo:       sessionInfo{OrgID: cs.OrgID, Role: string(cs.Role), ExpiresAt: cs.ExpiresAt},
		TemporalUIURL:     s.temporalUIURL,
		TemporalNamespace: s.temporalNamespace,
	})
}

// signOut answers DELETE /console/session: the cookie's session is deleted and the
// cookie cleared, 204 even when there was none.
func (s *server) signOut(c *gin.Context) {
	if s.refuseCrossOrigin(c) {
		return
	}
	if hash, ok := cookieHash(c); ok {
		if err := s.store.DeleteConsoleSession(c.Request.Context(), hash); err != nil {
			fail(c, err)
			return
		}
	}
	s.clearSessionCookie(c)
	c.Status(http.StatusNoContent)
}

// cookieHash is the SHA-256 of the request's session cookie, the key of its row; false
// when there is no cookie, or one too long to be a session's.
func cookieHash(c *gin.Context) ([]byte, bool) {
	cookie, err := c.Request.Cookie(sessionCookie)
	if err != nil || len(cookie.Value) > maxSecretLen {
		return nil, false
	}
	return auth.Hash(cookie.Value), true
}

// cookieSession resolves the request's session cookie: 401 when it is missing, unknown,
// expired or of a revoked key.
func (s *server) cookieSession(c *gin.Context) (store.ConsoleSession, error) {
	cookie, err := c.Request.Cookie(sessionCookie)
	if err != nil {
		return store.ConsoleSession{}, errorf(http.StatusUnauthorized, "not signed in to the console")
	}
	return s.sessionOf(c, cookie.Value)
}

func (s *server) sessionOf(c *gin.Context, value string) (store.ConsoleSession, error) {
	if value == "" || len(value) > maxSecretLen {
		s.clearSessionCookie(c)
		return store.ConsoleSession{}, errorf(http.StatusUnauthorized, "the console session is unknown, expired or signed out; sign in again")
	}
	cs, err := s.store.ConsoleSessionByHash(c.Request.Context(), auth.Hash(value), s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.clearSessionCookie(c)
		return store.ConsoleSession{}, errorf(http.StatusUnauthorized, "the console session is unknown, expired or signed out; sign in again")
	}
	return cs, err
}

// authenticateSession is authenticate for a request with the session cookie and no
// Authorization header: a cross-origin request with an unsafe method is 403 before the
// cookie is even looked up.
func (s *server) authenticateSession(c *gin.Context, value string) {
	if s.refuseCrossOrigin(c) {
		return
	}
	cs, err := s.sessionOf(c, value)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(principalKey, sessionPrincipal(cs))
	c.Next()
}

// sessionPrincipal is the caller of a console session. KeyID, the rate limits' bucket,
// is the session's API key when it signed in with one, and "ses_<id>" for a ticket's
// session, which must not spend the budget of the admin key that minted the ticket.
func sessionPrincipal(cs store.ConsoleSession) principal {
	keyID := cs.KeyID
	if cs.FromTicket {
		keyID = "ses_" + strconv.FormatInt(cs.ID, 10)
	}
	return principal{KeyID: keyID, APIKeyID: cs.KeyID, OrgID: cs.OrgID, Role: cs.Role}
}

// dropCookieSession deletes the session of the request's cookie, if any, before another
// replaces it; a failure leaves a row that expires anyway.
func (s *server) dropCookieSession(c *gin.Context) {
	hash, ok := cookieHash(c)
	if !ok {
		return
	}
	if err := s.store.DeleteConsoleSession(c.Request.Context(), hash); err != nil {
		s.log.WarnContext(c.Request.Context(), "delete replaced console session", "err", err)
	}
}

// purgeExpired deletes expired sessions and tickets (indexed by expiry); a failure is
// logged and tried again at the next sign-in.
func (s *server) purgeExpired(ctx context.Context, now time.Time) {
	if _, err := s.store.DeleteExpiredConsole(ctx, now); err != nil {
		s.log.WarnContext(ctx, "delete expired console sessions", "err", err)
	}
}

// secureCookies reports whether the cookie must be Secure: the request came over TLS or
// browsers reach hookd over https (PublicURL).
func (s *server) secureCookies(c *gin.Context) bool {
	return c.Request.TLS != nil || strings.HasPrefix(strings.ToLower(s.publicURL), "https://")
}

// setSessionCookie sets the cookie of a new session, expiring with it.
func (s *server) setSessionCookie(c *gin.Context, value string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(sessionLifetime.Seconds()),
		HttpOnly: true,
		Secure:   s.secureCookies(c),
		SameSite: http.SameSiteStrictMode,
	})
}

func (s *server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     sessionCookie,
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secureCookies(c),
		SameSite: http.SameSiteStrictMode,
	})
}

// failField answers status with a problem naming one field (the sign-in's apiKey),
// which handleErrors gives only to a 422.
func failField(c *gin.Context, status int, field, message string) {
	p := newProblem(status, field+" "+message)
	p.Errors = []FieldError{{Field: field, Message: message}}
	writeProblem(c, p)
	c.Abort()
}

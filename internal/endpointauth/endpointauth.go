// Package endpointauth authenticates hookd's requests to a webhook's endpoint (API.md
// "auth"): HTTP Basic (RFC 7617), a bearer token (RFC 6750), or an OAuth2
// client-credentials token (RFC 6749 §4.4, golang.org/x/oauth2/clientcredentials)
// fetched through the SSRF-safe client and cached per webhook until shortly before it
// expires. Its errors never hold a credential or a token.
package endpointauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookd/hookd/internal/redact"
	"github.com/hookd/hookd/internal/webhook"
)

// Tuning of the token cache.
const (
	// MaxEntries bounds how many webhooks' tokens a Cache holds; the least recently used
	// goes first (it is fetched again when next needed).
	MaxEntries = 4096
	// ExpiryMargin is how long before its expires_in a token stops being used, so that
	// one taken from the cache is not expired by the time the endpoint reads it.
	ExpiryMargin = 30 * time.Second
	// MaxTokenLifetime is how long a token is used at most, even one issued for longer or
	// without expires_in (RFC 6749 §5.1 makes it optional).
	MaxTokenLifetime = time.Hour
	// maxMessage bounds the part of an error message taken from the token endpoint.
	maxMessage = 200
)

// Cache holds the OAuth2 tokens of webhooks, keyed by webhook id and a hash of the
// webhook's oauth2 settings, so that an edited auth gets a token of its own. It is safe
// for concurrent use: requests of one webhook that need a token wait for one fetch.
type Cache struct {
	client  *http.Client
	entries *lru.Cache[cacheKey, *entry]
	now     func() time.Time // time.Now; tests move it
}

type cacheKey struct {
	webhookID string
	settings  [sha256.Size]byte
}

// entry is one webhook's token and the configuration that fetches it. lock is held (a
// token in it) by the one caller fetching; others wait for it or for their context.
type entry struct {
	lock    chan struct{}
	config  *clientcredentials.Config // remembers which client auth style the endpoint took
	token   *oauth2.Token
	expires time.Time // by Cache.now, ExpiryMargin taken off
}

// NewCache returns a Cache that asks token endpoints through client (SSRF-safe, as for
// targets).
func NewCache(client *http.Client) *Cache {
	entries, err := lru.New[cacheKey, *entry](MaxEntries)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Cache{client: client, entries: entries, now: time.Now}
}

// Apply sets the credentials of auth a on req, for webhook webhookID: an Authorization
// header for basic, bearer and oauth2 (whose token it takes from the cache or fetches),
// nothing for none. The error of a token fetch names what failed (the endpoint's status
// and OAuth2 error code, or the network error), never the secret.
func (c *Cache) Apply(ctx context.Context, req *http.Request, webhookID string, a webhook.Auth) error {
	switch a.Type {
	case webhook.AuthBasic:
		req.SetBasicAuth(a.Username, a.Password)
	case webhook.AuthBearer:
		req.Header.Set("Authorization", "Bearer "+a.Token)
	case webhook.AuthOAuth2:
		tok, err := c.token(ctx, webhookID, a, "")
		if err != nil {
			return err
		}
		tok.SetAuthHeader(req)
	}
	return nil
}

// Reapply is for a request the endpoint answered 401 to: for oauth2 it drops the token
// req carried (unless another request already replaced it), fetches a new one, sets it
// on req and reports true, so the request can be sent once more; for other types it
// reports false and changes nothing (their credentials cannot get better by asking).
func (c *Cache) Reapply(ctx context.Context, req *http.Request, webhookID string, a webhook.Auth) (bool, error) {
	if a.Type != webhook.AuthOAuth2 {
		return false, nil
	}
	tok, err := c.token(ctx, webhookID, a, req.Header.Get("Authorization"))
	if err != nil {
		return false, err
	}
	tok.SetAuthHeader(req)
	return true, nil
}

// token returns a's token for webhookID: the cached one while it is fresh and not the
// one that got a 401 (stale, the Authorization header that carried it), else a new one.
func (c *Cache) token(ctx context.Context, webhookID string, a webhook.Auth, stale string) (*oauth2.Token, error) {
	e := c.entry(webhookID, a)
	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("oauth2 token: %w", ctx.Err())
	}
	defer func() { <-e.lock }()
	if e.token != nil && c.now().Before(e.expires) && (stale == "" || stale != authHeader(e.token)) {
		return e.token, nil
	}
	e.token = nil
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	fetched := time.Now()
	tok, err := e.config.Token(ctx)
	if err != nil {
		return nil, tokenError(err, a)
	}
	// The library dates the expiry by the wall clock; the cache keeps its lifetime.
	lifetime := MaxTokenLifetime
	if !tok.Expiry.IsZero() {
		lifetime = min(tok.Expiry.Sub(fetched), MaxTokenLifetime)
	}
	e.token, e.expires = tok, c.now().Add(lifetime-ExpiryMargin)
	return tok, nil
}

// entry returns the cache entry of webhookID with auth a, adding it if missing.
func (c *Cache) entry(webhookID string, a webhook.Auth) *entry {
	key := cacheKey{webhookID: webhookID, settings: settingsHash(a)}
	if e, ok := c.entries.Get(key); ok {
		return e
	}
	fresh := &entry{lock: make(chan struct{}, 1), config: &clientcredentials.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		TokenURL:     a.TokenURL,
		Scopes:       a.Scopes, // space-joined by the library (RFC 6749 §3.3)
		AuthStyle:    oauth2.AuthStyleAutoDetect,
	}}
	if prev, found, _ := c.entries.PeekOrAdd(key, fresh); found {
		return prev // added meanwhile by another caller
	}
	return fresh
}

// settingsHash identifies a's oauth2 settings without keeping them readable in the key.
func settingsHash(a webhook.Auth) [sha256.Size]byte {
	h := sha256.New()
	for _, s := range append([]string{a.TokenURL, a.ClientID, a.ClientSecret}, a.Scopes...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// authHeader is the Authorization header tok sets.
func authHeader(tok *oauth2.Token) string {
	r := http.Request{Header: http.Header{}}
	tok.SetAuthHeader(&r)
	return r.Header.Get("Authorization")
}

// TokenError is a failed token fetch: the message names the endpoint's answer (status,
// OAuth2 error code and description) or the network error, without the client secret.
type TokenError struct {
	msg string
	err error
}

func (e *TokenError) Error() string { return e.msg }

// Unwrap gives the context's or the network's error; never the library's RetrieveError,
// which holds the response body.
func (e *TokenError) Unwrap() error { return e.err }

// tokenError describes a failed fetch for a, with a's secret taken out wherever the
// endpoint (or an error) may have echoed it.
func tokenError(err error, a webhook.Auth) error {
	var (
		msg   string
		cause error
		rerr  *oauth2.RetrieveError
	)
	if errors.As(err, &rerr) {
		msg = "oauth2 token endpoint answered " + rerr.Response.Status
		if rerr.ErrorCode != "" {
			msg += ": error " + quoteCut(rerr.ErrorCode)
			if rerr.ErrorDescription != "" {
				msg += " (" + quoteCut(rerr.ErrorDescription) + ")"
			}
		}
	} else {
		msg, cause = "oauth2 token: "+cut(err.Error()), err
	}
	return &TokenError{msg: scrub(msg, a), err: cause}
}

// scrub replaces every appearance of a's secret in msg, as sent or form-encoded, with
// the mask.
func scrub(msg string, a webhook.Auth) string {
	if a.ClientSecret == "" {
		return msg
	}
	for _, s := range []string{a.ClientSecret, url.QueryEscape(a.ClientSecret)} {
		msg = strings.ReplaceAll(msg, s, redact.Masked)
	}
	return msg
}

// quoteCut quotes s, cut to maxMessage bytes, so that an endpoint's text cannot pose as
// hookd's.
func quoteCut(s string) string { return fmt.Sprintf("%q", cut(s)) }

func cut(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxMessage], "") + "…"
}

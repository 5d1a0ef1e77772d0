package activities

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/endpointauth"
	"github.com/hookd/hookd/internal/store"
)

// authorize sets the webhook's credentials (API.md "auth") on req. An error (a token
// endpoint that failed) is the attempt's error, retried like any failure; it names no
// secret (endpointauth.TokenError). The token endpoint has the webhook's timeout to
// answer.
func (a *Activities) authorize(ctx context.Context, req *http.Request, wh store.Webhook) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(wh.TimeoutSeconds)*time.Second)
	defer cancel()
	return a.tokens().Apply(ctx, req, wh.ID, wh.Auth)
}

// reauthorize is called when the target answered 401 to req: for an OAuth2 webhook it
// drops the cached token, fetches a new one and sets it on req, reporting true so the
// request is sent once more within the attempt; otherwise it reports false.
func (a *Activities) reauthorize(ctx context.Context, req *http.Request, wh store.Webhook) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(wh.TimeoutSeconds)*time.Second)
	defer cancel()
	return a.tokens().Reapply(ctx, req, wh.ID, wh.Auth)
}

// doAuthorized sends req through client; when the endpoint answers 401 and the webhook's
// credentials can be refreshed (an OAuth2 token: reauthorize), it sends req once more,
// with the new token, within the same attempt and ctx (API.md "auth.oauth2"). A refresh
// that fails is the attempt's error, naming the 401 and the token endpoint's failure; it
// is retried like any failure (the chain to netguard.ErrBlocked is cut: a blocked token
// endpoint is not a blocked target).
func (a *Activities) doAuthorized(ctx context.Context, client *http.Client, req *http.Request, wh store.Webhook) (*http.Response, error) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.GetBody == nil {
		return resp, err
	}
	again, err := a.reauthorize(ctx, req, wh)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("receiver answered 401 and refreshing the oauth2 token failed: %v", err)
	}
	if !again {
		return resp, nil
	}
	// Drain a little so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("send again after a new token: %w", err)
	}
	retry := req.Clone(ctx)
	retry.Body = body
	return client.Do(retry)
}

// lazyTokens holds the token cache of each Activities without one of its own
// (Activities.Tokens nil), made on first use over its Client.
var lazyTokens sync.Map // *Activities → *endpointauth.Cache

// tokens is a's token cache: Tokens, or one made once over Client.
func (a *Activities) tokens() *endpointauth.Cache {
	if a.Tokens != nil {
		return a.Tokens
	}
	if c, ok := lazyTokens.Load(a); ok {
		return c.(*endpointauth.Cache)
	}
	c, _ := lazyTokens.LoadOrStore(a, endpointauth.NewCache(a.Client))
	return c.(*endpointauth.Cache)
}

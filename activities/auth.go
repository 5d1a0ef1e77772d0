package activities

import (
	"context"
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

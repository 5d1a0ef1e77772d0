package activities

import (
	"context"
	"net/http"

	"github.com/hookd/hookd/internal/store"
)

// authorize sets the webhook's credentials (API.md "auth") on req. An error (a token
// endpoint that failed) is the attempt's error, retried like any failure; it names no
// secret. TODO(auth).
func (a *Activities) authorize(ctx context.Context, req *http.Request, wh store.Webhook) error {
	return nil
}

// reauthorize is called when the target answered 401 to req: for an OAuth2 webhook it
// drops the cached token, fetches a new one and sets it on req, reporting true so the
// request is sent once more within the attempt; otherwise it reports false. TODO(auth).
func (a *Activities) reauthorize(ctx context.Context, req *http.Request, wh store.Webhook) (bool, error) {
	return false, nil
}

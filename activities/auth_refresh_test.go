package activities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

// staleToken warms the worker's token cache for webhookID, then has the authorization
// server issue another token (to some other client of it): the cached one is now old and
// the receiver answers 401 to it.
func (h *authHarness) staleToken(o *oauthServer, webhookID string) {
	h.t.Helper()
	wh, err := h.st.GetWebhook(context.Background(), h.orgID, webhookID)
	if err != nil {
		h.t.Fatal(err)
	}
	warm := httptest.NewRequest(http.MethodPost, o.receiver.URL, nil)
	if err := h.acts.Tokens.Apply(context.Background(), warm, webhookID, wh.Auth); err != nil {
		h.t.Fatal(err)
	}
	rotate, err := http.NewRequest(http.MethodPost, o.token.URL+"/token",
		strings.NewReader("grant_type=client_credentials&scope=devices%3Awrite+events"))
	if err != nil {
		h.t.Fatal(err)
	}
	rotate.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rotate.SetBasicAuth(oauthClientID, oauthClientSecret)
	resp, err := http.DefaultClient.Do(rotate)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("rotate the token: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestOAuth2RefreshesOnceOn401WithinTheAttempt: the cached token has been replaced at the
// authorization server, so the receiver answers 401 to it; the attempt fetches a new
// token and sends again, and the delivery succeeds in its one attempt. No token or
// secret shows anywhere.
func TestOAuth2RefreshesOnceOn401WithinTheAttempt(t *testing.T) {
	t.Parallel()
	h := newAuthHarness(t)
	o := newOAuthServer(t)
	webhookID := h.createWebhook(o.receiver.URL+"/hook", o.auth())
	h.staleToken(o, webhookID)

	dlvs := h.publish()
	d, raw := h.settled(dlvs[webhookID])
	if d.Status != store.StatusSucceeded || len(d.Attempts) != 1 || d.Attempts[0].Number != 1 {
		t.Fatalf("delivery after a 401 to an old token: %s", raw)
	}
	if n := o.received.Load(); n != 2 {
		t.Errorf("receiver got %d requests, want 2: the old token, then the new one", n)
	}
	if n := o.issued.Load(); n != 3 {
		t.Errorf("%d tokens issued, want 3 (warm, rotate, the refresh)", n)
	}
	h.noLeak(webhookID, dlvs[webhookID], o.secrets()...)
}

// TestOAuth2RefreshFailureAfter401: the receiver answers 401 to the cached token and the
// token endpoint then fails: the attempt keeps the 401 and names the token endpoint's
// failure, the delivery is retrying, and the receiver got one request. The secret the
// endpoint echoed shows nowhere.
func TestOAuth2RefreshFailureAfter401(t *testing.T) {
	t.Parallel()
	h := newAuthHarness(t)
	o := newOAuthServer(t)
	webhookID := h.createWebhook(o.receiver.URL+"/hook", o.auth())
	h.staleToken(o, webhookID)
	o.fail.Store(true)

	dlvs := h.publish()
	d, raw := h.settled(dlvs[webhookID])
	if d.Status != store.StatusRetrying || len(d.Attempts) != 1 {
		t.Fatalf("delivery: %s", raw)
	}
	a := d.Attempts[0]
	if a.Response == nil || a.Response.Status != http.StatusUnauthorized ||
		!strings.Contains(a.Error, "401") || !strings.Contains(a.Error, "oauth2 token endpoint answered 500") {
		t.Errorf("attempt %+v: want the 401 and the token endpoint's failure", a)
	}
	if n := o.received.Load(); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	h.noLeak(webhookID, dlvs[webhookID], o.secrets()...)
}

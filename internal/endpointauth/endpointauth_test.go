package endpointauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/webhook"
)

const (
	clientID     = "hookd-client"
	clientSecret = "cs-7f3a91e0-very-secret"
)

// tokenServer is an OAuth2 token endpoint (RFC 6749 §4.4): it checks the client's
// credentials and answers tokens tok-1, tok-2, … valid for expiresIn seconds.
type tokenServer struct {
	*httptest.Server
	calls     atomic.Int32
	issued    atomic.Int32
	expiresIn int
	formOnly  bool // refuses credentials in the Authorization header (invalid_client)
	fail      int  // answers this status with the client secret echoed in the body
	mu        sync.Mutex
	scopes    []string // the scope parameter of each request that got a token
}

func newTokenServer(t *testing.T, edit func(*tokenServer)) *tokenServer {
	t.Helper()
	ts := &tokenServer{expiresIn: 3600}
	if edit != nil {
		edit(ts)
	}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.calls.Add(1)
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if ts.fail != 0 {
		w.WriteHeader(ts.fail)
		fmt.Fprintf(w, `{"error":"server_error","error_description":"cannot check %s"}`, clientSecret)
		return
	}
	id, secret, header := r.BasicAuth()
	if !header {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != clientID || secret != clientSecret || (ts.formOnly && header) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	ts.mu.Lock()
	ts.scopes = append(ts.scopes, r.PostForm.Get("scope"))
	ts.mu.Unlock()
	n := ts.issued.Add(1)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": fmt.Sprintf("tok-%d", n), "token_type": "bearer", "expires_in": ts.expiresIn,
	})
}

func (ts *tokenServer) auth() webhook.Auth {
	return webhook.Auth{Type: webhook.AuthOAuth2, TokenURL: ts.URL + "/token", ClientID: clientID,
		ClientSecret: clientSecret, Scopes: []string{"devices:write", "events"}}
}

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newCache(ts *tokenServer) (*Cache, *clock) {
	c := NewCache(netguard.NewClient(netguard.Options{AllowPrivate: true, AllowHTTP: true}))
	clk := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	c.now = clk.now
	return c, clk
}

// apply applies a to a new request and returns its Authorization header.
func apply(t *testing.T, c *Cache, webhookID string, a webhook.Auth) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
	if err := c.Apply(context.Background(), req, webhookID, a); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return req.Header.Get("Authorization")
}

func TestBasicAndBearer(t *testing.T) {
	t.Parallel()
	c := NewCache(http.DefaultClient)
	got := apply(t, c, "wh_1", webhook.Auth{Type: webhook.AuthBasic, Username: "mailer", Password: "pä:ss"})
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("mailer:pä:ss")); got != want {
		t.Errorf("basic: %q, want %q", got, want)
	}
	if got := apply(t, c, "wh_1", webhook.Auth{Type: webhook.AuthBearer, Token: "abc.def"}); got != "Bearer abc.def" {
		t.Errorf("bearer: %q", got)
	}
	if got := apply(t, c, "wh_1", webhook.Auth{Type: webhook.AuthNone}); got != "" {
		t.Errorf("none: %q", got)
	}
	for _, a := range []webhook.Auth{{Type: webhook.AuthBasic, Username: "u"}, {Type: webhook.AuthBearer, Token: "t"}, {Type: webhook.AuthNone}} {
		req := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
		if again, err := c.Reapply(context.Background(), req, "wh_1", a); again || err != nil {
			t.Errorf("Reapply(%s) = %v, %v; want false: nothing to refresh", a.Type, again, err)
		}
	}
}

func TestOAuth2TokenCachedUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.expiresIn = 300 })
	c, clk := newCache(ts)
	a := ts.auth()
	for range 3 {
		if got := apply(t, c, "wh_1", a); got != "Bearer tok-1" {
			t.Fatalf("Authorization %q, want the first token", got)
		}
	}
	if n := ts.calls.Load(); n != 1 {
		t.Fatalf("%d token requests for three uses of a fresh token, want 1", n)
	}
	ts.mu.Lock()
	if scope := ts.scopes[0]; scope != "devices:write events" {
		t.Errorf("scope %q, want the scopes space-joined", scope)
	}
	ts.mu.Unlock()

	clk.add(300*time.Second - ExpiryMargin - time.Second)
	if got := apply(t, c, "wh_1", a); got != "Bearer tok-1" {
		t.Fatalf("just before the margin: %q, want the cached token", got)
	}
	clk.add(2 * time.Second)
	if got := apply(t, c, "wh_1", a); got != "Bearer tok-2" {
		t.Fatalf("within the margin of its expiry: %q, want a new token", got)
	}
	if n := ts.calls.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
}

func TestOAuth2TokenPerWebhookAndSettings(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, _ := newCache(ts)
	a := ts.auth()
	first := apply(t, c, "wh_1", a)
	if other := apply(t, c, "wh_2", a); other == first {
		t.Errorf("two webhooks share token %q", first)
	}
	edited := a
	edited.Scopes = []string{"events"}
	if got := apply(t, c, "wh_1", edited); got == first {
		t.Errorf("edited scopes kept token %q", got)
	}
	if got := apply(t, c, "wh_1", a); got != first {
		t.Errorf("the first settings again: %q, want %q still cached", got, first)
	}
}

func TestOAuth2ReapplyAfter401(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, _ := newCache(ts)
	a := ts.auth()

	// Two requests go out with tok-1 and both get a 401: the first refresh fetches tok-2,
	// the second finds tok-2 already there and fetches nothing more.
	r1 := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
	r2 := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
	for _, r := range []*http.Request{r1, r2} {
		if err := c.Apply(context.Background(), r, "wh_1", a); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*http.Request{r1, r2} {
		again, err := c.Reapply(context.Background(), r, "wh_1", a)
		if !again || err != nil {
			t.Fatalf("Reapply = %v, %v", again, err)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer tok-2" {
			t.Errorf("after a 401: %q, want the new token", got)
		}
	}
	if n := ts.issued.Load(); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
	if got := apply(t, c, "wh_1", a); got != "Bearer tok-2" {
		t.Errorf("next request: %q, want the refreshed token from the cache", got)
	}
}

func TestOAuth2FallsBackToFormCredentials(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.formOnly = true })
	c, clk := newCache(ts)
	a := ts.auth()
	if got := apply(t, c, "wh_1", a); got != "Bearer tok-1" {
		t.Fatalf("Authorization %q", got)
	}
	if n := ts.calls.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2: HTTP Basic refused, then form fields", n)
	}
	clk.add(2 * time.Hour)
	if got := apply(t, c, "wh_1", a); got != "Bearer tok-2" {
		t.Fatalf("Authorization %q", got)
	}
	if n := ts.calls.Load(); n != 3 {
		t.Errorf("%d token requests, want 3: the form style is remembered", n)
	}
}

func TestOAuth2TokenEndpointFailure(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.fail = http.StatusInternalServerError })
	c, _ := newCache(ts)
	req := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
	err := c.Apply(context.Background(), req, "wh_1", ts.auth())
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want a *TokenError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"500 Internal Server Error", `"server_error"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), clientSecret) {
		t.Errorf("error shows the client secret: %q", msg)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("a failed fetch set an Authorization header")
	}

	// Wrong credentials: the endpoint's error code.
	ok := newTokenServer(t, nil)
	bad := ok.auth()
	bad.ClientSecret = "wrong-secret-55"
	c2, _ := newCache(ok)
	err = c2.Apply(context.Background(), req, "wh_1", bad)
	if err == nil || !strings.Contains(err.Error(), `"invalid_client"`) || strings.Contains(err.Error(), "wrong-secret-55") {
		t.Errorf("wrong credentials: %v", err)
	}

	// An endpoint that does not answer: the network error, without the secret.
	gone := newTokenServer(t, nil)
	a := gone.auth()
	gone.Close()
	c3, _ := newCache(gone)
	err = c3.Apply(context.Background(), req, "wh_1", a)
	if err == nil || !strings.Contains(err.Error(), "oauth2 token") || strings.Contains(err.Error(), clientSecret) {
		t.Errorf("closed endpoint: %v", err)
	}
}

func TestOAuth2TokenEndpointSSRFGuard(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	// The production client refuses loopback: the token endpoint is guarded as targets are.
	c := NewCache(netguard.NewClient(netguard.Options{AllowHTTP: true}))
	req := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
	err := c.Apply(context.Background(), req, "wh_1", ts.auth())
	if !errors.Is(err, netguard.ErrBlocked) {
		t.Errorf("error %v, want netguard.ErrBlocked", err)
	}
	if n := ts.calls.Load(); n != 0 {
		t.Errorf("%d requests reached the loopback token endpoint", n)
	}
}

func TestOAuth2ConcurrentUsersShareOneFetch(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, _ := newCache(ts)
	a := ts.auth()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
			if err := c.Apply(context.Background(), req, "wh_1", a); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := ts.calls.Load(); n != 1 {
		t.Errorf("%d token requests from 16 concurrent users, want 1", n)
	}
}

func TestOAuth2WaitHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"t","token_type":"bearer"}`))
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	c := NewCache(slow.Client())
	a := webhook.Auth{Type: webhook.AuthOAuth2, TokenURL: slow.URL, ClientID: clientID, ClientSecret: clientSecret}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPost, "http://receiver.example/hook", nil)
	if err := c.Apply(ctx, req, "wh_1", a); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled fetch: %v, want context.Canceled", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, _ := newCache(ts)
	a := ts.auth()
	for i := range MaxEntries + 10 {
		c.entry(fmt.Sprintf("wh_%d", i), a)
	}
	if n := c.entries.Len(); n != MaxEntries {
		t.Errorf("%d entries, want at most %d", n, MaxEntries)
	}
}

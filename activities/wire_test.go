package activities

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// wireLog is what a test receiver saw of the requests sent to it.
type wireLog struct {
	mu   sync.Mutex
	reqs []wireRequest
}

type wireRequest struct {
	method string
	url    string // path and query, as sent
	header http.Header
	body   []byte
	user   string // Basic auth user and password, if any
	pass   string
}

// handler records each request and answers 204.
func (r *wireLog) handler(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	user, pass, _ := req.BasicAuth()
	r.mu.Lock()
	r.reqs = append(r.reqs, wireRequest{method: req.Method, url: req.URL.RequestURI(), header: req.Header.Clone(),
		body: body, user: user, pass: pass})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// only returns the one request wireLog, failing the test unless there was exactly one.
func (r *wireLog) only(t *testing.T) wireRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(r.reqs))
	}
	return r.reqs[0]
}

// verify fails the test unless req carries a valid Standard Webhooks signature of its
// body by secret, for message id msgID.
func (req wireRequest) verify(t *testing.T, secret, msgID string) {
	t.Helper()
	id := req.header.Get(signing.HeaderID)
	if err := signing.Verify(id, req.header.Get(signing.HeaderTimestamp), req.header.Get(signing.HeaderSignature),
		req.body, secret); err != nil || id != msgID {
		t.Fatalf("signature of message %q: %v; want a valid one of %q", id, err, msgID)
	}
}

// TestHookdHeadersGivenReplaceHookds: Content-Type and User-Agent given as custom headers
// (in any case) replace hookd's, on the wire and in the attempt record; not given, hookd
// sends its own. The signature is valid either way.
func TestHookdHeadersGivenReplaceHookds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		custom           map[string]string
		wantType, wantUA string
	}{
		{name: "hookd's", wantType: "application/json", wantUA: "hookd/test"},
		{name: "given", custom: map[string]string{"Content-Type": "application/cloudevents+json", "User-Agent": "acme-relay/2"},
			wantType: "application/cloudevents+json", wantUA: "acme-relay/2"},
		{name: "given in lower case", custom: map[string]string{"content-type": "text/plain; charset=utf-8"},
			wantType: "text/plain; charset=utf-8", wantUA: "hookd/test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got wireLog
			f := newFixture(t, got.handler, func(wh *store.Webhook) {
				for name, value := range tc.custom {
					wh.Headers[name] = value
				}
			})
			if res := f.attempt(t, AttemptInput{}); res.Status != delivery.StatusSucceeded {
				t.Fatalf("result %+v", res)
			}
			req := got.only(t)
			req.verify(t, f.webhook.Secret, f.dlv.ID)
			if req.header.Get("Content-Type") != tc.wantType || req.header.Get("User-Agent") != tc.wantUA ||
				len(req.header.Values("Content-Type")) != 1 || len(req.header.Values("User-Agent")) != 1 {
				t.Fatalf("receiver got Content-Type %q, User-Agent %q; want %q and %q, once each",
					req.header.Values("Content-Type"), req.header.Values("User-Agent"), tc.wantType, tc.wantUA)
			}
			if req.header.Get("X-Tenant") != "t1" || req.header.Get("X-Api-Key") != "very-secret" {
				t.Fatalf("receiver lost the other custom headers: %v", req.header)
			}
			_, atts, _ := f.load(t)
			if h := atts[0].RequestHeaders; h["Content-Type"] != tc.wantType || h["User-Agent"] != tc.wantUA {
				t.Fatalf("attempt records headers %v, want Content-Type %q and User-Agent %q", h, tc.wantType, tc.wantUA)
			}
		})
	}
}

// TestMethodArrivesSigned: the webhook's method is the request's, and the signature of
// its body is valid whatever the method.
func TestMethodArrivesSigned(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			var got wireLog
			f := newFixture(t, got.handler, func(wh *store.Webhook) { wh.Method = method })
			if res := f.attempt(t, AttemptInput{}); res.Status != delivery.StatusSucceeded {
				t.Fatalf("result %+v", res)
			}
			req := got.only(t)
			req.verify(t, f.webhook.Secret, f.dlv.ID)
			if req.method != method || !strings.Contains(string(req.body), `"orderId":"o-1"`) {
				t.Fatalf("receiver got %s with body %s, want %s with the event", req.method, req.body, method)
			}
			if _, atts, _ := f.load(t); atts[0].RequestMethod != method {
				t.Fatalf("attempt records method %q, want %q", atts[0].RequestMethod, method)
			}
		})
	}
}

// TestNewRequestSendsAnyMessage: newRequest and send carry a message that is no single
// delivery's (a batch, a form body) as it is: its URL, body, Content-Type and id, signed,
// with the webhook's method and custom headers.
func TestNewRequestSendsAnyMessage(t *testing.T) {
	t.Parallel()
	var got wireLog
	f := newFixture(t, got.handler, func(wh *store.Webhook) { wh.Method = http.MethodPatch })
	srv := httptest.NewServer(http.HandlerFunc(got.handler))
	t.Cleanup(srv.Close)
	m := message{ID: "bat_test", URL: srv.URL + "/batch?n=2", Body: []byte("a=1&b=%7B%7D"),
		ContentType: "application/x-www-form-urlencoded"}
	req, err := f.acts.newRequest(context.Background(), f.webhook, m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res := f.acts.send(req, f.webhook, sendResult{outcome: delivery.OutcomeRetry})
	if res.outcome != delivery.OutcomeSucceeded || res.statusCode != http.StatusNoContent || res.attempt.Error != "" {
		t.Fatalf("send: %+v", res)
	}
	r := got.only(t)
	r.verify(t, f.webhook.Secret, "bat_test")
	if r.method != http.MethodPatch || r.url != "/batch?n=2" || string(r.body) != "a=1&b=%7B%7D" ||
		r.header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.header.Get("X-Tenant") != "t1" {
		t.Fatalf("receiver got %s %s %q with headers %v", r.method, r.url, r.body, r.header)
	}
}

// TestAllowInvalidCerts: a target with a certificate hookd cannot verify (httptest's
// self-signed one, on 127.0.0.1) is refused, with an attempt error naming the certificate,
// unless the webhook allows invalid certificates; then it is delivered.
func TestAllowInvalidCerts(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("allowInvalidCerts=", allow), func(t *testing.T) {
			t.Parallel()
			var got wireLog
			tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(got.handler))
			tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // a refused handshake is expected
			tlsSrv.StartTLS()
			t.Cleanup(tlsSrv.Close)
			f := newFixture(t, got.handler, func(wh *store.Webhook) {
				wh.URL = tlsSrv.URL + "/hook"
				wh.AllowInvalidCerts = allow
			})
			// As cmd/hookd wires it: the same guard, without verification.
			f.acts.InsecureClient = netguard.NewClient(netguard.Options{AllowPrivate: true, AllowHTTP: true, InsecureSkipVerify: true})

			res := f.attempt(t, AttemptInput{})
			d, atts, _ := f.load(t)
			if !allow {
				got.mu.Lock()
				n := len(got.reqs)
				got.mu.Unlock()
				if res.Status != delivery.StatusRetrying || n != 0 || !strings.Contains(atts[0].Error, "certificate") ||
					atts[0].ResponseStatus != nil {
					t.Fatalf("result %+v after %d requests, attempt error %q; want refused over the certificate",
						res, n, atts[0].Error)
				}
				return
			}
			if res.Status != delivery.StatusSucceeded || d.Status != store.StatusSucceeded {
				t.Fatalf("result %+v, delivery %s, attempt error %q; want it delivered", res, d.Status, atts[0].Error)
			}
			got.only(t).verify(t, f.webhook.Secret, f.dlv.ID)
		})
	}
}

// TestURLCredentialsMasked: a credential in the target URL (user information, a query
// parameter named as a credential) reaches the receiver, and appears in no attempt
// record, attempt error, delivery error or activity result, which show it masked.
func TestURLCredentialsMasked(t *testing.T) {
	t.Parallel()
	const (
		password = "pw-7f3a91"
		apiKey   = "k-live-5c2e08"
	)
	withCredentials := func(target string) string {
		return strings.Replace(target, "http://", "http://hook-user:"+password+"@", 1) + "?api_key=" + apiKey + "&tenant=t1"
	}
	wantNoSecret := func(t *testing.T, what, s string) {
		t.Helper()
		if strings.Contains(s, password) || strings.Contains(s, apiKey) {
			t.Fatalf("%s shows a credential of the URL: %s", what, s)
		}
	}

	t.Run("delivered", func(t *testing.T) {
		t.Parallel()
		var got wireLog
		f := newFixture(t, got.handler, func(wh *store.Webhook) { wh.URL = withCredentials(wh.URL) })
		res := f.attempt(t, AttemptInput{})
		if res.Status != delivery.StatusSucceeded {
			t.Fatalf("result %+v", res)
		}
		r := got.only(t)
		if r.url != "/hook?api_key="+apiKey+"&tenant=t1" || r.user != "hook-user" || r.pass != password {
			t.Fatalf("receiver got %s as %q:%q, want the real credentials", r.url, r.user, r.pass)
		}
		_, atts, _ := f.load(t)
		want := strings.Replace(f.webhook.URL, "hook-user:"+password, "********", 1)
		want = strings.Replace(want, apiKey, "********", 1)
		if atts[0].RequestURL != want {
			t.Fatalf("attempt records URL %q, want %q", atts[0].RequestURL, want)
		}
		wantNoSecret(t, "the attempt record", fmt.Sprintf("%+v", atts[0]))
	})

	t.Run("not reached", func(t *testing.T) {
		t.Parallel()
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close() // its address now refuses connections
		f := newFixture(t, func(http.ResponseWriter, *http.Request) {}, func(wh *store.Webhook) {
			wh.URL = withCredentials(down.URL + "/hook")
		})
		res := f.attempt(t, AttemptInput{})
		d, atts, _ := f.load(t)
		// The record keeps the masked URL; the result, which Temporal keeps, only its host.
		if res.Status != delivery.StatusRetrying || !strings.Contains(res.Error, `"http://********@127.0.0.1:`) ||
			strings.Contains(res.Error, "/hook") || !strings.Contains(atts[0].Error, "api_key=********") {
			t.Fatalf("result %+v, record error %q: want retrying, the host alone in the result's error and the masked URL in the record's", res, atts[0].Error)
		}
		wantNoSecret(t, "the activity result", fmt.Sprintf("%+v", res))
		wantNoSecret(t, "the attempt record", fmt.Sprintf("%+v", atts[0]))
		wantNoSecret(t, "the delivery", fmt.Sprintf("%+v", d))
	})
}

// TestSendAgainAfter401: a 401 sends the request once more only when reauthorize gets
// fresh credentials (OAuth2), and never more than once; a refresh that fails leaves the
// 401 on record with the refresh's error.
func TestSendAgainAfter401(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		oauth2       bool
		refreshFails bool
		wantSent     int
		wantTokens   int
		wantError    string
	}{
		{name: "bearer: nothing to refresh", wantSent: 1, wantError: "receiver answered 401"},
		{name: "oauth2: refreshed, sent once more", oauth2: true, wantSent: 2, wantTokens: 2,
			wantError: "receiver answered 401"},
		{name: "oauth2: refresh fails", oauth2: true, refreshFails: true, wantSent: 1, wantTokens: 2,
			wantError: "receiver answered 401; refreshing the credentials failed: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tokens atomic.Int32
			tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if n := tokens.Add(1); n > 1 && tc.refreshFails {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, tokens.Load())
			}))
			t.Cleanup(tokenSrv.Close)
			var got wireLog
			f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
				got.handler(httptest.NewRecorder(), r)
				w.WriteHeader(http.StatusUnauthorized)
			}, func(wh *store.Webhook) {
				wh.Auth = webhook.Auth{Type: webhook.AuthBearer, Token: "static-token"}
				if tc.oauth2 {
					wh.Auth = webhook.Auth{Type: webhook.AuthOAuth2, TokenURL: tokenSrv.URL + "/token",
						ClientID: "hookd", ClientSecret: "cs-1"}
				}
			})
			res := f.attempt(t, AttemptInput{})
			_, atts, _ := f.load(t)
			got.mu.Lock()
			sent := got.reqs
			got.mu.Unlock()
			if res.Outcome != delivery.OutcomeRetry || len(sent) != tc.wantSent || int(tokens.Load()) != tc.wantTokens ||
				!strings.HasPrefix(atts[0].Error, tc.wantError) || atts[0].ResponseStatus == nil || *atts[0].ResponseStatus != 401 {
				t.Fatalf("result %+v after %d requests and %d tokens, attempt error %q; want %d, %d and %q",
					res, len(sent), tokens.Load(), atts[0].Error, tc.wantSent, tc.wantTokens, tc.wantError)
			}
			for i, r := range sent {
				r.verify(t, f.webhook.Secret, f.dlv.ID) // the body is sent again whole
				if want := fmt.Sprintf("Bearer tok-%d", i+1); tc.oauth2 && r.header.Get("Authorization") != want {
					t.Fatalf("request %d carried %q, want %q", i+1, r.header.Get("Authorization"), want)
				}
			}
		})
	}
}

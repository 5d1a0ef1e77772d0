package activities_test

// Integration tests of auth to the endpoint (API.md "auth", issue 8 item 3): a webhook
// made through the API, an event published through it, delivered by the Delivery
// workflow on a real (embedded) Temporal server and a real PostgreSQL to httptest
// receivers and token endpoints; then the four places a credential must never show: API
// reads, log lines, attempt records and Temporal payloads.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/devtemporal"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/endpointauth"
	"github.com/hookd/hookd/internal/engine"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/worker"
	"github.com/hookd/hookd/workflows"
)

// temporalServer is one embedded Temporal server for this file's tests, started by the
// first that needs it; each test has a task queue of its own. It lives until the test
// binary exits.
var temporalServer struct {
	once sync.Once
	srv  *devtemporal.Server
	err  error
}

func sharedTemporal(t *testing.T) *devtemporal.Server {
	t.Helper()
	temporalServer.once.Do(func() {
		temporalServer.srv, temporalServer.err = devtemporal.Start(context.Background(), devtemporal.Options{
			UIPort: devtemporal.Disabled, HTTPPort: devtemporal.Disabled,
			SearchAttributes: workflows.SearchAttributeTypes(),
			Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	})
	if temporalServer.err != nil {
		t.Fatalf("start temporal: %v", temporalServer.err)
	}
	return temporalServer.srv
}

// logBuffer collects the log lines of the API, the service, the activities and the
// Temporal SDK's worker and client.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// authHarness is hookd's API, service and worker on a fresh database and a task queue
// of their own, every log line captured at debug level.
type authHarness struct {
	t      *testing.T
	st     *store.Store
	tc     client.Client
	acts   *activities.Activities
	api    *gin.Engine
	key    string // an admin key
	logs   *logBuffer
	orgID  string
	nextID atomic.Int32
}

var queueName = regexp.MustCompile(`[^A-Za-z0-9]+`)

func newAuthHarness(t *testing.T) *authHarness {
	t.Helper()
	srv := sharedTemporal(t)
	h := &authHarness{t: t, st: storetest.New(t), logs: &logBuffer{}}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	h.tc, err = client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace(),
		Logger: sdklog.NewStructuredLogger(logger)})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(h.tc.Close)
	queue := "auth-" + queueName.ReplaceAllString(t.Name(), "-")
	svc := dispatch.New(h.st, &engine.Temporal{Client: h.tc, TaskQueue: queue}, dispatch.Options{Logger: logger})
	client := netguard.NewClient(netguard.Options{AllowPrivate: true, AllowHTTP: true})
	h.acts = &activities.Activities{
		Store: h.st, Service: svc, Client: client,
		Tokens:    endpointauth.NewCache(client),
		UserAgent: "hookd/test", Logger: logger,
	}
	w := worker.New(h.tc, queue, h.acts, sdkworker.Options{})
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	h.api, err = api.New(api.Config{Store: h.st, Service: svc, Logger: logger, AllowHTTP: true, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	org, err := h.st.CreateOrganization(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	h.orgID = org.ID
	plain, k := auth.Issue(org.ID, store.RoleAdmin, "admin")
	if err := h.st.InsertAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	h.key = plain
	h.call(http.StatusCreated, "POST", "/v1/event-types", map[string]any{"name": "device.created", "description": "d"})
	return h
}

// call sends an API request and fails unless it answers want; it returns the body.
func (h *authHarness) call(want int, method, path string, body any) []byte {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Authorization", "Bearer "+h.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	if rec.Code != want {
		h.t.Fatalf("%s %s = %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	return rec.Body.Bytes()
}

// createWebhook creates a webhook to url with auth; it returns the webhook's id.
func (h *authHarness) createWebhook(url string, authBody map[string]any) string {
	h.t.Helper()
	var out struct{ ID string }
	body := h.call(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{
		"name": "auth " + authBody["type"].(string), "url": url, "events": []string{"device.created"},
		"auth": authBody, "timeoutSeconds": 5, "maxRetries": 1, "retrySchedule": []string{"1h"},
	})
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		h.t.Fatalf("create webhook: %s %v", body, err)
	}
	return out.ID
}

// publish publishes a device.created event and returns its deliveries by webhook id.
func (h *authHarness) publish() map[string]string {
	h.t.Helper()
	var out struct {
		Deliveries []struct{ ID, WebhookID string }
	}
	body := h.call(http.StatusAccepted, "POST", "/v1/events", map[string]any{
		"id": fmt.Sprintf("evt_%d", h.nextID.Add(1)), "type": "device.created", "data": map[string]any{"device_id": "d-1"},
	})
	if err := json.Unmarshal(body, &out); err != nil {
		h.t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range out.Deliveries {
		m[d.WebhookID] = d.ID
	}
	return m
}

// deliveryView is the part of GET /v1/deliveries/{id} these tests read.
type deliveryView struct {
	Status   string
	Attempts []struct {
		Number   int
		Error    string
		Response *struct{ Status int }
		Request  struct{ Headers map[string]string }
	}
}

// settled waits until delivery id has an attempt and a status other than pending, and
// returns it with the raw answer. The bound is a deadline for a stuck test, not a timing
// assertion.
func (h *authHarness) settled(id string) (deliveryView, string) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		raw := h.call(http.StatusOK, "GET", "/v1/deliveries/"+id, nil)
		var d deliveryView
		if err := json.Unmarshal(raw, &d); err != nil {
			h.t.Fatal(err)
		}
		if d.Status != store.StatusPending && len(d.Attempts) > 0 {
			return d, string(raw)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("delivery %s not attempted within a minute: %s", id, raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noLeak fails if any secret shows in (a) the API's reads of webhook webhookID (get and
// list), (b) a log line, (c) the delivery's attempt records (the API's read and the
// attempts table) or (d) a payload of the delivery's Temporal history.
func (h *authHarness) noLeak(webhookID, deliveryID string, secrets ...string) {
	h.t.Helper()
	places := map[string]string{
		"(a) GET webhook":   string(h.call(http.StatusOK, "GET", "/v1/webhooks/"+webhookID, nil)),
		"(a) list webhooks": string(h.call(http.StatusOK, "GET", "/v1/webhooks", nil)),
		"(b) logs":          h.logs.String(),
		"(c) GET delivery":  string(h.call(http.StatusOK, "GET", "/v1/deliveries/"+deliveryID, nil)),
	}
	var rows string
	if err := h.st.Pool().QueryRow(context.Background(),
		"SELECT coalesce(string_agg(row_to_json(a)::text, ' '), '') FROM attempts a").Scan(&rows); err != nil {
		h.t.Fatal(err)
	}
	places["(c) attempts table"] = rows

	hist := h.historyText(deliveryID)
	// The search reads the payloads: the workflow's input holds the delivery's id.
	if !strings.Contains(hist, deliveryID) {
		h.t.Fatalf("the delivery's history does not show its id: payloads were not read")
	}
	places["(d) temporal history"] = hist

	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				h.t.Errorf("%s shows the credential %q", where, s)
			}
		}
	}
}

// historyText is every event of the delivery's workflow history (latest run), in binary
// form (payload bytes as they are) and in JSON.
func (h *authHarness) historyText(deliveryID string) string {
	h.t.Helper()
	var hist strings.Builder
	iter := h.tc.GetWorkflowHistory(context.Background(), delivery.WorkflowID(deliveryID), "", false, 0)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			h.t.Fatalf("read history: %v", err)
		}
		b, err := proto.Marshal(ev)
		if err != nil {
			h.t.Fatal(err)
		}
		hist.Write(b)
		hist.WriteString(protojson.Format(ev))
	}
	return hist.String()
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestDeliveryWithBasicAndBearerAuth: a Basic and a Bearer webhook on the same event each
// receive their Authorization header, and neither credential shows anywhere.
func TestDeliveryWithBasicAndBearerAuth(t *testing.T) {
	t.Parallel()
	h := newAuthHarness(t)
	const (
		password = "pw-basic-4b1e9c"
		token    = "tok-bearer-93ad27"
	)
	var basicGot, bearerGot atomic.Value
	basicRecv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		basicGot.Store(r.Header.Get("Authorization"))
	}))
	t.Cleanup(basicRecv.Close)
	bearerRecv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearerGot.Store(r.Header.Get("Authorization"))
	}))
	t.Cleanup(bearerRecv.Close)

	basicID := h.createWebhook(basicRecv.URL+"/hook", map[string]any{"type": "basic", "username": "mailer", "password": password})
	bearerID := h.createWebhook(bearerRecv.URL+"/hook", map[string]any{"type": "bearer", "token": token})
	dlvs := h.publish()
	for webhookID, want := range map[string]struct {
		got    *atomic.Value
		header string
	}{
		basicID:  {&basicGot, basicHeader("mailer", password)},
		bearerID: {&bearerGot, "Bearer " + token},
	} {
		d, _ := h.settled(dlvs[webhookID])
		if d.Status != store.StatusSucceeded {
			t.Fatalf("webhook %s: delivery %+v", webhookID, d)
		}
		if got, _ := want.got.Load().(string); got != want.header {
			t.Errorf("webhook %s: receiver got Authorization %q, want %q", webhookID, got, want.header)
		}
		if got := d.Attempts[0].Request.Headers["Authorization"]; got != "********" {
			t.Errorf("attempt record shows Authorization %q, want it masked", got)
		}
		h.noLeak(webhookID, dlvs[webhookID], password, token, basicHeader("mailer", password))
	}
}

// oauthServer is a token endpoint (RFC 6749 §4.4) that issues a new access token on
// every request, and a receiver that accepts only the newest one issued.
type oauthServer struct {
	token, receiver *httptest.Server
	issued          atomic.Int32
	current         atomic.Value // the newest access token
	fail            atomic.Bool  // the token endpoint answers 500, the secret in its body
	received        atomic.Int32
	mu              sync.Mutex
	tokens          []string // every access token issued
}

const (
	oauthClientID     = "hookd-device-platform"
	oauthClientSecret = "cs-oauth-6e2b90f4"
)

func newOAuthServer(t *testing.T) *oauthServer {
	t.Helper()
	o := &oauthServer{}
	o.current.Store("")
	o.token = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if o.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":"temporarily_unavailable","error_description":"cannot check %s now"}`, oauthClientSecret)
			return
		}
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || !ok || id != oauthClientID || secret != oauthClientSecret ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "devices:write events" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		tok := fmt.Sprintf("at-%d-%x", o.issued.Add(1), time.Now().UnixNano())
		o.mu.Lock()
		o.tokens = append(o.tokens, tok)
		o.mu.Unlock()
		o.current.Store(tok)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(o.token.Close)
	o.receiver = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.received.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+o.current.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}))
	t.Cleanup(o.receiver.Close)
	return o
}

func (o *oauthServer) auth() map[string]any {
	return map[string]any{"type": "oauth2", "tokenUrl": o.token.URL + "/token", "clientId": oauthClientID,
		"clientSecret": oauthClientSecret, "scopes": []string{"devices:write", "events"}}
}

// secrets are the client secret and every access token issued.
func (o *oauthServer) secrets() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string{oauthClientSecret}, o.tokens...)
}

// TestOAuth2TokenEndpointFailureFailsTheAttempt: a token endpoint answering 500 sends
// nothing to the receiver; the attempt is recorded with an error naming the token
// endpoint's answer and the delivery is retrying. The secret the endpoint echoed shows
// nowhere.
func TestOAuth2TokenEndpointFailureFailsTheAttempt(t *testing.T) {
	t.Parallel()
	h := newAuthHarness(t)
	o := newOAuthServer(t)
	o.fail.Store(true)
	webhookID := h.createWebhook(o.receiver.URL+"/hook", o.auth())

	dlvs := h.publish()
	d, raw := h.settled(dlvs[webhookID])
	if d.Status != store.StatusRetrying || len(d.Attempts) != 1 {
		t.Fatalf("delivery with a failing token endpoint: %s", raw)
	}
	a := d.Attempts[0]
	if !strings.Contains(a.Error, "oauth2 token endpoint answered 500") || !strings.Contains(a.Error, "temporarily_unavailable") {
		t.Errorf("attempt error %q does not name the token endpoint's failure", a.Error)
	}
	if a.Response != nil {
		t.Errorf("attempt has a response %+v: nothing should have been sent", a.Response)
	}
	if n := o.received.Load(); n != 0 {
		t.Errorf("the receiver got %d requests without a token", n)
	}
	// The delivery's row is settled inside the activity, a moment before its result
	// reaches the history.
	inHistory := false
	for deadline := time.Now().Add(20 * time.Second); !inHistory && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		inHistory = strings.Contains(h.historyText(dlvs[webhookID]), "oauth2 token endpoint answered 500")
	}
	if !inHistory {
		t.Error("the attempt's error is not in the workflow's history: the payload search below would prove nothing")
	}
	h.noLeak(webhookID, dlvs[webhookID], o.secrets()...)
}

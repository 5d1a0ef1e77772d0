package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

var _ api.Store = (*store.Store)(nil)

func TestMain(m *testing.M) { storetest.Main(m) }

// recordingScheduler is the service's engine in the handler tests, in Temporal's place:
// it records what the service asked for and fails on demand (internal/e2e runs the API
// on Temporal).
type recordingScheduler struct {
	mu                               sync.Mutex
	scheduled, retried, canceled     []string
	scheduleErr, retryErr, cancelErr error
	readyErr                         error
}

func (r *recordingScheduler) Schedule(_ context.Context, ds []store.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scheduleErr != nil {
		return r.scheduleErr
	}
	for _, d := range ds {
		r.scheduled = append(r.scheduled, d.ID)
	}
	return nil
}

func (r *recordingScheduler) Retry(_ context.Context, d store.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retryErr != nil {
		return r.retryErr
	}
	r.retried = append(r.retried, d.ID)
	return nil
}

func (r *recordingScheduler) Cancel(_ context.Context, d store.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancelErr != nil {
		return r.cancelErr
	}
	r.canceled = append(r.canceled, d.ID)
	return nil
}

func (r *recordingScheduler) Ready(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readyErr
}

func (r *recordingScheduler) set(f func(r *recordingScheduler)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *recordingScheduler) calls() (scheduled, retried, canceled []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.scheduled...), append([]string(nil), r.retried...), append([]string(nil), r.canceled...)
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one API on its own fresh database, with an organization and a key per role.
type env struct {
	t      *testing.T
	store  *store.Store
	sched  *recordingScheduler
	engine *gin.Engine
	logs   *syncBuffer
	org    string
	admin  string
	pub    string
	viewer string
}

func newEnv(t *testing.T, edit ...func(*api.Config)) *env {
	t.Helper()
	e := &env{t: t, store: storetest.New(t), sched: &recordingScheduler{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := api.Config{
		Store:   e.store,
		Service: dispatch.New(e.store, e.sched, dispatch.Options{Logger: logger}),
		Logger:  logger,
	}
	for _, f := range edit {
		f(&cfg)
	}
	engine, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.engine = engine
	e.org, e.admin, e.pub, e.viewer = e.newOrg()
	return e
}

// newOrg creates an organization with an admin, a publisher and a viewer key.
func (e *env) newOrg() (org, admin, publisher, viewer string) {
	e.t.Helper()
	ctx := context.Background()
	o, err := e.store.CreateOrganization(ctx, "acme")
	if err != nil {
		e.t.Fatal(err)
	}
	keys := make([]string, 3)
	for i, role := range []store.Role{store.RoleAdmin, store.RolePublisher, store.RoleViewer} {
		plain, k := auth.Issue(o.ID, role, string(role))
		if err := e.store.InsertAPIKey(ctx, k); err != nil {
			e.t.Fatal(err)
		}
		keys[i] = plain
	}
	return o.ID, keys[0], keys[1], keys[2]
}

// raw is a request body sent exactly as given.
type raw string

// do sends a request; body is nil, a raw string, or a value to encode as JSON.
func (e *env) do(method, path, key string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case raw:
		r = strings.NewReader(string(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, req)
	return rec
}

// must sends a request and fails unless it answers want; it returns the decoded body.
func (e *env) must(want int, method, path, key string, body any) map[string]any {
	e.t.Helper()
	rec := e.do(method, path, key, body)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, want, rec.Body)
	}
	if rec.Body.Len() == 0 {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatalf("%s %s: decode %q: %v", method, path, rec.Body, err)
	}
	return out
}

// count returns the number of rows in table, to prove a refused request wrote nothing.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// counts snapshots every table a request could write.
func (e *env) counts() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"event_types", "webhooks", "events", "deliveries", "attempts"} {
		out[table] = e.count(table)
	}
	return out
}

func (e *env) assertUnchanged(before map[string]int) {
	e.t.Helper()
	after := e.counts()
	for table, n := range before {
		if after[table] != n {
			e.t.Errorf("%s: %d rows, was %d: the refused request wrote something", table, after[table], n)
		}
	}
}

// problem decodes a problem+json answer and checks its envelope.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	if status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("a 503 without Retry-After: 1 (got %q)", rec.Header().Get("Retry-After"))
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem %q: %v", rec.Body, err)
	}
	conforms(t, "Problem", rec.Body.Bytes())
	if p.Status != status || p.Type == "" || p.Title != http.StatusText(status) {
		t.Fatalf("bad problem envelope %+v", p)
	}
	return p
}

// fields returns the fields a 422 named, mapped to their messages.
func (p problem) fields() map[string]string {
	out := map[string]string{}
	for _, f := range p.Errors {
		out[f.Field] = f.Message
	}
	return out
}

// wantFields fails unless the problem names exactly these fields.
func wantFields(t *testing.T, p problem, fields ...string) {
	t.Helper()
	got := p.fields()
	for _, f := range fields {
		if _, ok := got[f]; !ok {
			t.Errorf("field %q not named; errors %v", f, got)
		}
	}
	if len(got) != len(fields) {
		t.Errorf("named %d fields %v, want %d %v", len(got), got, len(fields), fields)
	}
}

// webhookBody is a valid webhook creation body to edit.
func webhookBody(events ...string) map[string]any {
	if events == nil {
		events = []string{}
	}
	return map[string]any{"name": "receiver", "url": "https://example.com/hook", "events": events}
}

func (e *env) createEventType(key, name string, schema any) {
	e.t.Helper()
	body := map[string]any{"name": name, "description": "test type"}
	if schema != nil {
		body["schema"] = schema
	}
	e.must(http.StatusCreated, "POST", "/v1/event-types", key, body)
}

func (e *env) createWebhook(key string, body map[string]any) map[string]any {
	e.t.Helper()
	return e.must(http.StatusCreated, "POST", "/v1/webhooks", key, body)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func serve(e *env, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, req)
	return rec
}

func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
	return out
}

// wantJSON fails unless got has each key of want with an equal value (JSON-decoded).
func wantJSON(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("key %q missing", k)
			continue
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s = %s, want %s", k, gj, wj)
		}
	}
}

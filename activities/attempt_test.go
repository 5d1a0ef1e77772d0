package activities

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is one organization with a webhook pointing at a test receiver and one
// pending delivery of one event, in a fresh database.
type fixture struct {
	st      *store.Store
	acts    *Activities
	webhook store.Webhook
	dlv     store.Delivery
	hits    atomic.Int32
	engine  *startRecorder
}

// startRecorder is the service's engine here: these tests run the activity alone, and
// record which deliveries the service would start (internal/e2e runs it on Temporal).
type startRecorder struct {
	mu      sync.Mutex
	started []string
}

func (r *startRecorder) Schedule(_ context.Context, ds []store.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, store.DeliveryIDs(ds)...)
	return nil
}
func (r *startRecorder) Retry(context.Context, store.Delivery) error  { return nil }
func (r *startRecorder) Cancel(context.Context, store.Delivery) error { return nil }
func (r *startRecorder) Ready(context.Context) error                  { return nil }

func newFixture(t *testing.T, handler http.HandlerFunc, mutate func(*store.Webhook)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: storetest.New(t)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)

	org, err := f.st.CreateOrganization(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CreateEventType(ctx, store.EventType{OrgID: org.ID, Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	secret, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	wh := store.Webhook{
		ID: "wh_test", OrgID: org.ID,
		Settings: webhook.Settings{
			Name: "orders", URL: srv.URL + "/hook",
			Events: []string{"order.created"}, EventsPolicy: "include",
			Headers:        map[string]string{"X-Api-Key": "very-secret", "X-Tenant": "t1"},
			TimeoutSeconds: 2, MaxRetries: 3, RetrySchedule: []time.Duration{time.Minute},
		},
		Status: store.WebhookEnabled, Secret: secret,
	}
	if mutate != nil {
		mutate(&wh)
	}
	if f.webhook, err = f.st.CreateWebhook(ctx, wh); err != nil {
		t.Fatal(err)
	}
	res, err := f.st.IngestEvent(ctx, store.Event{
		OrgID: org.ID, ID: "evt_1", Type: "order.created", Timestamp: time.Now().UTC(),
		Data: []byte(`{"orderId":"o-1"}`),
	})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("ingest: %v (%d deliveries)", err, len(res.Deliveries))
	}
	f.dlv = res.Deliveries[0]
	f.engine = &startRecorder{}
	f.acts = &Activities{
		Store:     f.st,
		Service:   dispatch.New(f.st, f.engine, dispatch.Options{}),
		Client:    netguard.NewClient(netguard.Options{AllowPrivate: true, AllowHTTP: true}),
		UserAgent: "hookd/test",
	}
	return f
}

// activityEnv returns a test activity environment with f's activities registered. Every
// environment runs its activities in the same workflow run and numbers them from the same
// start, so the first attempt in a fresh environment has the key of the first attempt in
// any other (a re-execution, as after a replay), while the next attempt in the same
// environment has a key of its own.
func (f *fixture) activityEnv() *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	return env
}

// attempt runs the Attempt activity for f's delivery in a fresh environment.
func (f *fixture) attempt(t *testing.T, in AttemptInput) AttemptResult {
	t.Helper()
	return f.attemptIn(t, f.activityEnv(), in)
}

func (f *fixture) attemptIn(t *testing.T, env *testsuite.TestActivityEnvironment, in AttemptInput) AttemptResult {
	t.Helper()
	in.DeliveryID = f.dlv.ID
	if in.Trigger == "" {
		in.Trigger = TriggerAuto
	}
	v, err := env.ExecuteActivity(f.acts.Attempt, in)
	if err != nil {
		t.Fatalf("attempt: %v", err)
	}
	var res AttemptResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// recordPrior records n failed automatic attempts of f's delivery, as earlier runs of the
// schedule would have.
func (f *fixture) recordPrior(t *testing.T, n int) {
	t.Helper()
	for range n {
		if _, err := f.st.RecordAttempt(context.Background(), store.Attempt{DeliveryID: f.dlv.ID, OrgID: f.dlv.OrgID,
			Trigger: TriggerAuto, RequestURL: f.webhook.URL, RequestMethod: http.MethodPost, Error: "receiver answered 500"},
			store.DeliveryUpdate{Status: store.StatusRetrying}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) load(t *testing.T) (store.Delivery, []store.Attempt, store.Webhook) {
	t.Helper()
	d, atts, err := f.st.GetDelivery(context.Background(), f.dlv.OrgID, f.dlv.ID)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := f.st.GetWebhook(context.Background(), f.dlv.OrgID, f.webhook.ID)
	if err != nil {
		t.Fatal(err)
	}
	return d, atts, wh
}

func TestAttemptSucceedsSignedAndRecorded(t *testing.T) {
	t.Parallel()
	var verified atomic.Bool
	var f *fixture
	f = newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		err := signing.Verify(r.Header.Get(signing.HeaderID), r.Header.Get(signing.HeaderTimestamp),
			r.Header.Get(signing.HeaderSignature), body, f.webhook.Secret)
		verified.Store(err == nil && r.Header.Get("X-Tenant") == "t1" && r.Header.Get("User-Agent") == "hookd/test")
		w.Header().Set("X-Receipt", "r-1")
		_, _ = w.Write([]byte("thanks"))
	}, nil)

	res := f.attempt(t, AttemptInput{})
	if res.Outcome != delivery.OutcomeSucceeded || res.Status != delivery.StatusSucceeded || res.Number != 1 {
		t.Fatalf("result %+v", res)
	}
	if !verified.Load() {
		t.Fatal("receiver did not get a verifiable signature with the custom headers")
	}
	d, atts, wh := f.load(t)
	if d.Status != store.StatusSucceeded || d.AttemptCount != 1 || len(atts) != 1 {
		t.Fatalf("delivery %+v with %d attempts", d, len(atts))
	}
	a := atts[0]
	if a.ResponseStatus == nil || *a.ResponseStatus != 200 || a.ResponseBody != "thanks" ||
		a.ResponseHeaders["X-Receipt"] != "r-1" || a.Trigger != TriggerAuto || a.Number != 1 {
		t.Fatalf("attempt %+v", a)
	}
	if a.RequestHeaders["X-Api-Key"] != "********" || a.RequestHeaders["X-Tenant"] != "t1" {
		t.Fatalf("request headers not masked as expected: %v", a.RequestHeaders)
	}
	if wh.AttemptCount != 1 || wh.LastTriggeredAt == nil {
		t.Fatalf("webhook counters %+v", wh)
	}
}

func TestAttemptOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		in          AttemptInput
		prior       int // automatic attempts the delivery made before this one
		wantOutcome delivery.Outcome
		wantStatus  string
		wantAfter   time.Duration
		wantDisable bool
	}{
		{
			name: "503 with Retry-After longer than the schedule",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			wantOutcome: delivery.OutcomeRetry, wantStatus: delivery.StatusRetrying, wantAfter: 2 * time.Minute,
		},
		{
			name:        "410 disables the webhook",
			handler:     func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) },
			wantOutcome: delivery.OutcomeGone, wantStatus: delivery.StatusFailed, wantDisable: true,
		},
		{
			name:        "redirects are failures, not followed",
			handler:     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
			wantOutcome: delivery.OutcomeRetry, wantStatus: delivery.StatusRetrying,
		},
		{
			name:        "timeout is retried",
			handler:     func(http.ResponseWriter, *http.Request) { time.Sleep(3 * time.Second) },
			wantOutcome: delivery.OutcomeRetry, wantStatus: delivery.StatusRetrying,
		},
		{
			name:        "a failed manual attempt ends the delivery",
			handler:     func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			in:          AttemptInput{Trigger: TriggerManual},
			wantOutcome: delivery.OutcomeRetry, wantStatus: delivery.StatusFailed,
		},
		{
			name:        "retries run out",
			handler:     func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) },
			prior:       3,
			wantOutcome: delivery.OutcomeRetry, wantStatus: delivery.StatusFailed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.handler, nil)
			f.recordPrior(t, tc.prior)
			res := f.attempt(t, tc.in)
			if res.Outcome != tc.wantOutcome || res.Status != tc.wantStatus || res.RetryAfter != tc.wantAfter {
				t.Fatalf("result %+v, want outcome %s status %s retryAfter %v", res, tc.wantOutcome, tc.wantStatus, tc.wantAfter)
			}
			d, atts, wh := f.load(t)
			atts = atts[tc.prior:]
			if d.Status != tc.wantStatus || len(atts) != 1 || atts[0].Error == "" {
				t.Fatalf("delivery %+v, attempts %+v", d, atts)
			}
			if tc.wantStatus == delivery.StatusRetrying && (d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 30*time.Second) {
				t.Fatalf("nextAttemptAt %v, want about a minute or more ahead", d.NextAttemptAt)
			}
			if disabled := wh.Status == store.WebhookDisabledDueToErrors; disabled != tc.wantDisable {
				t.Fatalf("webhook status %s, want disabled=%v", wh.Status, tc.wantDisable)
			}
			if tc.wantAfter > 0 && (atts[0].RetryAfterMs == nil || *atts[0].RetryAfterMs != tc.wantAfter.Milliseconds()) {
				t.Fatalf("attempt retryAfter %v, want %v", atts[0].RetryAfterMs, tc.wantAfter)
			}
		})
	}
}

func TestAttemptAbandonsWithoutSending(t *testing.T) {
	t.Parallel()
	t.Run("webhook disabled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(http.ResponseWriter, *http.Request) {}, nil)
		// Disabled after the event fanned out to it: its pending delivery must not be sent.
		f.webhook.Status = store.WebhookDisabled
		if _, err := f.st.UpdateWebhook(context.Background(), f.webhook); err != nil {
			t.Fatal(err)
		}
		res := f.attempt(t, AttemptInput{})
		d, atts, _ := f.load(t)
		if !res.Abandoned || f.hits.Load() != 0 || d.Status != store.StatusCanceled || len(atts) != 0 {
			t.Fatalf("result %+v, %d requests, delivery %s, %d attempts", res, f.hits.Load(), d.Status, len(atts))
		}
		if d.LastError != "webhook is disabled" || d.NextAttemptAt != nil {
			t.Fatalf("canceled delivery's last error %q, next attempt %v; want the reason and none", d.LastError, d.NextAttemptAt)
		}
	})
	t.Run("delivery canceled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(http.ResponseWriter, *http.Request) {}, nil)
		if _, err := f.st.TransitionDelivery(context.Background(), f.dlv.OrgID, f.dlv.ID,
			[]string{store.StatusPending}, store.StatusCanceled); err != nil {
			t.Fatal(err)
		}
		res := f.attempt(t, AttemptInput{})
		if !res.Abandoned || f.hits.Load() != 0 {
			t.Fatalf("result %+v after %d requests, want abandoned without a request", res, f.hits.Load())
		}
	})
}

func TestAttemptReExecutionReturnsRecordedAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		blockAll bool // the SSRF guard refuses the receiver: no request, no status
		want     AttemptResult
		wantHits int32 // requests per logical attempt
	}{
		{
			name:     "succeeded",
			handler:  func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) },
			want:     AttemptResult{Outcome: delivery.OutcomeSucceeded, StatusCode: 200, Status: delivery.StatusSucceeded},
			wantHits: 1,
		},
		{
			name: "503 with Retry-After",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			want: AttemptResult{Outcome: delivery.OutcomeRetry, StatusCode: 503, RetryAfter: 2 * time.Minute,
				Status: delivery.StatusRetrying, Error: "receiver answered 503"},
			wantHits: 1,
		},
		{
			name:     "blocked target fails without a status",
			handler:  func(http.ResponseWriter, *http.Request) {},
			blockAll: true,
			want:     AttemptResult{Outcome: delivery.OutcomeFailed, Status: delivery.StatusFailed},
			wantHits: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.handler, nil)
			if tc.blockAll {
				f.acts.Client = netguard.NewClient(netguard.Options{AllowHTTP: true})
			}
			env := f.activityEnv()
			first := f.attemptIn(t, env, AttemptInput{})
			if first.Number != 1 || first.Outcome != tc.want.Outcome || first.StatusCode != tc.want.StatusCode ||
				first.RetryAfter != tc.want.RetryAfter || first.Status != tc.want.Status ||
				(tc.want.Error != "" && first.Error != tc.want.Error) {
				t.Fatalf("first attempt %+v, want %+v", first, tc.want)
			}

			// The same logical attempt again, in a fresh environment: nothing is sent or
			// recorded, and the workflow hears what the first execution found out.
			again := f.attempt(t, AttemptInput{})
			_, atts, _ := f.load(t)
			if f.hits.Load() != tc.wantHits || len(atts) != 1 {
				t.Fatalf("%d requests, %d attempts recorded; want %d and 1", f.hits.Load(), len(atts), tc.wantHits)
			}
			if !reflect.DeepEqual(again, first) {
				t.Fatalf("re-execution returned %+v, want %+v", again, first)
			}
			if atts[0].ActivityKey == "" || atts[0].Outcome != string(tc.want.Outcome) {
				t.Fatalf("attempt recorded with key %q and outcome %q, want a key and %q",
					atts[0].ActivityKey, atts[0].Outcome, tc.want.Outcome)
			}

			// The next activity of the run is another attempt: it is sent and recorded.
			next := f.attemptIn(t, env, AttemptInput{})
			_, atts, _ = f.load(t)
			if next.Number != 2 || f.hits.Load() != 2*tc.wantHits || len(atts) != 2 ||
				atts[1].ActivityKey == atts[0].ActivityKey {
				t.Fatalf("next attempt %+v after %d requests, %d attempts recorded", next, f.hits.Load(), len(atts))
			}
		})
	}
}

func TestAttemptReExecutionAfterCancelReturnsRecordedAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, nil)
	first := f.attempt(t, AttemptInput{})
	if first.Status != delivery.StatusRetrying {
		t.Fatalf("first attempt %+v, want retrying", first)
	}
	if _, err := f.st.TransitionDelivery(context.Background(), f.dlv.OrgID, f.dlv.ID,
		[]string{store.StatusRetrying}, store.StatusCanceled); err != nil {
		t.Fatal(err)
	}
	// The attempt was made before the cancel: its re-execution reports it rather than
	// abandoning.
	again := f.attempt(t, AttemptInput{})
	if again.Abandoned || !reflect.DeepEqual(again, first) || f.hits.Load() != 1 {
		t.Fatalf("re-execution %+v after %d requests, want %+v after 1", again, f.hits.Load(), first)
	}
}

func TestAttemptSendsAPingToADisabledWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil)
	f.webhook.Status = store.WebhookDisabled
	if _, err := f.st.UpdateWebhook(ctx, f.webhook); err != nil {
		t.Fatal(err)
	}
	_, ping, err := f.st.CreatePing(ctx, f.dlv.OrgID, f.webhook.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.dlv = ping
	res := f.attempt(t, AttemptInput{})
	d, atts, _ := f.load(t)
	if res.Abandoned || res.Status != delivery.StatusSucceeded || f.hits.Load() != 1 || d.Status != store.StatusSucceeded || len(atts) != 1 {
		t.Fatalf("result %+v after %d requests, delivery %s with %d attempts; want the ping sent", res, f.hits.Load(), d.Status, len(atts))
	}
}

package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNoSecretReachesALogLine runs hookd at debug level through everything that handles
// a secret: webhooks with a signing secret, Basic, Bearer and OAuth2 auth, a credential
// header and a token in the URL's query, created with an API key; deliveries to a
// receiver that fails and echoes what it got (headers, query) in its answer, a retry
// after the backoff, a manual retry, a secret rotation and a delivery signed during its
// grace period; a request with an unknown key and a refused create holding credentials.
// No line hookd wrote holds any of the secrets.
func TestNoSecretReachesALogLine(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{env: []string{"HOOKD_LOG_LEVEL=debug"}})
	key := in.keysCreate("org_logs", "admin")

	random := func(prefix string) string {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		return fmt.Sprintf("%s%x", prefix, b)
	}
	signingKey := make([]byte, 32)
	_, _ = rand.Read(signingKey)
	signingB64 := base64.StdEncoding.EncodeToString(signingKey)
	secrets := map[string]string{
		"the API key":              key,
		"the signing secret":       "whsec_" + signingB64,
		"the signing key (base64)": signingB64,
		"the Basic password":       random("pw-"),
		"the Bearer token":         random("bearer-"),
		"the OAuth2 client secret": random("client-"),
		"the OAuth2 access token":  random("access-"),
		"the credential header":    random("hdr-"),
		"the URL's token":          random("urltoken"),
		"an unknown API key":       random("hk_unknown_"),
	}

	var tokens atomic.Int32
	oauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "hookd-client" || secret != secrets["the OAuth2 client secret"] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": secrets["the OAuth2 access token"], "token_type": "bearer", "expires_in": 3600,
		})
	}))
	t.Cleanup(oauth.Close)
	// The receiver fails and echoes every credential it was sent, in its headers and body.
	var sent atomic.Int32
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		var b strings.Builder
		fmt.Fprintf(&b, "query: %s\n", r.URL.RawQuery)
		for name, vs := range r.Header {
			fmt.Fprintf(&b, "%s: %s\n", name, strings.Join(vs, ", "))
		}
		w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Echo-Api-Key", r.Header.Get("X-Api-Key"))
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(echo.Close)

	must := func(want int, method, path string, body any) response {
		t.Helper()
		r := in.call(method, path, key, body)
		if r.status != want {
			t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
		}
		return r
	}
	must(http.StatusCreated, http.MethodPost, "/v1/event-types", map[string]any{"name": "order.created"})
	retries := map[string]any{"events": []string{"order.created"}, "maxRetries": 1, "retrySchedule": []string{"1s"}, "failureLimit": 0}
	webhook := func(fields map[string]any) string {
		t.Helper()
		body := map[string]any{"name": "logs"}
		for _, m := range []map[string]any{retries, fields} {
			for k, v := range m {
				body[k] = v
			}
		}
		return must(http.StatusCreated, http.MethodPost, "/v1/webhooks", body).str("id")
	}
	signed := webhook(map[string]any{
		"url":       echo.URL + "/basic?token=" + secrets["the URL's token"],
		"secret":    secrets["the signing secret"],
		"signature": map[string]any{"scheme": "hmac-body", "header": "X-Signature", "encoding": "base64"},
		"auth":      map[string]any{"type": "basic", "username": "hookd", "password": secrets["the Basic password"]},
		"headers":   map[string]string{"X-Api-Key": secrets["the credential header"], "X-Tenant": "acme"},
	})
	webhook(map[string]any{
		"url":  echo.URL + "/bearer",
		"auth": map[string]any{"type": "bearer", "token": secrets["the Bearer token"]},
	})
	webhook(map[string]any{
		"url": echo.URL + "/oauth2",
		"auth": map[string]any{"type": "oauth2", "tokenUrl": oauth.URL + "/token", "clientId": "hookd-client",
			"clientSecret": secrets["the OAuth2 client secret"], "scopes": []string{"hooks"}},
	})

	post := func(id string) []string {
		t.Helper()
		r := must(http.StatusAccepted, http.MethodPost, "/v1/events", map[string]any{"id": id, "type": "order.created", "data": map[string]any{"n": 1}})
		ids := deliveryIDs(r)
		if len(ids) != 3 {
			t.Fatalf("event %s has deliveries %v, want 3", id, ids)
		}
		return ids
	}
	failed := func(id string, attempts int) {
		t.Helper()
		eventually(t, 60*time.Second, func() string {
			r := in.call(http.MethodGet, "/v1/deliveries/"+id, key, nil)
			if r.str("status") != "failed" || len(r.list("attempts")) != attempts {
				return fmt.Sprintf("delivery %s is %s with %d attempts, want failed with %d", id, r.str("status"), len(r.list("attempts")), attempts)
			}
			return ""
		})
	}
	first := post("order-logs-1")
	for _, id := range first {
		failed(id, 2) // the first attempt and the retry after 1s
	}
	for _, id := range first {
		must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+id+"/retry", nil)
	}
	for _, id := range first {
		failed(id, 3)
	}
	rotated := must(http.StatusOK, http.MethodPost, "/v1/webhooks/"+signed+"/rotate-secret", map[string]any{"gracePeriodSeconds": 3600}).str("secret")
	if !strings.HasPrefix(rotated, "whsec_") {
		t.Fatalf("rotate-secret answered secret %q", rotated)
	}
	secrets["the rotated secret"] = rotated
	secrets["the rotated key (base64)"] = strings.TrimPrefix(rotated, "whsec_")
	for _, id := range post("order-logs-2") {
		failed(id, 2)
	}
	if r := in.call(http.MethodGet, "/v1/webhooks", secrets["an unknown API key"], nil); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v1/webhooks with an unknown key = %d, want 401", r.status)
	}
	if r := in.call(http.MethodPost, "/v1/webhooks", key, map[string]any{
		"name": "refused", "url": "ftp://example.com/?token=" + secrets["the URL's token"], "events": []string{"order.created"},
		"auth": map[string]any{"type": "basic", "username": "u", "password": secrets["the Basic password"]},
	}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a create with a bad URL = %d, want 422", r.status)
	}
	if sent.Load() < 15 || tokens.Load() == 0 {
		t.Fatalf("the receiver got %d requests and the token endpoint %d, want at least 15 and 1", sent.Load(), tokens.Load())
	}

	// hookd dev prints its own admin key in its banner, on purpose: that line aside, the
	// whole output is log lines.
	lines := slices.DeleteFunc(strings.Split(in.dev.LogTail(0), "\n"), func(l string) bool {
		return strings.Contains(l, "Admin key:")
	})
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "level=DEBUG") }) {
		t.Fatalf("no debug line in hookd's output: is the level debug?\n%s", strings.Join(lines, "\n"))
	}
	// Each attempt is logged at debug level with the ids of its delivery, webhook and
	// workflow.
	attemptLines := 0
	for _, l := range lines {
		if strings.Contains(l, `msg="attempt sent"`) {
			attemptLines++
			for _, id := range []string{"delivery_id=dlv_", "webhook_id=wh_", "workflow_id=delivery-dlv_", "run_id="} {
				if !strings.Contains(l, id) {
					t.Errorf("an attempt's line lacks %s: %s", id, l)
				}
			}
		}
	}
	if attemptLines < 15 {
		t.Errorf("%d attempts logged, want at least 15", attemptLines)
	}
	secrets["the admin key"] = in.adminKey
	for what, secret := range secrets {
		for _, l := range lines {
			if strings.Contains(l, secret) {
				t.Errorf("a log line holds %s: %s", what, l)
				break
			}
		}
	}
	t.Logf("%d lines of output checked", len(lines))
}

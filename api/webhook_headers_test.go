package api_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// credentialHeaders are custom headers whose values no read shows, with values found
// nowhere else in the test.
var credentialHeaders = map[string]string{
	"Authorization":     "Bearer s3cr3t-xyz",
	"X-Api-Key":         "k-2f9e41",
	"Cookie":            "sid=7c1d0b",
	"X-Signature-Token": "tok-55aa10",
}

// wantMaskedHeaders fails unless headers shows every credential header masked and
// X-Tenant as it is.
func wantMaskedHeaders(t *testing.T, who string, headers any) {
	t.Helper()
	want := map[string]any{"X-Tenant": "acme-eu"}
	for name := range credentialHeaders {
		want[name] = "********"
	}
	if !reflect.DeepEqual(headers, want) {
		t.Errorf("%s: headers %v, want %v", who, headers, want)
	}
}

// TestCredentialHeadersAreMasked: admins and viewers alike read credential headers masked,
// in every answer that shows a webhook, and no value reaches a log line.
func TestCredentialHeadersAreMasked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	body := webhookBody("device.created")
	headers := map[string]any{"X-Tenant": "acme-eu"}
	for name, value := range credentialHeaders {
		headers[name] = value
	}
	body["headers"] = headers
	created := e.createWebhook(e.admin, body)
	id := str(created["id"])
	wantMaskedHeaders(t, "create", created["headers"])

	for role, key := range map[string]string{"admin": e.admin, "viewer": e.viewer} {
		rec := e.do("GET", "/v1/webhooks/"+id, key, nil)
		got := decodeJSON(t, rec)
		conformsValue(t, "Webhook", got)
		wantMaskedHeaders(t, role+" get", got["headers"])
		list := e.must(http.StatusOK, "GET", "/v1/webhooks", key, nil)
		wantMaskedHeaders(t, role+" list", list["data"].([]any)[0].(map[string]any)["headers"])
		for _, value := range credentialHeaders {
			if strings.Contains(rec.Body.String(), value) {
				t.Errorf("%s get shows %q: %s", role, value, rec.Body)
			}
		}
	}
	patched := e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"name": "renamed"})
	wantMaskedHeaders(t, "patch", patched["headers"])

	stored, err := e.store.GetWebhook(context.Background(), e.org, id)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range credentialHeaders {
		if stored.Headers[name] != value {
			t.Errorf("stored %s = %q, want %q", name, stored.Headers[name], value)
		}
		if strings.Contains(e.logs.String(), value) {
			t.Errorf("the log shows %s's value", name)
		}
	}
}

// TestPatchKeepsMaskedHeaders: a PATCH that sends back the masked value of a credential
// header keeps the real one; a new value replaces it; a header left out is removed; the
// mask for a credential with nothing stored to keep is refused and changes nothing.
func TestPatchKeepsMaskedHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.createEventType(e.admin, "device.created", nil)
	body := webhookBody("device.created")
	body["headers"] = map[string]any{"Authorization": "Bearer s3cr3t-xyz", "X-Api-Key": "k-2f9e41", "X-Tenant": "acme-eu"}
	id := str(e.createWebhook(e.admin, body)["id"])
	storedHeaders := func() map[string]string {
		t.Helper()
		w, err := e.store.GetWebhook(ctx, e.org, id)
		if err != nil {
			t.Fatal(err)
		}
		return w.Headers
	}

	// What GET answered, sent back with one plain change and a name in another case.
	read := e.must(http.StatusOK, "GET", "/v1/webhooks/"+id, e.admin, nil)["headers"].(map[string]any)
	read["X-Tenant"] = "acme-us"
	read["x-api-key"] = read["X-Api-Key"]
	delete(read, "X-Api-Key")
	read["Authorization"] = " " + str(read["Authorization"]) // spaces a receiver would strip
	patched := e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"headers": read})
	want := map[string]string{"Authorization": "Bearer s3cr3t-xyz", "X-Api-Key": "k-2f9e41", "X-Tenant": "acme-us"}
	if got := storedHeaders(); !reflect.DeepEqual(got, want) {
		t.Errorf("after sending the masked values back: %v, want %v", got, want)
	}
	if h := patched["headers"].(map[string]any); h["Authorization"] != "********" || h["X-Tenant"] != "acme-us" {
		t.Errorf("patch answered headers %v", h)
	}

	// A new value replaces the stored one; a header left out is gone.
	e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{
		"headers": map[string]any{"Authorization": "Bearer n3w-v4lue", "X-Tenant": "********"},
	})
	want = map[string]string{"Authorization": "Bearer n3w-v4lue", "X-Tenant": "********"}
	if got := storedHeaders(); !reflect.DeepEqual(got, want) {
		t.Errorf("after new values: %v, want %v", got, want)
	}

	// The mask with nothing stored under that name to keep is refused.
	before := e.counts()
	p := decodeProblem(t, e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{
		"name":    "renamed",
		"headers": map[string]any{"Authorization": "********", "X-Auth-Token": "********"},
	}), http.StatusUnprocessableEntity)
	wantFields(t, p, "headers.X-Auth-Token")
	e.assertUnchanged(before)
	if got := storedHeaders(); !reflect.DeepEqual(got, want) {
		t.Errorf("a refused PATCH changed the headers: %v, want %v", got, want)
	}
	p = decodeProblem(t, e.do("POST", "/v1/webhooks", e.admin, map[string]any{
		"name": "masked", "url": "https://example.com/hook", "headers": map[string]any{"Cookie": "********"},
	}), http.StatusUnprocessableEntity)
	wantFields(t, p, "headers.Cookie")
}

// TestAttemptRequestHeadersAreMasked: an attempt recorded under an older, narrower rule
// (a credential header's value kept) is read masked.
func TestAttemptRequestHeadersAreMasked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ids := e.seedDeliveries(1)
	if _, err := e.store.Pool().Exec(context.Background(), `
        INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, request_url,
            request_method, request_headers)
        VALUES ('att_old', $1, $2, 1, 'auto', now(), 'https://example.com/hook', 'POST', $3)`,
		ids[0], e.org, map[string]string{
			"X-Signature-Token": "tok-55aa10", "X-Tenant": "acme-eu",
			"Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
		}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{e.admin, e.viewer} {
		d := e.must(http.StatusOK, "GET", "/v1/deliveries/"+ids[0], key, nil)
		request := d["attempts"].([]any)[0].(map[string]any)["request"].(map[string]any)
		want := map[string]any{"X-Signature-Token": "********", "X-Tenant": "acme-eu", "Webhook-Signature": "v1,K5oZfzN…"}
		if !reflect.DeepEqual(request["headers"], want) {
			t.Errorf("attempt request headers %v, want %v", request["headers"], want)
		}
	}
}

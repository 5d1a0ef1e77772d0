package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/store"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	revokedPlain, revoked := auth.Issue(e.org, store.RoleAdmin, "old")
	if err := e.store.InsertAPIKey(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeAPIKey(context.Background(), e.org, revoked.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
	}{
		{"no header", ""},
		{"basic scheme", "Basic YWRtaW46YWRtaW4="},
		{"empty bearer", "Bearer "},
		{"unknown key", "Bearer hk_notarealkeyatall"},
		{"revoked key", "Bearer " + revokedPlain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, route := range [][2]string{{"GET", "/v1/webhooks"}, {"POST", "/v1/events"}, {"GET", "/v1/deliveries/dlv_x"}} {
				req := newRequest(route[0], route[1], tt.header)
				rec := serve(e, req)
				decodeProblem(t, rec, http.StatusUnauthorized)
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate", route[0], route[1])
				}
			}
		})
	}
	t.Run("operations need no key", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
			if rec := e.do("GET", path, "", nil); rec.Code != http.StatusOK {
				t.Errorf("GET %s: %d", path, rec.Code)
			}
		}
	})
}

// TestRoles checks each role against each route: forbidden routes answer 403 before the
// id is looked up; allowed ones get past the role check (to a 404 for the made-up ids, or
// a 4xx about the empty body).
func TestRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const A, P, V = 1, 2, 4 // roles allowed
	routes := []struct {
		method, path string
		allowed      int
	}{
		{"GET", "/v1/event-types", A | V},
		{"POST", "/v1/event-types", A},
		{"GET", "/v1/event-types/no.such", A | V},
		{"PUT", "/v1/event-types/no.such", A},
		{"DELETE", "/v1/event-types/no.such", A},
		{"GET", "/v1/webhooks", A | V},
		{"POST", "/v1/webhooks", A},
		{"GET", "/v1/webhooks/wh_none", A | V},
		{"PATCH", "/v1/webhooks/wh_none", A},
		{"DELETE", "/v1/webhooks/wh_none", A},
		{"POST", "/v1/webhooks/wh_none/ping", A},
		{"POST", "/v1/events", A | P},
		{"GET", "/v1/events", A | P | V},
		{"GET", "/v1/events/evt_none", A | P | V},
		{"GET", "/v1/deliveries", A | V},
		{"GET", "/v1/deliveries/dlv_none", A | V},
		{"POST", "/v1/deliveries/dlv_none/retry", A},
		{"POST", "/v1/deliveries/dlv_none/cancel", A},
	}
	keys := []struct {
		role string
		bit  int
		key  string
	}{{"admin", A, e.admin}, {"publisher", P, e.pub}, {"viewer", V, e.viewer}}
	for _, r := range routes {
		for _, k := range keys {
			t.Run(k.role+" "+r.method+" "+r.path, func(t *testing.T) {
				var body any
				if r.method == "POST" || r.method == "PUT" || r.method == "PATCH" {
					body = raw("{}")
				}
				rec := e.do(r.method, r.path, k.key, body)
				if r.allowed&k.bit == 0 {
					p := decodeProblem(t, rec, http.StatusForbidden)
					if p.Detail == "" {
						t.Error("403 without detail")
					}
					return
				}
				if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized || rec.Code >= 500 {
					t.Fatalf("status %d for an allowed role; body %s", rec.Code, rec.Body)
				}
			})
		}
	}
}

func newRequest(method, path, authorization string) *http.Request {
	req, _ := http.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

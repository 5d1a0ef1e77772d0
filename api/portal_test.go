package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/store"
)

// mintTicket mints a ticket with an admin key and returns the answer.
func (e *env) mintTicket(key string, body map[string]any) map[string]any {
	e.t.Helper()
	out := e.must(http.StatusCreated, "POST", "/v1/portal/tickets", key, body)
	conformsValue(e.t, "PortalTicket", out)
	return out
}

func TestPortalTickets(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, func(c *api.Config) { c.Now = clk.Now })

	exchange := func(ticket string) *httptest.ResponseRecorder {
		return e.browser("GET", "/console/session?ticket="+ticket, "", nil, "Sec-Fetch-Site", "cross-site")
	}
	refusedExchange := func(t *testing.T, rec *httptest.ResponseRecorder) {
		t.Helper()
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console#/signin?error=ticket" || sessionCookie(rec) != nil {
			t.Fatalf("refused exchange: %d to %q, cookie %v", rec.Code, rec.Header().Get("Location"), sessionCookie(rec))
		}
	}

	t.Run("mint and exchange once", func(t *testing.T) {
		out := e.mintTicket(e.admin, map[string]any{"role": "viewer"})
		ticket := out["ticket"].(string)
		if out["url"] != "http://example.com/console/session?ticket="+ticket {
			t.Errorf("url %v", out["url"])
		}
		if exp, _ := time.Parse(time.RFC3339Nano, out["expiresAt"].(string)); !exp.Equal(clk.Now().Add(10 * time.Minute)) {
			t.Errorf("expiresAt %v, want 10 minutes from now", out["expiresAt"])
		}
		rec := exchange(ticket)
		c := sessionCookie(rec)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console" || c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Fatalf("exchange: %d to %q, cookie %+v", rec.Code, rec.Header().Get("Location"), c)
		}
		var s map[string]any
		_ = json.Unmarshal(e.browser("GET", "/console/session", c.Value, nil).Body.Bytes(), &s)
		if s["orgId"] != e.org || s["role"] != "viewer" {
			t.Errorf("session %v", s)
		}
		if rec := e.browser("GET", "/v1/deliveries", c.Value, nil); rec.Code != http.StatusOK {
			t.Errorf("the ticket's viewer reads: %d", rec.Code)
		}
		decodeProblem(t, e.browser("POST", "/v1/event-types", c.Value, map[string]any{"name": "v.w"}, "Sec-Fetch-Site", "same-origin"), http.StatusForbidden)
		refusedExchange(t, exchange(ticket))
	})

	t.Run("admin ticket from a console session", func(t *testing.T) {
		cookie := e.signIn(e.admin)
		rec := e.browser("POST", "/v1/portal/tickets", cookie, map[string]any{"role": "admin", "ttlSeconds": 30}, "Sec-Fetch-Site", "same-origin")
		if rec.Code != http.StatusCreated {
			t.Fatalf("mint from the console: %d %s", rec.Code, rec.Body)
		}
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		rec = exchange(out["ticket"].(string))
		if c := sessionCookie(rec); c == nil {
			t.Fatalf("exchange: %d", rec.Code)
		} else if rec := e.browser("POST", "/v1/event-types", c.Value, map[string]any{"name": "t.admin"}, "Sec-Fetch-Site", "same-origin"); rec.Code != http.StatusCreated {
			t.Errorf("the ticket's admin changes: %d %s", rec.Code, rec.Body)
		}
		decodeProblem(t, e.browser("POST", "/v1/portal/tickets", cookie, map[string]any{"role": "admin"}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	})

	t.Run("concurrent exchanges: one wins", func(t *testing.T) {
		ticket := e.mintTicket(e.admin, map[string]any{"role": "admin"})["ticket"].(string)
		const n = 8
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { codes[i] = exchange(ticket).Header().Get("Location") })
		}
		wg.Wait()
		won := 0
		for _, loc := range codes {
			if loc == "/console" {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("%d exchanges won: %v", won, codes)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		ticket := e.mintTicket(e.admin, map[string]any{"role": "viewer", "ttlSeconds": 30})["ticket"].(string)
		clk.advance(30 * time.Second)
		refusedExchange(t, exchange(ticket))
		ticket = e.mintTicket(e.admin, map[string]any{"role": "viewer", "ttlSeconds": 86400})["ticket"].(string)
		clk.advance(86400*time.Second - time.Microsecond)
		if rec := exchange(ticket); rec.Header().Get("Location") != "/console" {
			t.Fatalf("a ticket a microsecond before expiry: %q", rec.Header().Get("Location"))
		}
	})

	t.Run("dies with its key", func(t *testing.T) {
		plain, k := auth.Issue(e.org, store.RoleAdmin, "operator")
		if err := e.store.InsertAPIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		ticket := e.mintTicket(plain, map[string]any{"role": "viewer"})["ticket"].(string)
		used := sessionCookie(exchange(e.mintTicket(plain, map[string]any{"role": "viewer"})["ticket"].(string)))
		if err := e.store.RevokeAPIKey(context.Background(), e.org, k.ID); err != nil {
			t.Fatal(err)
		}
		refusedExchange(t, exchange(ticket))
		decodeProblem(t, e.browser("GET", "/console/session", used.Value, nil), http.StatusUnauthorized)
	})

	t.Run("bad tickets", func(t *testing.T) {
		for _, q := range []string{"", "hkt_nope", "%FF%00", strings.Repeat("a", 3000), "x&ticket=y"} {
			refusedExchange(t, exchange(q))
		}
		refusedExchange(t, e.browser("GET", "/console/session?ticket", "", nil))
	})

	t.Run("bad input", func(t *testing.T) {
		before := e.count("portal_tickets")
		for _, tt := range []struct {
			body  any
			field string
		}{
			{map[string]any{}, "role"},
			{map[string]any{"role": "publisher"}, "role"},
			{map[string]any{"role": "owner"}, "role"},
			{map[string]any{"role": 1}, "role"},
			{map[string]any{"role": "viewer", "ttlSeconds": 29}, "ttlSeconds"},
			{map[string]any{"role": "viewer", "ttlSeconds": 86401}, "ttlSeconds"},
			{map[string]any{"role": "viewer", "ttlSeconds": -1}, "ttlSeconds"},
			{map[string]any{"role": "viewer", "ttlSeconds": 1.5}, "ttlSeconds"},
			{map[string]any{"role": "viewer", "ttlSeconds": "600"}, "ttlSeconds"},
			{map[string]any{"role": "viewer", "ttlSeconds": 1e300}, "ttlSeconds"},
			{map[string]any{"role": "viewer", "orgId": "org_x"}, "orgId"},
		} {
			p := decodeProblem(t, e.do("POST", "/v1/portal/tickets", e.admin, tt.body), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.field)
		}
		decodeProblem(t, e.do("POST", "/v1/portal/tickets", e.admin, raw(`{"role":`)), http.StatusBadRequest)
		decodeProblem(t, e.do("POST", "/v1/portal/tickets", e.viewer, map[string]any{"role": "viewer"}), http.StatusForbidden)
		decodeProblem(t, e.do("POST", "/v1/portal/tickets", e.pub, map[string]any{"role": "viewer"}), http.StatusForbidden)
		decodeProblem(t, e.do("POST", "/v1/portal/tickets", "", map[string]any{"role": "viewer"}), http.StatusUnauthorized)
		if e.count("portal_tickets") != before {
			t.Error("a refused mint stored a ticket")
		}
	})
}

func TestPortalTicketPublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config) { c.PublicURL = "https://hooks.example.com/" })
	out := e.mintTicket(e.admin, map[string]any{"role": "admin"})
	if want := "https://hooks.example.com/console/session?ticket=" + out["ticket"].(string); out["url"] != want {
		t.Errorf("url %v, want %s", out["url"], want)
	}
}

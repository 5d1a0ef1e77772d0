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

	// exchange is the console's ticket page pressing Continue: a same-origin POST.
	exchange := func(ticket string) *httptest.ResponseRecorder {
		return e.browser("POST", "/console/session", "", map[string]any{"ticket": ticket}, "Sec-Fetch-Site", "same-origin")
	}
	exchanged := func(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
		t.Helper()
		c := sessionCookie(rec)
		if rec.Code != http.StatusCreated || c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Fatalf("exchange: %d %s, cookie %+v", rec.Code, rec.Body, c)
		}
		conforms(t, "ConsoleSession", rec.Body.Bytes())
		return c
	}
	refusedExchange := func(t *testing.T, rec *httptest.ResponseRecorder) {
		t.Helper()
		p := decodeProblem(t, rec, http.StatusUnauthorized)
		wantFields(t, p, "ticket")
		if sessionCookie(rec) != nil {
			t.Fatalf("a refused exchange set a cookie")
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
		c := exchanged(t, rec)
		var s map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &s)
		if s["orgId"] != e.org || s["role"] != "viewer" {
			t.Errorf("exchange answered %v", s)
		}
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
		if c := exchanged(t, exchange(out["ticket"].(string))); true {
			if rec := e.browser("POST", "/v1/event-types", c.Value, map[string]any{"name": "t.admin"}, "Sec-Fetch-Site", "same-origin"); rec.Code != http.StatusCreated {
				t.Errorf("the ticket's admin changes: %d %s", rec.Code, rec.Body)
			}
		}
		decodeProblem(t, e.browser("POST", "/v1/portal/tickets", cookie, map[string]any{"role": "admin"}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	})

	t.Run("concurrent exchanges: one wins", func(t *testing.T) {
		ticket := e.mintTicket(e.admin, map[string]any{"role": "admin"})["ticket"].(string)
		const n = 8
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { codes[i] = exchange(ticket).Code })
		}
		wg.Wait()
		won := 0
		for _, code := range codes {
			if code == http.StatusCreated {
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
		exchanged(t, exchange(ticket))
	})

	t.Run("dies with its key", func(t *testing.T) {
		plain, k := auth.Issue(e.org, store.RoleAdmin, "operator")
		if err := e.store.InsertAPIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		ticket := e.mintTicket(plain, map[string]any{"role": "viewer"})["ticket"].(string)
		used := exchanged(t, exchange(e.mintTicket(plain, map[string]any{"role": "viewer"})["ticket"].(string)))
		if err := e.store.RevokeAPIKey(context.Background(), e.org, k.ID); err != nil {
			t.Fatal(err)
		}
		refusedExchange(t, exchange(ticket))
		decodeProblem(t, e.browser("GET", "/console/session", used.Value, nil), http.StatusUnauthorized)
	})

	t.Run("bad tickets", func(t *testing.T) {
		for _, q := range []string{"hkt_nope", "\xff", strings.Repeat("a", 3000), "x&ticket=y"} {
			refusedExchange(t, exchange(q))
		}
		for _, tt := range []struct {
			body  any
			field string
		}{
			{map[string]any{"ticket": ""}, "apiKey"},
			{map[string]any{}, "apiKey"},
			{map[string]any{"ticket": 7}, "ticket"},
			{map[string]any{"ticket": nil}, "apiKey"}, // null is as good as absent
			{map[string]any{"ticket": "hkt_x", "apiKey": e.admin}, "ticket"},
		} {
			rec := e.browser("POST", "/console/session", "", tt.body, "Sec-Fetch-Site", "same-origin")
			wantFields(t, decodeProblem(t, rec, http.StatusUnprocessableEntity), tt.field)
			if sessionCookie(rec) != nil {
				t.Errorf("%v set a cookie", tt.body)
			}
		}
	})

	t.Run("both apiKey and ticket consume nothing", func(t *testing.T) {
		ticket := e.mintTicket(e.admin, map[string]any{"role": "viewer"})["ticket"].(string)
		e.browser("POST", "/console/session", "", map[string]any{"ticket": ticket, "apiKey": e.admin}, "Sec-Fetch-Site", "same-origin")
		exchanged(t, exchange(ticket))
	})

	// A ticket link (GET) consumes nothing: a cross-site page sending a victim's browser
	// there, or a chat's link preview, lands on the console's ticket page, where only a
	// same-origin POST (the Continue button) exchanges it.
	t.Run("the link only leads to the ticket page", func(t *testing.T) {
		ticket := e.mintTicket(e.admin, map[string]any{"role": "admin"})["ticket"].(string)
		for _, site := range []string{"cross-site", "none", ""} {
			rec := e.browser("GET", "/console/session?ticket="+ticket, "", nil, "Sec-Fetch-Site", site)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console#/ticket?ticket="+ticket || sessionCookie(rec) != nil {
				t.Fatalf("GET the link (%q): %d to %q, cookie %v", site, rec.Code, rec.Header().Get("Location"), sessionCookie(rec))
			}
		}
		rec := e.browser("GET", "/console/session?ticket=a%26b%23c", "", nil)
		if loc := rec.Header().Get("Location"); loc != "/console#/ticket?ticket=a%26b%23c" {
			t.Errorf("an odd ticket is sent on escaped: %q", loc)
		}
		decodeProblem(t, e.browser("POST", "/console/session", "", map[string]any{"ticket": ticket}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		exchanged(t, exchange(ticket))
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

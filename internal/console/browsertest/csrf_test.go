package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// attackerHost is another site than 127.0.0.1 (an IP address is a site of its own),
// still on loopback.
const attackerHost = "127.0.0.2"

// attacker serves pages on attackerHost that POST to target with whatever session the
// browser has: /form submits a form, /fetch calls fetch with credentials.
func attacker(t *testing.T, target string) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", attackerHost+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", attackerHost, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/form":
			fmt.Fprintf(w, `<!doctype html><title>win a prize</title>
<form id="f" method="POST" action="%s" enctype="text/plain"><input type="hidden" name='{"x":"' value='"}'></form>
<script>document.getElementById("f").submit()</script>`, target)
		case "/fetch":
			fmt.Fprintf(w, `<!doctype html><title>win a prize</title>
<script>fetch(%q, {method: "POST", mode: "no-cors", credentials: "include", body: "{}"})
	.finally(() => { document.title = "sent" })</script>`, target)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestForgedCrossSitePostIsRefused(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	rc := newReceiver(t, false)
	hook := o.webhook("orders", rc.URL, nil)
	ping := s.hookd.APIURL + "/v1/webhooks/" + hook + "/ping"
	pings := func() int {
		return len(o.must(http.StatusOK, http.MethodGet, "/v1/deliveries?webhookId="+hook, nil).list("data"))
	}
	evil := attacker(t, ping)

	p := s.newPage(t, 1280, attackerHost)
	p.signIn(o.key) // the victim, signed in in this browser
	p.navigate(evil.URL + "/fetch")
	p.waitFor("the attacker's fetch to be answered", `document.title === "sent"`)
	p.navigate(evil.URL + "/form")
	p.waitFor("the attacker's form to be answered", `location.href === `+js(ping))
	posts := p.guard.sent(ping)
	if len(posts) != 2 {
		t.Fatalf("the browser sent %d requests to %s, want the fetch and the form's", len(posts), ping)
	}
	for _, r := range posts {
		if r.method != http.MethodPost || (r.status != http.StatusUnauthorized && r.status != http.StatusForbidden) {
			t.Errorf("forged %s %s answered %d, want 401 or 403", r.method, r.url, r.status)
		}
	}
	if n := pings(); n != 0 {
		t.Fatalf("the forged posts made %d ping deliveries", n)
	}

	// Carrying the session cookie itself, a cross-site request is still refused.
	cookie := p.sessionCookie()
	if cookie == nil {
		t.Fatal("no session cookie in the victim's browser")
	}
	send := func(site string) int {
		req, err := http.NewRequest(http.MethodPost, ping, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie.Name+"="+cookie.Value)
		req.Header.Set("Sec-Fetch-Site", site)
		if site == "cross-site" {
			req.Header.Set("Origin", evil.URL)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("cross-site"); got != http.StatusForbidden {
		t.Errorf("a cross-site POST with the session cookie = %d, want 403", got)
	}
	if n := pings(); n != 0 {
		t.Fatalf("the refused cross-site post made %d ping deliveries", n)
	}
	// The same cookie from the console's own origin is accepted: the refusal above is
	// the cross-site check's, not a bad cookie's.
	if got := send("same-origin"); got != http.StatusAccepted {
		t.Errorf("a same-origin POST with the session cookie = %d, want 202", got)
	}
	if n := pings(); n != 1 {
		t.Errorf("the same-origin post made %d ping deliveries, want 1", n)
	}
}

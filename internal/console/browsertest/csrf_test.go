package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// attackerHost is another site than 127.0.0.1 (an IP address is a site of its own),
// still on loopback.
const attackerHost = "127.0.0.2"

// attacker serves pages on host (another port than the console's) that POST to target
// with whatever session the browser has: /form submits a form, /fetch calls fetch with
// credentials; and /go, which sends the browser to target (location = target).
func attacker(t *testing.T, host, target string) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
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
		case "/go":
			fmt.Fprintf(w, `<!doctype html><title>win a prize</title><script>location = %q</script>`, target)
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

	p := s.newPage(t, 1280, attackerHost)
	p.signIn(o.key) // the victim, signed in in this browser
	for _, tc := range []struct {
		name, host string
		refused    []int
	}{
		// Another site: the SameSite=Strict cookie stays home, so the post is anonymous.
		{"cross-site", attackerHost, []int{http.StatusUnauthorized, http.StatusForbidden}},
		// Another origin of the same site (another port): the browser sends the cookie,
		// and the server's cross-origin check must refuse the post.
		{"same-site", "127.0.0.1", []int{http.StatusForbidden}},
	} {
		evil := attacker(t, tc.host, ping)
		before := len(p.guard.sent(ping))
		p.navigate(evil.URL + "/fetch")
		p.waitFor("the attacker's fetch to be answered", `document.title === "sent"`)
		p.navigate(evil.URL + "/form")
		p.waitFor("the attacker's form to be answered", `location.href === `+js(ping))
		posts := p.guard.sent(ping)[before:]
		if len(posts) != 2 {
			t.Fatalf("%s: the browser sent %d requests to %s, want the fetch and the form's", tc.name, len(posts), ping)
		}
		for _, r := range posts {
			if r.method != http.MethodPost || !slices.Contains(tc.refused, int(r.status)) {
				t.Errorf("%s: forged %s %s answered %d, want one of %v", tc.name, r.method, r.url, r.status, tc.refused)
			}
		}
		if n := pings(); n != 0 {
			t.Fatalf("%s: the forged posts made %d ping deliveries", tc.name, n)
		}
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
			req.Header.Set("Origin", "http://"+attackerHost)
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
	// The same cookie from the console's own origin is accepted: the refusals above
	// are the cross-origin check's, not a bad cookie's.
	if got := send("same-origin"); got != http.StatusAccepted {
		t.Errorf("a same-origin POST with the session cookie = %d, want 202", got)
	}
	if n := pings(); n != 1 {
		t.Errorf("the same-origin post made %d ping deliveries, want 1", n)
	}
}

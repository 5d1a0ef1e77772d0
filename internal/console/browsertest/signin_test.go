package browsertest

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// signedOut is true on the sign-in page.
const signedOut = `control("API key") && button("Sign in") && !link("Webhooks")`

func TestSignInWithKeyAndSignOut(t *testing.T) {
	s := start(t)
	p := s.newPage(t, 1280)

	p.open("/webhooks")
	p.waitFor("the sign-in page before signing in", signedOut)

	// A wrong key: the API's problem in an alert, and still signed out.
	p.fill("API key", "hk_not_a_key_of_anyone")
	p.clickButton("Sign in")
	p.waitFor("an alert about the wrong key", `alertText() !== "" && `+signedOut)

	p.signIn(s.adminKey)
	p.waitFor("the Webhooks page", `location.hash.startsWith("#/webhooks") && document.querySelector("main h1") &&
		norm(document.querySelector("main h1").textContent) === "Webhooks"`)
	c := p.sessionCookie()
	if c == nil {
		t.Fatal("no hookd_session cookie after signing in")
	}
	if !c.HTTPOnly || c.SameSite != "Strict" {
		t.Errorf("hookd_session: HttpOnly %v, SameSite %q; want HttpOnly, SameSite Strict", c.HTTPOnly, c.SameSite)
	}
	if got := eval[int](p, `fetch("/console/session").then(r => r.status)`); got != http.StatusOK {
		t.Errorf("GET /console/session when signed in = %d, want 200", got)
	}

	p.clickButton("Sign out")
	p.waitFor("the sign-in page after signing out", signedOut)
	if got := eval[int](p, `fetch("/console/session").then(r => r.status)`); got != http.StatusUnauthorized {
		t.Errorf("GET /console/session after signing out = %d, want 401", got)
	}
	// The console does not come back by reloading: the session is gone.
	p.open("/webhooks")
	p.waitFor("the sign-in page after a reload", signedOut)
}

func TestSignInWithTicket(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	for _, role := range []string{"viewer", "admin"} {
		t.Run(role, func(t *testing.T) {
			tk := o.withT(t).ticket(role)
			p := s.newPage(t, 1280)
			p.useTicket(tk.URL)
			p.waitFor("the signed-in console", `location.pathname.startsWith("/console") && link("Webhooks")`)
			session := eval[map[string]any](p, `fetch("/console/session").then(r => r.json())`)
			if session["orgId"] != o.id || session["role"] != role || session["expiresAt"] == nil ||
				session["temporalUIURL"] != "http://127.0.0.1:1" || session["temporalNamespace"] != "default" {
				t.Errorf("GET /console/session = %v, want orgId %s, role %s, expiresAt, and the Temporal UI's URL and namespace", session, o.id, role)
			}

			// The same ticket again, in another browser: refused.
			other := s.newPage(t, 1280)
			other.useTicket(tk.URL)
			other.waitFor("an alert that the ticket was refused, and no console",
				`alertText().includes("already used") && !link("Webhooks")`)
			if other.sessionCookie() != nil {
				t.Error("a reused ticket left a session cookie")
			}
		})
	}
}

func TestKeyboardOnly(t *testing.T) {
	s := start(t)
	p := s.newPage(t, 1280)
	p.open("/signin")
	p.waitFor("the focus in the API key field", `document.activeElement === control("API key")`)
	p.do(chromedp.KeyEvent(s.adminKey + "\r")) // typed, then Enter
	p.waitFor("the signed-in console", `link("Deliveries")`)

	// Tab to the Deliveries link (a bounded number of steps), then Enter.
	for i := 0; !p.has(`document.activeElement === link("Deliveries")`); i++ {
		if i == 20 {
			t.Fatalf("20 presses of Tab never reached the Deliveries link%s", p.state())
		}
		p.do(chromedp.KeyEvent(kb.Tab))
	}
	p.do(chromedp.KeyEvent(kb.Enter))
	p.waitFor("the Deliveries page", `location.hash.startsWith("#/deliveries") && control("Status")`)
}

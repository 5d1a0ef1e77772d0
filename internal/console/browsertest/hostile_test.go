package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The tests of this file replay what a fresh user's hostile try of the console found.

// tablesFit is true when no table of the page is wider than its box.
const tablesFit = `[...document.querySelectorAll(".table-wrap")].every(t => t.scrollWidth <= t.clientWidth)`

// sessionOrg is the organization of the browser's console session ("" when none).
const sessionOrg = `fetch("/console/session").then(r => r.ok ? r.json() : {}).then(s => s.orgId || "")`

func TestTicketLinkAsksBeforeSigningIn(t *testing.T) {
	s := start(t)
	victim, mallory := s.newOrg(t), s.newOrg(t)
	tk := mallory.ticket("admin")

	// A cross-site page sends the victim's browser, signed in to its own organization,
	// to the attacker's ticket link: the console shows what the link would do and
	// nothing more; the victim's session stays its own.
	p := s.newPage(t, 1280, attackerHost)
	p.signIn(victim.key)
	p.waitFor("the header naming the victim's organization and role", `text().includes(`+js(victim.id)+`) && text().toLowerCase().includes("admin")`)
	evil := attacker(t, attackerHost, tk.URL)
	p.navigate(evil.URL + "/go")
	p.waitFor("the ticket page", `location.hash.startsWith("#/ticket") && text().includes("Sign in to the hookd console with this link") && button("Continue")`)
	if eval[string](p, `location.search`) != "" {
		t.Errorf("the ticket page's URL has a query (the ticket belongs in the fragment): %s", eval[string](p, `location.href`))
	}
	if org := eval[string](p, sessionOrg); org != victim.id {
		t.Fatalf("after a cross-site page opened a ticket link the session is of %q, want the victim's %s", org, victim.id)
	}
	// The focus is not on Continue: a site that opens the link while the user types must
	// not get their next Enter. Pressing Enter (and Space) there signs no one in.
	if focused := eval[string](p, `nameOf(document.activeElement)`); focused == "Continue" {
		t.Fatal("the ticket page put the focus on Continue")
	}
	p.do(chromedp.KeyEvent(kb.Enter), chromedp.KeyEvent(" "))
	if org := eval[string](p, sessionOrg); org != victim.id {
		t.Fatalf("Enter on the ticket page signed in to %q, want the victim's %s still", org, victim.id)
	}

	// A link preview (a plain GET of the link, without the page) uses nothing either.
	for range 2 {
		resp, err := http.Get(tk.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// Continue, from the console's own page, is what exchanges the ticket.
	q := s.newPage(t, 1280)
	q.useTicket(tk.URL)
	q.waitFor("the console of the ticket's organization, named in the header", `link("Webhooks") && text().includes(`+js(mallory.id)+`)`)
	if org := eval[string](q, sessionOrg); org != mallory.id {
		t.Errorf("after Continue the session is of %q, want %s", org, mallory.id)
	}
	q.screenshot("ticket-signed-in")
	// The used ticket's page left the history: Back does not return to it.
	q.do(chromedp.NavigateBack())
	q.waitFor("Back to leave the console's Webhooks page", `!location.hash.startsWith("#/webhooks")`)
	if eval[bool](q, `location.hash.startsWith("#/ticket")`) {
		t.Error("Back after Continue shows the used ticket's page again")
	}

	// Used now: the page says so, and the victim's page, pressing Continue late, too.
	p.clickButton("Continue")
	p.waitFor("the used link's message", `text().includes("This sign-in link is invalid, already used, or expired.")`)
	p.screenshot("ticket-used")
	if org := eval[string](p, sessionOrg); org != victim.id {
		t.Errorf("a refused ticket changed the session to %q", org)
	}
}

func TestReplayByFilterAsksFirst(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	x := o.failedAndSucceeded()

	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/deliveries")
	p.waitFor("the history", listed(x.failed)+` && button("Replay")`)

	// From the page's start, the first Tab stop is a filter, not Replay.
	eval[bool](p, `(document.getElementById("main").focus(), true)`)
	p.do(chromedp.KeyEvent(kb.Tab))
	if first := eval[string](p, `document.activeElement.id || nameOf(document.activeElement)`); first != "f-status" {
		t.Errorf("the first Tab stop of the history is %q, want the Status filter", first)
	}

	replays := func() int { return len(o.must(http.StatusOK, http.MethodGet, "/v1/replays", nil).list("data")) }
	p.clickButton("Replay")
	p.waitFor("the question, saying what a replay would resend", `text().includes("Replay every delivery matching these filters?") &&
		text().includes("all time") && text().includes("whatever its status") && button("Start replay") && button("Keep it")`)
	p.screenshot("deliveries-replay-confirm")
	p.clickButton("Keep it")
	p.waitFor("the question gone", `!button("Start replay") && button("Replay")`)
	if n := replays(); n != 0 {
		t.Fatalf("Keep it started %d replays", n)
	}

	// Escape closes the question; so does selecting a row, which changes what Replay
	// would resend (the question spoke of the filter).
	p.clickButton("Replay")
	p.waitFor("the question", `button("Start replay")`)
	p.do(chromedp.KeyEvent(kb.Escape))
	p.waitFor("the question closed by Escape", `!button("Start replay")`)
	p.clickButton("Replay")
	p.waitFor("the question", `button("Start replay")`)

	// One row selected: its count in words, the question gone, and Replay resends it at once.
	p.click(`control("Select ` + x.failed + `")`)
	p.waitFor("the selection counted, the question about the filter gone", `text().includes("1 delivery selected") && !button("Start replay")`)
	p.click(`control("Select ` + x.succeeded + `")`)
	p.waitFor("the selection counted", `text().includes("2 deliveries selected")`)
}

func TestRefusedFilterShowsOnlyTheProblem(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	o.failedAndSucceeded()
	p := s.newPage(t, 1280)
	p.signIn(o.key)
	for _, route := range []string{
		"/deliveries?status=bogus",
		"/deliveries?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
		"/deliveries?status=bogus&cursor=abc",
	} {
		p.open(route)
		p.waitFor(route+": the API's problem", `alertText().includes("Unprocessable")`)
		if p.has(`text().includes("No deliveries") || button("Next page") || link("First page") || document.querySelector("table.list")`) {
			t.Errorf("%s shows more than its problem: %s", route, eval[string](p, `text()`))
		}
	}
	// The 422s are what this test asks for: Chromium logs each as an error.
	for _, bad := range p.guard.take() {
		if !strings.Contains(bad, "status of 422") {
			t.Errorf("browser: %s", bad)
		}
	}
}

func TestSignInProblemShownOnce(t *testing.T) {
	s := start(t)
	p := s.newPage(t, 1280)
	p.open("/signin")
	p.fill("API key", "hk_not_a_key_of_anyone")
	p.clickButton("Sign in")
	p.waitFor("the wrong key's alert", `alertText().includes("not a known API key")`)
	if n := eval[int](p, `alertText().split("not a known API key").length - 1`); n != 1 {
		t.Errorf("the sign-in alert says it %d times: %s", n, eval[string](p, `alertText()`))
	}
}

func TestUnknownRouteIsNotFound(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/nowhere")
	p.waitFor("Page not found with a link to each section", `norm(document.querySelector("main h1").textContent) === "Page not found" &&
		["Webhooks", "Deliveries", "Replays", "Statistics"].every(n => [...document.querySelectorAll("main a")].some(a => norm(a.textContent) === n))`)
	if p.has(`document.title.startsWith("Webhooks")`) {
		t.Errorf("an unknown route is titled %q", eval[string](p, `document.title`))
	}
}

func TestViewerFieldsLookReadOnly(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	hook := o.webhook("orders", "http://127.0.0.1:9/hook", nil)
	p := s.newPage(t, 1280)
	p.useTicket(o.ticket("viewer").URL)
	p.waitFor("the signed-in console", `link("Webhooks")`)
	p.open("/webhooks/" + hook)
	p.waitFor("the settings", `control("Name") && control("Name").value === "orders"`)
	bg := eval[string](p, `getComputedStyle(control("Name")).backgroundColor`)
	locked := `control("Name").matches(":disabled, [readonly]")`
	if !p.has(locked) || bg == "rgb(255, 255, 255)" {
		t.Errorf("a viewer's Name field: disabled or read-only %v, background %s; want one and not white", p.has(locked), bg)
	}
}

func TestReplayWithoutSinceIsAllTime(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	o.webhook("orders", "http://127.0.0.1:9/hook", nil)
	id := o.must(http.StatusAccepted, http.MethodPost, "/v1/replays", map[string]any{
		"since": "1970-01-01T00:00:00Z", "until": time.Now().UTC().Format(time.RFC3339), "status": "failed",
	}).str("id")
	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/replays/" + id)
	p.waitFor("the replay's range", `text().includes("all time")`)
	if p.has(`text().includes("1970")`) {
		t.Errorf("a replay without a lower bound shows 1970: %s", eval[string](p, `text()`))
	}
}

func TestSuccessRateNeverRoundsUpTo100(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	hook := o.webhook("orders", "http://127.0.0.1:9/hook", nil)
	o.seed([]string{hook}, 2001)
	// One failure in 2,001: 99.95%, which one decimal would show as 100.0%.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.db.Exec(ctx, `UPDATE deliveries SET status = 'succeeded', last_status_code = 200
		WHERE org_id = $1 AND status = 'failed' AND id <> $2`, o.id, o.seeded(10)); err != nil {
		t.Fatal(err)
	}
	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/stats")
	p.waitFor("the success rate", `[...document.querySelectorAll(".tile")].some(t => norm(t.textContent).startsWith("Success rate"))`)
	rate := eval[string](p, `norm([...document.querySelectorAll(".tile")].find(t => norm(t.textContent).startsWith("Success rate")).querySelector(".tile-value").textContent)`)
	if rate != "99.95%" {
		t.Errorf("success rate with 1 failure in 2,001 shown as %q, want 99.95%%", rate)
	}
}

func TestTablesFitAndChartLabelsDoNotCrowd(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	long := "billing-notifications-for-the-european-customers-of-the-very-long-named-subsidiary-2026"
	hooks := []string{o.webhook(long, "http://127.0.0.1:9/hook", nil), o.webhook("audit", "http://127.0.0.1:9/hook", nil)}
	o.seed(hooks, 300)
	replay := o.must(http.StatusAccepted, http.MethodPost, "/v1/replays", map[string]any{
		"since": "1970-01-01T00:00:00Z", "until": time.Now().UTC().Format(time.RFC3339), "status": "failed",
		"webhookId": hooks[0], "ratePerSecond": 1,
	}).str("id")
	defer o.call(http.MethodPost, "/v1/replays/"+replay+"/cancel", nil)
	for _, width := range []int64{1280, 390} {
		p := s.newPage(t, width)
		p.signIn(o.key)
		for _, pg := range []struct{ route, ready string }{
			{"/webhooks", `link(` + js(long) + `)`},
			{"/deliveries", `document.querySelectorAll("table.list tbody tr").length >= 20`},
			{"/replays", `link(` + js(replay) + `)`},
		} {
			p.open(pg.route)
			p.waitFor(pg.route+" listed", pg.ready)
			if !p.has(tablesFit) {
				p.screenshot(fmt.Sprintf("overflow-%d-%s", width, strings.Trim(pg.route, "/")))
				t.Errorf("at %d px a table of %s is wider than its box: %v", width, pg.route,
					eval[[][]int](p, `[...document.querySelectorAll(".table-wrap")].map(t => [t.clientWidth, t.scrollWidth])`))
			}
			if !p.has(`document.documentElement.scrollWidth <= innerWidth`) {
				t.Errorf("at %d px %s is wider than the window", width, pg.route)
			}
		}
		p.open("/stats?interval=minute")
		p.waitFor("the chart", barsDrawn)
		labels := eval[int](p, `[...document.querySelectorAll(".ct-label.ct-horizontal")].filter(l => norm(l.textContent) !== "").length`)
		if max := map[int64]int{1280: 12, 390: 5}[width]; labels == 0 || labels > max {
			t.Errorf("at %d px the chart has %d x-axis labels, want 1 to %d", width, labels, max)
		}
	}
}

func TestAssetsAreVersionedAndCached(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/webhooks")
	p.waitFor("the Webhooks page", `link("Webhooks") && document.querySelector("main h1")`)
	unversioned := eval[[]string](p, `performance.getEntriesByType("resource").map(e => new URL(e.name).pathname)
		.filter(u => u.startsWith("/console/static/") && !/^\/console\/static\/[0-9a-f]{12}\//.test(u))`)
	if len(unversioned) > 0 {
		t.Errorf("assets loaded outside the versioned path: %v", unversioned)
	}
	// A second load takes every asset from the cache: only the page and the API are asked.
	p.open("/webhooks")
	p.waitFor("the Webhooks page again", `link("Webhooks") && document.querySelector("main h1")`)
	asked := eval[[]string](p, `performance.getEntriesByType("resource").filter(e => e.transferSize > 0).map(e => new URL(e.name).pathname)
		.filter(u => u.startsWith("/console/static/"))`)
	if len(asked) > 0 {
		t.Errorf("a second load asked the server for %v, want every asset from the cache", asked)
	}
}

func TestReplayPageFollowsAttemptsSettlingAfterCancel(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	// A receiver that takes 3 s to answer: attempts of a replay canceled meanwhile
	// settle after it ends.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	hook := o.webhook("slow", slow.URL, nil)
	o.seed([]string{hook}, 40)
	id := o.must(http.StatusAccepted, http.MethodPost, "/v1/replays", map[string]any{
		"since": "1970-01-01T00:00:00Z", "until": time.Now().UTC().Format(time.RFC3339), "status": "all",
		"webhookId": hook, "ratePerSecond": 4,
	}).str("id")

	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/replays/" + id)
	eventually(t, time.Minute, func() string {
		if r := o.call(http.MethodGet, "/v1/replays/"+id, nil); r.body["replayed"].(float64) < 4 {
			return fmt.Sprintf("replay %s has replayed %v", id, r.body["replayed"])
		}
		return ""
	})
	p.clickButton("Cancel")
	var final answer
	eventually(t, time.Minute, func() string {
		final = o.call(http.MethodGet, "/v1/replays/"+id, nil)
		b := final.body
		if b["status"] != "canceled" || b["succeeded"].(float64)+b["failed"].(float64) < b["replayed"].(float64) {
			return fmt.Sprintf("replay %s: %s", id, final.raw)
		}
		return ""
	})
	want := fmt.Sprintf("succeeded %v", final.body["succeeded"])
	p.waitFor("the page's counts as settled ("+want+")", `norm(document.querySelector(".card .counts").textContent).includes(`+js(want)+`)`)
}

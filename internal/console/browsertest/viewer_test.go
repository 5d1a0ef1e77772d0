package browsertest

import (
	"net/http"
	"testing"
)

// changers are the names of the console's buttons that change something.
const changers = `["New webhook", "Send ping", "Disable", "Enable", "Delete", "Delete webhook", "Rotate secret",
	"Add event type", "Retry", "Cancel", "Replay", "Start replay", "Save", "Create webhook"]`

// changersShown lists the buttons of changers the page shows.
const changersShown = `all("button, input[type=submit], input[type=button]").map(nameOf).filter(n => ` + changers + `.includes(n))`

func TestViewerCannotChangeAnything(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	x := o.failedAndSucceeded()

	p := s.newPage(t, 1280)
	p.useTicket(o.ticket("viewer").URL)
	p.waitFor("the signed-in console", `link("Webhooks")`)

	pages := []struct{ route, loaded string }{
		{"/webhooks", `link("orders") && link("audit log")`},
		{"/webhooks/" + x.failingHook, `document.querySelector("h1") && norm(document.querySelector("h1").textContent).startsWith("orders")`},
		{"/deliveries", listed(x.failed)},
		{"/deliveries/" + x.failed, attemptShown(1)},
		{"/replays", `text().includes("No replays yet")`},
		{"/stats", barsDrawn},
	}
	for _, pg := range pages {
		p.open(pg.route)
		p.waitFor(pg.route+" loaded", pg.loaded)
		if shown := eval[[]string](p, changersShown); len(shown) > 0 {
			t.Errorf("a viewer sees on %s the buttons %q", pg.route, shown)
		}
	}

	// The API refuses what the page does not offer, though the request is same-origin
	// and carries the session.
	before := x.failing.requests(x.failed)
	status := eval[int](p, `fetch("/v1/deliveries/`+x.failed+`/retry", {method: "POST"}).then(r => r.status)`)
	if status != http.StatusForbidden {
		t.Errorf("a viewer's POST /v1/deliveries/%s/retry = %d, want 403", x.failed, status)
	}
	if a := o.waitStatus(x.failed, "failed"); a.body["attemptCount"] != float64(1) || x.failing.requests(x.failed) != before {
		t.Errorf("after a viewer's refused retry: %s, and the receiver got %d requests (before: %d)", a.raw, x.failing.requests(x.failed), before)
	}
}

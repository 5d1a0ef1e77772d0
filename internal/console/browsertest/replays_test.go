package browsertest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// replayFailures are how many failed deliveries the replay test replays at one a second:
// enough that it still runs when the test cancels it.
const replayFailures = 100

func TestStartAndCancelAReplay(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	rc := newReceiver(t, true)
	o.seed([]string{o.webhook("orders", rc.URL, failFast)}, 10*replayFailures) // one in ten failed

	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.clickLink("Replays")
	p.waitFor("the replay form", `button("Start replay")`)
	p.fill("Rate per second", "1")
	// The form's Until defaults to this minute's start, which leaves out the deliveries
	// just made: a minute from now includes them.
	p.setInput("Until", eval[string](p, `(() => {
		const d = new Date(Date.now() + 60000);
		d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
		return d.toISOString().slice(0, 16);
	})()`))
	p.clickButton("Start replay")
	p.waitFor("the new replay's page, running", `location.hash.startsWith("#/replays/rpl_") && text().includes("running") && document.querySelector("progress")`)
	id := strings.TrimPrefix(eval[string](p, `location.hash`), "#/replays/")
	r := o.must(http.StatusOK, http.MethodGet, "/v1/replays/"+id, nil)
	if r.str("status") != "running" || r.body["matched"] != float64(replayFailures) || r.body["ratePerSecond"] != float64(1) {
		t.Fatalf("GET /v1/replays/%s = %s, want running, %d matched, 1 per second", id, r.raw, replayFailures)
	}

	p.clickButton("Cancel")
	p.waitFor("the replay shown canceled, without a Cancel button", `text().includes("canceled") && !button("Cancel")`)
	eventually(t, time.Minute, func() string {
		if r := o.call(http.MethodGet, "/v1/replays/"+id, nil); r.str("status") != "canceled" {
			return "replay " + id + " is " + r.str("status") + ", want canceled"
		}
		return ""
	})

	p.clickLink("Replays")
	p.waitFor("the replay listed canceled", `link(`+js(id)+`) && link(`+js(id)+`).closest("tr").textContent.includes("canceled")`)
}

func TestReplayTheFilteredHistory(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	rc := newReceiver(t, false)
	o.seed([]string{o.webhook("orders", rc.URL, nil)}, 100) // one in ten failed

	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.open("/deliveries")
	p.choose("Status", "failed")
	p.waitFor("only failed deliveries listed", `location.hash.includes("status=failed") &&
		[...document.querySelectorAll("table.list tbody tr")].length === 10 &&
		[...document.querySelectorAll("table.list tbody tr")].every(tr => tr.textContent.includes("failed"))`)
	p.clickButton("Replay")
	p.clickButton("Start replay") // the console asks first
	p.waitFor("the replay's page, completed", `location.hash.startsWith("#/replays/rpl_") && text().includes("completed")`)
	id := strings.TrimPrefix(eval[string](p, `location.hash`), "#/replays/")
	// The replay's counts follow its attempts' outcomes, which may come after it ends.
	eventually(t, time.Minute, func() string {
		r := o.must(http.StatusOK, http.MethodGet, "/v1/replays/"+id, nil)
		if r.body["matched"] != float64(10) || r.body["succeeded"] != float64(10) || rc.requests("") != 10 {
			return fmt.Sprintf("GET /v1/replays/%s = %s and the receiver got %d requests; want the 10 failed deliveries replayed and succeeded",
				id, r.raw, rc.requests(""))
		}
		return ""
	})
}

package browsertest

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// many is how many deliveries TestPagesWithManyDeliveries has: the issue's "every page
// interactive in < 300 ms with 10,000 deliveries".
const many = 10_000

// consolePage is one page of the console: its route and what shows it is ready to use.
type consolePage struct {
	name, route, ready string
}

// TestPagesWithManyDeliveries seeds an organization with 10,000 deliveries, then loads
// every page: it logs how long each takes from navigation until its content is there
// (and writes the figures to timings.txt in the artifacts directory; they are measured,
// not asserted), and keeps a screenshot of each, at 1280 px and the history at 390 px.
func TestPagesWithManyDeliveries(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	rc := newReceiver(t, false)
	hooks := []string{
		o.webhook("orders", rc.URL, nil),
		o.webhook("invoices", rc.URL, map[string]any{"description": "invoices for the accounting system", "maxRetries": 8}),
		o.webhook("shipping", rc.URL, map[string]any{"retrySchedule": []string{"30s", "5m", "1h"}}),
	}
	began := time.Now()
	o.seed(hooks, many)
	t.Logf("seeded %d deliveries in %v", many, time.Since(began).Round(time.Millisecond))
	// A replay of a few of them, for the Replays page.
	replay := o.must(http.StatusAccepted, http.MethodPost, "/v1/replays",
		map[string]any{"deliveryIds": []string{o.seeded(10), o.seeded(20), o.seeded(30)}}).str("id")
	eventually(t, time.Minute, func() string {
		if r := o.call(http.MethodGet, "/v1/replays/"+replay, nil); r.str("status") != "completed" {
			return "replay " + replay + " is " + r.str("status")
		}
		return ""
	})

	rows := `document.querySelectorAll("table.list tbody tr").length`
	// The history shows a page of rows (100 today) at once: 20 of them say it is there.
	const fullPage = ` >= 20`
	pages := []consolePage{
		{"webhooks", "/webhooks", rows + ` === 3`},
		{"webhook", "/webhooks/" + hooks[1], `button("Send ping") && control("Description") && control("Description").value === "invoices for the accounting system"`},
		{"deliveries", "/deliveries", rows + fullPage},
		{"deliveries-failed", "/deliveries?status=failed", rows + fullPage + ` && [...document.querySelectorAll("table.list tbody tr")].every(tr => tr.textContent.includes("failed"))`},
		{"delivery", "/deliveries/" + o.seeded(10), attemptShown(2)},
		{"replays", "/replays", `link(` + js(replay) + `)`},
		{"replay", "/replays/" + replay, `text().includes("completed")`},
		{"statistics", "/stats", barsDrawn},
	}

	p := s.newPage(t, 1280)
	p.open("/signin")
	p.waitFor("the sign-in page", signedOut)
	p.screenshot("signin")
	p.signIn(o.key)

	var report strings.Builder
	fmt.Fprintf(&report, "hookd console: time from navigation until each page's content is there, with %d deliveries\n", many)
	fmt.Fprintf(&report, "(Chromium %s headless, 1280 px; load = a full page load of /console#<route>, assets = until its last static file (/console/static/) arrived;\n in-app = following a link within the console; median of %d, polled every 10 ms; the slowest API request is the slowest of all the loads' requests to /v1/)\n\n", chromiumVersion(p), timingRuns)
	fmt.Fprintf(&report, "%-18s %-45s %8s %8s %8s   %s\n", "page", "route", "load", "assets", "in-app", "slowest API request of the load")
	for _, pg := range pages {
		sent := len(p.guard.sent(""))
		var assets []float64
		load := median(func() float64 {
			ready, lastAsset := p.loadTime(pg)
			assets = append(assets, lastAsset)
			return ready
		})
		slices.Sort(assets)
		slowest := slowestAPIRequest(p.guard.sent("")[sent:])
		p.screenshot(pg.name)
		inApp := median(func() float64 { return p.inAppTime(pg) })
		fmt.Fprintf(&report, "%-18s %-45s %6.0fms %6.0fms %6.0fms   %s\n", pg.name, pg.route, load, assets[len(assets)/2], inApp, slowest)
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(&report, "\nload average (1, 5, 15 min) and tasks at the end: %s", load)
	}
	t.Log("\n" + report.String())
	path := filepath.Join(artifactsDir(t), "timings.txt")
	if err := os.WriteFile(path, []byte(report.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("timings: %s", path)

	phone := s.newPage(t, 390)
	phone.signIn(o.key)
	phone.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	phone.open("/deliveries")
	phone.waitFor("the history on a phone", rows+fullPage)
	phone.screen("deliveries-390px")
	phone.screenshot("deliveries-390px-full")
}

// loadTime loads the page afresh and returns the milliseconds from the start of the
// navigation until it is ready, and until the last of the console's static files had
// arrived, as the page's clock measures them.
func (p *page) loadTime(pg consolePage) (ready, lastAsset float64) {
	p.t.Helper()
	p.open(pg.route)
	p.waitFor(pg.name+" ready", pg.ready)
	times := eval[[]float64](p, `[performance.now(), Math.max(0, ...performance.getEntriesByType("resource")
		.filter(e => e.name.includes("/console/static/")).map(e => e.responseEnd))]`)
	return times[0], times[1]
}

// inAppTime goes to another section, then back to the page by its route as a link in
// the console would, and returns the milliseconds until the page is ready.
func (p *page) inAppTime(pg consolePage) float64 {
	p.t.Helper()
	away := "#/event-types"
	if strings.HasPrefix(pg.route, "/event-types") {
		away = "#/webhooks"
	}
	eval[bool](p, `(location.hash = `+js(away)+`, true)`)
	p.waitFor("leaving "+pg.name, `!(`+pg.ready+`)`)
	eval[bool](p, `(window.__began = performance.now(), location.hash = `+js("#"+pg.route)+`, true)`)
	p.waitFor(pg.name+" ready", pg.ready)
	return eval[float64](p, `performance.now() - window.__began`)
}

// chromiumVersion is the browser's product and version.
func chromiumVersion(p *page) string {
	return eval[string](p, `navigator.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0] || navigator.userAgent`)
}

// slowestAPIRequest names the request to /v1/ of requests that waited longest for its
// answer, and how long.
func slowestAPIRequest(requests []request) string {
	var slowest *request
	for i, r := range requests {
		if strings.Contains(r.url, "/v1/") && (slowest == nil || r.waited() > slowest.waited()) {
			slowest = &requests[i]
		}
	}
	if slowest == nil {
		return "-"
	}
	path := slowest.url
	if u, err := url.Parse(slowest.url); err == nil {
		path = u.Path
	}
	return fmt.Sprintf("%s %s %dms", slowest.method, path, slowest.waited().Milliseconds())
}

// timingRuns is how many times each page's time is measured; the report has the median.
const timingRuns = 3

// median runs measure timingRuns times and returns the median of its results.
func median(measure func() float64) float64 {
	var runs []float64
	for range timingRuns {
		runs = append(runs, measure())
	}
	slices.Sort(runs)
	return runs[len(runs)/2]
}

package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds every wait of a page: for an element, a condition or a command.
const stepTimeout = 30 * time.Second

// page is one browser tab in a browser context of its own (its own cookies), watched
// by a guard for the whole test.
type page struct {
	t     *testing.T
	s     *suite
	ctx   context.Context
	guard *guard
}

// newPage opens a tab in a fresh browser context at width × 900 px. When the test ends
// the tab closes, and the test fails on what the guard saw: a request to a host other
// than 127.0.0.1 and extraHosts, an uncaught exception, a console error, a 5xx.
func (s *suite) newPage(t *testing.T, width int64, extraHosts ...string) *page {
	t.Helper()
	g := newGuard(append([]string{"127.0.0.1"}, extraHosts...))
	ctx, cancel := chromedp.NewContext(s.browser,
		chromedp.WithNewBrowserContext(),
		chromedp.WithListener(g.listen),
	)
	p := &page{t: t, s: s, ctx: ctx, guard: g}
	t.Cleanup(func() {
		cancel() // closes the tab and disposes of its browser context
		for _, problem := range g.problems() {
			t.Errorf("browser: %s", problem)
		}
	})
	// The first run opens the tab, which lives as long as the context of that run: not
	// one of do's contexts with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: open a tab: %v", err)
	}
	p.do(chromedp.EmulateViewport(width, 900))
	return p
}

// do runs actions on the tab within stepTimeout and fails the test on an error.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v%s", err, p.state())
	}
}

// state describes the page for a failure message: its URL and any alert it shows.
func (p *page) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](withHelpers(
		`"\n  at " + location.href + (alertText() ? "\n  alert: " + alertText() : "") +
		 "\n  text: " + norm(document.body ? document.body.innerText : "").slice(0, 600)`)))
	if err != nil {
		return ""
	}
	return s
}

// console is the console's URL for route, a hash route such as "/deliveries?status=failed".
func (p *page) console(route string) string {
	return p.s.hookd.APIURL + "/console#" + route
}

// open loads the console at route: a full page load, also when only the route differs
// from the page shown (which would otherwise be a same-document navigation).
func (p *page) open(route string) {
	p.t.Helper()
	p.do(chromedp.Navigate("about:blank"), chromedp.Navigate(p.console(route)))
}

// navigate loads u in the tab.
func (p *page) navigate(u string) {
	p.t.Helper()
	p.do(chromedp.Navigate(u))
}

// helpers are small functions for finding things on a page the way a user names them:
// controls by their label, buttons and links by their name, alerts by their role.
const helpers = `
const norm = s => (s || "").replace(/\s+/g, " ").trim();
const shown = el => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
const all = sel => [...document.querySelectorAll(sel)].filter(shown);
const nameOf = el => norm(el.getAttribute("aria-label") || el.textContent || el.value);
const named = (sel, name) => all(sel).find(el => nameOf(el) === name) || null;
const button = name => named("button, input[type=submit], input[type=button], [role=button]", name);
const link = name => named("a[href]", name);
const labelText = l => {
	const c = l.cloneNode(true);
	c.querySelectorAll("input, select, textarea").forEach(e => e.remove());
	return norm(c.textContent);
};
const control = name => {
	const l = all("label").find(l => labelText(l) === name && l.control);
	if (l) return l.control;
	return all("input, select, textarea").find(el => el.getAttribute("aria-label") === name) || null;
};
const alertText = () => all("[role=alert]").map(e => norm(e.textContent)).filter(Boolean).join(" | ");
const text = () => norm(document.body ? document.body.innerText : "");
`

// withHelpers wraps a JavaScript expression so that it can use helpers.
func withHelpers(expr string) string {
	return "(() => {" + helpers + "\nreturn (" + expr + ");\n})()"
}

// eval evaluates a JavaScript expression (which may use helpers) in the page, awaiting
// a promise, and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](withHelpers(expr), chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("browser: evaluate %s: %v%s", expr, err, p.state())
	}
	return v
}

// waitFor waits until the JavaScript expression (which may use helpers) is truthy,
// across page loads, and fails the test naming what after stepTimeout.
func (p *page) waitFor(what, expr string) {
	p.t.Helper()
	if err := p.poll(expr, stepTimeout); err != nil {
		p.t.Fatalf("browser: waiting for %s: %v%s", what, err, p.state())
	}
}

// poll evaluates expr every 10 ms until it is truthy or within has passed. Errors of a
// page that is loading are retried.
func (p *page) poll(expr string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(p.ctx, within)
	defer cancel()
	js := "!!" + withHelpers(expr)
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string { return strconv.Quote(s) }

// click clicks, with the mouse, the element a JavaScript expression (which may use
// helpers) finds, once it is visible.
func (p *page) click(expr string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.JSPath(withHelpers(expr))))
}

// clickButton clicks the button named name.
func (p *page) clickButton(name string) { p.t.Helper(); p.click("button(" + js(name) + ")") }

// clickLink clicks the link named name.
func (p *page) clickLink(name string) { p.t.Helper(); p.click("link(" + js(name) + ")") }

// fill types value into the field labelled label.
func (p *page) fill(label, value string) {
	p.t.Helper()
	p.do(chromedp.SendKeys(chromedp.JSPath(withHelpers("control("+js(label)+")")), value))
}

// setInput sets the value of the field labelled label, as typing it does (input and
// change events): for fields SendKeys cannot type into, such as datetime-local.
func (p *page) setInput(label, value string) {
	p.t.Helper()
	p.waitFor("a control labelled "+js(label), "control("+js(label)+")")
	got := eval[string](p, `(() => {
		const el = control(`+js(label)+`);
		el.value = `+js(value)+`;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el.value;
	})()`)
	if got != value {
		p.t.Fatalf("browser: the field labelled %q took %q as %q%s", label, value, got, p.state())
	}
}

// choose selects the option of value in the select labelled label, as a user's choice
// does.
func (p *page) choose(label, value string) {
	p.t.Helper()
	p.waitFor("a control labelled "+js(label), "control("+js(label)+")")
	if !p.has(`[...control(` + js(label) + `).options].some(o => o.value === ` + js(value) + `)`) {
		p.t.Fatalf("browser: the select labelled %q has no option %q%s", label, value, p.state())
	}
	p.setInput(label, value)
}

// has reports whether the JavaScript expression (which may use helpers) is truthy now.
func (p *page) has(expr string) bool {
	p.t.Helper()
	return eval[bool](p, "!!("+expr+")")
}

// signIn signs in on the sign-in page with an API key and waits for the signed-in
// console (its Webhooks link).
func (p *page) signIn(key string) {
	p.t.Helper()
	p.open("/signin")
	p.fill("API key", key)
	p.clickButton("Sign in")
	p.waitFor("the signed-in console (a Webhooks link)", `link("Webhooks") && !control("API key")`)
}

// useTicket follows a portal ticket's link and presses Continue on the page it shows,
// which exchanges the ticket.
func (p *page) useTicket(url string) {
	p.t.Helper()
	p.navigate(url)
	p.clickButton("Continue")
}

// sessionCookie is the console's session cookie as the browser holds it.
func (p *page) sessionCookie() *network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.s.hookd.APIURL + "/console"}})
	if err != nil {
		p.t.Fatalf("browser: get cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "hookd_session" {
			return c
		}
	}
	return nil
}

// screenshot saves a PNG of the whole page as name.png in the artifacts directory and
// logs its path.
func (p *page) screenshot(name string) {
	p.t.Helper()
	p.save(name, chromedp.FullScreenshot(100))
}

// screen saves a PNG of what the viewport shows (a phone's first screen) as name.png.
func (p *page) screen(name string) {
	p.t.Helper()
	p.save(name, chromedp.CaptureScreenshot())
}

func (p *page) save(name string, capture chromedp.Action[[]byte]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		p.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(p.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

// artifactsDir is where the tests keep screenshots and timings: $HOOKD_ARTIFACTS/console,
// else .hookd/artifacts/console at the top of the repository (git ignores /.hookd/).
func artifactsDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("HOOKD_ARTIFACTS")
	if base == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		base = filepath.Join(root, ".hookd", "artifacts")
	}
	dir := filepath.Join(base, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// repoRoot is the nearest directory above the working directory that holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// guard watches every event of a tab: the requests it sends and their answers, and
// what would be a bug of the page (see problems).
type guard struct {
	hosts map[string]bool // where requests may go

	mu       sync.Mutex
	bad      []string
	requests map[network.RequestID]*request
	order    []*request
}

// request is one request the tab sent, with the status of its answer (0 before it) and
// when it was sent and answered (headers received), in seconds of the browser's clock.
type request struct {
	method, url    string
	status         int64
	sent, answered float64
}

// waited is how long the request waited for its answer's headers, 0 before them.
func (r request) waited() time.Duration {
	if r.answered == 0 {
		return 0
	}
	return time.Duration((r.answered - r.sent) * float64(time.Second))
}

func newGuard(hosts []string) *guard {
	g := &guard{hosts: map[string]bool{}, requests: map[network.RequestID]*request{}}
	for _, h := range hosts {
		g.hosts[h] = true
	}
	return g
}

// listen runs in the tab's event loop: it must return fast and send no command.
func (g *guard) listen(ev any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r := &request{method: ev.Request.Method, url: ev.Request.URL, sent: ev.Timestamp.Float64()}
		g.requests[ev.RequestID] = r // a redirect's next request replaces the last
		g.order = append(g.order, r)
		if !g.allowed(ev.Request.URL) {
			g.bad = append(g.bad, fmt.Sprintf("request to another host: %s %s", ev.Request.Method, ev.Request.URL))
		}
	case *network.EventResponseReceived:
		if r := g.requests[ev.RequestID]; r != nil {
			r.status, r.answered = ev.Response.Status, ev.Timestamp.Float64()
		}
		if ev.Response.Status >= 500 {
			g.bad = append(g.bad, fmt.Sprintf("%d answer: %s", ev.Response.Status, ev.Response.URL))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		g.bad = append(g.bad, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				var str string
				switch {
				case a.Description != "":
					args = append(args, a.Description)
				case json.Unmarshal(a.Value, &str) == nil:
					args = append(args, str)
				default:
					args = append(args, string(a.Value))
				}
			}
			g.bad = append(g.bad, "console.error: "+strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError && !refusal(e) {
			g.bad = append(g.bad, fmt.Sprintf("console error (%s): %s %s", e.Source, e.Text, e.URL))
		}
	}
}

// refusal reports whether a console entry only says that the server answered 401 or
// 403 (the console's own probe of its session before sign-in, and the refusals the
// tests provoke), or 404 for the favicon Chromium asks for when it shows a document of
// the API (the forged form's answer): not bugs of the console.
func refusal(e *log.Entry) bool {
	if e.Source != log.EntrySourceNetwork {
		return false
	}
	if strings.Contains(e.Text, "status of 401") || strings.Contains(e.Text, "status of 403") {
		return true
	}
	u, err := url.Parse(e.URL)
	return err == nil && u.Path == "/favicon.ico" && strings.Contains(e.Text, "status of 404")
}

// allowed reports whether a request to u stays where the tests allow: data, blob and
// about URLs, and http(s) and ws(s) to the allowed hosts.
func (g *guard) allowed(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch parsed.Scheme {
	case "data", "blob", "about":
		return true
	case "http", "https", "ws", "wss":
		return g.hosts[parsed.Hostname()]
	}
	return false
}

// problems is what the guard has seen that fails a test.
func (g *guard) problems() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.bad...)
}

// take returns what problems returns and forgets it, for a test of the guard itself.
func (g *guard) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	bad := g.bad
	g.bad = nil
	return bad
}

// sent lists the requests the tab has sent so far whose URL contains part, in order.
func (g *guard) sent(part string) []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []request
	for _, r := range g.order {
		if strings.Contains(r.url, part) {
			out = append(out, *r)
		}
	}
	return out
}

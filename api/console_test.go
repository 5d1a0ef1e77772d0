package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/console"
	"github.com/hookd/hookd/internal/store"
)

const wantCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// clock is a settable Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// browser sends requests as the console does: with the session cookie (if any) and no
// Authorization header, plus the headers given.
func (e *env) browser(method, target, cookie string, body any, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *bytes.Reader
	switch b := body.(type) {
	case nil:
		r = bytes.NewReader(nil)
	case raw:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, target, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "hookd_session", Value: cookie})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the hookd_session cookie rec sets, or nil.
func sessionCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "hookd_session" {
			return c
		}
	}
	return nil
}

// signIn signs in with key and returns the session cookie's value.
func (e *env) signIn(key string) string {
	e.t.Helper()
	rec := e.browser("POST", "/console/session", "", map[string]any{"apiKey": key}, "Sec-Fetch-Site", "same-origin")
	if rec.Code != http.StatusCreated {
		e.t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	c := sessionCookie(rec)
	if c == nil {
		e.t.Fatal("sign in set no cookie")
	}
	return c.Value
}

func TestConsoleAssets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	check := func(rec *httptest.ResponseRecorder) {
		t.Helper()
		h := rec.Header()
		if h.Get("Content-Security-Policy") != wantCSP || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("security headers %v", h)
		}
	}
	rec := e.browser("GET", "/console", "", nil)
	check(rec)
	index, err := fs.ReadFile(console.Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /console: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	}
	// index.html links its assets under one version of the whole static/ tree.
	versioned := regexp.MustCompile(`/console/static/([0-9a-f]{12})/`)
	links := versioned.FindAllStringSubmatch(rec.Body.String(), -1)
	if len(links) == 0 {
		t.Fatalf("GET /console links no versioned asset:\n%s", rec.Body)
	}
	version := links[0][1]
	if got := strings.ReplaceAll(rec.Body.String(), "/console/static/"+version+"/", "/console/static/"); got != string(index) {
		t.Errorf("GET /console is not index.html with its asset links versioned:\n%s", rec.Body)
	}
	etag := rec.Header().Get("ETag")
	if rec := e.browser("GET", "/console", "", nil, "If-None-Match", etag); etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("GET /console with If-None-Match %q: %d", etag, rec.Code)
	}

	if rec := e.browser("GET", "/console/", "", nil); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console" {
		t.Errorf("GET /console/: %d to %q", rec.Code, rec.Header().Get("Location"))
	}

	err = fs.WalkDir(console.Assets(), "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, err := fs.ReadFile(console.Assets(), name)
		if err != nil {
			return err
		}
		// Under this build's version: cached a year; unversioned or under another
		// version (a page from before an upgrade): the same file, revalidated.
		rest := strings.TrimPrefix(name, "static/")
		for target, cache := range map[string]string{
			"/console/static/" + version + "/" + rest: "public, max-age=31536000, immutable",
			"/console/static/" + rest:                 "no-cache",
			"/console/static/0123456789ab/" + rest:    "no-cache",
		} {
			rec := e.browser("GET", target, "", nil)
			check(rec)
			if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) || rec.Header().Get("Cache-Control") != cache {
				t.Errorf("GET %s: %d, %d bytes, Cache-Control %q, want %q", target, rec.Code, rec.Body.Len(), rec.Header().Get("Cache-Control"), cache)
			}
			if ct := mime.TypeByExtension(path.Ext(name)); ct != "" && rec.Header().Get("Content-Type") != ct {
				t.Errorf("GET %s: Content-Type %q, want %q", target, rec.Header().Get("Content-Type"), ct)
			}
		}
		// A script or style naming /console/static/ itself would leave the versioned path.
		if ext := path.Ext(name); (ext == ".js" || ext == ".mjs" || ext == ".css") && bytes.Contains(want, []byte("/console/static/")) {
			t.Errorf("%s names /console/static/: load assets relative to the module (import.meta.url)", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, target := range []string{
		"/console/static/no-such.js", "/console/static/", "/console/static/../index.html",
		"/console/static/%2e%2e/index.html", "/console/static/vendor", "/console/static//app.js",
		"/console/static/%FF.js", "/console/index.html", "/console/static/a%00.js",
		"/console/static/" + version + "/no-such.js", "/console/static/" + version + "/",
		"/console/static/" + version + "/../app.js", "/console/static/0123456789AB/app.js",
	} {
		rec := e.browser("GET", target, "", nil)
		if rec.Code == http.StatusOK || rec.Code >= 500 {
			t.Errorf("GET %s: %d", target, rec.Code)
		}
		if rec.Code == http.StatusNotFound {
			decodeProblem(t, rec, http.StatusNotFound)
		}
	}
	if rec := e.browser("POST", "/console", "", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /console: %d", rec.Code)
	}
}

func TestConsoleSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config) { c.TemporalUIURL, c.TemporalNamespace = "http://127.0.0.1:8233", "hookd" })
	for _, key := range []string{e.admin, e.viewer} {
		rec := e.browser("POST", "/console/session", "", map[string]any{"apiKey": key}, "Sec-Fetch-Site", "same-origin")
		if rec.Code != http.StatusCreated {
			t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
		}
		conforms(t, "ConsoleSession", rec.Body.Bytes())
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("sign-in Cache-Control %q, want no-store", cc)
		}
		c := sessionCookie(rec)
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || len(c.Value) != 43 {
			t.Fatalf("cookie %+v", c)
		}
		if c.MaxAge != 8*60*60 {
			t.Errorf("cookie Max-Age %d, want 8 hours", c.MaxAge)
		}
		rec = e.browser("GET", "/console/session", c.Value, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /console/session: %d %s", rec.Code, rec.Body)
		}
		conforms(t, "ConsoleSessionView", rec.Body.Bytes())
		var got map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &got)
		if got["orgId"] != e.org || got["temporalUIURL"] != "http://127.0.0.1:8233" || got["temporalNamespace"] != "hookd" {
			t.Errorf("session %v", got)
		}
		// The cookie is stored only as its hash.
		var n int
		if err := e.store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM console_sessions WHERE hash = $1 AND hash <> convert_to($2, 'UTF8')`,
			auth.Hash(c.Value), c.Value).Scan(&n); err != nil || n != 1 {
			t.Errorf("session row by hash: %d %v", n, err)
		}
	}

	revokedPlain, revoked := auth.Issue(e.org, store.RoleAdmin, "old")
	if err := e.store.InsertAPIKey(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeAPIKey(context.Background(), e.org, revoked.ID); err != nil {
		t.Fatal(err)
	}
	before := e.count("console_sessions")
	refused := []struct {
		name   string
		body   any
		status int
	}{
		{"unknown key", map[string]any{"apiKey": "hk_nosuchkey"}, http.StatusUnauthorized},
		{"revoked key", map[string]any{"apiKey": revokedPlain}, http.StatusUnauthorized},
		{"very long key", map[string]any{"apiKey": strings.Repeat("k", 5000)}, http.StatusUnauthorized},
		{"publisher key", map[string]any{"apiKey": e.pub}, http.StatusForbidden},
		{"missing", map[string]any{}, http.StatusUnprocessableEntity},
		{"empty", map[string]any{"apiKey": ""}, http.StatusUnprocessableEntity},
		{"null", map[string]any{"apiKey": nil}, http.StatusUnprocessableEntity},
		{"number", map[string]any{"apiKey": 7}, http.StatusUnprocessableEntity},
		{"malformed", raw(`{"apiKey":`), http.StatusUnprocessableEntity},
		{"not an object", raw(`["hk_x"]`), http.StatusUnprocessableEntity},
		{"empty body", raw(``), http.StatusUnprocessableEntity},
		{"NUL", raw(`{"apiKey":"hk_\u0000"}`), http.StatusUnprocessableEntity},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.browser("POST", "/console/session", "", tt.body)
			p := decodeProblem(t, rec, tt.status)
			wantFields(t, p, "apiKey")
			if sessionCookie(rec) != nil {
				t.Error("a refused sign-in set a cookie")
			}
		})
	}
	if e.count("console_sessions") != before {
		t.Error("a refused sign-in made a session")
	}
	t.Run("cross-site sign-in", func(t *testing.T) {
		for _, h := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
			rec := e.browser("POST", "/console/session", "", map[string]any{"apiKey": e.admin}, h[0], h[1])
			decodeProblem(t, rec, http.StatusForbidden)
		}
		if e.count("console_sessions") != before {
			t.Error("a cross-site sign-in made a session")
		}
	})
	t.Run("no session", func(t *testing.T) {
		for _, cookie := range []string{"", "nope", strings.Repeat("x", 4000), "%FF%00"} {
			decodeProblem(t, e.browser("GET", "/console/session", cookie, nil), http.StatusUnauthorized)
		}
	})
}

func TestConsoleSecureCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config) { c.PublicURL = "https://hooks.example.com" })
	rec := e.browser("POST", "/console/session", "", map[string]any{"apiKey": e.admin})
	if c := sessionCookie(rec); rec.Code != http.StatusCreated || c == nil || !c.Secure {
		t.Fatalf("sign in behind an https PublicURL: %d, cookie %+v", rec.Code, c)
	}
	// A proxy that rewrites Host: the public origin is trusted.
	cookie := sessionCookie(rec).Value
	rec = e.browser("POST", "/v1/event-types", cookie, map[string]any{"name": "a.b"}, "Origin", "https://hooks.example.com")
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST from the public origin: %d %s", rec.Code, rec.Body)
	}
}

func TestConsoleSessionCallsV1(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, viewer := e.signIn(e.admin), e.signIn(e.viewer)
	wh := e.must(http.StatusCreated, "POST", "/v1/webhooks", e.admin, webhookBody())
	whID := wh["id"].(string)

	if rec := e.browser("GET", "/v1/webhooks", viewer, nil); rec.Code != http.StatusOK {
		t.Fatalf("viewer GET /v1/webhooks: %d %s", rec.Code, rec.Body)
	}
	before := e.counts()
	decodeProblem(t, e.browser("POST", "/v1/event-types", viewer, map[string]any{"name": "a.b"}, "Sec-Fetch-Site", "same-origin"), http.StatusForbidden)
	decodeProblem(t, e.browser("POST", "/v1/webhooks/"+whID+"/ping", viewer, nil, "Sec-Fetch-Site", "same-origin"), http.StatusForbidden)
	e.assertUnchanged(before)

	t.Run("cross-site requests change nothing", func(t *testing.T) {
		before := e.counts()
		for _, h := range [][2]string{
			{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"},
			{"Origin", "https://evil.example"}, {"Origin", "null"},
		} {
			for _, r := range [][2]string{{"POST", "/v1/event-types"}, {"POST", "/v1/webhooks/" + whID + "/ping"}, {"DELETE", "/v1/webhooks/" + whID}, {"PATCH", "/v1/webhooks/" + whID}} {
				rec := e.browser(r[0], r[1], admin, map[string]any{"name": "x.y"}, h[0], h[1])
				decodeProblem(t, rec, http.StatusForbidden)
			}
		}
		e.assertUnchanged(before)
		e.must(http.StatusOK, "GET", "/v1/webhooks/"+whID, e.admin, nil)
	})

	t.Run("same-origin and Bearer requests pass", func(t *testing.T) {
		if rec := e.browser("POST", "/v1/event-types", admin, map[string]any{"name": "a.b"}, "Sec-Fetch-Site", "same-origin"); rec.Code != http.StatusCreated {
			t.Fatalf("same-origin POST: %d %s", rec.Code, rec.Body)
		}
		if rec := e.browser("POST", "/v1/event-types", admin, map[string]any{"name": "a.c"}, "Origin", "http://example.com"); rec.Code != http.StatusCreated {
			t.Fatalf("POST with the same Origin: %d %s", rec.Code, rec.Body)
		}
		rec := e.browser("POST", "/v1/webhooks/"+whID+"/ping", admin, nil, "Sec-Fetch-Site", "same-origin")
		if rec.Code != http.StatusAccepted {
			t.Fatalf("ping from the console: %d %s", rec.Code, rec.Body)
		}
		rec = e.browser("POST", "/v1/event-types", "", map[string]any{"name": "a.d"}, "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer "+e.admin)
		if rec.Code != http.StatusCreated {
			t.Fatalf("cross-site Bearer POST: %d %s", rec.Code, rec.Body)
		}
		// An Authorization header wins over the cookie.
		rec = e.browser("POST", "/v1/event-types", admin, map[string]any{"name": "a.e"}, "Authorization", "Bearer "+e.viewer)
		decodeProblem(t, rec, http.StatusForbidden)
	})

	t.Run("tenancy", func(t *testing.T) {
		_, otherAdmin, _, _ := e.newOrg()
		other := e.must(http.StatusCreated, "POST", "/v1/webhooks", otherAdmin, webhookBody())
		decodeProblem(t, e.browser("GET", "/v1/webhooks/"+other["id"].(string), admin, nil), http.StatusNotFound)
		var list struct{ Data []map[string]any }
		rec := e.browser("GET", "/v1/webhooks", admin, nil)
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Data) != 1 || list.Data[0]["id"] != whID {
			t.Fatalf("org A's session lists %s (%v)", rec.Body, err)
		}
	})

	t.Run("unknown cookie", func(t *testing.T) {
		decodeProblem(t, e.browser("GET", "/v1/webhooks", "forged", nil), http.StatusUnauthorized)
	})
}

func TestConsoleSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cookie := e.signIn(e.admin)
	decodeProblem(t, e.browser("DELETE", "/console/session", cookie, nil, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	if rec := e.browser("GET", "/console/session", cookie, nil); rec.Code != http.StatusOK {
		t.Fatalf("a cross-site sign-out ended the session: %d", rec.Code)
	}
	rec := e.browser("DELETE", "/console/session", cookie, nil, "Sec-Fetch-Site", "same-origin")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", rec.Code, rec.Body)
	}
	if c := sessionCookie(rec); c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out does not clear the cookie: %+v", c)
	}
	decodeProblem(t, e.browser("GET", "/console/session", cookie, nil), http.StatusUnauthorized)
	decodeProblem(t, e.browser("GET", "/v1/webhooks", cookie, nil), http.StatusUnauthorized)
	if n := e.count("console_sessions"); n != 0 {
		t.Errorf("%d sessions left after sign-out", n)
	}
	for _, c := range []string{"", cookie, strings.Repeat("y", 1000)} {
		if rec := e.browser("DELETE", "/console/session", c, nil); rec.Code != http.StatusNoContent {
			t.Errorf("sign out when signed out: %d", rec.Code)
		}
	}
}

func TestConsoleSessionEnds(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, func(c *api.Config) { c.Now = clk.Now })

	t.Run("after 8 hours", func(t *testing.T) {
		cookie := e.signIn(e.admin)
		clk.advance(8*time.Hour - time.Second)
		if rec := e.browser("GET", "/v1/webhooks", cookie, nil); rec.Code != http.StatusOK {
			t.Fatalf("a session of 7:59:59: %d", rec.Code)
		}
		clk.advance(time.Second)
		decodeProblem(t, e.browser("GET", "/v1/webhooks", cookie, nil), http.StatusUnauthorized)
		decodeProblem(t, e.browser("GET", "/console/session", cookie, nil), http.StatusUnauthorized)
		if n := e.count("console_sessions"); n != 0 {
			t.Errorf("the expired session was not deleted: %d rows", n)
		}
	})

	t.Run("expired rows are purged at sign-in", func(t *testing.T) {
		e.signIn(e.viewer)
		clk.advance(9 * time.Hour)
		e.signIn(e.viewer)
		if n := e.count("console_sessions"); n != 1 {
			t.Errorf("%d sessions, want the live one", n)
		}
	})

	t.Run("when its key is revoked", func(t *testing.T) {
		plain, k := auth.Issue(e.org, store.RoleAdmin, "console")
		if err := e.store.InsertAPIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		cookie := e.signIn(plain)
		if rec := e.browser("GET", "/v1/webhooks", cookie, nil); rec.Code != http.StatusOK {
			t.Fatalf("GET: %d", rec.Code)
		}
		if err := e.store.RevokeAPIKey(context.Background(), e.org, k.ID); err != nil {
			t.Fatal(err)
		}
		decodeProblem(t, e.browser("GET", "/v1/webhooks", cookie, nil), http.StatusUnauthorized)
		decodeProblem(t, e.browser("GET", "/console/session", cookie, nil), http.StatusUnauthorized)
	})
}

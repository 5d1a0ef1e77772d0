package browsertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGuardCatches shows that the guard every page has fails a test on a request to
// another host, an uncaught exception and a console error, with a page made to do all
// three (the other host is loopback too, so nothing leaves the machine).
func TestGuardCatches(t *testing.T) {
	s := start(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>bad page</title>
<img src="http://127.0.0.3:9/tracker.png">
<script>console.error("something broke"); setTimeout(() => { throw new Error("uncaught on purpose") }, 0)</script>`))
	}))
	t.Cleanup(srv.Close)

	p := s.newPage(t, 1280)
	p.navigate(srv.URL)
	want := []string{"request to another host: GET http://127.0.0.3:9/tracker.png", "console.error: something broke", "uncaught on purpose",
		"console error (network): Failed to load resource"}
	var seen []string
	eventually(t, stepTimeout, func() string {
		seen = append(seen, p.guard.take()...)
		for _, w := range want {
			if !containsPart(seen, w) {
				return "the guard has not seen " + w + "; it saw " + strings.Join(seen, "; ")
			}
		}
		return ""
	})
}

func containsPart(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

package activities

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/redact"
)

func TestMaskURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://example.com/hook":                        "https://example.com/hook",
		"https://example.com/hook?tenant=t1&page=2":       "https://example.com/hook?tenant=t1&page=2",
		"https://user:pass@example.com/hook":              "https://********@example.com/hook",
		"https://ghp_token@example.com:8443/hook":         "https://********@example.com:8443/hook",
		"https://example.com/hook?api_key=k-1&tenant=t1":  "https://example.com/hook?api_key=********&tenant=t1",
		"https://example.com/h?access_token=a&Sig=b&x=c":  "https://example.com/h?access_token=********&Sig=********&x=c",
		"https://example.com/h?api%5Fkey=k&token=t&token": "https://example.com/h?api%5Fkey=********&token=********&token",
		"https://example.com/h?token=&key=v#frag":         "https://example.com/h?token=********&key=********#frag",
		"https://u:p@example.com/devices/d%2F1?secret=s":  "https://********@example.com/devices/d%2F1?secret=********",
		"https://example.com/h?a=1;b=2&password=p":        "https://example.com/h?a=1;b=2&password=********",
		"http://[::1]:8080/h?key=k":                       "http://[::1]:8080/h?key=********",
		"https://example.com/%zz?token=t":                 redact.Masked, // cannot be parsed
		"":                                                "",
	} {
		if got := maskURL(raw); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestMaskURLError(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	err := maskURLError(&url.Error{Op: "Post", URL: "https://example.com/h?api_key=k-live-9", Err: cause})
	if msg := err.Error(); strings.Contains(msg, "k-live-9") || !strings.Contains(msg, "api_key=********") {
		t.Errorf("error %q shows the key or not the masked URL", msg)
	}
	if !errors.Is(err, cause) {
		t.Errorf("error %v lost its cause", err)
	}
	if other := errors.New("k-live-9"); maskURLError(other) != other {
		t.Error("an error that is not a *url.Error was changed")
	}
}

// FuzzMaskURL: whatever the URL, masking what was masked changes nothing, and a masked
// URL that parses has no user information but the mask and no credential parameter with
// a value but the mask.
func FuzzMaskURL(f *testing.F) {
	f.Add("https://user:pass@example.com/hook?api_key=k&tenant=t1")
	f.Add("https://example.com/h?api%5Fkey=k&token=t&token#x")
	f.Add("http://u@?token=x")
	f.Add("//u:p@host/p?secret=s")
	f.Add("https://example.com/a;b?c=d;e&x-api-key==v")
	f.Fuzz(func(t *testing.T, raw string) {
		masked := maskURL(raw)
		if again := maskURL(masked); again != masked {
			t.Fatalf("maskURL(%q) = %q, then %q", raw, masked, again)
		}
		u, err := url.Parse(masked)
		if err != nil {
			return
		}
		if u.User != nil && u.User.String() != url.User(redact.Masked).String() {
			t.Fatalf("maskURL(%q) = %q keeps user information %q", raw, masked, u.User)
		}
		for _, param := range strings.Split(u.RawQuery, "&") {
			name, value, ok := strings.Cut(param, "=")
			if decoded, err := url.QueryUnescape(name); err == nil {
				name = decoded
			}
			if ok && redact.Sensitive(name) && value != redact.Masked {
				t.Fatalf("maskURL(%q) = %q shows %s=%q", raw, masked, name, value)
			}
		}
	})
}

func TestHostOnlyCutsQuotedURLsToTheirHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`Post "http://127.0.0.1:19901/hook/a?token=********": context deadline exceeded`: `Post "http://127.0.0.1:19901/…": context deadline exceeded`,
		`Post "https://********@hooks.slack.example/services/T0/B0/XyZ": EOF`:            `Post "https://********@hooks.slack.example/…": EOF`,
		`receiver answered 503`: `receiver answered 503`,
	} {
		if got := hostOnly(in); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

package render

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const urlData = `{
	"device_id": "d-1",
	"hostile": "a b/c?d#e&f=g+h%i{j}é",
	"up": "..",
	"here": ".",
	"dotted": "a.b",
	"count": 42,
	"device": {"id": "dev-9", "n": [1, 2]},
	"empty": ""
}`

func TestURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, want string
		path, query        string // decoded, as a receiver reads them ("" = not checked)
	}{
		{"seed 002 example", "https://example.com/webhook/{device_id}", "https://example.com/webhook/d-1", "/webhook/d-1", ""},
		{"no placeholders: unchanged", "https://example.com/a%20b/?x=1&y=%7Bz%7D#f", "https://example.com/a%20b/?x=1&y=%7Bz%7D#f", "", ""},
		{"path value is one segment", "https://h.example/d/{hostile}/x",
			"https://h.example/d/a%20b%2Fc%3Fd%23e&f=g+h%25i%7Bj%7D%C3%A9/x", "/d/a b/c?d#e&f=g+h%i{j}é/x", ""},
		{"query value is one component", "https://h.example/d?v={hostile}&t={eventType}",
			"https://h.example/d?v=a%20b%2Fc%3Fd%23e%26f%3Dg%2Bh%25i%7Bj%7D%C3%A9&t=device.created", "", "v=a b/c?d#e&f=g+h%i{j}é"},
		{"placeholder as a query key", "https://h.example/?{device_id}=1", "https://h.example/?d-1=1", "", "d-1=1"},
		{"built-ins", "https://h.example/{webhookId}/{eventId}?at={timestamp}",
			"https://h.example/wh_1/evt_1?at=2026-03-04T10%3A00%3A00.5Z", "/wh_1/evt_1", "at=2026-03-04T10:00:00.5Z"},
		{"dotted path and a key with dots", "https://h.example/{device.id}/{device.n.1}", "https://h.example/dev-9/2", "", ""},
		{"non-string values are their JSON text", "https://h.example/{count}?d={device}",
			"https://h.example/42?d=%7B%22id%22%3A%22dev-9%22%2C%22n%22%3A%5B1%2C2%5D%7D", "/42", `d={"id":"dev-9","n":[1,2]}`},
		{"a value of .. cannot climb", "https://h.example/a/{up}/b", "https://h.example/a/%2E%2E/b", "", ""},
		{"a value of . cannot stay", "https://h.example/a/{here}", "https://h.example/a/%2E", "", ""},
		{"values making .. together", "https://h.example/a/{here}{here}", "https://h.example/a/%2E%2E", "", ""},
		{"dots inside a segment are kept", "https://h.example/{dotted}/x{here}", "https://h.example/a.b/x.", "", ""},
		{"the admin's own .. is kept", "https://h.example/a/../{device_id}", "https://h.example/a/../d-1", "", ""},
		{"empty value", "https://h.example/a/{empty}?e={empty}", "https://h.example/a/?e=", "", ""},
		{"port and user info kept", "http://u@127.0.0.1:8080/{device_id}", "http://u@127.0.0.1:8080/d-1", "", ""},
		{"no path, query only", "https://h.example?d={device_id}", "https://h.example?d=d-1", "", ""},
		{"fragment left as written", "https://h.example/{device_id}#{device_id}", "https://h.example/d-1#{device_id}", "", ""},
		{"not a placeholder: kept", "https://h.example/{a..b}/{device_id}", "https://h.example/{a..b}/d-1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := URL(tt.target, testEvent(urlData), testVars)
			if err != nil {
				t.Fatalf("URL(%s): %v", tt.target, err)
			}
			if got != tt.want {
				t.Fatalf("URL(%s) =\n%s\nwant\n%s", tt.target, got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("parse %s: %v", got, err)
			}
			in, _ := url.Parse(tt.target)
			if in != nil && u.Host != in.Host {
				t.Fatalf("host %q, want %q", u.Host, in.Host)
			}
			if tt.path != "" && u.Path != tt.path {
				t.Fatalf("path %q, want %q", u.Path, tt.path)
			}
			if tt.query != "" {
				q, err := url.ParseQuery(u.RawQuery)
				if err != nil {
					t.Fatalf("query %q: %v", u.RawQuery, err)
				}
				k, v, _ := strings.Cut(tt.query, "=")
				if q.Get(k) != v {
					t.Fatalf("query %s = %q, want %q", k, q.Get(k), v)
				}
			}
		})
	}
}

func TestURLErrors(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"https://h.example/{nope}", "https://h.example/?x={device.nope}", "https://h.example/{device_id}/{count.x}"} {
		_, err := URL(target, testEvent(urlData), testVars)
		var missing *MissingError
		if !errors.As(err, &missing) || !strings.Contains(target, "{"+missing.Placeholder+"}") {
			t.Errorf("URL(%s) = %v, want a *MissingError naming the unknown placeholder", target, err)
		}
	}
	long := testEvent(`{"s": "` + strings.Repeat("a", MaxURL/2) + `"}`)
	if _, err := URL("https://h.example/{s}", long, testVars); err != nil {
		t.Fatalf("half of MaxURL: %v", err)
	}
	if _, err := URL("https://h.example/{s}?{s}", long, testVars); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("past MaxURL: %v, want ErrTooLarge", err)
	}
	// Escaping counts: a space is three bytes.
	spaces := testEvent(`{"s": "` + strings.Repeat(" ", MaxURL/3+1) + `"}`)
	if _, err := URL("https://h.example/?q={s}", spaces, testVars); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("escaped past MaxURL: %v, want ErrTooLarge", err)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, target := range []string{
		"https://example.com/webhook/{device_id}",
		"https://example.com/{a}/{b.c}?x={d}&{e}=1",
		"https://example.com/plain?x=%7Bnot%7D",
		"https://example.com",
		"http://127.0.0.1:8080/devices/{device_id}?t={eventType}",
	} {
		if err := CheckURL(target); err != nil {
			t.Errorf("CheckURL(%s) = %v, want nil", target, err)
		}
	}
	refused := []struct{ target, want string }{
		{"https://{tenant}.example.com/", "placeholder {tenant} is in the scheme, host, port or user information"},
		{"https://example.com:{port}/", "placeholder {port} is in the scheme, host"},
		{"https://{user}@example.com/", "placeholder {user} is in the scheme, host"},
		{"{scheme}://example.com/", "placeholders need an absolute URL"},
		{"https://example.com/#{x}", "placeholder {x} is in the fragment"},
		{"/relative/{x}", "placeholders need an absolute URL"},
		{"https://example.com/{a b}", "has a { at character 21 that opens no placeholder"},
		{"https://example.com/{}", "has a { at character 21"},
		{"https://example.com/{a..b}", "has a { at character 21"},
		{"https://example.com/{a", "has a { at character 21"},
		{"https://example.com/a}", "has a } at character 22 that closes no placeholder"},
		{"https://example.com/{{a}}", "has a { at character 21"},
	}
	for _, tt := range refused {
		err := CheckURL(tt.target)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckURL(%s) = %v, want an error holding %q", tt.target, err, tt.want)
		}
	}
}

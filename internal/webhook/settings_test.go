package webhook

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/validation"
)

// valid is a webhook that passes Validate: the defaults with a name and a URL.
func valid() Settings {
	s := Defaults()
	s.Name, s.URL = "receiver", "https://example.com/hook"
	return s
}

// problems returns the field errors of err as "field: message" lines, failing the test
// if err is not nil and not a *validation.Errors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var v *validation.Errors
	if !errors.As(err, &v) {
		t.Fatalf("error %v is a %T, want *validation.Errors", err, err)
	}
	out := make([]string, len(v.Errors))
	for i, f := range v.Errors {
		out[i] = f.Field + ": " + f.Message
	}
	return out
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	d := Defaults()
	want := Settings{
		Events:         []string{},
		EventsPolicy:   "include",
		Headers:        map[string]string{},
		TimeoutSeconds: 30,
		MaxRetries:     5,
		RetrySchedule:  Schedule{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, time.Hour},
		Method:         "POST",
		ContentType:    "json",
		Auth:           Auth{Type: "none"},
		Signature:      Signature{Scheme: "standard"},
		FailureLimit:   10,
		Level:          "trace",
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("Defaults() = %+v, want %+v (API.md)", d, want)
	}
	// Each call has its own schedule: editing one must not change delivery's default.
	d.RetrySchedule[0] = time.Hour
	if delivery.DefaultSchedule[0] != time.Minute || Defaults().RetrySchedule[0] != time.Minute {
		t.Fatal("Defaults shares its schedule with delivery.DefaultSchedule")
	}
	if got := problems(t, Defaults().Validate(netguard.Options{})); !slices.Equal(got, []string{
		"name: must not be blank", "url: must not be empty",
	}) {
		t.Fatalf("Defaults().Validate() = %q, want only name and url (they have no default)", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	manyHeaders := map[string]string{}
	for i := range 33 {
		manyHeaders["X-H"+strconv.Itoa(i)] = "v"
	}
	tests := []struct {
		name string
		edit func(*Settings)
		opts netguard.Options
		want []string // "field: message", in order
	}{
		{name: "valid", edit: func(*Settings) {}},
		{name: "blank name", edit: func(s *Settings) { s.Name = " \t" }, want: []string{"name: must not be blank"}},
		{name: "name of 100 characters", edit: func(s *Settings) { s.Name = strings.Repeat("é", 100) }},
		{name: "long name", edit: func(s *Settings) { s.Name = strings.Repeat("n", 101) },
			want: []string{"name: must be at most 100 characters"}},
		{name: "long description", edit: func(s *Settings) { s.Description = strings.Repeat("d", 1001) },
			want: []string{"description: must be at most 1000 characters"}},
		{name: "http url", edit: func(s *Settings) { s.URL = "http://example.com/hook" },
			want: []string{"url: must use https"}},
		{name: "http url in dev mode", edit: func(s *Settings) { s.URL = "http://127.0.0.1:9999/hook" },
			opts: netguard.Options{AllowHTTP: true, AllowPrivate: true}},
		{name: "loopback url", edit: func(s *Settings) { s.URL = "https://127.0.0.1/hook" },
			want: []string{"url: 127.0.0.1 is not a public address"}},
		{name: "relative url", edit: func(s *Settings) { s.URL = "/hook" },
			want: []string{"url: must be absolute, such as https://example.com/hooks"}},
		{name: "long url", edit: func(s *Settings) { s.URL = "https://example.com/" + strings.Repeat("a", 600) },
			want: []string{"url: must be at most 512 characters"}},
		{name: "250 events", edit: func(s *Settings) { s.Events = slices.Repeat([]string{"a.b"}, 250) }},
		{name: "too many events", edit: func(s *Settings) { s.Events = slices.Repeat([]string{"a.b"}, 251) },
			want: []string{"events: must list at most 250 event types"}},
		{name: "exclude", edit: func(s *Settings) { s.EventsPolicy = "exclude" }},
		{name: "unknown policy", edit: func(s *Settings) { s.EventsPolicy = "all" },
			want: []string{`eventsPolicy: must be "include" or "exclude"`}},
		{name: "no policy", edit: func(s *Settings) { s.EventsPolicy = "" },
			want: []string{`eventsPolicy: must be "include" or "exclude"`}},
		{name: "headers", edit: func(s *Settings) { s.Headers = map[string]string{"x-api-key": "k", "X-Tenant": "t"} }},
		{name: "forbidden headers", edit: func(s *Settings) {
			s.Headers = map[string]string{"Host": "x", "content-length": "1", "Webhook-Signature": "v1,x", "ok": "fine"}
		}, want: []string{
			"headers.Host: is set by hookd and cannot be overridden",
			"headers.Webhook-Signature: webhook-* headers are reserved for the Standard Webhooks signature",
			"headers.content-length: is set by hookd and cannot be overridden",
		}},
		{name: "bad header name", edit: func(s *Settings) { s.Headers = map[string]string{"bad name": "x"} },
			want: []string{"headers.bad name: is not a valid header name"}},
		{name: "bad header value", edit: func(s *Settings) { s.Headers = map[string]string{"X-A": "a\r\nb"} },
			want: []string{"headers.X-A: has a value with characters not allowed in a header"}},
		{name: "long header value", edit: func(s *Settings) { s.Headers = map[string]string{"X-A": strings.Repeat("v", 4097)} },
			want: []string{"headers.X-A: must be at most 4096 bytes"}},
		{name: "header twice", edit: func(s *Settings) { s.Headers = map[string]string{"X-A": "1", "x-a": "2"} },
			want: []string{"headers.x-a: is given twice (header names are case-insensitive)"}},
		{name: "too many headers", edit: func(s *Settings) { s.Headers = manyHeaders },
			want: []string{"headers: must have at most 32 entries"}},
		{name: "timeout 1", edit: func(s *Settings) { s.TimeoutSeconds = 1 }},
		{name: "timeout 60", edit: func(s *Settings) { s.TimeoutSeconds = 60 }},
		{name: "timeout zero", edit: func(s *Settings) { s.TimeoutSeconds = 0 },
			want: []string{"timeoutSeconds: must be from 1 to 60"}},
		{name: "timeout 61", edit: func(s *Settings) { s.TimeoutSeconds = 61 },
			want: []string{"timeoutSeconds: must be from 1 to 60"}},
		{name: "no retries", edit: func(s *Settings) { s.MaxRetries = 0 }},
		{name: "20 retries", edit: func(s *Settings) { s.MaxRetries = 20 }},
		{name: "negative retries", edit: func(s *Settings) { s.MaxRetries = -1 },
			want: []string{"maxRetries: must be from 0 to 20"}},
		{name: "21 retries", edit: func(s *Settings) { s.MaxRetries = 21 },
			want: []string{"maxRetries: must be from 0 to 20"}},
		{name: "empty schedule", edit: func(s *Settings) { s.RetrySchedule = nil },
			want: []string{"retrySchedule: must have at least one entry"}},
		{name: "long schedule", edit: func(s *Settings) { s.RetrySchedule = slices.Repeat(Schedule{time.Minute}, 21) },
			want: []string{"retrySchedule: must have at most 20 entries, got 21"}},
		{name: "short delay", edit: func(s *Settings) { s.RetrySchedule = Schedule{time.Minute, 500 * time.Millisecond} },
			want: []string{`retrySchedule[1]: "500ms" must be between 1s and 24h`}},
		{name: "long delay", edit: func(s *Settings) { s.RetrySchedule = Schedule{25 * time.Hour} },
			want: []string{`retrySchedule[0]: "25h" must be between 1s and 24h`}},
		{name: "every problem, in field order", edit: func(s *Settings) {
			*s = Settings{EventsPolicy: "x", Headers: map[string]string{"Host": "h"}}.WithDefaults()
		}, want: []string{
			"name: must not be blank", "url: must not be empty", `eventsPolicy: must be "include" or "exclude"`,
			"headers.Host: is set by hookd and cannot be overridden", "timeoutSeconds: must be from 1 to 60",
			"retrySchedule: must have at least one entry",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tt.edit(&s)
			if got := problems(t, s.Validate(tt.opts)); !slices.Equal(got, tt.want) {
				t.Errorf("Validate() = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status string
		want   []string
	}{
		{StatusEnabled, nil},
		{StatusDisabled, nil},
		{StatusDisabledDueToErrors, []string{"status: is set only by hookd; write ENABLED or DISABLED"}},
		{"PAUSED", []string{"status: must be ENABLED or DISABLED"}},
		{"", []string{"status: must be ENABLED or DISABLED"}},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, ValidateStatus(tt.status)); !slices.Equal(got, tt.want) {
				t.Errorf("ValidateStatus(%q) = %q, want %q", tt.status, got, tt.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	s := valid()
	s.Events = []string{"b.b", "a.a", "b.b", "c.c", "a.a"}
	s.Headers = map[string]string{"x-api-key": "k", "X-TENANT": "t"}
	got := s.Canonical()
	if !slices.Equal(got.Events, []string{"b.b", "a.a", "c.c"}) {
		t.Errorf("events %q, want repeats dropped in order", got.Events)
	}
	if want := map[string]string{"X-Api-Key": "k", "X-Tenant": "t"}; !reflect.DeepEqual(got.Headers, want) {
		t.Errorf("headers %v, want %v", got.Headers, want)
	}
	if s.Events[2] != "b.b" || s.Headers["x-api-key"] != "k" {
		t.Error("Canonical changed its receiver")
	}
	if got := (Settings{}).Canonical(); got.Events == nil || got.Headers == nil {
		t.Errorf("Canonical of nothing = %+v, want empty events and headers, not nil", got)
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	s := Settings{MaxRetries: 3, RetrySchedule: Schedule{time.Second, time.Minute}}
	p := s.Policy()
	if p.MaxRetries != 3 || p.Delay(0) != time.Second || p.Delay(5) != time.Minute || p.Jitter != delivery.DefaultJitter {
		t.Fatalf("Policy() = %+v", p)
	}
}

// TestJSON: the stored form has the API's field names and durations, leaves out the
// events (columns of their own) and the headers (sealed, see Secrets), and reads back
// what was written.
func TestJSON(t *testing.T) {
	t.Parallel()
	s := valid()
	s.Events, s.EventsPolicy = []string{"a.b"}, EventsExclude
	s.Headers = map[string]string{"X-Team": "core"}
	s.RetrySchedule = Schedule{90 * time.Second, time.Hour, 1500 * time.Millisecond}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"name":"receiver","description":"","url":"https://example.com/hook",` +
		`"timeoutSeconds":30,"maxRetries":5,"retrySchedule":["1m30s","1h","1.5s"],` +
		`"method":"POST","contentType":"json","signature":{"scheme":"standard"},"failureLimit":10,` +
		`"lossy":false,"allowInvalidCerts":false,"level":"trace"}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var back Settings
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Events, back.EventsPolicy, back.Headers, back.Auth = s.Events, s.EventsPolicy, s.Headers, s.Auth
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("read back %+v, want %+v", back, s)
	}
}

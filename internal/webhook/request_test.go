package webhook

import (
	"slices"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
)

func TestValidateRequestShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Settings)
		want   []string // "field: message" prefixes, in order; nil = valid
	}{
		{"seed 002 device webhook", func(s *Settings) {
			s.URL = "https://example.com/webhook/{device_id}?t={eventType}"
			s.Method, s.ContentType = MethodPut, ContentTypeJSON
			s.BodyTemplate = `{"device_id": "{device_id}", "n": {count}, "o": {"id": "{device.id}"}}`
		}, nil},
		{"form with an object template", func(s *Settings) {
			s.ContentType, s.Method = ContentTypeForm, MethodPatch
			s.BodyTemplate = `{"device": "{device_id}", "raw": {device}}`
		}, nil},
		{"form without a template (the envelope)", func(s *Settings) { s.ContentType = ContentTypeForm }, nil},
		{"template of exactly 1024 characters", func(s *Settings) {
			s.BodyTemplate = `{"s": "` + strings.Repeat("é", 1024-9) + `"}`
		}, nil},
		{"method", func(s *Settings) { s.Method = "GET" }, []string{"method: must be POST, PUT or PATCH"}},
		{"contentType", func(s *Settings) { s.ContentType = "xml" }, []string{`contentType: must be "json" or "form"`}},
		{"placeholder in the path malformed", func(s *Settings) { s.URL = "https://example.com/d/{device id}" },
			[]string{"url: has a { at character 23 that opens no placeholder"}},
		{"placeholder in the fragment", func(s *Settings) { s.URL = "https://example.com/d#{device_id}" },
			[]string{"url: placeholder {device_id} is in the fragment"}},
		// netguard cannot parse a brace in a host: its message comes first, one per field.
		{"placeholder in the host", func(s *Settings) { s.URL = "https://{tenant}.example.com/" },
			[]string{"url: placeholder {tenant} is in the scheme, host, port or user information"}},
		{"template longer than 1024 characters", func(s *Settings) {
			s.BodyTemplate = `{"s": "` + strings.Repeat("é", 1024-8) + `"}`
		}, []string{"bodyTemplate: must be at most 1024 characters (it has 1025)"}},
		{"template not valid JSON", func(s *Settings) { s.BodyTemplate = `{"a": }` },
			[]string{"bodyTemplate: is not valid JSON at character 7"}},
		{"placeholder where no value goes", func(s *Settings) { s.BodyTemplate = `{"a": 1 {x}}` },
			[]string{"bodyTemplate: placeholder {x} at character 9 stands where a JSON value cannot"}},
		{"blank template", func(s *Settings) { s.BodyTemplate = "  " },
			[]string{"bodyTemplate: must not be blank"}},
		{"template with a NUL", func(s *Settings) { s.BodyTemplate = "\"\x00\"" },
			[]string{"bodyTemplate: must not contain the NUL character"}},
		{"form template not an object", func(s *Settings) { s.ContentType, s.BodyTemplate = ContentTypeForm, `{device}` },
			[]string{"bodyTemplate: must render a JSON object for contentType form"}},
		{"form template array", func(s *Settings) { s.ContentType, s.BodyTemplate = ContentTypeForm, `[{"a": 1}]` },
			[]string{"bodyTemplate: must render a JSON object for contentType form"}},
		{"json template may be any value", func(s *Settings) { s.BodyTemplate = `{device}` }, nil},
		{"every problem at once", func(s *Settings) {
			s.Method, s.ContentType = "DELETE", "text"
			s.URL = "https://example.com/{a"
			s.BodyTemplate = `{"a": 1 {x}}`
		}, []string{"url: has a {", "method:", "contentType:", "bodyTemplate: placeholder {x}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tt.mutate(&s)
			got := problems(t, s.Validate(netguard.Options{}))
			if len(got) != len(tt.want) || !slices.EqualFunc(got, tt.want, strings.HasPrefix) {
				t.Fatalf("Validate() = %q, want problems starting %q", got, tt.want)
			}
		})
	}
}

func TestTargetHost(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://hooks.example.com/in":                         "hooks.example.com",
		"https://u:p@hooks.example.com:8443/{eventId}?token=x": "hooks.example.com:8443",
		"http://[::1]:9000/x":                                  "[::1]:9000",
		"::not a url":                                          "",
	} {
		if got := TargetHost(raw); got != want {
			t.Errorf("TargetHost(%q) = %q, want %q", raw, got, want)
		}
	}
}

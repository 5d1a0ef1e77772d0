package api

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/validation"
)

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	type target struct {
		Name    *string            `json:"name"`
		Count   *int               `json:"count"`
		Tags    *[]string          `json:"tags"`
		Headers *map[string]string `json:"headers"`
	}
	tests := []struct {
		name       string
		body       string
		status     int      // of the returned error, 0 for none
		fields     []string // named in the validation error
		wantName   string
		wantCounts bool
	}{
		{"valid", `{"name": "a", "count": 2, "tags": ["x"], "headers": {"A": "b"}}`, 0, nil, "a", true},
		{"null is absent", `{"name": null}`, 0, nil, "", false},
		{"empty", ``, http.StatusBadRequest, nil, "", false},
		{"syntax", `{"name": }`, http.StatusBadRequest, nil, "", false},
		{"trailing data", `{} {}`, http.StatusBadRequest, nil, "", false},
		{"array", `[1]`, http.StatusBadRequest, nil, "", false},
		{"null body", `null`, http.StatusBadRequest, nil, "", false},
		{"wrong types", `{"name": 1, "count": 1.5, "tags": "x", "headers": {"A": 1}}`, 0, []string{"count", "headers", "name", "tags"}, "", false},
		{"case matters", `{"Name": "a"}`, 0, []string{"Name"}, "", false},
		{"read-only and later", `{"id": "x", "auth": {}, "zzz": 1}`, 0, []string{"auth", "id", "zzz"}, "", false},
		{"unstorable strings", "{\"name\": \"a\\u0000\", \"tags\": [\"ok\", \"\xff\"], \"headers\": {\"A\": \"\\ud800\"}, \"count\": 1}", 0, []string{"headers.A", "name", "tags[1]"}, "", true},
		{"escaped backslash is storable", `{"name": "\\u0000"}`, 0, nil, `\u0000`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var dst target
			var v ValidationError
			err := decodeObject([]byte(tt.body), &dst, &v)
			var herr *httpError
			switch {
			case tt.status == 0 && err != nil:
				t.Fatalf("error %v", err)
			case tt.status != 0 && (!errors.As(err, &herr) || herr.status != tt.status):
				t.Fatalf("error %v, want status %d", err, tt.status)
			}
			var fields []string
			for _, f := range v.Errors {
				fields = append(fields, f.Field)
				if f.Message == "" {
					t.Errorf("%s: empty message", f.Field)
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Fatalf("fields %v, want %v", fields, tt.fields)
			}
			if deref(dst.Name) != tt.wantName || (dst.Count != nil) != tt.wantCounts {
				t.Fatalf("decoded %+v", dst)
			}
		})
	}
}

func TestValidationErrorKeepsFirstProblemPerField(t *testing.T) {
	t.Parallel()
	var v ValidationError
	if v.Err() != nil {
		t.Fatal("empty ValidationError is an error")
	}
	v.Add("name", "must be a string")
	v.Add("name", "is required")
	v.Add("url", "is required")
	if len(v.Errors) != 2 || v.Errors[0].Message != "must be a string" || v.Err() == nil {
		t.Fatalf("%+v", v.Errors)
	}
}

// FuzzDecodeObject checks that decodeObject never panics and never hands a handler a
// string PostgreSQL could not store.
func FuzzDecodeObject(f *testing.F) {
	for _, seed := range []string{`{"name": "a", "tags": ["x"], "headers": {"A": "b"}}`, `{"name": "\u0000"}`, "{\"tags\": [\"\xff\"]}", `{"headers": {"\ud800": "x"}}`, `[1]`, ``} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst struct {
			Name    *string            `json:"name"`
			Tags    *[]string          `json:"tags"`
			Headers *map[string]string `json:"headers"`
		}
		var v ValidationError
		if err := decodeObject(body, &dst, &v); err != nil {
			return
		}
		check := func(s string) {
			if p := validation.TextProblem(s); p != "" {
				t.Fatalf("decoded %q from %q: it %s", s, body, p)
			}
		}
		check(deref(dst.Name))
		if dst.Tags != nil {
			for _, s := range *dst.Tags {
				check(s)
			}
		}
		if dst.Headers != nil {
			for k, s := range *dst.Headers {
				check(k)
				check(s)
			}
		}
	})
}

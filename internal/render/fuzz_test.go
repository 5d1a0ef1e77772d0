package render

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// fuzzEvent is an event whose data holds s under "s" and under "o.s", and raw under "v"
// when raw is valid JSON (else null), beside fixed values of every type. It also returns
// s as the data holds it (JSON text is UTF-8: encoding/json writes U+FFFD for bad bytes).
func fuzzEvent(s string, raw []byte) (EventInput, string) {
	v := json.RawMessage("null")
	if json.Valid(raw) {
		v = raw
	}
	data, _ := json.Marshal(map[string]any{
		"s": s, "v": v, "n": 12.5, "b": false, "z": nil,
		"o": map[string]any{"s": s, "l": []any{1, "two"}}, "dot.key": s,
	})
	var held struct{ S string }
	_ = json.Unmarshal(data, &held)
	return testEvent(string(data)), held.S
}

// FuzzTemplate: rendering never panics; a template CheckTemplate accepts renders valid
// JSON whenever every placeholder has a value (else a *MissingError), whatever the
// values; one CheckFormTemplate accepts renders a body Form encodes.
func FuzzTemplate(f *testing.F) {
	for _, tmpl := range []string{
		`{"device_id": "{s}"}`, `{"a": {"b": "{eventId}"}}`, `{"n": {n}, "v": {v}, "o": {o}}`,
		`[{s}, "{v}", {z}, "{o.l.1}"]`, `{v}`, `{"{s}": {b}}`, `"\\{s}\"{dot.key}"`, `{"a": "\u00{s}"}`,
		`{"a": 1 {s}}`, `{{s}: 1}`, `{"a": {s}5}`, `{"t": "{timestamp}", "w": {webhookId}}`, `{"m": {missing}}`,
	} {
		f.Add(tmpl, `a"b\c`+"\n\u2028<&>", []byte(`{"k": [1, "x"]}`))
	}
	f.Add(`"{s}"`, "\xff\x00", []byte(`-0.0e-0`))
	f.Fuzz(func(t *testing.T, tmpl, s string, raw []byte) {
		ev, _ := fuzzEvent(s, raw)
		out, err := Template(tmpl, ev, testVars)
		checked := CheckTemplate(tmpl) == nil
		if err != nil {
			var missing *MissingError
			if !errors.As(err, &missing) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Template(%q) error %v, want a *MissingError or ErrTooLarge", tmpl, err)
			}
			if missing != nil && !strings.Contains(tmpl, "{"+missing.Placeholder+"}") {
				t.Fatalf("Template(%q) names {%s}, which it does not hold", tmpl, missing.Placeholder)
			}
			return
		}
		if len(out) > MaxBody {
			t.Fatalf("Template(%q) rendered %d bytes, past MaxBody", tmpl, len(out))
		}
		if checked && !json.Valid(out) {
			t.Fatalf("CheckTemplate accepted %q but it rendered invalid JSON %q", tmpl, out)
		}
		if CheckFormTemplate(tmpl) == nil {
			if _, err := Form(out); err != nil {
				t.Fatalf("CheckFormTemplate accepted %q but Form(%q): %v", tmpl, out, err)
			}
		}
	})
}

// FuzzURL: filling never panics; when the target parses, the filled URL parses too and
// its host is unchanged; a target CheckURL accepts keeps no placeholder after filling,
// and a value in a path segment reads back as itself.
func FuzzURL(f *testing.F) {
	for _, target := range []string{
		"https://example.com/webhook/{s}", "https://example.com/d/{s}?t={eventType}&v={v}",
		"http://127.0.0.1:8080/{o.s}/{dot.key}?{s}={n}", "https://h.example/a/{s}/b#{s}",
		"https://{s}.example/", "https://h.example:{n}/", "https://h.example?{s}", "https://h.example/{a..b}/{s}",
		"https://u:p@h.example/{s}", "https://[::1]/{s}", "https://h.example/{missing}",
	} {
		f.Add(target, "a b/c?d#e&f=g+h%i{j}é..", []byte(`{"k": 1}`))
	}
	f.Add("https://h.example/{s}", "..", []byte(`1`))
	f.Fuzz(func(t *testing.T, target, s string, raw []byte) {
		ev, s := fuzzEvent(s, raw)
		out, err := URL(target, ev, testVars)
		if err != nil {
			var missing *MissingError
			if !errors.As(err, &missing) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("URL(%q) error %v, want a *MissingError or ErrTooLarge", target, err)
			}
			return
		}
		in, err := url.Parse(target)
		if err != nil {
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("URL(%q) = %q, which does not parse: %v", target, out, err)
		}
		if u.Host != in.Host || u.Scheme != in.Scheme || u.User.String() != in.User.String() {
			t.Fatalf("URL(%q) = %q: authority %q, want %q", target, out, u.Host, in.Host)
		}
		if CheckURL(target) != nil {
			return
		}
		if p, _ := splitURL(out); strings.ContainsAny(p.path+p.query, "{}") {
			t.Fatalf("URL(%q) = %q keeps a brace in its path or query", target, out)
		}
		if strings.HasSuffix(target, "/{s}") && !strings.ContainsAny(target, "?#") {
			want := s
			if s == "." || s == ".." {
				want = strings.ReplaceAll(s, ".", "%2E") // written escaped, read back as is
			}
			seg := u.EscapedPath()[strings.LastIndexByte(u.EscapedPath(), '/')+1:]
			if got, err := url.PathUnescape(seg); err != nil || (got != s && seg != want) {
				t.Fatalf("URL(%q) with s=%q: last segment %q reads %q, %v", target, s, seg, got, err)
			}
		}
	})
}

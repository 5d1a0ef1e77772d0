package validation_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/validation"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestTextProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
	}{
		{"wh_01ABC", ""},
		{"été ✓ 🎉", ""},
		{"", ""},
		{"a\x00b", "must not contain the NUL character (U+0000)"},
		{"\xff", "must be valid UTF-8"},
		{"\xc3\x28", "must be valid UTF-8"},
		{`\u0000`, ""}, // six plain characters, not an escape
	} {
		if got := validation.TextProblem(tc.in); got != tc.want {
			t.Errorf("TextProblem(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc   string
		field, want string // want "" = storable
	}{
		{"plain", `{"a":"b","n":[1,2,{"c":null}]}`, "", ""},
		{"escaped backslash before u0000", `{"a":"\\u0000"}`, "", ""},
		{"surrogate pair", `"\ud83c\udf89"`, "", ""},
		{"other escapes", `"\n\t\"\/\u00e9"`, "", ""},
		{"nul escape in a value", `{"device":{"name":"a\u0000"}}`, "data.device.name", "must not contain the NUL character (U+0000)"},
		{"nul escape after an escaped backslash", `{"a":"\\\u0000"}`, "data.a", "must not contain the NUL character (U+0000)"},
		{"invalid utf-8 in an array", "{\"tags\":[\"ok\",\"\xff\"]}", "data.tags[1]", "must be valid UTF-8"},
		{"invalid utf-8 after nested values", "{\"a\":{\"b\":[1,{}]},\"c\":[[],\"x\",\"\xc3\x28\"]}", "data.c[2]", "must be valid UTF-8"},
		{"invalid utf-8 in a key", "{\"ok\":{\"\xff\":1}}", "data.ok", "has a key that must be valid UTF-8"},
		{"nul escape in a top-level key", `{"\u0000":1}`, "data", "has a key that must not contain the NUL character (U+0000)"},
		{"lone high surrogate", `["\ud800"]`, "data[0]", "must not contain an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)"},
		{"high surrogate then a letter", `["\ud800\u0041"]`, "data[0]", "must not contain an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)"},
		{"lone low surrogate", `"\uDC00"`, "data", "must not contain an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)"},
		{"the same names in sibling objects", `[{"a":1,"b":2},{"a":3,"b":4}]`, "", ""},
		{"the same name at two depths", `{"a":{"a":{"a":1}}}`, "", ""},
		{"a repeated name", `{"a":1,"b":2,"a":"s"}`, "data.a", "appears more than once in its object (RFC 7493 §2.3)"},
		{"a repeated name deeper", `{"x":[{"b":1},{"b":1,"c":2,"b":3}]}`, "data.x[1].b", "appears more than once in its object (RFC 7493 §2.3)"},
		{"a repeated empty name", `{"":1,"":2}`, "data.", "appears more than once in its object (RFC 7493 §2.3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v validation.Errors
			ok := validation.CheckJSON(&v, "data", []byte(tc.doc))
			if tc.want == "" {
				if !ok || v.Err() != nil {
					t.Fatalf("CheckJSON(%q) refused it: %v", tc.doc, v.Err())
				}
				return
			}
			if ok || len(v.Errors) != 1 {
				t.Fatalf("CheckJSON(%q) = %v, %v; want one problem", tc.doc, ok, v.Errors)
			}
			if got := v.Errors[0]; got.Field != tc.field || got.Message != tc.want {
				t.Errorf("CheckJSON(%q) = %s: %s, want %s: %s", tc.doc, got.Field, got.Message, tc.field, tc.want)
			}
		})
	}
}

// TestRulesMatchPostgreSQL holds the rules to what PostgreSQL really refuses: each text is
// sent as a text, json and jsonb value, and CheckJSON/TextProblem must accept exactly what
// PostgreSQL stores.
func TestRulesMatchPostgreSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stores := func(sql, value string) bool {
		_, err := conn.Exec(ctx, sql, value)
		return err == nil
	}
	for _, s := range []string{
		"plain", "é", "a\x00b", "\xff", "\xc3\x28", "\xed\xa0\x80", // the last: a surrogate in UTF-8, which Go calls invalid too
	} {
		if want, got := stores("SELECT $1::text", s), validation.TextProblem(s) == ""; got != want {
			t.Errorf("text %q: PostgreSQL stores it: %v; TextProblem accepts it: %v", s, want, got)
		}
	}
	for _, doc := range []string{
		`"plain"`, `"\u00e9"`, `"\\u0000"`, `"\u0000"`, `{"k\u0000":1}`, `"\ud800"`, `"\udc00"`,
		`"\ud83c\udf89"`, `"\ud800\u0041"`, `["\ud800", 1]`, "\"\xff\"", "{\"\xc3\x28\":1}",
	} {
		var v validation.Errors
		got := validation.CheckJSON(&v, "doc", []byte(doc))
		want := stores("SELECT $1::text::jsonb", doc) && stores("SELECT $1::text::json", doc)
		if got != want {
			t.Errorf("JSON %s: PostgreSQL stores it as json and jsonb: %v; CheckJSON accepts it: %v (%v)", doc, want, got, v.Err())
		}
		var decoded any
		if got && json.Unmarshal([]byte(doc), &decoded) == nil {
			if s, ok := decoded.(string); ok && !stores("SELECT $1::text", s) {
				t.Errorf("JSON %s: accepted, but its decoded string cannot be stored as text", doc)
			}
		}
	}
}

func TestAddKeepsTheDeeperProblem(t *testing.T) {
	t.Parallel()
	var v validation.Errors
	v.Add("data.device.name", "must be valid UTF-8")
	v.Add("data", "is required")
	v.Add("database", "is a different field")
	v.Add("data.other", "is a sibling")
	if len(v.Errors) != 3 || v.Errors[1].Field != "database" || v.Errors[2].Field != "data.other" {
		t.Errorf("errors = %v, want data.device.name, database and data.other", v.Errors)
	}
	if !v.Has("data") || !v.Has("data.device") || v.Has("data.device.id") || v.Has("dat") {
		t.Errorf("Has is wrong: %v", v.Errors)
	}
}

// FuzzCheckJSON checks that the walker never panics, and that whatever it accepts is JSON
// Go decodes without rewriting: valid UTF-8 and no NUL in any string.
func FuzzCheckJSON(f *testing.F) {
	for _, seed := range []string{`{"a":"b"}`, `["\ud800"]`, `{"a":{"b":[1,"\u0000"]}}`, "\"\xff\"", `"\\u0000"`, `[[[]]]`, `{"a":`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v validation.Errors
		ok := validation.CheckJSON(&v, "f", doc)
		if ok != (v.Err() == nil) {
			t.Fatalf("CheckJSON = %v with errors %v", ok, v.Errors)
		}
		var decoded any
		if !ok || json.Unmarshal(doc, &decoded) != nil {
			return
		}
		var walk func(x any)
		walk = func(x any) {
			switch x := x.(type) {
			case string:
				if p := validation.TextProblem(x); p != "" {
					t.Fatalf("accepted %q, whose string %q %s", doc, x, p)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for k, e := range x {
					walk(k)
					walk(e)
				}
			}
		}
		walk(decoded)
	})
}

package render

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestForm(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"strings as they are, in body order", `{"z": "1", "a": "two words", "m": "a&b=c+d"}`, "z=1&a=two+words&m=a%26b%3Dc%2Bd"},
		{"other values as JSON text", `{"n": 42, "f": 1.50e3, "t": true, "x": null, "o": {"k": [1, "v"]}, "l": []}`,
			"n=42&f=1.50e3&t=true&x=null&o=%7B%22k%22%3A%5B1%2C%22v%22%5D%7D&l=%5B%5D"},
		{"keys escaped", `{"a b&c": "é"}`, "a+b%26c=%C3%A9"},
		{"repeated key: first position, last value", `{"a": 1, "b": 2, "a": 3}`, "a=3&b=2"},
		{"empty object", ` {} `, ""},
		{"escaped string decoded first", `{"s": "line\nnext \"q\""}`, "s=line%0Anext+%22q%22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Form([]byte(tt.body))
			if err != nil {
				t.Fatalf("Form(%s): %v", tt.body, err)
			}
			if string(got) != tt.want {
				t.Fatalf("Form(%s) = %s, want %s", tt.body, got, tt.want)
			}
			if _, err := url.ParseQuery(string(got)); err != nil {
				t.Fatalf("Form output %s does not parse: %v", got, err)
			}
		})
	}
	for _, body := range []string{``, `[1]`, `"s"`, `42`, `{"a":`, `{"a":1} {}`} {
		if got, err := Form([]byte(body)); err == nil {
			t.Errorf("Form(%q) = %q, want an error", body, got)
		}
	}
}

// TestFormOfEnvelope: a form webhook without a template gets the envelope's top-level
// members, the payload object as JSON text.
func TestFormOfEnvelope(t *testing.T) {
	t.Parallel()
	ev := testEvent(`{"deviceId": "dev 1"}`)
	body, err := Envelope(ev, "wh_1", time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Form(body)
	if err != nil {
		t.Fatal(err)
	}
	want := "timestamp=2026-03-04T10%3A00%3A00.5Z&deliveryAttemptedAt=2026-03-04T11%3A00%3A00Z&webhookId=wh_1&eventId=evt_1&payload=" +
		url.QueryEscape(`{"type":"device.created","deviceId":"dev 1"}`)
	if string(got) != want {
		t.Fatalf("Form(envelope) =\n%s\nwant\n%s", got, want)
	}
	q, _ := url.ParseQuery(string(got))
	if !strings.Contains(q.Get("payload"), `"deviceId":"dev 1"`) {
		t.Fatalf("payload field %q", q.Get("payload"))
	}
}

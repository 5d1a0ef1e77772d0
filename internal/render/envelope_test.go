package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestEnvelope(t *testing.T) {
	t.Parallel()
	evTime := time.Date(2026, time.March, 4, 10, 0, 0, 0, time.UTC)
	attempted := time.Date(2026, time.March, 4, 11, 30, 15, 123456000, time.FixedZone("CET", 3600))
	const prefix = `{"timestamp":"2026-03-04T10:00:00Z","deliveryAttemptedAt":"2026-03-04T10:30:15.123456Z","webhookId":"wh_01j","eventId":"evt_01k","payload":`
	tests := []struct {
		name    string
		evType  string
		data    string
		payload string
	}{
		{"seed example", "device.created", `{"deviceId": "dev_1"}`, `{"type":"device.created","deviceId":"dev_1"}`},
		{"member order kept", "a.b", `{"z":1,"a":2,"m":{"y":[1, 2],"b":null}}`, `{"type":"a.b","z":1,"a":2,"m":{"y":[1,2],"b":null}}`},
		{"type replaced and moved first", "a.b", `{"x":1,"type":"forged","y":2}`, `{"type":"a.b","x":1,"y":2}`},
		{"duplicate keys: first position, last value", "a.b", `{"x":1,"y":2,"x":3}`, `{"type":"a.b","x":3,"y":2}`},
		{"empty object", "a.b", `{}`, `{"type":"a.b"}`},
		{"no data", "a.b", ``, `{"type":"a.b"}`},
		{"null data", "a.b", ` null `, `{"type":"a.b"}`},
		{"whitespace compacted", "a.b", "{\n  \"k\" : \"v w\" ,\n  \"n\" : 1.50e3\n}\n", `{"type":"a.b","k":"v w","n":1.50e3}`},
		{"big numbers kept verbatim", "a.b", `{"n":123456789012345678901234567890}`, `{"type":"a.b","n":123456789012345678901234567890}`},
		{"no HTML escaping", "a<b>&c", `{"html":"<p>&amp;</p>"}`, `{"type":"a<b>&c","html":"<p>&amp;</p>"}`},
		{"escaped keys", "a.b", `{"k\"ey":1,"\u00e9":2}`, `{"type":"a.b","k\"ey":1,"é":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := EventInput{ID: "evt_01k", Type: tt.evType, Timestamp: evTime, Data: json.RawMessage(tt.data)}
			got, err := Envelope(ev, "wh_01j", attempted)
			if err != nil {
				t.Fatalf("Envelope: %v", err)
			}
			want := prefix + tt.payload + "}"
			if string(got) != want {
				t.Fatalf("Envelope =\n%s\nwant\n%s", got, want)
			}
			if !json.Valid(got) {
				t.Fatalf("Envelope produced invalid JSON: %s", got)
			}
		})
	}
}

// TestEnvelopeKeyOrder checks the top-level keys with a decoder rather than a string, so a
// change of format elsewhere still reports the order clearly.
func TestEnvelopeKeyOrder(t *testing.T) {
	t.Parallel()
	got, err := Envelope(EventInput{ID: "evt_1", Type: "t", Timestamp: time.Unix(0, 0), Data: json.RawMessage(`{"a":1}`)}, "wh_1", time.Unix(1, 0))
	if err != nil {
		t.Fatalf("Envelope: %v", err)
	}
	want := []string{"timestamp", "deliveryAttemptedAt", "webhookId", "eventId", "payload"}
	if keys := topLevelKeys(t, got); !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
	var v struct {
		Timestamp           time.Time                  `json:"timestamp"`
		DeliveryAttemptedAt time.Time                  `json:"deliveryAttemptedAt"`
		Payload             map[string]json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !v.Timestamp.Equal(time.Unix(0, 0)) || !v.DeliveryAttemptedAt.Equal(time.Unix(1, 0)) {
		t.Errorf("times = %v, %v", v.Timestamp, v.DeliveryAttemptedAt)
	}
	if string(v.Payload["type"]) != `"t"` || string(v.Payload["a"]) != "1" {
		t.Errorf("payload = %s", got)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   string
		notObj bool
	}{
		{"array", `[1,2]`, true},
		{"string", `"hello"`, true},
		{"number", `42`, true},
		{"bool", `true`, true},
		{"invalid", `{"a":`, false},
		{"trailing data", `{"a":1} {"b":2}`, false},
		{"bare word", `hello`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Envelope(EventInput{ID: "evt_1", Type: "t", Data: json.RawMessage(tt.data)}, "wh_1", time.Unix(0, 0))
			if err == nil {
				t.Fatalf("Envelope = %s, want error", got)
			}
			if errors.Is(err, ErrDataNotObject) != tt.notObj {
				t.Errorf("err = %v, ErrDataNotObject expected: %v", err, tt.notObj)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC), "2026-01-02T03:04:05.12Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), "2026-01-02T03:04:05.000000001Z"},
		{time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600)), "2026-01-02T03:04:05Z"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := Timestamp(tt.in); got != tt.want {
				t.Errorf("Timestamp(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func topLevelKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("decode: %v", err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	return keys
}

func FuzzPayload(f *testing.F) {
	for _, s := range []string{`{}`, ``, `null`, `{"a":1,"type":"x","a":2}`, `[1]`, `{"a":`, `{"\u00e9":"<&>"}`, "{\"k\":\"\xff\"}"} {
		f.Add("device.created", []byte(s))
	}
	f.Fuzz(func(t *testing.T, evType string, data []byte) {
		got, err := Payload(evType, data)
		if err != nil {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("Payload(%q, %q) = %q, not valid JSON", evType, data, got)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("decode %q: %v", got, err)
		}
		if keys := topLevelKeys(t, got); keys[0] != "type" {
			t.Fatalf("first key of %q is %q, want type", got, keys[0])
		}
	})
}

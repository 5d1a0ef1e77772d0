package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EventInput is what the envelope needs of an event.
type EventInput struct {
	ID        string
	Type      string
	Timestamp time.Time
	// Data is the event's data: a JSON object, or empty/null for none.
	Data json.RawMessage
}

// ErrDataNotObject: the event's data is valid JSON but not an object, so it cannot carry
// the "type" member the envelope adds.
var ErrDataNotObject = errors.New("event data is not a JSON object")

// envelope fixes the key order of the default body; encoding/json writes struct fields in
// declaration order.
type envelope struct {
	Timestamp           string          `json:"timestamp"`
	DeliveryAttemptedAt string          `json:"deliveryAttemptedAt"`
	WebhookID           string          `json:"webhookId"`
	EventID             string          `json:"eventId"`
	Payload             json.RawMessage `json:"payload"`
}

// Envelope renders the default body of one attempt, compact, with keys in this order:
//
//	{"timestamp":"<event time>","deliveryAttemptedAt":"<attemptedAt>","webhookId":"wh_…",
//	 "eventId":"evt_…","payload":{"type":"<event type>", …data members…}}
//
// payload is ev.Data with "type" set to ev.Type: "type" comes first and replaces any "type"
// member of the data; the other members keep their order (a duplicated key keeps its first
// position and its last value, as encoding/json would read it). Times are formatted by
// Timestamp. HTML characters are not escaped: the body is JSON for machines, not a page.
func Envelope(ev EventInput, webhookID string, attemptedAt time.Time) ([]byte, error) {
	payload, err := Payload(ev.Type, ev.Data)
	if err != nil {
		return nil, err
	}
	return marshal(envelope{
		Timestamp:           Timestamp(ev.Timestamp),
		DeliveryAttemptedAt: Timestamp(attemptedAt),
		WebhookID:           webhookID,
		EventID:             ev.ID,
		Payload:             payload,
	})
}

// Timestamp formats t the way hookd writes times on the wire: RFC 3339 in UTC with
// fractional seconds only as far as they are non-zero (time.RFC3339Nano), e.g.
// "2026-03-04T10:00:00Z" or "2026-03-04T10:00:00.123456Z".
func Timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// Payload returns data (a JSON object, or empty/null for {}) as a compact object whose
// first member is "type": eventType. See Envelope for the member order.
func Payload(eventType string, data json.RawMessage) (json.RawMessage, error) {
	members, err := objectMembers(data)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	if err := writeJSON(&buf, eventType); err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.key == "type" {
			continue
		}
		buf.WriteByte(',')
		if err := writeJSON(&buf, m.key); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := json.Compact(&buf, m.value); err != nil {
			return nil, fmt.Errorf("compact event data: %w", err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

type member struct {
	key   string
	value json.RawMessage
}

// objectMembers reads the members of a JSON object in document order, de-duplicated.
func objectMembers(data json.RawMessage) ([]member, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, nil
	}
	if !json.Valid(data) {
		return nil, errors.New("decode event data: invalid JSON")
	}
	if data[0] != '{' {
		return nil, ErrDataNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, fmt.Errorf("decode event data: %w", err)
	}
	var members []member
	index := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("decode event data: %w", err)
		}
		key, _ := tok.(string) // object keys are always strings
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("decode event data: %w", err)
		}
		if i, ok := index[key]; ok {
			members[i].value = value
			continue
		}
		index[key] = len(members)
		members = append(members, member{key: key, value: value})
	}
	return members, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON encodes v compactly without HTML escaping and without a trailing newline.
func writeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode envelope: %w", err)
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/validation"
)

// Duration is a setting's length of time, written as the API writes it ("1s", "5m",
// "1h30m"); its zero value is "none" (null, or absent, in JSON).
type Duration time.Duration

// MarshalJSON writes d in its shortest form ("90s" as "1m30s"), as retry schedules are.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(delivery.FormatSchedule([]time.Duration{time.Duration(d)})[0])
}

// UnmarshalJSON reads time.ParseDuration's syntax; null and "" are none. It applies no
// limits, so a stored value reads back whatever the rules say today (see ParseDuration).
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads a duration setting as the API writes it ("1s", "5m"; "" is none),
// returning a *validation.Errors naming field when it does not parse.
func ParseDuration(field, s string) (Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		var v validation.Errors
		v.Add(field, "must be a duration such as \"1s\", \"5m\" or \"1h30m\"")
		return 0, v.Err()
	}
	return Duration(d), nil
}

// Limits of the controls (API.md "Details of the settings").
const (
	maxFailureLimit = 1000
	minThrottle     = time.Second
	maxThrottle     = time.Hour
	minDiscardAfter = time.Second
	maxDiscardAfter = 30 * 24 * time.Hour
)

// checkControls checks failureLimit, throttle, discardAfter and level.
func (s Settings) checkControls(v *validation.Errors) {
	if s.FailureLimit < 0 || s.FailureLimit > maxFailureLimit {
		v.Add("failureLimit", "must be from 0 (never disable) to %d", maxFailureLimit)
	}
	checkDuration(v, "throttle", time.Duration(s.Throttle), minThrottle, maxThrottle)
	if s.Throttle != 0 {
		// A batch is seed 003's {"events": [...]}, sent for many events at once: nothing
		// in it is one event's.
		if s.BodyTemplate != "" {
			v.Add("bodyTemplate", "cannot be combined with throttle: a batch is sent as {\"events\": [...]}")
		}
		if strings.Contains(strings.ReplaceAll(s.URL, "{webhookId}", ""), "{") {
			v.Add("url", "with throttle may hold only the {webhookId} placeholder: a batch has many events")
		}
	}
	checkDuration(v, "discardAfter", time.Duration(s.DiscardAfter), minDiscardAfter, maxDiscardAfter)
	if !slices.Contains(Levels, s.Level) {
		v.Add("level", "must be one of %s", strings.Join(Levels, ", "))
	}
}

// checkDuration checks an optional duration setting: 0 (none) or from lo to hi.
func checkDuration(v *validation.Errors, field string, d, lo, hi time.Duration) {
	if d != 0 && (d < lo || d > hi) {
		v.Add(field, "must be from %s to %s (or null for none)", fmtDuration(lo), fmtDuration(hi))
	}
}

func fmtDuration(d time.Duration) string { return delivery.FormatSchedule([]time.Duration{d})[0] }

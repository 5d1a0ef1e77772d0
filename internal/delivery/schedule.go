package delivery

import (
	"fmt"
	"strconv"
	"time"
)

// Limits on a retry schedule, enforced by ParseSchedule.
const (
	MinScheduleEntry   = time.Second
	MaxScheduleEntry   = 24 * time.Hour
	MaxScheduleEntries = 20
)

// DefaultMaxRetries is the number of automatic retries a webhook gets when it sets none.
const DefaultMaxRetries = 5

// DefaultSchedule is the retry schedule a webhook gets when it sets none. Treat it as
// read-only.
var DefaultSchedule = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, time.Hour}

// Policy is a webhook's automatic retry policy.
type Policy struct {
	// MaxRetries is the number of automatic retries after the first attempt (0 = none).
	MaxRetries int
	// Schedule holds the delay before retry n; the last entry repeats. Empty means
	// DefaultSchedule.
	Schedule []time.Duration
	// Jitter spreads each scheduled delay by ±Jitter (0.2 = ±20%), fixed per delivery and
	// attempt (see Jitter); 0 follows the schedule exactly. Retry-After is never cut.
	Jitter float64 `json:",omitempty"`
	// DiscardAfter, when not 0, gives the delivery up if it has not succeeded this long
	// after Created (API.md `discardAfter`): no attempt starts at or past Deadline, and
	// DecideAt ends the delivery failed rather than schedule a retry that would.
	DiscardAfter time.Duration `json:",omitempty"`
	// Created is when the delivery was created; it matters only with DiscardAfter.
	Created time.Time `json:",omitzero"`
}

// Deadline is the moment the delivery is given up, and false when the policy sets none.
func (p Policy) Deadline() (time.Time, bool) {
	if p.DiscardAfter <= 0 {
		return time.Time{}, false
	}
	return p.Created.Add(p.DiscardAfter), true
}

// Discarded returns why an attempt starting at t must not start, the delivery ending
// failed instead (t is at or past the Deadline), and "" when it may.
func (p Policy) Discarded(t time.Time) string {
	if deadline, ok := p.Deadline(); ok && !t.Before(deadline) {
		return p.discardReason()
	}
	return ""
}

// discardReason is the last error of a delivery given up at its Deadline.
func (p Policy) discardReason() string {
	return "discarded: not delivered within " + formatDuration(p.DiscardAfter) + " of the event (discardAfter)"
}

// Delay returns the delay before automatic retry n (0-based): Schedule[n], with the last
// entry repeating for n past the end. A negative n counts as 0, and an empty Schedule uses
// DefaultSchedule.
func (p Policy) Delay(n int) time.Duration {
	s := p.Schedule
	if len(s) == 0 {
		s = DefaultSchedule
	}
	n = max(n, 0)
	if n >= len(s) {
		n = len(s) - 1
	}
	return s[n]
}

// ScheduleError says what is wrong with a retry schedule, in words fit for an API
// validation error. Index is the 0-based entry at fault, or -1 when the list as a whole is.
type ScheduleError struct {
	Index   int
	Message string
}

// Error formats the error as "retrySchedule[i]: message" (or "retrySchedule: message").
func (e *ScheduleError) Error() string {
	if e.Index < 0 {
		return "retrySchedule: " + e.Message
	}
	return "retrySchedule[" + strconv.Itoa(e.Index) + "]: " + e.Message
}

// ParseSchedule turns entries such as ["1m", "5m", "1h"] (time.ParseDuration syntax) into a
// schedule. It needs 1 to MaxScheduleEntries entries, each from MinScheduleEntry to
// MaxScheduleEntry. Errors are *ScheduleError.
func ParseSchedule(entries []string) ([]time.Duration, error) {
	if len(entries) == 0 {
		return nil, &ScheduleError{Index: -1, Message: "must have at least one entry"}
	}
	if len(entries) > MaxScheduleEntries {
		return nil, &ScheduleError{Index: -1, Message: fmt.Sprintf("must have at most %d entries, got %d", MaxScheduleEntries, len(entries))}
	}
	out := make([]time.Duration, len(entries))
	for i, e := range entries {
		d, err := time.ParseDuration(e)
		if err != nil {
			return nil, &ScheduleError{Index: i, Message: fmt.Sprintf("%q is not a duration; use a value such as \"30s\", \"5m\" or \"1h\"", e)}
		}
		if d < MinScheduleEntry || d > MaxScheduleEntry {
			return nil, &ScheduleError{Index: i, Message: fmt.Sprintf("%q must be between 1s and 24h", e)}
		}
		out[i] = d
	}
	return out, nil
}

// FormatSchedule is the inverse of ParseSchedule: it writes each delay in its shortest
// time.ParseDuration form ("1m" rather than "1m0s", "1h30m", "90ms" for sub-second values).
func FormatSchedule(schedule []time.Duration) []string {
	out := make([]string, len(schedule))
	for i, d := range schedule {
		out[i] = formatDuration(d)
	}
	return out
}

func formatDuration(d time.Duration) string {
	if d <= 0 || d%time.Second != 0 {
		return d.String()
	}
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	var out string
	if h > 0 {
		out += strconv.FormatInt(int64(h), 10) + "h"
	}
	if m > 0 {
		out += strconv.FormatInt(int64(m), 10) + "m"
	}
	if s > 0 {
		out += strconv.FormatInt(int64(s), 10) + "s"
	}
	return out
}

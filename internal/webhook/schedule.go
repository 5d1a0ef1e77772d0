package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/validation"
)

// Schedule is a retry schedule: the delay before automatic retry n, the last entry
// repeating. Its JSON form is the API's: ["1m", "5m", "1h30m"].
type Schedule []time.Duration

// MarshalJSON writes each delay in its shortest form, as delivery.FormatSchedule does.
func (s Schedule) MarshalJSON() ([]byte, error) {
	return json.Marshal(delivery.FormatSchedule(s))
}

// UnmarshalJSON reads delays in time.ParseDuration's syntax and applies no limits, so a
// stored schedule reads back whatever the rules say today; read a request's schedule with
// ParseSchedule. null leaves s as it is.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var entries []string
	if err := json.Unmarshal(b, &entries); err != nil {
		return fmt.Errorf("retry schedule: %w", err)
	}
	out := make(Schedule, len(entries))
	for i, e := range entries {
		d, err := time.ParseDuration(e)
		if err != nil {
			return fmt.Errorf("retry schedule entry %d: %w", i, err)
		}
		out[i] = d
	}
	*s = out
	return nil
}

// ParseSchedule reads a retry schedule as the API writes it, such as ["1m", "5m", "1h"],
// by delivery.ParseSchedule's rule: 1 to 20 entries of 1s to 24h. When entries break it,
// it returns a *validation.Errors naming "retrySchedule" or the entry at fault
// ("retrySchedule[1]").
func ParseSchedule(entries []string) (Schedule, error) {
	var v validation.Errors
	s := parseSchedule(&v, entries)
	return s, v.Err()
}

// parseSchedule is ParseSchedule adding its problem to v; nil when there is one.
func parseSchedule(v *validation.Errors, entries []string) Schedule {
	s, err := delivery.ParseSchedule(entries)
	var serr *delivery.ScheduleError
	switch {
	case err == nil:
		return s
	case errors.As(err, &serr) && serr.Index >= 0:
		v.Add("retrySchedule["+strconv.Itoa(serr.Index)+"]", "%s", serr.Message)
	case errors.As(err, &serr):
		v.Add("retrySchedule", "%s", serr.Message)
	default:
		v.Add("retrySchedule", "is invalid")
	}
	return nil
}

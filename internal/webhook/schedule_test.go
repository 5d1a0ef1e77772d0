package webhook

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []string
		want    Schedule
		errs    []string
	}{
		{name: "valid", entries: []string{"30s", "1m30s", "24h"}, want: Schedule{30 * time.Second, 90 * time.Second, 24 * time.Hour}},
		{name: "empty", entries: []string{}, errs: []string{"retrySchedule: must have at least one entry"}},
		{name: "not a duration", entries: []string{"1m", "soon"}, errs: []string{`retrySchedule[1]: "soon" is not a duration; use a value such as "30s", "5m" or "1h"`}},
		// The entry as written is quoted, and the first problem in order is the one told.
		{name: "too short", entries: []string{"0m", "soon"}, errs: []string{`retrySchedule[0]: "0m" must be between 1s and 24h`}},
		{name: "too many", entries: slices.Repeat([]string{"soon"}, 21), errs: []string{"retrySchedule: must have at most 20 entries, got 21"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSchedule(tt.entries)
			if errs := problems(t, err); !slices.Equal(errs, tt.errs) {
				t.Fatalf("errors %q, want %q", errs, tt.errs)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ParseSchedule = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestScheduleUnmarshalJSON: a stored schedule reads back whatever the limits say, so a
// change of the rules cannot make a webhook unreadable.
func TestScheduleUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json    string
		want    Schedule
		wantErr bool
	}{
		{json: `["1m","1h30m"]`, want: Schedule{time.Minute, 90 * time.Minute}},
		{json: `["500ms","48h"]`, want: Schedule{500 * time.Millisecond, 48 * time.Hour}},
		{json: `[]`, want: Schedule{}},
		{json: `["soon"]`, wantErr: true},
		{json: `[60000]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			t.Parallel()
			var got Schedule
			err := json.Unmarshal([]byte(tt.json), &got)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Fatalf("Unmarshal(%s) = %v, %v", tt.json, got, err)
			}
		})
	}
	keep := Schedule{time.Minute}
	if err := json.Unmarshal([]byte(`null`), &keep); err != nil || !slices.Equal(keep, Schedule{time.Minute}) {
		t.Fatalf("null: %v, %v", keep, err)
	}
}

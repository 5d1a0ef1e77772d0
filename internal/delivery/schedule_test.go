package delivery

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	t.Parallel()
	p := Policy{Schedule: []time.Duration{time.Second, time.Minute, time.Hour}}
	tests := []struct {
		policy Policy
		n      int
		want   time.Duration
	}{
		{p, 0, time.Second},
		{p, 1, time.Minute},
		{p, 2, time.Hour},
		{p, 3, time.Hour},
		{p, 1000, time.Hour},
		{p, -1, time.Second},
		{Policy{Schedule: []time.Duration{7 * time.Second}}, 0, 7 * time.Second},
		{Policy{Schedule: []time.Duration{7 * time.Second}}, 5, 7 * time.Second},
		{Policy{}, 0, time.Minute},
		{Policy{}, 2, 15 * time.Minute},
		{Policy{}, 4, time.Hour},
		{Policy{}, 99, time.Hour},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%d", tt.policy.Schedule, tt.n), func(t *testing.T) {
			t.Parallel()
			if got := tt.policy.Delay(tt.n); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    []time.Duration
		errIdx  int    // expected ScheduleError.Index when wantErr is set
		wantErr string // substring of the error
	}{
		{name: "default", in: []string{"1m", "5m", "15m", "1h", "1h"}, want: DefaultSchedule},
		{name: "bounds", in: []string{"1s", "24h"}, want: []time.Duration{time.Second, 24 * time.Hour}},
		{name: "compound", in: []string{"1h30m", "90s", "1.5s"}, want: []time.Duration{90 * time.Minute, 90 * time.Second, 1500 * time.Millisecond}},
		{name: "twenty entries", in: slices.Repeat([]string{"1m"}, 20), want: slices.Repeat([]time.Duration{time.Minute}, 20)},
		{name: "nil", in: nil, errIdx: -1, wantErr: "retrySchedule: must have at least one entry"},
		{name: "empty", in: []string{}, errIdx: -1, wantErr: "at least one entry"},
		{name: "too many", in: slices.Repeat([]string{"1m"}, 21), errIdx: -1, wantErr: "at most 20 entries, got 21"},
		{name: "garbage", in: []string{"1m", "soon"}, errIdx: 1, wantErr: `retrySchedule[1]: "soon" is not a duration`},
		{name: "bare number", in: []string{"60"}, errIdx: 0, wantErr: "is not a duration"},
		{name: "empty entry", in: []string{""}, errIdx: 0, wantErr: "is not a duration"},
		{name: "too short", in: []string{"1m", "5m", "999ms"}, errIdx: 2, wantErr: `retrySchedule[2]: "999ms" must be between 1s and 24h`},
		{name: "zero", in: []string{"0s"}, errIdx: 0, wantErr: "between 1s and 24h"},
		{name: "negative", in: []string{"-1m"}, errIdx: 0, wantErr: "between 1s and 24h"},
		{name: "too long", in: []string{"24h1s"}, errIdx: 0, wantErr: "between 1s and 24h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSchedule(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSchedule(%q): %v", tt.in, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseSchedule(%q) = %v, want error containing %q", tt.in, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			var se *ScheduleError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *ScheduleError", err)
			}
			if se.Index != tt.errIdx {
				t.Errorf("Index = %d, want %d", se.Index, tt.errIdx)
			}
		})
	}
}

func TestFormatSchedule(t *testing.T) {
	t.Parallel()
	in := []time.Duration{
		time.Second, time.Minute, 5 * time.Minute, time.Hour, 90 * time.Minute, 90 * time.Second,
		24 * time.Hour, time.Hour + time.Second, 1500 * time.Millisecond, 0,
	}
	want := []string{"1s", "1m", "5m", "1h", "1h30m", "1m30s", "24h", "1h1s", "1.5s", "0s"}
	got := FormatSchedule(in)
	if !slices.Equal(got, want) {
		t.Fatalf("FormatSchedule = %q, want %q", got, want)
	}
	if got := FormatSchedule(nil); len(got) != 0 {
		t.Fatalf("FormatSchedule(nil) = %q, want empty", got)
	}
	// Everything ParseSchedule accepts survives a round trip.
	back, err := ParseSchedule(FormatSchedule(in[:9]))
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if !slices.Equal(back, in[:9]) {
		t.Fatalf("round trip = %v, want %v", back, in[:9])
	}
}

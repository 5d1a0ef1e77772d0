package rfc3339

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	leap := utc(2016, 12, 31, 23, 59, 59, 999999999)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2025-01-02T15:04:05Z", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02t15:04:05z", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02T15:04:05z", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02t15:04:05Z", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02T16:04:05+01:00", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02T10:34:05-04:30", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02T15:04:05-00:00", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02T15:04:05+00:00", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-03T15:03:05+23:59", utc(2025, 1, 2, 15, 4, 5, 0)},
		{"2025-01-02T15:04:05.5Z", utc(2025, 1, 2, 15, 4, 5, 500000000)},
		{"2025-01-02T15:04:05.000001Z", utc(2025, 1, 2, 15, 4, 5, 1000)},
		{"2025-01-02T15:04:05.123456789Z", utc(2025, 1, 2, 15, 4, 5, 123456789)},
		{"2025-01-02T15:04:05.1234567891234567890123Z", utc(2025, 1, 2, 15, 4, 5, 123456789)},
		{"2025-01-02T15:04:05.9999999999Z", utc(2025, 1, 2, 15, 4, 5, 999999999)},
		{"2016-12-31T23:59:60Z", leap},
		{"2016-12-31t23:59:60z", leap},
		{"2016-12-31T23:59:60.5Z", leap},
		{"2017-01-01T00:59:60+01:00", leap},
		{"2016-12-31T18:59:60-05:00", leap},
		{"2015-06-30T23:59:60Z", utc(2015, 6, 30, 23, 59, 59, 999999999)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2000-02-29T00:00:00Z", utc(2000, 2, 29, 0, 0, 0, 0)},
		{"0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0, 0)},
		{"0000-01-01T00:00:00-01:00", utc(0, 1, 1, 1, 0, 0, 0)},
		{"9999-12-31T23:59:59.999999999Z", utc(9999, 12, 31, 23, 59, 59, 999999999)},
		{"9999-12-31T23:59:59+01:00", utc(9999, 12, 31, 22, 59, 59, 0)},
		{"9999-12-31T23:59:60Z", utc(9999, 12, 31, 23, 59, 59, 999999999)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("Parse(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrSyntax},
		{"2025-01-02", ErrSyntax},
		{"2025-01-02T15:04Z", ErrSyntax},
		{"2025-01-02T15:04:05", ErrSyntax},
		{"2025-01-02 15:04:05Z", ErrSyntax},
		{"2025-01-02T15:04:05.Z", ErrSyntax},
		{"2025-01-02T15:04:05,5Z", ErrSyntax},
		{"2025-01-02T15:04:05+0100", ErrSyntax},
		{"2025-01-02T15:04:05+01", ErrSyntax},
		{"2025-01-02T15:04:05+24:00", ErrSyntax},
		{"2025-01-02T15:04:05+01:60", ErrSyntax},
		{"2025-01-02T15:04:05 Z", ErrSyntax},
		{"2025-01-02T15:04:05Zjunk", ErrSyntax},
		{" 2025-01-02T15:04:05Z", ErrSyntax},
		{"25-01-02T15:04:05Z", ErrSyntax},
		{"+2025-01-02T15:04:05Z", ErrSyntax},
		{"20250-01-02T15:04:05Z", ErrSyntax},
		{"2025-1-02T15:04:05Z", ErrSyntax},
		{"2025-00-02T15:04:05Z", ErrSyntax},
		{"2025-13-02T15:04:05Z", ErrSyntax},
		{"2025-01-00T15:04:05Z", ErrSyntax},
		{"2025-01-32T15:04:05Z", ErrSyntax},
		{"2025-02-29T15:04:05Z", ErrSyntax},
		{"1900-02-29T15:04:05Z", ErrSyntax},
		{"2025-04-31T15:04:05Z", ErrSyntax},
		{"2025-01-02T24:00:00Z", ErrSyntax},
		{"2025-01-02T15:60:05Z", ErrSyntax},
		{"2025-01-02T15:04:61Z", ErrSyntax},
		{"2025-01-02T15:04:05Z\x00", ErrSyntax},
		{"２025-01-02T15:04:05Z", ErrSyntax},
		{"2016-12-31T12:59:60Z", ErrLeapSecond},
		{"2016-12-31T23:58:60Z", ErrLeapSecond},
		{"2016-12-31T23:59:60+01:00", ErrLeapSecond},
		{"9999-12-31T23:59:59-01:00", ErrRange},
		{"9999-12-31T23:59:60-00:01", ErrLeapSecond},
		{"0000-01-01T00:00:00+00:01", ErrRange},
		{"0000-01-01T00:59:60+01:00", ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) = %v, %v; want error %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// shape is the grammar of §5.6 with the offset's ranges but not the others': a check of
// Parse that shares none of its code.
var shape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

// FuzzParse checks Parse against time.Parse and against itself: whatever Parse accepts
// has the shape of §5.6 and is a UTC instant within MinYear-MaxYear that, formatted as
// hookd answers it, reads back to the same instant, by Parse and by time.Parse; Parse
// accepts nothing time.Parse refuses but the spellings time.Parse does not know
// (lower-case t or z, second 60); and wherever time.Parse accepts an input of the shape
// of §5.6 (it also takes one-digit hours, a "," before the fraction and offsets such as
// +24:00 and +00:60), with its UTC year within the range, Parse returns the same instant.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2025-01-02T15:04:05Z", "2025-01-02t15:04:05.123456789123z", "2016-12-31T23:59:60Z",
		"2017-01-01T00:59:60.25+01:00", "9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00",
		"2024-02-29T12:00:00-23:59", "2025-01-02T15:04:05,5Z", "2025-01-02T15:04:05+24:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		want, stdErr := time.Parse(time.RFC3339Nano, s)
		if err == nil {
			if !shape.MatchString(s) {
				t.Fatalf("Parse(%q) = %v, but it is outside the grammar", s, got)
			}
			if got.Location() != time.UTC || got.Year() < MinYear || got.Year() > MaxYear {
				t.Fatalf("Parse(%q) = %v: not UTC within the years", s, got)
			}
			out := got.Format(time.RFC3339Nano)
			back, err := Parse(out)
			if err != nil || !back.Equal(got) {
				t.Fatalf("Parse(%q) = %v, formatted %q, read back as %v, %v", s, got, out, back, err)
			}
			if std, err := time.Parse(time.RFC3339Nano, out); err != nil || !std.Equal(got) {
				t.Fatalf("time.Parse of the formatted %q = %v, %v; want %v", out, std, err, got)
			}
			if stdErr != nil && !strings.ContainsAny(s, "tz") && s[17:19] != "60" {
				t.Fatalf("Parse(%q) = %v, but time.Parse refuses it: %v", s, got, stdErr)
			}
		}
		if y := want.UTC().Year(); stdErr == nil && shape.MatchString(s) && y >= MinYear && y <= MaxYear {
			if err != nil || !got.Equal(want) {
				t.Fatalf("Parse(%q) = %v, %v; time.Parse = %v", s, got, err, want)
			}
		}
	})
}

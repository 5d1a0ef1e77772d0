package delivery

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 4, 10, 0, 0, 0, time.UTC)
	in := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		// delay-seconds
		{"zero seconds", "0", 0, true},
		{"seconds", "120", 2 * time.Minute, true},
		{"one second", "1", time.Second, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"surrounding spaces", "  30 ", 30 * time.Second, true},
		{"exactly 24h", "86400", MaxRetryAfter, true},
		{"just under 24h", "86399", MaxRetryAfter - time.Second, true},
		{"huge", "86401", MaxRetryAfter, true},
		{"year", "31536000", MaxRetryAfter, true},
		{"overflows int64", "99999999999999999999999999999999", MaxRetryAfter, true},
		// HTTP-date, all three formats of RFC 7231 §7.1.1.1
		{"IMF-fixdate", in(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"RFC 850", in(time.Hour).Format(time.RFC850), time.Hour, true},
		{"asctime", in(2 * time.Hour).Format(time.ANSIC), 2 * time.Hour, true},
		{"IMF-fixdate literal", "Wed, 04 Mar 2026 10:05:00 GMT", 5 * time.Minute, true},
		{"RFC 850 literal", "Wednesday, 04-Mar-26 10:05:00 GMT", 5 * time.Minute, true},
		{"asctime literal", "Wed Mar  4 10:05:00 2026", 5 * time.Minute, true},
		{"date now", now.Format(http.TimeFormat), 0, true},
		{"date in the past", in(-time.Hour).Format(http.TimeFormat), 0, true},
		{"date long ago", "Sun, 06 Nov 1994 08:49:37 GMT", 0, true},
		{"date far ahead", in(30 * 24 * time.Hour).Format(http.TimeFormat), MaxRetryAfter, true},
		{"date year 9999", "Fri, 31 Dec 9999 23:59:59 GMT", MaxRetryAfter, true},
		// garbage
		{"empty", "", 0, false},
		{"spaces", "   ", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"hex", "0x10", 0, false},
		{"unit", "10s", 0, false},
		{"word", "soon", 0, false},
		{"two numbers", "1 2", 0, false},
		{"unicode digits", "١٢٣", 0, false},
		{"not GMT", "Wed, 04 Mar 2026 10:05:00 PST", 0, false},
		{"RFC 3339", in(time.Minute).Format(time.RFC3339), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = (%v, %v), want (%v, %v)", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestParseRetryAfterSubSecondNow: HTTP dates have whole seconds; a "now" between seconds
// must not make a date in the future look like the past or vice versa.
func TestParseRetryAfterSubSecondNow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 4, 10, 0, 0, 700*int(time.Millisecond), time.UTC)
	got, ok := ParseRetryAfter("Wed, 04 Mar 2026 10:00:01 GMT", now)
	if !ok || got != 300*time.Millisecond {
		t.Fatalf("got (%v, %v), want (300ms, true)", got, ok)
	}
	got, ok = ParseRetryAfter("Wed, 04 Mar 2026 10:00:00 GMT", now)
	if !ok || got != 0 {
		t.Fatalf("got (%v, %v), want (0, true)", got, ok)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, time.March, 4, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"", "0", "120", "-1", "86401", "99999999999999999999", " 5 ", "1.5",
		"Wed, 04 Mar 2026 10:05:00 GMT", "Wednesday, 04-Mar-26 10:05:00 GMT", "Wed Mar  4 10:05:00 2026",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "garbage",
	} {
		f.Add(s, now.Unix())
	}
	f.Fuzz(func(t *testing.T, value string, nowUnix int64) {
		got, ok := ParseRetryAfter(value, time.Unix(nowUnix, 0))
		if got < 0 || got > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", value, got, MaxRetryAfter)
		}
		if !ok && got != 0 {
			t.Fatalf("ParseRetryAfter(%q) = (%v, false), want 0 when not ok", value, got)
		}
	})
}

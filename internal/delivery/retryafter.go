package delivery

import (
	"net/http"
	"strings"
	"time"
)

// MaxRetryAfter caps the delay a receiver can ask for with Retry-After, so one header cannot
// park a delivery for days.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header value (RFC 9110 §10.2.3): either delay-seconds
// (ASCII digits only) or an HTTP-date in any of the three formats http.ParseTime accepts,
// taken relative to now. Surrounding spaces are ignored.
//
// It returns ok=false with 0 for an empty, negative, fractional or otherwise malformed
// value, so the caller falls back to its schedule. A date at or before now is a valid
// header asking for an immediate retry: it returns (0, true). Values beyond MaxRetryAfter
// (including numbers too large for a Duration) are capped at MaxRetryAfter. The result is
// always within [0, MaxRetryAfter].
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if isDigits(value) {
		return parseSeconds(value), true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now) // saturates rather than overflowing
	if d <= 0 {
		return 0, true
	}
	return min(d, MaxRetryAfter), true
}

// parseSeconds turns a string of ASCII digits into a Duration capped at MaxRetryAfter,
// without overflowing however many digits there are.
func parseSeconds(digits string) time.Duration {
	const maxSeconds = int64(MaxRetryAfter / time.Second)
	var n int64
	for i := 0; i < len(digits); i++ {
		n = n*10 + int64(digits[i]-'0')
		if n >= maxSeconds {
			return MaxRetryAfter
		}
	}
	return time.Duration(n) * time.Second
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

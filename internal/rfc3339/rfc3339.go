// Package rfc3339 reads the date-time of RFC 3339 §5.6 in full, which time.Parse does not:
// a lower-case "t" or "z", a leap second ("23:59:60Z"), any offset from -23:59 to +23:59
// (including "-00:00", §4.3) and a fraction of a second of any length. Every time hookd
// reads from a caller goes through Parse; times are answered with
// t.UTC().Format(time.RFC3339Nano), which Parse reads back to the same instant.
package rfc3339

import (
	"errors"
	"time"
)

// Errors Parse returns, so that a caller can say what is wrong: ErrSyntax for anything
// outside the grammar of §5.6 or its ranges (month 01-12, a day the month has, hour 00-23,
// minute 00-59, second 00-60, offset hour 00-23 and minute 00-59); ErrLeapSecond for a
// second 60 that is not at 23:59 UTC; ErrRange for an instant outside the years 0000-9999
// in UTC.
var (
	ErrSyntax     = errors.New("not an RFC 3339 date-time")
	ErrLeapSecond = errors.New("second 60 is a leap second only at 23:59 UTC")
	ErrRange      = errors.New("outside the years 0000 to 9999 in UTC")
)

// Years of the UTC instants Parse returns. RFC 3339 writes a year in four digits
// (date-fullyear), so an instant outside them could not be answered in RFC 3339: for
// example "9999-12-31T23:59:59-01:00" is in the year 10000 in UTC, and
// "0000-01-01T00:00:00+01:00" in the year -1. (PostgreSQL's timestamptz holds both years,
// 0000 included, as 1 BC; the limit is the answer's format.)
const (
	MinYear = 0
	MaxYear = 9999
)

// LeapSecond is where Parse puts an instant of a leap second: Go and PostgreSQL have no
// second 60, so 23:59:60 and 23:59:60.5 (UTC) both become 23:59:59.999999999 of the same
// day, the last nanosecond of the minute the caller named (23:59:59.999999 once stored in
// PostgreSQL's microseconds). Unlike rolling over to 00:00:00 of the next day (what
// time.Date and PostgreSQL do with a second 60), it keeps the instant in the day, hour
// and minute the caller wrote, so filters and per-day counts place it where the caller
// meant, and it keeps order: no leap-second time comes after a time of the next day.
const LeapSecond = 59*time.Second + 999999999*time.Nanosecond

// Parse reads s, a date-time of RFC 3339 §5.6 such as "2025-01-02T15:04:05Z",
// "2025-01-02t16:04:05.123456789123+01:00" or "2016-12-31T23:59:60z", and returns the
// instant in UTC. Digits of a fraction past the ninth (nanoseconds) are dropped, as
// time.Parse drops them. A second 60 is accepted only where it falls at 23:59 UTC (§5.7:
// "in time zones other than Z, the leap second point is shifted by the zone offset"),
// and is read as LeapSecond past that minute; no table of announced leap seconds is
// consulted. Wherever time.Parse(time.RFC3339Nano, s) accepts s with "." before the
// fraction and its UTC year is within MinYear-MaxYear, Parse returns the same instant.
// Errors wrap ErrSyntax, ErrLeapSecond or ErrRange.
func Parse(s string) (time.Time, error) {
	p := reader{s: s, ok: true}
	year := p.number(4)
	p.byte('-')
	month := p.number(2)
	p.byte('-')
	day := p.number(2)
	p.byte('T', 't')
	hour := p.number(2)
	p.byte(':')
	minute := p.number(2)
	p.byte(':')
	sec := p.number(2)
	nsec := 0
	if p.next('.') {
		nsec = p.fraction()
	}
	offset := p.offset()
	if !p.ok || p.i != len(s) {
		return time.Time{}, ErrSyntax
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, ErrSyntax
	}
	leap := sec == 60
	if leap {
		sec = 59
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-offset)
	if leap {
		if t.Hour() != 23 || t.Minute() != 59 {
			return time.Time{}, ErrLeapSecond
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 0, 0, time.UTC).Add(LeapSecond)
	}
	if y := t.Year(); y < MinYear || y > MaxYear {
		return time.Time{}, ErrRange
	}
	return t, nil
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// reader walks s; the first mismatch clears ok, after which what it reads means nothing.
type reader struct {
	s  string
	i  int
	ok bool
}

func (p *reader) digit() (int, bool) {
	if p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
		return int(p.s[p.i-1] - '0'), true
	}
	return 0, false
}

// number reads exactly n digits.
func (p *reader) number(n int) int {
	v := 0
	for range n {
		d, ok := p.digit()
		if !ok {
			p.ok = false
			return 0
		}
		v = v*10 + d
	}
	return v
}

// next consumes c if it comes next.
func (p *reader) next(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// byte consumes one of cs, or clears ok.
func (p *reader) byte(cs ...byte) {
	for _, c := range cs {
		if p.next(c) {
			return
		}
	}
	p.ok = false
}

// fraction reads time-secfrac's 1*DIGIT after the "." as nanoseconds.
func (p *reader) fraction() int {
	v, n := 0, 0
	for {
		d, ok := p.digit()
		if !ok {
			break
		}
		if n < 9 {
			v = v*10 + d
		}
		n++
	}
	if n == 0 {
		p.ok = false
	}
	for ; n < 9; n++ {
		v *= 10
	}
	return v
}

// offset reads time-offset: "Z", "z", or "+hh:mm" / "-hh:mm" east of UTC.
func (p *reader) offset() time.Duration {
	if p.next('Z') || p.next('z') {
		return 0
	}
	sign := time.Duration(1)
	if p.next('-') {
		sign = -1
	} else {
		p.byte('+')
	}
	h := p.number(2)
	p.byte(':')
	m := p.number(2)
	if h > 23 || m > 59 {
		p.ok = false
	}
	return sign * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

package api

import (
	"errors"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/rfc3339"
	"github.com/hookd/hookd/internal/store"
)

// Limits on names and labels.
const (
	maxEventTypeName = 100
	maxDescription   = 1000
	maxEventID       = 255
	defaultPageLimit = 50
	maxPageLimit     = 250
	maxCursor        = 512
	maxQueryID       = 128
)

// eventTypeNamePattern: lower-case segments joined by dots, such as "recording.imported";
// a segment starts with a letter and holds letters, digits, '_' and '-'.
var eventTypeNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$`)

// eventIDPattern: caller-chosen event ids hold only RFC 3986's unreserved characters
// (§2.3) and ':', so GET /v1/events/{id} works with the id as is, unescaped; "." and
// ".." are refused apart, as clients resolve them away as dot-segments (§5.2.4).
var eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:~-]+$`)

// checkEventTypeName adds a problem with field to v unless name is a valid event type name.
func checkEventTypeName(v *ValidationError, field, name string) bool {
	switch {
	case name == "":
		v.Add(field, "is required")
	case len(name) > maxEventTypeName:
		v.Add(field, "must be at most %d characters", maxEventTypeName)
	case !eventTypeNamePattern.MatchString(name):
		v.Add(field, "must be lower-case words joined by dots, such as \"recording.imported\"")
	default:
		return true
	}
	return false
}

// checkEventID adds a problem with field to v unless id is a valid caller-chosen event
// id (API.md, Conventions): 1 to 255 letters, digits and . _ : ~ -, and not "." or "..".
func checkEventID(v *ValidationError, field, id string) bool {
	switch {
	case id == "":
		v.Add(field, "must not be empty")
	case len(id) > maxEventID:
		v.Add(field, "must be at most %d characters", maxEventID)
	case !eventIDPattern.MatchString(id):
		v.Add(field, "may contain only letters, digits and . _ : ~ -")
	case id == "." || id == "..":
		v.Add(field, "must not be \".\" or \"..\", which cannot travel in a URL path")
	default:
		return true
	}
	return false
}

func checkDescription(v *ValidationError, field, s string) {
	if utf8.RuneCountInString(s) > maxDescription {
		v.Add(field, "must be at most %d characters", maxDescription)
	}
}

// parseTime reads a date-time of RFC 3339 §5.6 in full (rfc3339.Parse: lower-case t/z,
// any offset, any fraction, a leap second as 23:59:59.999999 UTC) as UTC, truncated to
// the microseconds PostgreSQL keeps, so what is answered now equals what is read back
// later. A time outside the years 0000-9999 in UTC, which could not be answered in RFC
// 3339, is refused.
func parseTime(v *ValidationError, field, s string) (time.Time, bool) {
	t, err := rfc3339.Parse(s)
	switch {
	case errors.Is(err, rfc3339.ErrLeapSecond):
		v.Add(field, "has second 60, a leap second, at a time other than 23:59 UTC")
	case errors.Is(err, rfc3339.ErrRange):
		v.Add(field, "must fall within the years 0000 to 9999 in UTC")
	case err != nil:
		v.Add(field, "must be an RFC 3339 time such as \"2025-01-02T15:04:05Z\"")
	default:
		return t.Truncate(time.Microsecond), true
	}
	return time.Time{}, false
}

// pageQuery reads ?limit= and ?cursor=, adding problems to v.
func pageQuery(c *gin.Context, v *ValidationError) store.Page {
	p := store.Page{Limit: defaultPageLimit, Cursor: c.Query("cursor")}
	if raw, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageLimit {
			v.Add("limit", "must be an integer from 1 to %d", maxPageLimit)
		} else {
			p.Limit = n
		}
	}
	if len(p.Cursor) > maxCursor {
		v.Add("cursor", "is not a cursor from a previous page")
	}
	return p
}

// pageOnly validates the query of a list route that has no filters.
func pageOnly(c *gin.Context) (store.Page, error) {
	var v ValidationError
	p := pageQuery(c, &v)
	return p, v.Err()
}

package api

import (
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/store"
)

// Limits on names and labels.
const (
	maxEventTypeName = 100
	maxDescription   = 1000
	maxEventID       = 128
	defaultPageLimit = 50
	maxPageLimit     = 250
	maxCursor        = 512
	maxQueryID       = 128
)

// eventTypeNamePattern: lower-case segments joined by dots, such as "recording.imported";
// a segment starts with a letter and holds letters, digits, '_' and '-'.
var eventTypeNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$`)

// eventIDPattern: caller-chosen event ids are URL-safe so GET /v1/events/{id} works as is.
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

func checkEventID(v *ValidationError, field, id string) bool {
	switch {
	case id == "":
		v.Add(field, "must not be empty")
	case len(id) > maxEventID:
		v.Add(field, "must be at most %d characters", maxEventID)
	case !eventIDPattern.MatchString(id):
		v.Add(field, "may contain only letters, digits and . _ : ~ -")
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

// parseTime reads an RFC 3339 time (fractional seconds allowed) as UTC, truncated to the
// microseconds PostgreSQL keeps, so what is answered now equals what is read back later.
func parseTime(v *ValidationError, field, s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "must be an RFC 3339 time such as \"2025-01-02T15:04:05Z\"")
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Microsecond), true
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

package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrInvalidCursor is returned by list methods for a cursor they did not hand out.
var ErrInvalidCursor = errors.New("invalid cursor")

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 250
)

// cursorPrefix versions the cursor format, so it can change without misreading old ones.
// "s1." cursors (hookd before cursors were bound to their list) are refused: they do not
// say which list issued them, and a caller that gets a 422 starts again from the first
// page.
const cursorPrefix = "s2."

// scopeSize is how many bytes of a list's SHA-256 digest a cursor carries: enough that
// two different lists or filters practically never share one, short enough to keep the
// cursor short. It guards against mistakes, not forgery: a cursor only moves within rows
// the caller may read anyway.
const scopeSize = 12

// pager is a Page read for one list: rows with seq below before, and fetch (limit+1) of
// them so the caller can tell whether another page follows; scope is the list's digest,
// carried by the cursors it hands out.
type pager struct {
	before int64
	fetch  int
	scope  string
}

// keyset reads p for the list named list of organization orgID, narrowed by filter (a
// struct of the list's filters, nil for none; every exported field counts, through its
// JSON form, so times must come in UTC to compare by instant, as the API gives them).
// A cursor is valid only for the list, organization and filters that issued
// it (API.md, Lists); the limit may change between pages. Anything else is
// ErrInvalidCursor.
func keyset(p Page, list, orgID string, filter any) (pager, error) {
	scope, err := scopeOf(list, orgID, filter)
	if err != nil {
		return pager{}, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	pg := pager{before: math.MaxInt64, fetch: min(limit, MaxLimit) + 1, scope: scope}
	if p.Cursor == "" {
		return pg, nil
	}
	// Only the very cursor this list hands out for a row is accepted: the row's number is
	// read, and the cursor for it must be p.Cursor, so the prefix, the scope and the
	// spelling (no "+7" or "007", no other base64 of the same bytes) are all checked.
	raw, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil {
		return pager{}, ErrInvalidCursor
	}
	seqText, _, _ := strings.Cut(strings.TrimPrefix(string(raw), cursorPrefix), ".")
	pg.before, err = strconv.ParseInt(seqText, 10, 64)
	if err != nil || pg.before <= 0 || pg.cursor(pg.before) != p.Cursor {
		return pager{}, ErrInvalidCursor
	}
	return pg, nil
}

// scopeOf digests a list's name, organization and filters, each length-prefixed so that
// no two different lists digest alike by running into each other.
func scopeOf(list, orgID string, filter any) (string, error) {
	f, err := json.Marshal(filter)
	if err != nil {
		return "", fmt.Errorf("cursor scope of %s: %w", list, err)
	}
	h := sha256.New()
	for _, part := range []string{list, orgID, string(f)} {
		fmt.Fprintf(h, "%d:%s", len(part), part)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:scopeSize]), nil
}

// cursor is the cursor of the page after the row with sequence number seq.
func (pg pager) cursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10) + "." + pg.scope))
}

// pageOf trims rows fetched with pg to the page and returns the cursor for the next page
// ("" on the last page). seqs holds each row's sequence number.
func pageOf[T any](rows []T, seqs []int64, pg pager) ([]T, string) {
	if len(rows) < pg.fetch {
		return rows, ""
	}
	return rows[:pg.fetch-1], pg.cursor(seqs[pg.fetch-2])
}

// collectPage reads a keyset-paged query whose last column is the row's seq, scanning
// each row with scan, and returns the page (at most pg.fetch-1 rows) and the next cursor.
func collectPage[T any](rows pgx.Rows, pg pager, scan func(row pgx.CollectableRow, seq *int64) (T, error)) ([]T, string, error) {
	var seqs []int64
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var seq int64
		v, err := scan(row, &seq)
		seqs = append(seqs, seq)
		return v, err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := pageOf(out, seqs, pg)
	return out, next, nil
}

func listErr(op string, err error) error {
	if errors.Is(err, ErrInvalidCursor) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return wrap(op, err)
}

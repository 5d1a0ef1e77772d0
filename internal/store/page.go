package store

import (
	"encoding/base64"
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
const cursorPrefix = "s1."

// keyset turns a Page into SQL arguments: rows with seq below the returned bound, and
// limit+1 of them so the caller can tell whether another page follows.
func keyset(p Page) (before int64, fetch int, err error) {
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if p.Cursor == "" {
		return math.MaxInt64, limit + 1, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return 0, 0, ErrInvalidCursor
	}
	seq, err := strconv.ParseInt(strings.TrimPrefix(string(raw), cursorPrefix), 10, 64)
	if err != nil || seq <= 0 {
		return 0, 0, ErrInvalidCursor
	}
	return seq, limit + 1, nil
}

// pageOf trims rows fetched with keyset's fetch count to the page and returns the cursor
// for the next page ("" on the last page). seqs holds each row's sequence number.
func pageOf[T any](rows []T, seqs []int64, fetch int) ([]T, string) {
	if len(rows) < fetch {
		return rows, ""
	}
	rows = rows[:fetch-1]
	last := seqs[fetch-2]
	return rows, base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(last, 10)))
}

// collectPage reads a keyset-paged query whose last column is the row's seq, scanning
// each row with scan, and returns the page (at most fetch-1 rows) and the next cursor.
func collectPage[T any](rows pgx.Rows, fetch int, scan func(row pgx.CollectableRow, seq *int64) (T, error)) ([]T, string, error) {
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
	out, next := pageOf(out, seqs, fetch)
	return out, next, nil
}

func listErr(op string, err error) error {
	if errors.Is(err, ErrInvalidCursor) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return wrap(op, err)
}

package store

import (
	"testing"
	"time"
)

// FuzzKeyset reads arbitrary cursors: keyset never panics, accepts only a cursor it could
// have handed out for that very list, and reads its own cursors back to the same row.
func FuzzKeyset(f *testing.F) {
	since := time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)
	filter := DeliveryFilter{Status: StatusFailed, Since: &since}
	own, err := keyset(Page{}, "deliveries", "org_1", filter)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []string{"", own.cursor(1), own.cursor(1<<62 + 7), "czEuMTIz", "garbage!", "czIuMS4"} {
		f.Add(c, int64(5), 10)
	}
	f.Fuzz(func(t *testing.T, cursor string, seq int64, limit int) {
		pg, err := keyset(Page{Limit: limit, Cursor: cursor}, "deliveries", "org_1", filter)
		if err == nil {
			if pg.before <= 0 || pg.fetch < 2 || pg.fetch > MaxLimit+1 {
				t.Fatalf("keyset(%q, %d) = %+v", cursor, limit, pg)
			}
			if cursor != "" && pg.cursor(pg.before) != cursor {
				t.Fatalf("accepted %q, which reads as %d but is not the cursor of that row", cursor, pg.before)
			}
		}
		if seq <= 0 {
			return
		}
		c := own.cursor(seq)
		if back, err := keyset(Page{Limit: limit, Cursor: c}, "deliveries", "org_1", filter); err != nil || back.before != seq {
			t.Fatalf("own cursor %q of row %d read back as %+v, %v", c, seq, back, err)
		}
		if _, err := keyset(Page{Cursor: c}, "deliveries", "org_1", DeliveryFilter{Status: StatusFailed}); err == nil {
			t.Fatalf("cursor %q accepted with other filters", c)
		}
		if _, err := keyset(Page{Cursor: c}, "events", "org_1", nil); err == nil {
			t.Fatalf("cursor %q accepted by another list", c)
		}
	})
}

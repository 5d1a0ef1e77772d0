package devtemporal

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // the driver the server's SQLite plugin uses, registered as "sqlite"
)

// keptVisibilityIndexes are the indexes of the SQLite visibility table that
// hookd dev keeps: the ones behind the Web UI's workflow list (newest first,
// filtered by status, type or id) and those over the ten pre-allocated
// Keyword columns, which hold hookd's own search attributes (webhook, event
// type, status, organization; which column each one got is the server's
// choice). The server's schema indexes every one of its ~60 columns, and each
// visibility record written (two per workflow) updates them all: with
// them, writing visibility was 44% of hookd dev's CPU at full load. A filter
// on a column without an index still works, by scanning, which a dev
// database bounded by retention can afford.
var keptVisibilityIndexes = map[string]bool{
	"default_idx":                    true,
	"by_workflow_id":                 true,
	"by_workflow_type":               true,
	"by_status":                      true,
	"by_temporal_namespace_division": true, // the server filters every list on it
	"by_keyword_01":                  true,
	"by_keyword_02":                  true,
	"by_keyword_03":                  true,
	"by_keyword_04":                  true,
	"by_keyword_05":                  true,
	"by_keyword_06":                  true,
	"by_keyword_07":                  true,
	"by_keyword_08":                  true,
	"by_keyword_09":                  true,
	"by_keyword_10":                  true,
}

// trimVisibilityIndexes drops every index of the visibility table in dbFile
// that is not in keptVisibilityIndexes. It runs before the server opens the
// file, on every start, so a database created by an older hookd is trimmed
// too; with nothing left to drop it only reads the schema.
func trimVisibilityIndexes(dbFile string) error {
	dsn := (&url.URL{Scheme: "file", Opaque: dbFile, RawQuery: "_pragma=busy_timeout%3D5000"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open %s: %w", dbFile, err)
	}
	defer db.Close()
	names, err := visibilityIndexes(db)
	if err != nil {
		return err
	}
	for _, name := range names {
		if keptVisibilityIndexes[name] {
			continue
		}
		// The names come from sqlite_master and are plain identifiers.
		if _, err := db.Exec(`DROP INDEX IF EXISTS "` + name + `"`); err != nil {
			return fmt.Errorf("drop visibility index %s: %w", name, err)
		}
	}
	return nil
}

// visibilityIndexes lists the indexes of executions_visibility. Indexes
// SQLite made itself (for the primary key) have no SQL and are not listed.
func visibilityIndexes(db *sql.DB) ([]string, error) {
	rows, err := db.Query(`SELECT name FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("list visibility indexes: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list visibility indexes: %w", err)
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

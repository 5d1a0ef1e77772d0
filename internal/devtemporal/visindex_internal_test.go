package devtemporal

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	sqliteschema "go.temporal.io/server/schema/sqlite"
)

func TestTrimVisibilityIndexes(t *testing.T) {
	t.Parallel()
	dbFile := filepath.Join(t.TempDir(), "temporal.db")
	if err := sqliteschema.SetupSchema(sqlConfig(Options{DBFile: dbFile})); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	before := visibilityIndexes(t, dbFile)
	for name := range keptVisibilityIndexes {
		if !slices.Contains(before, name) {
			t.Errorf("the server's schema has no index %s to keep: update keptVisibilityIndexes", name)
		}
	}

	for range 2 { // the second run finds nothing to drop
		if err := trimVisibilityIndexes(dbFile); err != nil {
			t.Fatalf("trimVisibilityIndexes: %v", err)
		}
		after := visibilityIndexes(t, dbFile)
		slices.Sort(after)
		want := make([]string, 0, len(keptVisibilityIndexes))
		for name := range keptVisibilityIndexes {
			want = append(want, name)
		}
		slices.Sort(want)
		if !slices.Equal(after, want) {
			t.Fatalf("indexes after trimming = %v, want %v", after, want)
		}
	}
	t.Logf("visibility indexes: %d in the schema, %d kept", len(before), len(keptVisibilityIndexes))
}

// visibilityIndexes lists the named indexes of the visibility table.
func visibilityIndexes(t *testing.T, dbFile string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

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
	before := indexesOf(t, dbFile)
	for name := range keptVisibilityIndexes {
		if !slices.Contains(before, name) {
			t.Errorf("the server's schema has no index %s to keep: update keptVisibilityIndexes", name)
		}
	}

	for range 2 { // the second run finds nothing to drop
		if err := trimVisibilityIndexes(dbFile); err != nil {
			t.Fatalf("trimVisibilityIndexes: %v", err)
		}
		after := indexesOf(t, dbFile)
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

// indexesOf lists the visibility table's indexes in dbFile.
func indexesOf(t *testing.T, dbFile string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names, err := visibilityIndexes(db)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

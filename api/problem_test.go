package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A PostgreSQL out of reach is a 503 the client may send again; any other database error
// is not (it is a 500, logged).
func TestDatabaseUnreachable(t *testing.T) {
	_, dialErr := pgconn.Connect(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"no connection", fmt.Errorf("lookup key: %w", dialErr), true},
		{"admin shutdown", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"query canceled", &pgconn.PgError{Code: "57014"}, false},
		{"other", errors.New("boom"), false},
	} {
		if got := databaseUnreachable(c.err); got != c.want {
			t.Errorf("%s (%v): unreachable %v, want %v", c.name, c.err, got, c.want)
		}
	}
	if dialErr == nil {
		t.Fatal("connecting to port 1 succeeded")
	}
}

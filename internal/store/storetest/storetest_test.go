package storetest

import (
	"context"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestDatabasesAreFreshAndMigrated(t *testing.T) {
	ctx := context.Background()
	a, b := New(t), New(t)
	if _, err := a.CreateOrganization(ctx, "only in a"); err != nil {
		t.Fatal(err)
	}
	var na, nb int
	if err := a.Pool().QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&na); err != nil {
		t.Fatal(err)
	}
	if err := b.Pool().QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&nb); err != nil {
		t.Fatal(err)
	}
	if na != 1 || nb != 0 {
		t.Fatalf("organizations: a has %d (want 1), b has %d (want 0)", na, nb)
	}
}

package schema

import "testing"

func TestFieldPath(t *testing.T) {
	t.Parallel()
	if got := fieldPath("data", []string{"items", "0", "id"}); got != "data.items[0].id" {
		t.Fatal(got)
	}
	if got := fieldPath("data", nil); got != "data" {
		t.Fatal(got)
	}
}

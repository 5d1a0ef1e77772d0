package ids

import (
	"sort"
	"strings"
	"testing"
)

func TestNewIsPrefixedUniqueAndSortable(t *testing.T) {
	t.Parallel()
	const n = 1000
	made := make([]string, n)
	seen := map[string]bool{}
	for i := range made {
		made[i] = New(Delivery)
		if seen[made[i]] {
			t.Fatalf("duplicate id %q", made[i])
		}
		seen[made[i]] = true
		if !HasPrefix(made[i], Delivery) || strings.ToLower(made[i]) != made[i] {
			t.Fatalf("id %q is not a lower-case dlv_ id", made[i])
		}
	}
	if !sort.StringsAreSorted(made[:1]) || made[0][:14] > made[n-1][:14] {
		t.Fatalf("ids are not time-ordered: first %q last %q", made[0], made[n-1])
	}
}

package devtemporal

import "testing"

// TestAllocatePortsPicksDistinctPorts: the ports a server is given free are all
// different, and none is one the caller chose.
func TestAllocatePortsPicksDistinctPorts(t *testing.T) {
	t.Parallel()
	for range 50 {
		p, err := allocatePorts(Options{IP: DefaultIP, FrontendPort: 0, HTTPPort: 0, UIPort: 0})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, port := range []int{p.frontend, p.http, p.ui, p.history, p.matching, p.worker} {
			if port == 0 || seen[port] {
				t.Fatalf("ports %+v: want six distinct ports", p)
			}
			seen[port] = true
		}
	}
}

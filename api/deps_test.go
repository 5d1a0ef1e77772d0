package api_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAPIImportsNoTemporal: the API reaches Temporal only through the service
// (internal/dispatch) and its engine, never by importing it, directly or through a
// package it imports (ARCHITECTURE.md).
func TestAPIImportsNoTemporal(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/hookd/hookd/api").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/") {
			t.Errorf("api depends on %s", pkg)
		}
	}
}

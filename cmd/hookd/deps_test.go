package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// The production build (-tags nodev, as the Dockerfile builds hookd) links none of the dev
// tools: the embedded Temporal server and its UI, the private PostgreSQL, the benchmark.
func TestProductionBuildLeavesDevToolsOut(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-tags", "nodev", ".").Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatalf("go list: %v", err)
	}
	devTools := []string{
		"go.temporal.io/server",
		"github.com/temporalio/ui-server",
		"github.com/hookd/hookd/internal/devtemporal",
		"github.com/hookd/hookd/internal/devenv",
		"github.com/hookd/hookd/internal/bench",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, dev := range devTools {
			if pkg == dev || strings.HasPrefix(pkg, dev+"/") {
				t.Errorf("the nodev build links %s", pkg)
			}
		}
	}
}

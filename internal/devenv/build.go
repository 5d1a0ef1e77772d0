package devenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildHookd compiles hookd (with its dev tools: hookd dev, hookd temporal) into
// dir/hookd and returns the binary's path, for a test binary's TestMain: a minute or
// more the first time on a 2-core machine, seconds once Go's build cache has it. The
// compiler's output goes to stderr.
func BuildHookd(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "hookd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/hookd/hookd/cmd/hookd")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build hookd: %w", err)
	}
	return bin, nil
}

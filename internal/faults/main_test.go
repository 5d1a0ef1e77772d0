//go:build faults

package faults

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/hookd/hookd/internal/devenv"
)

// reportPath is where the suite writes RELIABILITY.md; "" writes nothing.
var reportPath = flag.String("report", "", "path of RELIABILITY.md to write after the run (empty: write nothing)")

// hookdBin is the hookd binary under test, built once by TestMain.
var hookdBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hookd-faults-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if hookdBin, err = devenv.BuildHookd(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	code := m.Run()
	if *reportPath != "" {
		if err := writeReport(*reportPath, code == 0); err != nil {
			fmt.Fprintln(os.Stderr, "faults: write report:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "faults: wrote", *reportPath)
	}
	return code
}

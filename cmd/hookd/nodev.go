//go:build nodev

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// errNoDevTools answers what needs the dev tools, which a build with -tags nodev (the
// production image's) leaves out.
var errNoDevTools = errors.New("this hookd was built with -tags nodev and has no dev tools " +
	"(embedded Temporal and PostgreSQL, the benchmark); build it without the tag, e.g. go run ./cmd/hookd dev")

func runDev(context.Context, []string, io.Writer, io.Writer) error { return errNoDevTools }

func runBench(context.Context, []string, io.Writer, io.Writer) error { return errNoDevTools }

func runTemporal(context.Context, []string, io.Writer) error { return errNoDevTools }

func openDevDatabase(context.Context, string) (string, func(), error) {
	return "", nil, fmt.Errorf("DATABASE_URL is required: %w", errNoDevTools)
}

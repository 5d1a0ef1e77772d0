//go:build nodev

package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// Without dev tools, hookd dev and hookd bench say so, and keys create needs DATABASE_URL.
func TestNoDevTools(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	for _, args := range [][]string{{"dev"}, {"bench"}, {"keys", "create", "--role", "admin"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); !errors.Is(err, errNoDevTools) {
			t.Errorf("hookd %v = %v, want errNoDevTools", args, err)
		}
	}
}

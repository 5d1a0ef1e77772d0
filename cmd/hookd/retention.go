package main

import "context"

// registerRetention creates or updates the Temporal Schedule that runs the Retention
// workflow (or removes it when HOOKD_RETENTION is 0). Skeleton: filled in by the
// retention work of issue 9.
func (s *services) registerRetention(ctx context.Context) error {
	return nil
}

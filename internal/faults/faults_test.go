//go:build faults

package faults

import "testing"

// TestFaultsOfHookdDev runs the faults of one shared `hookd dev` (started on a private
// PostgreSQL of its own) in a fixed order: first those that must see a quiet system
// (malformed requests and cross-organization probes compare the database before and
// after), then hostile receivers, then the kills. It stops hookd before
// TestFaultsOfTheProductionShape starts its processes.
func TestFaultsOfHookdDev(t *testing.T) {
	e := startEnv(t)
	t.Run("malformed", func(t *testing.T) { malformedRequests(t, e) })
	t.Run("crossorg", func(t *testing.T) { crossOrganization(t, e) })
	t.Run("hostile", func(t *testing.T) { hostileReceivers(t, e) })
	t.Run("kill-hookd", func(t *testing.T) { killHookd(t, e) })
	t.Run("kill-postgres", func(t *testing.T) { killPostgres(t, e) })
}

// TestFaultsOfTheProductionShape kills workers of the production shape.
func TestFaultsOfTheProductionShape(t *testing.T) {
	killWorker(t)
}

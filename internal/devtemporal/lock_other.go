//go:build !unix

package devtemporal

// fileLock is a no-op where flock(2) is missing: there, keeping two dev
// servers off one database file is up to the user.
type fileLock struct{}

func lockDatabase(string) (*fileLock, error) { return nil, nil }

func (*fileLock) release() {}

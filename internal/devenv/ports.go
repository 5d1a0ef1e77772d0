package devenv

import (
	"fmt"
	"net"
)

// FreePort asks the kernel for a TCP port that is free on ip right now, for servers that
// cannot bind port 0 themselves and must be told a port: the private PostgreSQL (Temporal's
// SQL plugin dials it by host:port, and postgres refuses -p 0) and the embedded Temporal
// server's listeners. Another process can take the port before the server binds it, so
// every caller retries, a bounded number of times, with a new port when the bind fails
// with "address already in use" (Postgres.startServer; Hookd.Start for hookd dev's
// Temporal server, which exits on it). Anything that can bind port 0 should, and report
// the port it got (hookd: its address file).
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

package devenv

import (
	"fmt"
	"net"
)

// FreePort asks the kernel for a TCP port that is free on ip right now, for callers that
// must name a port before a server binds it (the private PostgreSQL, the embedded Temporal
// server, `hookd dev` run by the tests and the benchmark). Another process can still take
// it before the server binds it: a small race the callers accept.
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

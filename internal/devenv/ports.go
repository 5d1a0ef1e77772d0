package devenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort asks the kernel for a TCP port that is free on ip right now, for servers that
// cannot bind port 0 themselves and must be told a port: the private PostgreSQL (Temporal's
// SQL plugin dials it by host:port, and postgres refuses -p 0) and the embedded Temporal
// server's listeners. Another process can take the port before the server binds it, so
// every caller retries, a bounded number of times, with a new port when the bind fails
// with "address already in use" (Postgres.startServer; Hookd.Start for hookd dev's
// Temporal server, which exits on it). Anything that can bind port 0 should, and report
// the port it got (hookd: its address file).
//
// The port comes from below the kernel's ephemeral range (ip_local_port_range, where
// port 0 binds and outgoing connections take their local ports), so that no connection
// hookd or anything else on the machine opens meanwhile can be given the port between
// the pick and the bind. The embedded Temporal server cannot retry that race: it binds
// its internal services' ports deep inside its start and does not survive a failed bind
// (seen as a nil-listener panic in the test suite). Where the range cannot be read, or
// no port below it is found free, the kernel picks (port 0).
func FreePort(ip string) (int, error) {
	if low := ephemeralLow(); low > minPickedPort {
		for range 64 {
			port := minPickedPort + rand.IntN(low-minPickedPort)
			if l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port))); err == nil {
				_ = l.Close()
				return port, nil
			}
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// minPickedPort is the lowest port FreePort picks: above the registered ports most
// often in use on a developer's machine.
const minPickedPort = 20000

// ephemeralLow is the first port of the kernel's ephemeral range, 0 when it cannot be
// read (not Linux).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return low
}

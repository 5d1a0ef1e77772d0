package devenv

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortIsBelowTheEphemeralRange: FreePort picks a port no outgoing connection can
// be given (see FreePort), and one that can be bound.
func TestFreePortIsBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	if low == 0 {
		t.Fatal("cannot read /proc/sys/net/ipv4/ip_local_port_range on this Linux machine")
	}
	for range 20 {
		port, err := FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if port < minPickedPort || port >= low {
			t.Fatalf("FreePort = %d, want one in [%d, %d)", port, minPickedPort, low)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("bind the port FreePort gave: %v", err)
		}
		_ = l.Close()
	}
}

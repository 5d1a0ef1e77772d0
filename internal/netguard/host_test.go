//go:debug netdns=cgo
// The system resolver (getaddrinfo and its inet_aton) is the reference parseIPv4 is held
// to: it is what most HTTP clients dial with, and it is not our code.

package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// systemIPv4 resolves a numeric host with the C library, as curl and most senders would.
// Call it only with hosts that inet_aton accepts: anything else would go to DNS.
func systemIPv4(t *testing.T, host string) (netip.Addr, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return netip.Addr{}, err
	}
	return ips[0].Unmap(), nil
}

// dialRefused reports whether the dial-time guard refuses a TCP connection to ip.
func dialRefused(ip netip.Addr) bool {
	network := "tcp6"
	if ip.Is4() {
		network = "tcp4"
	}
	return control(production)(network, netip.AddrPortFrom(ip, 443).String(), nil) != nil
}

func TestParseIPv4(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host         string
		want         string // "" when not an address
		numeric      bool
		systemAgrees bool // getaddrinfo reads it the same way
	}{
		{"127.0.0.1", "127.0.0.1", true, true},
		{"127.1", "127.0.0.1", true, true},
		{"127.0.1", "127.0.0.1", true, true},
		{"2130706433", "127.0.0.1", true, true},
		{"0x7f000001", "127.0.0.1", true, true},
		{"0X7F000001", "127.0.0.1", true, true},
		{"017700000001", "127.0.0.1", true, true},
		{"0177.0.0.1", "127.0.0.1", true, true},
		{"0x7f.1", "127.0.0.1", true, true},
		{"127.000.000.001", "127.0.0.1", true, true},
		{"0", "0.0.0.0", true, true},
		{"00", "0.0.0.0", true, true},
		{"10.1", "10.0.0.1", true, true},
		{"169.254.43518", "169.254.169.254", true, true},
		{"0xa9fea9fe", "169.254.169.254", true, true},
		{"8.8.2056", "8.8.8.8", true, true},
		{"4294967295", "255.255.255.255", true, true},
		{"127.0.0.1.", "127.0.0.1", true, false}, // WHATWG and Chromium take the trailing dot
		{"0x", "0.0.0.0", true, false},           // WHATWG: 0x alone is 0
		{"4294967296", "", true, false},
		{"256.0.0.1", "", true, false},
		{"1.2.3.256", "", true, false},
		{"1.2.65536", "", true, false},
		{"08.0.0.1", "", true, false},
		{"1.2.3.4.5", "", true, false},
		{"1..2", "", true, false},
		{".1", "", true, false},
		{"0x1g", "", false, false},
		{"example.123", "", true, false},
		{"example.com", "", false, false},
		{"1.2.3.4.example.com", "", false, false},
		{"127.0.0.1..", "", false, false},
		{"localhost", "", false, false},
		{"+1", "", false, false},
		{"1_0", "", false, false},
	}
	for _, tt := range tests {
		ip, numeric, ok := parseIPv4(tt.host)
		if numeric != tt.numeric || ok != (tt.want != "") || (ok && ip.String() != tt.want) {
			t.Errorf("parseIPv4(%q) = %v, %v, %v; want %q, numeric %v", tt.host, ip, numeric, ok, tt.want, tt.numeric)
		}
		if tt.systemAgrees {
			sys, err := systemIPv4(t, tt.host)
			if err != nil || sys.String() != tt.want {
				t.Errorf("system resolver: %q is %v, %v; want %s (is the cgo resolver on?)", tt.host, sys, err, tt.want)
			}
		}
	}
}

func TestCheckURLNumericHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host    string
		opts    Options
		want    error // nil, ErrInvalidURL or ErrBlocked
		message string
	}{
		{host: "127.1", want: ErrBlocked, message: "127.1 is not a public address (it is 127.0.0.1)"},
		{host: "2130706433", want: ErrBlocked, message: "(it is 127.0.0.1)"},
		{host: "0x7f000001", want: ErrBlocked},
		{host: "0X7F000001", want: ErrBlocked},
		{host: "0177.0.0.1", want: ErrBlocked},
		{host: "0x7f.1", want: ErrBlocked},
		{host: "127.000.000.001", want: ErrBlocked},
		{host: "0", want: ErrBlocked, message: "(it is 0.0.0.0)"},
		{host: "127.0.0.1.", want: ErrBlocked},
		{host: "10.1", want: ErrBlocked, message: "(it is 10.0.0.1)"},
		{host: "192.168.257", want: ErrBlocked},
		{host: "169.254.43518", want: ErrBlocked, message: "(it is 169.254.169.254)"},
		{host: "0xa9fea9fe", want: ErrBlocked},
		{host: "１２７.０.０.１", want: ErrBlocked, message: "(it is 127.0.0.1)"},
		{host: "127。0。0。1", want: ErrBlocked},
		{host: "localhost.", want: ErrBlocked, message: "is a local address"},
		{host: "LocalHost", want: ErrBlocked},
		{host: "api.localhost", want: ErrBlocked},
		{host: "api.localhost.", want: ErrBlocked},
		{host: "[::ffff:127.0.0.1]", want: ErrBlocked, message: "(it is 127.0.0.1)"},
		{host: "[::ffff:7f00:1]", want: ErrBlocked, message: "(it is 127.0.0.1)"},
		{host: "[::127.0.0.1]", want: ErrBlocked, message: "(it is 127.0.0.1)"},
		{host: "[::ffff:10.0.0.1]", want: ErrBlocked},
		{host: "[::1]", want: ErrBlocked},
		{host: "[::]", want: ErrBlocked},
		{host: "[fe80::1%25eth0]", want: ErrBlocked},
		{host: "[::1%25lo]", want: ErrBlocked},
		{host: "[64:ff9b::7f00:1]", want: ErrBlocked},

		// Public addresses in an odd spelling: refused, naming the canonical one.
		{host: "8.8.2056", want: ErrInvalidURL, message: "host 8.8.2056 is IPv4 address 8.8.8.8; write it so"},
		{host: "134744072", want: ErrInvalidURL, message: "8.8.8.8"},
		{host: "0x08080808", want: ErrInvalidURL},
		{host: "008.8.8.8", want: ErrInvalidURL},
		{host: "8.8.8.8.", want: ErrInvalidURL},
		{host: "[::ffff:8.8.8.8]", want: ErrInvalidURL, message: "embeds an IPv4 address; write it as 8.8.8.8"},
		{host: "[::8.8.8.8]", want: ErrInvalidURL, message: "write it as 8.8.8.8"},
		{host: "[2606:4700:4700::1111%25eth0]", want: ErrInvalidURL, message: "must not have a zone"},
		// Hosts that end in a number are addresses, never names.
		{host: "1.2.3.4.5", want: ErrInvalidURL, message: "ends in a number but is not an IPv4 address"},
		{host: "08.0.0.1", want: ErrInvalidURL},
		{host: "256.0.0.1", want: ErrInvalidURL},
		{host: "example.123", want: ErrInvalidURL},
		{host: "a..example.com", want: ErrInvalidURL, message: "empty label"},

		{host: "8.8.8.8"},
		{host: "[2606:4700:4700::1111]"},
		{host: "1.2.3.4.example.com"},
		{host: "0x7f.example.com"},
		{host: "example.com."},
		{host: "bücher.example"},

		// Dev mode reaches private addresses, but spells them plainly too.
		{host: "127.0.0.1", opts: dev},
		{host: "localhost.", opts: dev},
		{host: "127.1", opts: dev, want: ErrInvalidURL, message: "write it so"},
		{host: "[::ffff:127.0.0.1]", opts: dev, want: ErrInvalidURL},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.host, tt.opts.AllowPrivate), func(t *testing.T) {
			t.Parallel()
			err := CheckURL("https://"+tt.host+"/hooks", tt.opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckURL(%s) = %v, want nil", tt.host, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("CheckURL(%s) = %v, want %v: …%s…", tt.host, err, tt.want, tt.message)
			}
		})
	}
}

// FuzzParseIPv4 holds CheckURL to the dial-time guard on arbitrary hosts: an address
// parseIPv4 reads is refused as blocked exactly when the guard would refuse the
// connection, and accepted only when it is spelled canonically.
func FuzzParseIPv4(f *testing.F) {
	for _, h := range []string{"127.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.000.000.001", "0", "127.0.0.1.",
		"8.8.2056", "1.2.3.4.5", "example.123", "0x", "93.184.215.14", "10.1", "example.com"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, host string) {
		ip, numeric, ok := parseIPv4(host)
		if ok && !numeric {
			t.Fatalf("parseIPv4(%q) read %v from a host that does not end in a number", host, ip)
		}
		if !ok {
			return
		}
		// No system resolver here: a host that parseIPv4 reads but inet_aton does not
		// would go to DNS, and no test query may leave the machine. FuzzIPv4Spellings
		// holds the parser to the resolver on spellings inet_aton is sure to read.
		agreesWithGuard(t, host, ip)
	})
}

// agreesWithGuard checks CheckURL on host, a spelling of ip: it refuses it as blocked
// exactly when the dial-time guard would refuse a connection to ip, and accepts it only
// when it is spelled canonically.
func agreesWithGuard(t *testing.T, host string, ip netip.Addr) {
	t.Helper()
	url := "https://" + host + "/"
	err := CheckURL(url, production)
	refused := dialRefused(ip)
	switch {
	case len(url) > MaxURLLength:
		// Refused for its length before its host is read.
		if err == nil {
			t.Fatalf("CheckURL accepted a URL of %d characters", len(url))
		}
	case refused != errors.Is(err, ErrBlocked):
		t.Fatalf("%q is %v: the dial guard refuses it: %v; CheckURL: %v", host, ip, refused, err)
	}
	if err == nil && strings.ToLower(host) != ip.String() {
		t.Fatalf("CheckURL accepted %q, a non-canonical spelling of %v", host, ip)
	}
}

// FuzzIPv4Spellings builds valid inet_aton spellings of an address (1 to 4 parts, each in
// decimal, octal or hex) and checks the other way round: every spelling the system
// resolver reads, parseIPv4 reads to the same address, and CheckURL refuses it as blocked
// exactly when the dial-time guard would.
func FuzzIPv4Spellings(f *testing.F) {
	f.Add(uint32(0x7f000001), uint8(0), uint8(0))
	f.Add(uint32(0x7f000001), uint8(1), uint8(0b01))
	f.Add(uint32(0x0a000001), uint8(2), uint8(0b10))
	f.Add(uint32(0x08080808), uint8(3), uint8(0b11100100))
	f.Add(uint32(0xa9fea9fe), uint8(3), uint8(0xff))
	f.Fuzz(func(t *testing.T, n uint32, shape, bases uint8) {
		host := spell(n, int(shape%4)+1, bases)
		want := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		if sys, err := systemIPv4(t, host); err != nil || sys != want {
			t.Fatalf("spell(%v) = %q, which the system resolver reads as %v, %v", want, host, sys, err)
		}
		if ip, numeric, ok := parseIPv4(host); !numeric || !ok || ip != want {
			t.Fatalf("parseIPv4(%q) = %v, %v, %v; want %v", host, ip, numeric, ok, want)
		}
		agreesWithGuard(t, host, want)
	})
}

// spell writes n in parts (1 to 4) as inet_aton reads it, each part in the base that two
// bits of bases pick: decimal, octal (leading 0), hex (0x) or hex with a capital 0X.
func spell(n uint32, parts int, bases uint8) string {
	values := make([]uint64, parts)
	rest := uint64(n)
	for i := 0; i < parts-1; i++ {
		shift := 8 * (3 - i)
		values[i] = rest >> shift
		rest &= 1<<shift - 1
	}
	values[parts-1] = rest
	out := make([]string, parts)
	for i, v := range values {
		switch (bases >> (2 * i)) & 3 {
		case 0:
			out[i] = fmt.Sprint(v)
		case 1:
			out[i] = fmt.Sprintf("0%o", v)
		case 2:
			out[i] = fmt.Sprintf("0x%x", v)
		default:
			out[i] = fmt.Sprintf("0X%X", v)
		}
	}
	return strings.Join(out, ".")
}

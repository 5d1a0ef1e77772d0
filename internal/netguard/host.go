package netguard

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseIPv4 reads host as an IPv4 address in any spelling that inet_aton(3) accepts, which
// getaddrinfo(3) and so most resolvers and HTTP clients dial without asking DNS, and
// which the WHATWG URL Standard's IPv4 parser (§3.5, the one browsers use) also accepts:
// one to four parts separated by dots, each decimal, octal with a leading 0 ("0177"), or
// hexadecimal with 0x or 0X ("0x7f", "0x" alone is 0); the last part fills the bytes the
// others leave ("127.1" is 127.0.0.1, "2130706433" is 127.0.0.1); one trailing dot is
// allowed. numeric reports whether host ends in a number (its last label, after a
// trailing dot, is a decimal or 0x number), so that it can only be an IPv4 address: when
// numeric is true and ok is false the host is a malformed address, never a DNS name
// (WHATWG "ends in a number"; RFC 3696 §2 keeps top-level domains alphabetic).
func parseIPv4(host string) (addr netip.Addr, numeric, ok bool) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if !isNumber(parts[len(parts)-1]) {
		return netip.Addr{}, false, false
	}
	if len(parts) > 4 {
		return netip.Addr{}, true, false
	}
	var n uint64
	for i, p := range parts {
		v, err := parsePart(p)
		last := i == len(parts)-1
		if err != nil || (!last && v > 0xff) || (last && v>>(8*(5-len(parts))) != 0) {
			return netip.Addr{}, true, false
		}
		if last {
			n = n<<(8*(5-len(parts))) | v
		} else {
			n = n<<8 | v
		}
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true, true
}

// isNumber reports whether a label is a number as the WHATWG "ends in a number" checker
// sees it: decimal digits, or 0x / 0X followed by hexadecimal digits (none is 0).
func isNumber(label string) bool {
	if label == "" {
		return false
	}
	if rest, ok := cutHexPrefix(label); ok {
		return strings.Trim(rest, "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(label, "0123456789") == ""
}

// parsePart reads one part of an inet_aton address; it fails on an empty part, a digit
// 8 or 9 in an octal part, and values that do not fit in 32 bits.
func parsePart(p string) (uint64, error) {
	base := 10
	switch rest, hex := cutHexPrefix(p); {
	case hex:
		if rest == "" {
			return 0, nil
		}
		p, base = rest, 16
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	return strconv.ParseUint(p, base, 32) // no sign, no underscores with an explicit base
}

func cutHexPrefix(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:], true
	}
	return s, false
}

// Package netguard builds the HTTP client hookd sends webhooks with, safe against
// server-side request forgery: in production it refuses to connect to loopback, private,
// link-local, multicast, unspecified and other special-purpose addresses. The check runs
// on the resolved IP of every connection the transport opens (net.Dialer.Control, via
// code.dny.dev/ssrf), so a DNS name that resolves, or later re-resolves, to an internal
// address is refused too. CheckURL adds the cheap checks that can be made when a webhook
// is created.
package netguard

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"
)

// MaxURLLength is the longest webhook URL CheckURL accepts.
const MaxURLLength = 512

// Options select how strict the client and CheckURL are. The zero value is production.
type Options struct {
	// AllowPrivate lets the client reach loopback, private and other special-purpose
	// addresses (dev mode, tests). Off in production.
	AllowPrivate bool
	// AllowHTTP lets CheckURL accept plain http URLs (dev mode). Off in production.
	AllowHTTP bool
	// InsecureSkipVerify turns off TLS certificate verification, for webhooks that set
	// allowInvalidCerts. It does not relax the address checks.
	InsecureSkipVerify bool
}

// Errors from the client and CheckURL; compare with errors.Is.
var (
	// ErrBlocked: the destination address is not allowed (a refused dial, or a URL whose
	// host is a blocked IP literal or a localhost name). A delivery that hits it will not
	// succeed by retrying unless DNS changes.
	ErrBlocked = errors.New("destination address not allowed")
	// ErrInvalidURL: CheckURL refused the URL's form.
	ErrInvalidURL = errors.New("invalid webhook url")
)

// guardian refuses special-purpose addresses on any port: webhook receivers often listen
// on ports other than 80 and 443, so unlike ssrf.New's default the port is not checked.
var guardian = ssrf.New(ssrf.WithAnyPort())

// control returns the net.Dialer Control function for opts: nil (no checks) when
// AllowPrivate, else the SSRF guard, with its errors marked ErrBlocked.
func control(opts Options) func(network, address string, c syscall.RawConn) error {
	if opts.AllowPrivate {
		return nil
	}
	return func(network, address string, c syscall.RawConn) error {
		if err := guardian.Safe(network, address, c); err != nil {
			return fmt.Errorf("%w: %w", ErrBlocked, err)
		}
		return nil
	}
}

// NewTransport returns a transport for many small POSTs to a modest number of hosts: it
// keeps up to 100 idle connections per host, speaks HTTP/2 where the receiver offers it,
// ignores proxy environment variables (a proxy would connect on our behalf, past the
// guard), and in production dials only public addresses. Per-attempt timeouts belong on
// the request's context.
func NewTransport(opts Options) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   control(opts),
	}
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           1000,
		MaxIdleConnsPerHost:    100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	if opts.InsecureSkipVerify {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // per-webhook opt-in, see Options
	}
	return t
}

// NewClient returns a client on NewTransport(opts) that never follows redirects: a 3xx
// comes back as the response (and counts as a failed attempt). It sets no overall timeout;
// give each request a context with the webhook's timeout.
func NewClient(opts Options) *http.Client {
	return &http.Client{
		Transport: NewTransport(opts),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CheckURL validates a webhook URL when it is created or changed: at most MaxURLLength
// characters, absolute, scheme https (or http when opts.AllowHTTP), a host, no user
// information. It reads the host as the HTTP client will dial it (IDNA mapping, so
// "１２７.０.０.１" is 127.0.0.1) and refuses a numeric host in any spelling but the
// canonical one: IPv4 in dotted decimal ("93.184.215.14"; not "127.1", "0x7f000001",
// "0177.0.0.1", "2130706433" or "127.0.0.1.", which resolvers accept, see parseIPv4), and
// IPv6 without a zone and without an embedded IPv4 address ("[::ffff:7f00:1]" is
// refused; write the IPv4 address). A host whose last label is a number is an address,
// never a DNS name, so a malformed one ("1.2.3.4.5", "08.0.0.1") is refused too. Without
// opts.AllowPrivate it also refuses hosts that are blocked addresses (127.0.0.1, [::1],
// 10.0.0.1, 169.254.169.254, …, in any spelling, as the dial-time guard would) and
// localhost names ("localhost", "localhost.", "api.localhost"; RFC 6761 §6.3). It does not
// resolve DNS: names are checked at connect time by the client. Errors wrap
// ErrInvalidURL or ErrBlocked and their messages are fit for an API validation error.
func CheckURL(raw string, opts Options) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("%w: must be at most %d characters", ErrInvalidURL, MaxURLLength)
	}
	if raw == "" {
		return fmt.Errorf("%w: must not be empty", ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: cannot be parsed", ErrInvalidURL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !opts.AllowHTTP {
			return fmt.Errorf("%w: must use https", ErrInvalidURL)
		}
	case "":
		return fmt.Errorf("%w: must be absolute, such as https://example.com/hooks", ErrInvalidURL)
	default:
		return fmt.Errorf("%w: scheme %q is not supported, use https", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: must be of the form %s://host/path", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: must not contain user information; use the webhook's auth settings", ErrInvalidURL)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: must have a host", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %s is out of range", ErrInvalidURL, p)
		}
	}
	return checkHost(u, opts)
}

// checkHost applies CheckURL's rules to the host of u.
func checkHost(u *url.URL, opts Options) error {
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("%w: host %s is not a valid IPv6 address", ErrInvalidURL, u.Host)
		}
		if v4, ok := embeddedIPv4(ip); ok {
			if err := blocked(v4, u.Host, opts); err != nil {
				return err
			}
			return fmt.Errorf("%w: host %s embeds an IPv4 address; write it as %s", ErrInvalidURL, u.Host, v4)
		}
		if err := blocked(ip.WithZone(""), u.Host, opts); err != nil {
			return err
		}
		if ip.Zone() != "" {
			return fmt.Errorf("%w: host %s must not have a zone", ErrInvalidURL, u.Host)
		}
		return nil
	}
	// What net/http dials: a name that is not ASCII goes through IDNA's lookup mapping.
	if !isASCII(host) {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return fmt.Errorf("%w: host %s is not a valid name", ErrInvalidURL, host)
		}
		host = ascii
	}
	host = strings.ToLower(host)
	if strings.HasPrefix(host, ".") || strings.Contains(host, "..") {
		return fmt.Errorf("%w: host %s has an empty label", ErrInvalidURL, host)
	}
	if ip, numeric, ok := parseIPv4(host); numeric {
		switch {
		case !ok:
			return fmt.Errorf("%w: host %s ends in a number but is not an IPv4 address", ErrInvalidURL, host)
		case blocked(ip, u.Hostname(), opts) != nil:
			return blocked(ip, u.Hostname(), opts)
		case ip.String() != u.Hostname():
			return fmt.Errorf("%w: host %s is IPv4 address %s; write it so", ErrInvalidURL, u.Hostname(), ip)
		}
		return nil
	}
	if h := strings.TrimSuffix(host, "."); !opts.AllowPrivate && (h == "localhost" || strings.HasSuffix(h, ".localhost")) {
		return fmt.Errorf("%w: %s is a local address", ErrBlocked, host)
	}
	return nil
}

// blocked returns an ErrBlocked error naming host when ip is an address the dial-time
// guard refuses, unless opts.AllowPrivate.
func blocked(ip netip.Addr, host string, opts Options) error {
	if opts.AllowPrivate {
		return nil
	}
	if err := guardian.SafeAddr(ip.Unmap()); err != nil {
		if ip.String() == host {
			return fmt.Errorf("%w: %s is not a public address", ErrBlocked, host)
		}
		return fmt.Errorf("%w: %s is not a public address (it is %s)", ErrBlocked, host, ip.Unmap())
	}
	return nil
}

// embeddedIPv4 returns the IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d, RFC 4291
// §2.5.5.2) or IPv4-compatible (::a.b.c.d, deprecated by §2.5.5.1) IPv6 address; :: and
// ::1 are neither.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	b := ip.As16()
	if !ip.Is6() || [12]byte(b[:12]) != [12]byte{} || ip.WithZone("") == netip.IPv6Unspecified() || ip.WithZone("") == netip.IPv6Loopback() {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(b[12:])), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

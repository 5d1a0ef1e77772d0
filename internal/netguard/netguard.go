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
// information. Without opts.AllowPrivate it also refuses hosts that are blocked IP
// literals (127.0.0.1, [::1], 10.0.0.1, 169.254.169.254, …) and localhost names. It does
// not resolve DNS: names are checked at connect time by the client. Errors wrap
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
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: must have a host", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %s is out of range", ErrInvalidURL, p)
		}
	}
	if opts.AllowPrivate {
		return nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: %s is a local address", ErrBlocked, host)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := guardian.SafeAddr(ip.WithZone("")); err != nil {
			return fmt.Errorf("%w: %s is not a public address", ErrBlocked, host)
		}
	}
	return nil
}

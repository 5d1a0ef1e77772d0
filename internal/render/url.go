package render

import (
	"fmt"
	"net/url"
	"strings"
)

// A target URL may hold placeholders in its path and query only (API.md "url"): the
// scheme, user information, host and port are the admin's as written, so what the SSRF
// guard checked at write time is where requests go (netguard still checks each dial).
// The URL is split as net/url splits it: the fragment from the first '#', the query from
// the first '?' before it, the authority from "scheme://" to the next '/'.

// urlParts is a target URL cut into the places CheckURL and URL tell apart. Each is a
// substring of the target; joined in order they are the target.
type urlParts struct {
	head  string // scheme and authority, "https://user@host:port"; all of it if no path
	path  string // from the path's '/', "" if none
	query string // from '?', "" if none
	frag  string // from '#', "" if none
}

func splitURL(target string) (p urlParts, absolute bool) {
	rest := target
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, p.frag = rest[:i], rest[i:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, p.query = rest[:i], rest[i:]
	}
	p.head = rest
	i := strings.Index(rest, "://")
	if i < 0 || !validScheme(rest[:i]) {
		return p, false
	}
	if j := strings.IndexByte(rest[i+3:], '/'); j >= 0 {
		p.head, p.path = rest[:i+3+j], rest[i+3+j:]
	}
	return p, true
}

// validScheme is RFC 3986's scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// CheckURL reports why a target URL's placeholders are malformed, nil if they are fine:
// every '{' must open a placeholder `{name}` (a literal brace is written %7B and %7D),
// and placeholders stand only in an absolute URL's path and query.
func CheckURL(target string) error {
	p, absolute := splitURL(target)
	if err := checkBraces(target); err != nil {
		return err
	}
	if !strings.Contains(target, "{") {
		return nil
	}
	if !absolute {
		return fmt.Errorf("placeholders need an absolute URL such as https://example.com/devices/{device_id}")
	}
	if i := strings.IndexByte(p.head, '{'); i >= 0 {
		name, _, _ := placeholderAt(p.head, i)
		return fmt.Errorf("placeholder {%s} is in the scheme, host, port or user information; placeholders may stand only in the path and query", name)
	}
	if i := strings.IndexByte(p.frag, '{'); i >= 0 {
		name, _, _ := placeholderAt(p.frag, i)
		return fmt.Errorf("placeholder {%s} is in the fragment (after #), which is never sent; placeholders may stand only in the path and query", name)
	}
	return nil
}

// checkBraces: every '{' opens a placeholder and every '}' closes one.
func checkBraces(target string) error {
	for i := 0; i < len(target); i++ {
		switch target[i] {
		case '{':
			_, end, ok := placeholderAt(target, i)
			if !ok {
				return fmt.Errorf("has a { at character %d that opens no placeholder: a placeholder is {name}, the name letters, digits, _ and . (such as {device_id} or {device.id}); write a literal brace as %%7B", charPos(target, i))
			}
			i = end - 1
		case '}':
			return fmt.Errorf("has a } at character %d that closes no placeholder; write a literal brace as %%7D", charPos(target, i))
		}
	}
	return nil
}

// URL fills the placeholders of a target URL from ev, each value percent-escaped for its
// place, and returns the URL to request. The scheme, authority and fragment are kept as
// written, placeholders in them too (CheckURL refuses those at write time), so the host
// never changes. A value is its text (a string as it is, other JSON values their compact
// JSON text), escaped:
//   - in the path, as one path segment (url.PathEscape: '/', '?', '#', '%' and the like
//     escaped), so a value adds no segment; a segment that would come out "." or ".."
//     has its dots written %2E, so a value cannot climb the path;
//   - in the query, as a query component (url.QueryEscape, with a space written %20
//     rather than '+', which only form decoders read as a space).
//
// A URL without placeholders comes back unchanged. Errors: *MissingError naming the first
// placeholder without a value; ErrTooLarge past MaxURL bytes.
func URL(target string, ev EventInput, vars Vars) (string, error) {
	if !strings.Contains(target, "{") {
		return target, nil
	}
	p, absolute := splitURL(target)
	if !absolute {
		return target, nil
	}
	r := newResolver(ev, vars)
	var b strings.Builder
	b.WriteString(p.head)
	// Path: segment by segment (a placeholder never spans a '/').
	for i, seg := range strings.Split(p.path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		filled, n, err := fill(seg, r, url.PathEscape)
		if err != nil {
			return "", err
		}
		if n > 0 && (filled == "." || filled == "..") {
			filled = strings.ReplaceAll(filled, ".", "%2E")
		}
		b.WriteString(filled)
	}
	filled, _, err := fill(p.query, r, queryEscape)
	if err != nil {
		return "", err
	}
	b.WriteString(filled)
	b.WriteString(p.frag)
	if b.Len() > MaxURL {
		return "", fmt.Errorf("%w: the URL with its placeholders filled is longer than %d bytes", ErrTooLarge, MaxURL)
	}
	return b.String(), nil
}

// fill replaces the placeholders of s with their values, escaped; n counts them. Text
// that is no placeholder is kept.
func fill(s string, r *resolver, escape func(string) string) (string, int, error) {
	if !strings.Contains(s, "{") {
		return s, 0, nil
	}
	var b strings.Builder
	n, start := 0, 0
	for i := 0; i < len(s); i++ {
		name, end, ok := placeholderAt(s, i)
		if !ok {
			continue
		}
		v, err := r.lookup(name)
		if err != nil {
			return "", 0, err
		}
		b.WriteString(s[start:i])
		b.WriteString(escape(v.text()))
		if b.Len() > MaxURL {
			return "", 0, fmt.Errorf("%w: the URL with its placeholders filled is longer than %d bytes", ErrTooLarge, MaxURL)
		}
		n++
		start, i = end, end-1
	}
	b.WriteString(s[start:])
	return b.String(), n, nil
}

// queryEscape escapes s for a query, a space as %20.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

package redact

import (
	"net/url"
	"strings"
)

// URL returns raw as records and reads show it: its user information
// ("https://user:pass@host/") replaced by Masked whole (a lone user name may be a
// token), and the value of each query parameter whose name is a credential's (Sensitive:
// "?api_key=…", "?access_token=…") by Masked; the rest as written. A URL that cannot be
// parsed is shown as Masked.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Masked
	}
	if u.RawQuery != "" {
		params := strings.Split(u.RawQuery, "&")
		for i, param := range params {
			name, _, hasValue := strings.Cut(param, "=")
			if decoded, err := url.QueryUnescape(name); err == nil {
				name = decoded
			}
			if hasValue && Sensitive(name) {
				params[i] = param[:strings.IndexByte(param, '=')+1] + Masked
			}
		}
		u.RawQuery = strings.Join(params, "&")
	}
	if u.User == nil {
		return u.String()
	}
	// url.URL escapes the mask's asterisks in user information: write a plain stand-in,
	// which String puts right after the first "//", and replace it.
	u.User = url.User("x")
	return strings.Replace(u.String(), "//x@", "//"+Masked+"@", 1)
}

package storage

import (
	"net/url"
	"strings"
)

// Redact returns rawURL fit for a message, a log line or a counter: its
// user info (a password, or a token in the user's place) and the values of
// its query parameters (where tokens and signatures travel) are replaced by
// "REDACTED". Paths and other URLs are returned unchanged.
func Redact(rawURL string) string {
	if !strings.Contains(rawURL, "://") || !strings.ContainsAny(rawURL, "@?") {
		return rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not a URL we can take apart: keep the scheme and host only.
		scheme, rest, _ := strings.Cut(rawURL, "://")
		host, _, _ := strings.Cut(rest, "/")
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		return scheme + "://" + host + "/REDACTED"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

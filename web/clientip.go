package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIPFunc returns how to read a request's client address. With header empty it is the
// host of RemoteAddr. Behind a reverse proxy, header names what the proxy sets: for
// X-Forwarded-For the last address (the one the proxy appended; earlier ones come from the
// client and can be forged), for any other header (X-Real-IP) its value. A missing or
// malformed header falls back to RemoteAddr, so a client cannot pick its own key.
func ClientIPFunc(header string) func(*http.Request) string {
	header = http.CanonicalHeaderKey(strings.TrimSpace(header))
	return func(r *http.Request) string {
		if header != "" {
			vals := r.Header.Values(header)
			if len(vals) > 0 {
				v := vals[len(vals)-1]
				if i := strings.LastIndexByte(v, ','); i >= 0 {
					v = v[i+1:]
				}
				if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
					return a.String()
				}
			}
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
}

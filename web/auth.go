package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/tandemhq/tandem"
)

// ValidAPIKey reports whether key is one of keys, in constant time: neither the content nor
// the length of a key leaks through timing.
func ValidAPIKey(keys []string, key string) bool {
	if key == "" {
		return false
	}
	got := sha256.Sum256([]byte(key))
	match := 0
	for _, k := range keys {
		want := sha256.Sum256([]byte(k))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// IsLoopback reports whether a request's remote address is this machine.
func IsLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authorizeAPIKey requires a configured API key as the bearer token.
func (s *Server) authorizeAPIKey(r *http.Request) error {
	if len(s.cfg.APIKeys) == 0 {
		return tandem.Errorf(tandem.EFORBIDDEN, "this API is disabled: the server has no API key configured")
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return tandem.Errorf(tandem.EUNAUTHORIZED, "an API key is required (Authorization: Bearer <key>)")
	}
	if !ValidAPIKey(s.cfg.APIKeys, token) {
		return tandem.Errorf(tandem.EUNAUTHORIZED, "invalid API key")
	}
	return nil
}

// integratorsOnly guards the REST channel and transcripts, which speak for any customer id:
// with API keys configured a request must carry one (Authorization: Bearer <key>); with
// none, only this machine is served, so a demo on localhost works and nothing is open to
// a network by default. Browsers use the web chat socket instead.
func (s *Server) integratorsOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.APIKeys) == 0 {
			if !IsLoopback(r.RemoteAddr) {
				WriteError(w, r, s.log, tandem.Errorf(tandem.EFORBIDDEN,
					"the REST API is served only to this machine until TANDEM_API_KEYS is set"))
				return
			}
			h(w, r)
			return
		}
		if err := s.authorizeAPIKey(r); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
			WriteError(w, r, s.log, err)
			return
		}
		h(w, r)
	}
}

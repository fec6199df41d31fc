package app

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// editorsOnly guards the staff pages (the knowledge editor, the agent inbox) until agent
// accounts exist: with API keys
// configured, a request must carry one (HTTP Basic password, any user name, or a Bearer
// token); with none configured, only requests from this machine (loopback) are let in, so the
// demo works on localhost and nothing is exposed on a network by default.
func editorsOnly(keys []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(keys) == 0 {
			if isLoopback(r.RemoteAddr) {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, "staff pages (knowledge editor, inbox) are only served to this machine until TANDEM_API_KEYS is set", http.StatusForbidden)
			return
		}
		if validKey(keys, presentedKey(r)) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="tandem staff", charset="UTF-8"`)
		http.Error(w, "sign in with an API key as the password", http.StatusUnauthorized)
	})
}

func presentedKey(r *http.Request) string {
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return ""
}

func validKey(keys []string, got string) bool {
	if got == "" {
		return false
	}
	ok := 0
	for _, k := range keys {
		ok |= subtle.ConstantTimeCompare([]byte(k), []byte(got))
	}
	return ok == 1
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

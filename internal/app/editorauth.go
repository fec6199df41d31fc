package app

import (
	"net/http"
	"strings"

	"github.com/tandemhq/tandem/web"
)

// editorsOnly guards the staff pages (the knowledge editor, the agent inbox) until agent
// accounts exist: with API keys
// configured, a request must carry one (HTTP Basic password, any user name, or a Bearer
// token); with none configured, only requests from this machine (loopback) are let in, so the
// demo works on localhost and nothing is exposed on a network by default.
func editorsOnly(keys []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(keys) == 0 {
			if web.IsLoopback(r.RemoteAddr) {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, "staff pages (knowledge editor, inbox) are only served to this machine until TANDEM_API_KEYS is set", http.StatusForbidden)
			return
		}
		if web.ValidAPIKey(keys, presentedKey(r)) {
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

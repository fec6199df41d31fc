package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
)

// The chat widget a company pastes into its own site:
//
//	<script src="https://support.example.com/widget.js" data-bot="demo" async></script>
//
// /widget.js (static/widget.js) adds a launcher button to the host page and, on click, an
// iframe of /embed?bot=<bot>: the chat page in its compact mode. Only /embed may be framed,
// and only by Config.EmbedOrigins and the server's own origin; every other page keeps
// frame-ancestors 'none' and X-Frame-Options: DENY. The iframe's socket keeps its visitor
// with a signed token rather than a cookie (see connectors/webchat, EmbedProtocol).

// originRE is a web origin as a CSP host-source accepts it: scheme, host (a DNS name or a
// bracketed IPv6 address), optional port; no path, no wildcard.
var originRE = regexp.MustCompile(`^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:([0-9]{1,5}))?$`)

// CheckEmbedOrigin reports why s is not an origin that may frame the widget (the
// configuration loader checks web_chat.embed_origins with it too).
func CheckEmbedOrigin(s string) error {
	switch {
	case strings.Contains(s, "*"):
		// A wildcard would let any site (or any subdomain, however it is hosted) frame
		// the chat and trick visitors into typing into it.
		return tandem.Errorf(tandem.EINVALID, "embed origin %q: wildcards are not allowed; list each site", s)
	case strings.Count(s, "/") > 2 || strings.ContainsAny(s, "?#"):
		return tandem.Errorf(tandem.EINVALID, "embed origin %q: give scheme://host[:port] only, no path (drop a trailing slash)", s)
	}
	m := originRE.FindStringSubmatch(s)
	if m == nil {
		return tandem.Errorf(tandem.EINVALID, "embed origin %q is not an http(s) origin scheme://host[:port]", s)
	}
	if p := m[len(m)-1]; p != "" {
		if n, _ := strconv.Atoi(p); n < 1 || n > 65535 {
			return tandem.Errorf(tandem.EINVALID, "embed origin %q: port %s is outside 1..65535", s, p)
		}
	}
	return nil
}

// embedPolicy is the Content-Security-Policy of /embed: the chat page's, framed only by
// the server itself (the demo shop) and the configured origins.
func embedPolicy(origins []string) string {
	return strings.Replace(contentSecurityPolicy, "frame-ancestors 'none'",
		strings.Join(append([]string{"frame-ancestors 'self'"}, origins...), " "), 1)
}

// handleEmbed serves the chat page in its compact mode for the widget's iframe, with the
// framing policy that lets the configured sites show it.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.embedCSP)
	// frame-ancestors supersedes X-Frame-Options in every current browser; older ones
	// would obey DENY and show nothing.
	h.Del("X-Frame-Options")
	s.renderChat(w, r, true)
}

// shopTemplate renders the demo's sample company page.
var shopTemplate = template.Must(template.ParseFS(assets, "templates/shop.html"))

// DemoShopHandler serves a sample company page showing the widget for bot, for the demo
// (the app mounts it at /demo/shop); origin is the server's public URL, shown in the
// page's snippet. The page is on the server's own origin, which may always frame /embed.
func DemoShopHandler(origin, bot string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = shopTemplate.Execute(w, struct{ Origin, Bot string }{strings.TrimSuffix(origin, "/"), bot})
	})
}

// handleWidget serves the widget script. It is loaded by other sites' pages, as a classic
// script (no CORS), and allowed under a Cross-Origin-Embedder-Policy of theirs.
func (s *Server) handleWidget(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(assets, "static/widget.js")
	if err != nil {
		panic(fmt.Sprintf("web: embedded widget.js: %v", err)) // the embed directive guarantees it
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write(b)
}

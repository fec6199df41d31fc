package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

// frameAllowed reports whether a page of ancestor may frame a response with csp, as a
// browser reads frame-ancestors (exact origins, 'self', 'none'; the server has no other
// source kinds to offer). self is the framed page's origin.
func frameAllowed(t *testing.T, csp, ancestor, self string) bool {
	t.Helper()
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 || f[0] != "frame-ancestors" {
			continue
		}
		for _, src := range f[1:] {
			switch {
			case src == "'none'":
				return false
			case src == "'self'" && ancestor == self, src == ancestor:
				return true
			case strings.Contains(src, "*"):
				t.Errorf("frame-ancestors has a wildcard source %q", src)
			}
		}
		return false
	}
	t.Errorf("CSP %q has no frame-ancestors: any site could frame the page", csp)
	return true
}

// TestEmbedFraming: only /embed may be framed, by the server itself and the configured
// origins; every other page keeps frame-ancestors 'none' and X-Frame-Options: DENY.
func TestEmbedFraming(t *testing.T) {
	t.Parallel()
	const self = "http://example.com" // httptest.NewRequest's host
	shop := []string{"https://shop.example.com", "http://localhost:8081"}
	tests := []struct {
		name     string
		origins  []string
		path     string
		ancestor string
		want     bool
	}{
		{"OKEmbedSelfByDefault", nil, "/embed?bot=demo", self, true},
		{"ErrEmbedOtherSiteByDefault", nil, "/embed?bot=demo", "https://shop.example.com", false},
		{"OKEmbedListed", shop, "/embed?bot=demo", "https://shop.example.com", true},
		{"OKEmbedListedPort", shop, "/embed?bot=demo", "http://localhost:8081", true},
		{"OKEmbedSelfWithList", shop, "/embed?bot=demo", self, true},
		{"ErrEmbedUnlisted", shop, "/embed?bot=demo", "https://evil.example.com", false},
		{"ErrEmbedOtherScheme", shop, "/embed?bot=demo", "http://shop.example.com", false},
		{"ErrEmbedOtherPort", shop, "/embed?bot=demo", "http://localhost:8082", false},
		{"ErrEmbedSubdomain", shop, "/embed?bot=demo", "https://a.shop.example.com", false},
		{"ErrChatPage", shop, "/", "https://shop.example.com", false},
		{"ErrChatPageSelf", shop, "/", self, false},
		{"ErrWidgetScript", shop, "/widget.js", "https://shop.example.com", false},
		{"ErrStatic", shop, "/static/chat.js", "https://shop.example.com", false},
		{"ErrHealth", shop, "/healthz", "https://shop.example.com", false},
		{"ErrUnknownPath", shop, "/embed/x", "https://shop.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *options) { o.cfg.EmbedOrigins = tt.origins })
			rec := f.do(t, http.MethodGet, tt.path, "", "")
			h := rec.Header()
			if got := frameAllowed(t, h.Get("Content-Security-Policy"), tt.ancestor, self); got != tt.want {
				t.Errorf("%s framed by %s: allowed = %v, want %v (CSP %q)", tt.path, tt.ancestor, got, tt.want, h.Get("Content-Security-Policy"))
			}
			embed := strings.HasPrefix(tt.path, "/embed?")
			if xfo := h.Get("X-Frame-Options"); (xfo == "DENY") == embed {
				t.Errorf("%s: X-Frame-Options = %q; want DENY everywhere but /embed, none there", tt.path, xfo)
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP %q lost the rest of the policy", tt.path, csp)
			}
		})
	}
}

// TestEmbedPage: /embed is the chat page's compact mode; /widget.js is a script other
// sites load.
func TestEmbedPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	t.Run("OKEmbed", func(t *testing.T) {
		t.Parallel()
		rec := f.do(t, http.MethodGet, "/embed?bot=demo", "", "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, `data-embed="true"`) || !strings.Contains(body, `data-bot="demo"`) ||
			!strings.Contains(body, "/static/chat.js") || strings.Contains(body, "autofocus") || strings.Contains(body, "chat-header") {
			t.Errorf("GET /embed = %d %s; want the compact chat page for demo, without header or autofocus", rec.Code, body)
		}
	})
	t.Run("OKChatPageUnchanged", func(t *testing.T) {
		t.Parallel()
		body := f.do(t, http.MethodGet, "/?bot=demo", "", "").Body.String()
		if strings.Contains(body, "data-embed") || !strings.Contains(body, "chat-header") {
			t.Errorf("GET / = %s; want the full page", body)
		}
	})
	t.Run("ErrEmbedBadBot", func(t *testing.T) {
		t.Parallel()
		if rec := f.do(t, http.MethodGet, "/embed?bot=%3Cscript%3E", "", ""); rec.Code != http.StatusBadRequest {
			t.Errorf("GET /embed with a bad bot = %d, want 400", rec.Code)
		}
	})
	t.Run("OKWidget", func(t *testing.T) {
		t.Parallel()
		rec := f.do(t, http.MethodGet, "/widget.js", "", "")
		h := rec.Header()
		if rec.Code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") ||
			h.Get("Cross-Origin-Resource-Policy") != "cross-origin" || !strings.Contains(rec.Body.String(), "TandemWidget") {
			t.Errorf("GET /widget.js = %d %v; want the script, loadable by other sites", rec.Code, h)
		}
	})
}

// TestConfigEmbedOrigins: each embed origin must be scheme://host[:port]; anything else
// is refused with EINVALID and names the bad value.
func TestConfigEmbedOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://shop.example.com", true},
		{"http://localhost:8080", true},
		{"https://[::1]:8443", true},
		{"http://127.0.0.1", true},
		{"*", false},
		{"https://*.example.com", false},
		{"https://shop.example.com/", false},
		{"https://shop.example.com/store", false},
		{"https://shop.example.com?x=1", false},
		{"shop.example.com", false},
		{"ftp://shop.example.com", false},
		{"https://user@shop.example.com", false},
		{"https://shop.example.com:99999", false},
		{"https://shop.example.com:0", false},
		{"https://shop example.com", false},
		{"https://shop.example.com; script-src *", false},
		{"'self'", false},
		{"", false},
	}
	for _, tt := range tests {
		c := web.Config{EmbedOrigins: []string{"https://ok.example.com", tt.origin}}.WithDefaults()
		err := c.Validate()
		if tt.ok && err != nil {
			t.Errorf("origin %q: %v, want accepted", tt.origin, err)
		}
		if !tt.ok && (tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), tt.origin)) {
			t.Errorf("origin %q: %v, want an invalid error naming it", tt.origin, err)
		}
	}
}

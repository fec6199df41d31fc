package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// WebChat limits the web chat per process (with N replicas a client gets up to N times as
// much). Zero means the default; a negative rate disables that limit.
type WebChat struct {
	// MessagesPerMinute and MessageBurst bound one visitor's messages. Defaults 30 and 10.
	MessagesPerMinute int `yaml:"messages_per_minute"`
	MessageBurst      int `yaml:"message_burst"`
	// ConnectionsPerMinute bounds the chat sockets one client address opens. Default 30.
	ConnectionsPerMinute int `yaml:"connections_per_minute"`
	// EmbedOrigins are the company sites whose pages may show the chat widget (frame
	// /embed), each scheme://host[:port] with no path and no wildcard
	// (TANDEM_WEB_CHAT_EMBED_ORIGINS, comma-separated). The server's own pages always may.
	EmbedOrigins []string `yaml:"embed_origins"`
}

// originRE is a web origin: http(s), a DNS name or bracketed IPv6 address, optional port.
// web.Config checks the same; the loader checks first to name the key.
var originRE = regexp.MustCompile(`^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:([0-9]{1,5}))?$`)

// validate reports the first embed origin that is not an origin.
func (w WebChat) validate() error {
	for i, o := range w.EmbedOrigins {
		key := fmt.Sprintf("web_chat.embed_origins[%d]", i)
		switch {
		case strings.Contains(o, "*"):
			// Any site could frame the chat and trick visitors into typing into it.
			return fmt.Errorf("%s: %q: wildcards are not allowed; list each site", key, o)
		case strings.Count(o, "/") > 2 || strings.ContainsAny(o, "?#"):
			return fmt.Errorf("%s: %q: give scheme://host[:port] only, no path (drop a trailing slash)", key, o)
		}
		m := originRE.FindStringSubmatch(o)
		if m == nil {
			return fmt.Errorf("%s: %q is not an http(s) origin scheme://host[:port]", key, o)
		}
		if p := m[len(m)-1]; p != "" {
			if n, _ := strconv.Atoi(p); n < 1 || n > 65535 {
				return fmt.Errorf("%s: %q: port %s is outside 1..65535", key, o, p)
			}
		}
	}
	if w.MessageBurst < 0 {
		return errors.New("web_chat.message_burst: must not be negative")
	}
	return nil
}

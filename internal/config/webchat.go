package config

import (
	"errors"
	"fmt"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
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

// validate reports the first embed origin that is not an origin.
func (w WebChat) validate() error {
	for i, o := range w.EmbedOrigins {
		if err := web.CheckEmbedOrigin(o); err != nil {
			return fmt.Errorf("web_chat.embed_origins[%d]: %s", i, tandem.ErrorMessage(err))
		}
	}
	if w.MessageBurst < 0 {
		return errors.New("web_chat.message_burst: must not be negative")
	}
	return nil
}

// Package twilio is the Twilio connector: customers write to a bot by SMS or WhatsApp
// through Twilio's Programmable Messaging, and the bot answers through Twilio's Messages
// API. One Connector serves one bot on one channel (SMS or WhatsApp).
//
// Inbound, Twilio posts each message to Config.WebhookURL; Handler checks its
// X-Twilio-Signature and hands it to the engine. Outbound, Send calls the Messages API
// with the official twilio-go client. With Config.StatusCallbackURL, Twilio later reports
// each message's outcome there (delivered, undelivered, failed); StatusHandler checks and
// passes those reports on.
package twilio

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// DefaultMaxSegments is the number of SMS segments a reply may use when Config.MaxSegments
// is zero.
const DefaultMaxSegments = 3

// maxSegmentsLimit is Twilio's recommended ceiling: longer messages are 1600 characters, the
// Body limit, and deliver poorly.
const maxSegmentsLimit = 10

// Config configures one bot's Twilio sender on one channel.
type Config struct {
	// BotID is the bot that answers the messages received on this sender.
	BotID string
	// Channel is tandem.ChannelSMS or tandem.ChannelWhatsApp.
	Channel tandem.Channel
	// AccountSID is the Twilio account ("AC…"); it is also the API user name.
	AccountSID string
	// AuthToken is the account's auth token: the API password and the webhook signing key.
	// Secret.
	AuthToken string
	// From is the sender's E.164 number (+15551234567), without a "whatsapp:" prefix: the
	// connector adds it on WhatsApp. Set From or MessagingServiceSID, not both.
	From string
	// MessagingServiceSID ("MG…") sends through a Messaging Service instead of one number.
	MessagingServiceSID string
	// WebhookURL is the exact public URL Twilio posts inbound messages to, as configured on
	// the number (scheme, host, path and query): Twilio signs it, so it is required.
	WebhookURL string
	// StatusCallbackURL, when set, is sent with every message as its StatusCallback: Twilio
	// posts the message's later states there (delivered, undelivered, failed, ...), signed
	// like the inbound webhook, and StatusHandler serves it. Twilio refuses URLs it cannot
	// reach (localhost, private addresses), so leave it empty unless it is public.
	StatusCallbackURL string
	// MaxSegments bounds an SMS reply, in segments; 0 means DefaultMaxSegments. Unused on
	// WhatsApp, whose body limit is MaxWhatsAppBody characters.
	MaxSegments int
	// MaxSegmentsFunc, when set, is asked at every send instead of MaxSegments, so a bot's
	// reloaded setting applies without a restart; a result outside 1..10 means MaxSegments.
	MaxSegmentsFunc func() int
}

// WithDefaults returns c with its unset fields defaulted.
func (c Config) WithDefaults() Config {
	if c.MaxSegments == 0 {
		c.MaxSegments = DefaultMaxSegments
	}
	return c
}

var (
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	twilioSID    = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)
	alphanumeric = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
)

// Validate reports the first problem with c as an EINVALID *tandem.Error.
func (c Config) Validate() error {
	switch {
	case c.BotID == "":
		return tandem.Errorf(tandem.EINVALID, "twilio: bot id is required")
	case c.Channel != tandem.ChannelSMS && c.Channel != tandem.ChannelWhatsApp:
		return tandem.Errorf(tandem.EINVALID, "twilio: channel %q is not %q or %q", c.Channel, tandem.ChannelSMS, tandem.ChannelWhatsApp)
	case !twilioSID.MatchString(c.AccountSID) || !strings.HasPrefix(c.AccountSID, "AC"):
		return tandem.Errorf(tandem.EINVALID, "twilio: account sid must be AC followed by 32 hex digits")
	case !alphanumeric.MatchString(c.AuthToken):
		// twilio-go refuses credentials with other characters.
		return tandem.Errorf(tandem.EINVALID, "twilio: auth token is required and must be letters and digits")
	case c.From == "" && c.MessagingServiceSID == "":
		return tandem.Errorf(tandem.EINVALID, "twilio: set from (a number) or messaging service sid")
	case c.From != "" && c.MessagingServiceSID != "":
		return tandem.Errorf(tandem.EINVALID, "twilio: set from or messaging service sid, not both")
	case c.From != "" && !e164.MatchString(c.From):
		return tandem.Errorf(tandem.EINVALID, "twilio: from %q is not an E.164 number like +15551234567 (no whatsapp: prefix)", c.From)
	case c.MessagingServiceSID != "" && (!twilioSID.MatchString(c.MessagingServiceSID) || !strings.HasPrefix(c.MessagingServiceSID, "MG")):
		return tandem.Errorf(tandem.EINVALID, "twilio: messaging service sid must be MG followed by 32 hex digits")
	case c.MaxSegments < 1 || c.MaxSegments > maxSegmentsLimit:
		return tandem.Errorf(tandem.EINVALID, "twilio: max segments %d is not between 1 and %d", c.MaxSegments, maxSegmentsLimit)
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return tandem.Errorf(tandem.EINVALID, "twilio: webhook url %q is not an absolute http(s) URL", c.WebhookURL)
	}
	if c.StatusCallbackURL != "" {
		u, err := url.Parse(c.StatusCallbackURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return tandem.Errorf(tandem.EINVALID, "twilio: status callback url %q is not an absolute http(s) URL", c.StatusCallbackURL)
		}
	}
	return nil
}

// Option configures a Connector beyond its Config.
type Option func(*Connector)

// WithBaseURL sends API requests to base (scheme, host and an optional path prefix) instead
// of https://api.twilio.com: a regional host, a proxy, or a test server.
func WithBaseURL(base string) Option {
	return func(c *Connector) { c.baseURL = base }
}

// WithHTTPClient makes API requests with hc (its transport, timeout and redirect policy).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Connector) { c.httpClient = hc }
}

// WithLogger logs to l; nil means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *Connector) { c.log = l }
}

// WithNow makes the connector read the time from now (an inbound message's ReceivedAt).
func WithNow(now func() time.Time) Option {
	return func(c *Connector) { c.now = now }
}

// Connector is one bot's Twilio sender on one channel. It is safe for concurrent use.
type Connector struct {
	cfg        Config
	base       *url.URL // nil: the library's own host
	baseURL    string
	httpClient *http.Client
	log        *slog.Logger
	now        func() time.Time
}

// New returns the connector for cfg, which it defaults and validates.
func New(cfg Config, opts ...Option) (*Connector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg}
	for _, o := range opts {
		o(c)
	}
	if c.baseURL != "" {
		u, err := url.Parse(c.baseURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, tandem.Errorf(tandem.EINVALID, "twilio: base url %q is not an absolute http(s) URL", c.baseURL)
		}
		c.base = u
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{
			Timeout: 10 * time.Second, // as twilio-go's own default client
			// As twilio-go's default: a redirect is an answer, not something to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.log = c.log.With("connector", "twilio", "bot_id", cfg.BotID, "channel", string(cfg.Channel))
	return c, nil
}

// Channel returns the channel the connector serves (tandem.ChannelSMS or ChannelWhatsApp).
func (c *Connector) Channel() tandem.Channel { return c.cfg.Channel }

// address returns a number as Twilio addresses it on the connector's channel.
func (c *Connector) address(number string) string {
	number = strings.TrimPrefix(number, whatsAppPrefix)
	if c.cfg.Channel == tandem.ChannelWhatsApp {
		return whatsAppPrefix + number
	}
	return number
}

const whatsAppPrefix = "whatsapp:"

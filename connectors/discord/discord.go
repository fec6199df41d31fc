// Package discord is the Discord connector: customers write to the company's Discord bot in
// direct messages. The bot receives over Discord's gateway (a WebSocket the connector holds,
// see Run) and replies over the REST API (see Send), both through
// github.com/bwmarrin/discordgo. discordgo v0.29.0 speaks version 9 of both APIs
// (/api/v9/..., gateway ?v=9), which Discord still serves.
package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// Config configures one bot's Discord connector.
type Config struct {
	// BotID is the Tandem bot that answers this Discord bot's direct messages. Required.
	BotID string
	// Token is the Discord bot token (secret), with or without its "Bot " prefix. Required.
	Token string
}

// WithDefaults returns c with Token normalised: without surrounding space or its "Bot "
// prefix. There are no defaults.
func (c Config) WithDefaults() Config {
	t := strings.TrimSpace(c.Token)
	if t == "Bot" {
		t = ""
	}
	c.Token = strings.TrimSpace(strings.TrimPrefix(t, "Bot "))
	return c
}

// Validate reports a missing field as EINVALID.
func (c Config) Validate() error {
	switch {
	case c.BotID == "":
		return tandem.Errorf(tandem.EINVALID, "discord: bot id is required")
	case strings.TrimSpace(strings.TrimPrefix(c.Token, "Bot ")) == "":
		return tandem.Errorf(tandem.EINVALID, "discord: token is required")
	}
	return nil
}

// LogValue masks the token, so logging a Config never leaks it.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("bot_id", c.BotID), slog.String("token", "***"))
}

// String masks the token.
func (c Config) String() string { return fmt.Sprintf("{BotID:%s Token:***}", c.BotID) }

// authorization is the Authorization header value Discord expects for a bot.
func (c Config) authorization() string {
	return "Bot " + strings.TrimPrefix(c.Token, "Bot ")
}

// Option configures a Connector.
type Option func(*Connector)

// WithHTTPClient sets the client for REST calls (the gateway lookup included). The client is
// not modified. Default: a client with a 20 s timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(k *Connector) {
		if c != nil {
			k.client = c
		}
	}
}

// WithAPIURL sends the REST calls meant for https://discord.com to base instead (a test
// server, a proxy). The gateway's WebSocket address is whatever the REST gateway lookup
// answers, so pointing REST elsewhere points the gateway there too.
func WithAPIURL(base string) Option {
	return func(k *Connector) { k.apiURL = base }
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(k *Connector) {
		if l != nil {
			k.log = l
		}
	}
}

// dmCacheSize bounds the cache of open DM channels (user id → channel id).
const dmCacheSize = 10_000

// Connector is one Tandem bot's Discord bot. It is safe for concurrent use.
type Connector struct {
	cfg     Config
	client  *http.Client
	apiURL  string
	log     *slog.Logger
	session *discordgo.Session
	dms     *lru.Cache[string, string] // user id → DM channel id
	now     func() time.Time

	// Receive-side retries of a failing engine (see Run).
	attempts int
	backoff  time.Duration
	running  atomic.Bool

	// Fetching what the gateway did not deliver (see WithBackfill).
	backfill    BackfillSource
	refillDelay time.Duration // before a given-up message is fetched again
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Gateway   = (*Connector)(nil)
)

// New returns the connector for cfg. It does not connect; Run opens the gateway and Send
// calls the REST API.
func New(cfg Config, opts ...Option) (*Connector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := &Connector{cfg: cfg, client: &http.Client{Timeout: 20 * time.Second}, log: slog.Default(),
		now: time.Now, attempts: 5, backoff: 500 * time.Millisecond, refillDelay: time.Minute}
	for _, o := range opts {
		o(k)
	}
	if k.apiURL != "" {
		u, err := url.Parse(k.apiURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, tandem.Errorf(tandem.EINVALID, "discord: api url %q is not an absolute URL", k.apiURL)
		}
		c := *k.client // a copy: the caller's client stays as it was
		c.Transport = &rewrite{base: u, next: c.Transport}
		k.client = &c
	}
	k.dms, _ = lru.New[string, string](dmCacheSize)

	s, err := discordgo.New(cfg.authorization())
	if err != nil {
		return nil, fmt.Errorf("discord: new session: %w", err)
	}
	s.Client = k.client
	// A session-owned dialer rather than the package-wide websocket.DefaultDialer.
	s.Dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 45 * time.Second}
	// The delivery worker owns retries: a 429 comes back as *discordgo.RateLimitError (which
	// Send turns into a snooze) instead of a sleep inside Send, and a 502 is not retried
	// behind the worker's back.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.StateEnabled = false // the connector reads events, it keeps no guild or channel state
	s.SyncEvents = true    // handlers only filter and enqueue; see Run
	s.Identify.Intents = discordgo.IntentsDirectMessages | discordgo.IntentsMessageContent
	k.session = s
	return k, nil
}

// rewrite sends requests for discord.com to base. It is how WithAPIURL redirects discordgo,
// whose endpoints are package-level variables that the connector does not change.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "discord.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + r.URL.Path
		r.Host = ""
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// Channel returns tandem.ChannelDiscord.
func (k *Connector) Channel() tandem.Channel { return tandem.ChannelDiscord }

// Handler returns nil: Discord delivers to a bot over its gateway (Run), not webhooks.
func (k *Connector) Handler(connectors.Receiver) http.Handler { return nil }

// Discord JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
const (
	codeUnknownChannel = 10003
	codeUnknownUser    = 10013
	codeCannotMessage  = 50007 // the user blocks DMs from the bot or shares no server with it
	maxNonce           = 25    // characters Discord accepts in a message nonce
	defaultRetryLater  = time.Second
)

// createMessage is discordgo's MessageSend plus the nonce fields it does not expose (v0.29.0).
type createMessage struct {
	*discordgo.MessageSend
	Nonce        string `json:"nonce,omitempty"`
	EnforceNonce bool   `json:"enforce_nonce,omitempty"`
}

// Send delivers o as a direct message to the Discord user o.To and returns the message id.
// It opens the DM channel once per user (cached) and posts the rendered reply with a nonce
// derived from o.IdempotencyKey and enforce_nonce, so Discord itself returns the earlier
// message instead of posting a second one when the worker retries within Discord's nonce
// window (a few minutes). Errors: *connectors.RetryLaterError for a 429; EINVALID when the
// user cannot be messaged (50007), is unknown (10013) or the channel is gone for good
// (10003); any other error (5xx, network) is retryable.
func (k *Connector) Send(ctx context.Context, o connectors.Outgoing) (string, error) {
	if o.To == "" {
		return "", tandem.Errorf(tandem.EINVALID, "discord: no recipient")
	}
	msg := &createMessage{MessageSend: Render(o.Reply), Nonce: nonce(o.IdempotencyKey), EnforceNonce: o.IdempotencyKey != ""}
	channelID, cached, err := k.dmChannel(ctx, o.To)
	if err != nil {
		return "", sendError("open dm channel", err)
	}
	m, err := k.post(ctx, channelID, msg)
	if cached && discordCode(err) == codeUnknownChannel {
		// A cached channel can go stale; open it again once before giving up.
		k.dms.Remove(o.To)
		if channelID, _, err = k.dmChannel(ctx, o.To); err != nil {
			return "", sendError("open dm channel", err)
		}
		m, err = k.post(ctx, channelID, msg)
	}
	if err != nil {
		return "", sendError("send message", err)
	}
	return m.ID, nil
}

// dmChannel returns the DM channel with user, from the cache or opened now.
func (k *Connector) dmChannel(ctx context.Context, user string) (id string, cached bool, err error) {
	if id, ok := k.dms.Get(user); ok {
		return id, true, nil
	}
	ch, err := k.session.UserChannelCreate(user, discordgo.WithContext(ctx))
	if err != nil {
		return "", false, err
	}
	if ch == nil || ch.ID == "" {
		return "", false, errors.New("discord returned a channel without an id")
	}
	k.dms.Add(user, ch.ID)
	return ch.ID, false, nil
}

// post creates msg in a channel. It is ChannelMessageSendComplex without files, through the
// same endpoint, rate-limit bucket and session, because MessageSend has no nonce field.
func (k *Connector) post(ctx context.Context, channelID string, msg *createMessage) (*discordgo.Message, error) {
	endpoint := discordgo.EndpointChannelMessages(channelID)
	body, err := k.session.RequestWithBucketID(http.MethodPost, endpoint, msg, endpoint, discordgo.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	if err := discordgo.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if m.ID == "" {
		return nil, errors.New("discord returned a message without an id")
	}
	return &m, nil
}

// nonce is a 25-character nonce for an idempotency key of any length.
func nonce(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:maxNonce]
}

// sendError maps a discordgo error to the connector contract.
func sendError(op string, err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		after := defaultRetryLater
		if rl.RateLimit != nil && rl.TooManyRequests != nil && rl.RetryAfter > 0 {
			after = rl.RetryAfter
		}
		return &connectors.RetryLaterError{After: after, Err: fmt.Errorf("discord: %s: %w", op, err)}
	}
	switch code := discordCode(err); code {
	case codeCannotMessage, codeUnknownUser, codeUnknownChannel:
		var re *discordgo.RESTError
		errors.As(err, &re)
		return tandem.Errorf(tandem.EINVALID, "discord: %s: %s (code %d)", op, re.Message.Message, code)
	}
	return fmt.Errorf("discord: %s: %w", op, err)
}

// discordCode returns the JSON error code of a Discord REST error, 0 for any other error.
func discordCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

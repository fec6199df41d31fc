// Package slack is the customer-facing Slack connector: customers write to the company's
// Slack app in a direct message (from their own workspace through Slack Connect, or as
// members of the installing workspace) and the bot answers there. Messages arrive over the
// Events API and quick-reply buttons over interactivity, both as signed webhooks served by
// Connector.Handler; replies go out with chat.postMessage as Block Kit messages.
//
// The agent desk in Slack, where staff take over conversations, is a different adapter.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// Config is one Slack app's connection to one Tandem bot.
type Config struct {
	// BotID is the Tandem bot that answers the app's direct messages. Required.
	BotID string
	// BotToken is the app's bot token (xoxb-…) that chat.postMessage is called with.
	// Secret. Required.
	BotToken string
	// SigningSecret is the app's signing secret, which Slack signs every request to the
	// app with. Secret. Required.
	SigningSecret string
}

// WithDefaults returns c with surrounding white space trimmed from every field (secrets
// pasted from Slack's settings pages often carry a trailing newline). No field has a
// default value.
func (c Config) WithDefaults() Config {
	c.BotID = strings.TrimSpace(c.BotID)
	c.BotToken = strings.TrimSpace(c.BotToken)
	c.SigningSecret = strings.TrimSpace(c.SigningSecret)
	return c
}

// Validate reports the first missing or malformed field as an EINVALID error; the
// message never contains a secret.
func (c Config) Validate() error {
	switch {
	case c.BotID == "":
		return tandem.Errorf(tandem.EINVALID, "slack: bot_id is required")
	case c.BotToken == "":
		return tandem.Errorf(tandem.EINVALID, "slack: bot_token is required")
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		return tandem.Errorf(tandem.EINVALID, "slack: bot_token must be a bot token (xoxb-…)")
	case c.SigningSecret == "":
		return tandem.Errorf(tandem.EINVALID, "slack: signing_secret is required")
	}
	return nil
}

// LogValue logs c with its secrets masked.
func (c Config) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return slog.GroupValue(slog.String("bot_id", c.BotID),
		slog.String("bot_token", mask(c.BotToken)), slog.String("signing_secret", mask(c.SigningSecret)))
}

// Option configures a Connector.
type Option func(*options)

type options struct {
	apiURL string
	client *http.Client
	logger *slog.Logger
	now    func() time.Time
}

// WithAPIURL points the Slack Web API client at url instead of https://slack.com/api/
// (tests use a local server). A missing trailing slash is added.
func WithAPIURL(url string) Option {
	return func(o *options) {
		if !strings.HasSuffix(url, "/") {
			url += "/"
		}
		o.apiURL = url
	}
}

// WithHTTPClient sets the HTTP client for Slack Web API calls (default: a client with a
// 30 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithNow sets the clock that stamps inbound messages (default time.Now). Signature
// timestamps are checked by slack-go against the wall clock, whatever now says.
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Connector is one Slack app serving one bot. It is safe for concurrent use.
type Connector struct {
	cfg    Config
	api    *slackapi.Client
	logger *slog.Logger
	now    func() time.Time
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a connector for cfg (after WithDefaults), or an EINVALID error when cfg is
// not valid.
func New(cfg Config, opts ...Option) (*Connector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{
		apiURL: slackapi.APIURL,
		client: &http.Client{Timeout: 30 * time.Second},
		logger: slog.Default(),
		now:    time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	api := slackapi.New(cfg.BotToken, slackapi.OptionAPIURL(o.apiURL), slackapi.OptionHTTPClient(o.client))
	return &Connector{cfg: cfg, api: api, logger: o.logger.With("channel", string(tandem.ChannelSlack), "bot_id", cfg.BotID), now: o.now}, nil
}

// Channel returns tandem.ChannelSlack.
func (c *Connector) Channel() tandem.Channel { return tandem.ChannelSlack }

// Send posts o's reply to the customer's direct message with the app and returns
// "channel:ts", Slack's id of the posted message. o.To is what Handler put in
// Inbound.ExternalID ("T123/U456"), or a bare user or conversation id.
//
// Errors: *connectors.RetryLaterError when Slack rate-limits the call (with Slack's
// Retry-After); EINVALID when Slack refuses the message for good (unknown or deactivated
// user, archived conversation, invalid blocks); any other error may be retried.
// chat.postMessage accepts no idempotency key, so a retried delivery may post twice.
func (c *Connector) Send(ctx context.Context, o connectors.Outgoing) (string, error) {
	to := o.To
	if i := strings.LastIndexByte(to, '/'); i >= 0 {
		to = to[i+1:]
	}
	if to == "" {
		return "", tandem.Errorf(tandem.EINVALID, "slack: no recipient in %q", o.To)
	}
	channel, ts, err := c.api.PostMessageContext(ctx, to,
		slackapi.MsgOptionText(Fallback(o.Reply), false),
		slackapi.MsgOptionBlocks(Blocks(o.Reply)...))
	if err != nil {
		return "", sendError(to, err)
	}
	if channel == "" || ts == "" {
		return "", fmt.Errorf("slack: chat.postMessage answered without a channel and ts")
	}
	return channel + ":" + ts, nil
}

// defaultRetryAfter is the pause when Slack answers 429 without a Retry-After header.
const defaultRetryAfter = 30 * time.Second

// permanent are chat.postMessage errors that no retry can fix for this recipient or this
// message. Token and workspace errors (invalid_auth, token_revoked, account_inactive) are
// left retryable: they fail every delivery until an operator fixes the app, and the
// delivery worker's attempt limit ends them meanwhile.
var permanent = map[string]bool{
	"channel_not_found":                        true,
	"user_not_found":                           true,
	"user_disabled":                            true,
	"user_not_visible":                         true,
	"cannot_dm_bot":                            true,
	"is_archived":                              true,
	"not_in_channel":                           true,
	"messages_tab_disabled":                    true,
	"restricted_action":                        true,
	"restricted_action_read_only_channel":      true,
	"restricted_action_thread_only_channel":    true,
	"restricted_action_non_threadable_channel": true,
	"team_access_not_granted":                  true,
	"ekm_access_denied":                        true,
	"msg_too_long":                             true,
	"msg_blocks_too_long":                      true,
	"no_text":                                  true,
	"invalid_blocks":                           true,
	"invalid_blocks_format":                    true,
	"too_many_attachments":                     true,
}

func sendError(to string, err error) error {
	var limited *slackapi.RateLimitedError
	if errors.As(err, &limited) {
		after := limited.RetryAfter
		if after <= 0 {
			after = defaultRetryAfter
		}
		return &connectors.RetryLaterError{After: after, Err: err}
	}
	var status slackapi.StatusCodeError
	if errors.As(err, &status) && status.Code == http.StatusTooManyRequests {
		return &connectors.RetryLaterError{After: defaultRetryAfter, Err: err}
	}
	var resp slackapi.SlackErrorResponse
	if errors.As(err, &resp) {
		if resp.Err == "ratelimited" {
			return &connectors.RetryLaterError{After: defaultRetryAfter, Err: err}
		}
		if permanent[resp.Err] {
			return tandem.Errorf(tandem.EINVALID, "slack refused the message to %s: %s", to, resp.Err)
		}
	}
	return fmt.Errorf("slack: chat.postMessage: %w", err)
}

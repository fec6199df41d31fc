// Package config loads the server's configuration: defaults, then an optional YAML file,
// then TANDEM_* environment variables (command-line flags are applied by the CLI on top).
// Unknown YAML keys are rejected; secrets come only from the environment.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole server configuration.
type Config struct {
	// Addr is the HTTP listen address (TANDEM_ADDR). Default ":8080".
	Addr string `yaml:"addr"`
	// DataDir holds the embedded SQLite store when DatabaseURL is empty (TANDEM_DATA_DIR). Default "./data".
	DataDir string `yaml:"data_dir"`
	// DatabaseURL selects PostgreSQL (TANDEM_DATABASE_URL). It may hold a password, so it is masked when printed.
	DatabaseURL string `yaml:"database_url"`
	// Migrate applies pending schema migrations at start (TANDEM_MIGRATE). Default true;
	// when false a stale schema stops the server.
	Migrate *bool `yaml:"migrate"`
	// BotsDir is a folder with one sub-folder per bot (TANDEM_BOTS_DIR); watched for changes.
	BotsDir string `yaml:"bots_dir"`
	// Demo loads the demo bot shipped in the binary (TANDEM_DEMO).
	Demo bool `yaml:"demo"`
	// BaseURL is the server's public URL, used in flow actions and links (TANDEM_BASE_URL).
	// Default: derived from Addr.
	BaseURL string `yaml:"base_url"`
	// MaxMessageBytes bounds inbound message text (TANDEM_MAX_MESSAGE_BYTES). Default 4096.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// LogLevel is debug, info, warn or error (TANDEM_LOG_LEVEL). Default info.
	LogLevel string `yaml:"log_level"`
	// ShutdownTimeout bounds graceful shutdown. Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TLSCertFile and TLSKeyFile, both or neither, make the server speak HTTPS (and HTTP/2)
	// itself (TANDEM_TLS_CERT_FILE, TANDEM_TLS_KEY_FILE): PEM files, read again when they
	// change, so a renewed certificate needs no restart. Without them the server speaks
	// plain HTTP/1.1, for a proxy in front that terminates TLS.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	// ClientIPHeader names the header a reverse proxy in front of the server sets to the
	// client's address (TANDEM_CLIENT_IP_HEADER): X-Forwarded-For (its last address, the one
	// the proxy appended) or e.g. X-Real-IP. Empty: the connection's address. Set it only
	// behind a proxy that sets the header, or clients choose the address they are limited by.
	ClientIPHeader string `yaml:"client_ip_header"`
	// WebChat limits the web chat.
	WebChat WebChat `yaml:"web_chat"`
	// StaffAuth is how staff reach the inbox and the knowledge editor (TANDEM_STAFF_AUTH):
	// "accounts" (agents sign in with a password, roles decide what they open: web/staff),
	// or "open" (this machine only until TANDEM_API_KEYS is set, then an API key; the inbox
	// asks only for an email). Default: open with the demo, accounts otherwise.
	StaffAuth string `yaml:"staff_auth"`
	// StaffSessionTTL is how long a staff sign-in lasts (TANDEM_STAFF_SESSION_TTL). Default 12h.
	StaffSessionTTL time.Duration `yaml:"staff_session_ttl"`

	// AnswerCache keeps recent knowledge answers in memory (TANDEM_ANSWER_CACHE). Default
	// true. Edits made in this server are seen at once; edits by another replica or the
	// CLI after at most AnswerCacheTTL (TANDEM_ANSWER_CACHE_TTL, default 2s).
	AnswerCache    *bool         `yaml:"answer_cache"`
	AnswerCacheTTL time.Duration `yaml:"answer_cache_ttl"`

	// Knowledge configures the knowledge editor's workflow.
	Knowledge Knowledge `yaml:"knowledge"`

	// LLM configures answer generation; empty Provider means offline extractive answers.
	LLM LLM `yaml:"llm"`
	// Embedder configures knowledge embeddings; empty Provider means the offline hashing embedder.
	Embedder Embedder `yaml:"embedder"`

	// Connectors put bots on customer channels (Twilio SMS and WhatsApp, Slack, Discord).
	// Their secrets come from the environment (see Connector).
	Connectors []Connector `yaml:"connectors"`
	// Delivery tunes the worker that sends replies on those channels.
	Delivery Delivery `yaml:"delivery"`
	// Escalation tunes the worker that escalates handoff tickets that waited too long (how
	// long is each bot's handoff.escalate_after).
	Escalation Escalation `yaml:"escalation"`
	// Retention deletes old closed conversations and redacts old messages; by default
	// nothing is deleted or redacted.
	Retention Retention `yaml:"retention"`
	// Desks are where agents work handed-off conversations besides the web inbox.
	Desks Desks `yaml:"desks"`
	// Email sends one-time codes to email addresses and staff set-password links (email.go).
	Email Email `yaml:"email"`

	// Secrets, from the environment only.
	LLMAPIKey     string `yaml:"-"` // TANDEM_LLM_API_KEY
	ActionSecret  string `yaml:"-"` // TANDEM_ACTION_SECRET: signs flow HTTP actions
	SessionSecret string `yaml:"-"` // TANDEM_SESSION_SECRET: signs links and sessions
	// APIKeys authorise privileged API routes such as proactive outbound messages
	// (TANDEM_API_KEYS, comma-separated). Empty disables those routes.
	APIKeys []string `yaml:"-"`
}

// Connector puts one bot on one customer channel. Providers call the server's webhook
// {base_url}/webhooks/{channel}/{bot} (Twilio, Slack); Discord is reached over its gateway.
// Secrets are read from the environment, the bot's own first: TANDEM_TWILIO_AUTH_TOKEN_<BOT>
// then TANDEM_TWILIO_AUTH_TOKEN; TANDEM_SLACK_BOT_TOKEN and TANDEM_SLACK_SIGNING_SECRET;
// TANDEM_DISCORD_TOKEN (<BOT> is the bot id upper-cased, "-" as "_").
type Connector struct {
	Bot     string `yaml:"bot"`
	Channel string `yaml:"channel"` // sms | whatsapp (Twilio) | slack | discord
	// Twilio: the account, and the sender (a number, or a messaging service).
	AccountSID          string `yaml:"account_sid"`
	From                string `yaml:"from"`
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	// StatusCallbacks asks Twilio to report each message's later states (delivered,
	// undelivered, failed) at {base_url}/webhooks/{channel}/{bot}/status. Unset: only when
	// base_url is https (Twilio refuses URLs it cannot reach); true or false decides.
	StatusCallbacks *bool `yaml:"status_callbacks"`
	// APIURL sends the provider's API calls elsewhere (a proxy; a local server in tests).
	APIURL string `yaml:"api_url"`

	// Secrets, from the environment only (see above).
	AuthToken     string `yaml:"-"` // Twilio
	BotToken      string `yaml:"-"` // Slack
	SigningSecret string `yaml:"-"` // Slack
	Token         string `yaml:"-"` // Discord
}

// connectorSecret reads a connector secret: the bot's own variable, then the shared one.
func connectorSecret(getenv func(string) string, name, bot string) string {
	if v := strings.TrimSpace(getenv(name + "_" + strings.ToUpper(strings.ReplaceAll(bot, "-", "_")))); v != "" {
		return v
	}
	return strings.TrimSpace(getenv(name))
}

// Knowledge configures the knowledge base's editorial workflow.
type Knowledge struct {
	// RequireReview makes every knowledge document go through review before it answers
	// customers (TANDEM_KNOWLEDGE_REQUIRE_REVIEW): publishing a draft directly, in the
	// editor or with `tandem kb publish`, is refused ("needs review"); an editor submits it
	// and another editor or an admin approves it (package retrieval/review). Default false:
	// editors publish directly and may still ask for a review.
	RequireReview bool `yaml:"require_review"`
}

// Desks configures the agents' desks in chat tools; the web inbox needs no configuration.
type Desks struct {
	// Slack puts a card for each handoff ticket in a channel of the company's workspace
	// (package handoff/slackdesk). Nil: no Slack desk.
	Slack *SlackDesk `yaml:"slack"`
}

// SlackDesk is the agents' desk in Slack. Its Slack app sends interactivity and events to
// {base_url}/desks/slack. Secrets come from the environment only: TANDEM_SLACKDESK_BOT_TOKEN
// and TANDEM_SLACKDESK_SIGNING_SECRET.
type SlackDesk struct {
	// Channel is the agents' channel id (C…, or G… for a private channel). Required.
	Channel string `yaml:"channel"`
	// InboxURL is the web inbox's public URL (e.g. https://support.example.com/inbox);
	// when set, cards link to the ticket there.
	InboxURL string `yaml:"inbox_url"`
	// APIURL sends Slack Web API calls elsewhere (a proxy; a local server in tests).
	APIURL string `yaml:"api_url"`

	BotToken      string `yaml:"-"` // TANDEM_SLACKDESK_BOT_TOKEN
	SigningSecret string `yaml:"-"` // TANDEM_SLACKDESK_SIGNING_SECRET
}

// slackChannelID is the shape of a Slack channel id.
var slackChannelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// validate reports the first invalid setting of the Slack desk.
func (d *SlackDesk) validate() error {
	switch {
	case !slackChannelID.MatchString(d.Channel):
		return fmt.Errorf("desks.slack.channel: %q is not a Slack channel id (C…, or G… for a private channel)", d.Channel)
	case d.InboxURL != "" && !strings.HasPrefix(d.InboxURL, "https://") && !strings.HasPrefix(d.InboxURL, "http://"):
		return fmt.Errorf("desks.slack.inbox_url: %q is not an http(s) URL", d.InboxURL)
	case d.BotToken == "":
		return errors.New("desks.slack: TANDEM_SLACKDESK_BOT_TOKEN is required")
	case !strings.HasPrefix(d.BotToken, "xoxb-"):
		return errors.New("desks.slack: TANDEM_SLACKDESK_BOT_TOKEN must be a bot token (xoxb-…)")
	case d.SigningSecret == "":
		return errors.New("desks.slack: TANDEM_SLACKDESK_SIGNING_SECRET is required")
	}
	return nil
}

// Delivery tunes the delivery worker (package jobs); zero values take its defaults.
type Delivery struct {
	Poll        time.Duration `yaml:"poll"`
	MaxAttempts int           `yaml:"max_attempts"`
	// SendTimeout bounds one send to a provider (default 15s); Lease is how long a claimed
	// delivery stays with its worker before another replica may take it, which is how long
	// the deliveries of a killed replica wait (default 1m; more than SendTimeout).
	SendTimeout time.Duration `yaml:"send_timeout"`
	Lease       time.Duration `yaml:"lease"`
}

// Escalation tunes the escalation worker (package jobs); zero values take its defaults
// (poll every 30s).
type Escalation struct {
	Poll time.Duration `yaml:"poll"`
}

// Retention tunes the retention worker (package jobs). Each age is off at 0, the default;
// ages under MinRetention are refused, so a unit typo cannot delete what is in use.
type Retention struct {
	// ClosedConversations deletes closed conversations inactive for longer than this,
	// with their messages, deliveries, tickets and CSAT ratings
	// (TANDEM_RETENTION_CLOSED_CONVERSATIONS, e.g. 2160h for 90 days).
	ClosedConversations time.Duration `yaml:"closed_conversations"`
	// RedactAfter replaces personal data (cards, e-mails, phones, IBANs, national ids) in
	// messages older than this with placeholders such as [EMAIL]
	// (TANDEM_RETENTION_REDACT_AFTER).
	RedactAfter time.Duration `yaml:"redact_after"`
	// Poll is how often the worker looks for old data (TANDEM_RETENTION_POLL). Default 1h.
	Poll time.Duration `yaml:"poll"`
}

// MinRetention is the shortest retention age accepted.
const MinRetention = time.Hour

func (r Retention) validate() error {
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"closed_conversations", r.ClosedConversations}, {"redact_after", r.RedactAfter}} {
		if f.v != 0 && f.v < MinRetention {
			return fmt.Errorf("retention.%s: %s is under %s (0 disables it)", f.key, f.v, MinRetention)
		}
	}
	if r.Poll < 0 {
		return errors.New("retention.poll: must not be negative")
	}
	return nil
}

// LLM selects a language model provider (through langchaingo).
type LLM struct {
	Provider string `yaml:"provider"` // openai (any OpenAI-compatible endpoint) | ollama
	Model    string `yaml:"model"`
	BaseURL  string `yaml:"base_url"`
}

// Embedder selects the embedding provider (through langchaingo).
type Embedder struct {
	Provider  string `yaml:"provider"` // hashing (default, offline) | openai | ollama
	Model     string `yaml:"model"`
	BaseURL   string `yaml:"base_url"`
	Dimension int    `yaml:"dimension"`
}

// WithDefaults returns c with unset fields set to their documented defaults.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Migrate == nil {
		t := true
		c.Migrate = &t
	}
	if c.AnswerCache == nil {
		t := true
		c.AnswerCache = &t
	}
	if c.AnswerCacheTTL == 0 {
		c.AnswerCacheTTL = 2 * time.Second
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 4096
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "127.0.0.1" + host
		}
		scheme := "http://"
		if c.TLSCertFile != "" {
			scheme = "https://"
		}
		c.BaseURL = scheme + host
	}
	return c
}

// Staff authentication modes (Config.StaffAuth).
const (
	StaffAuthAccounts = "accounts"
	StaffAuthOpen     = "open"
)

// StaffAuthMode returns StaffAuth, or its default when unset: open with the demo (so the
// demo's inbox and editor work in a browser at once), accounts otherwise.
func (c Config) StaffAuthMode() string {
	if c.StaffAuth != "" {
		return c.StaffAuth
	}
	if c.Demo {
		return StaffAuthOpen
	}
	return StaffAuthAccounts
}

// headerNameRE is what an HTTP header name may look like (RFC 9110 token characters).
var headerNameRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// MinSessionSecretBytes is the shortest TANDEM_SESSION_SECRET accepted.
const MinSessionSecretBytes = 32

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if c.MaxMessageBytes < 1 || c.MaxMessageBytes > 1<<20 {
		return fmt.Errorf("max_message_bytes: %d is outside 1..1048576", c.MaxMessageBytes)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("tls_cert_file and tls_key_file: set both or neither")
	}
	if c.AnswerCacheTTL < 0 {
		return fmt.Errorf("answer_cache_ttl: %s is negative", c.AnswerCacheTTL)
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return errors.New("database_url: must be a postgres:// URL")
		}
	}
	switch c.LLM.Provider {
	case "", "openai", "ollama":
	default:
		return fmt.Errorf("llm.provider: %q is not openai or ollama", c.LLM.Provider)
	}
	switch c.Embedder.Provider {
	case "", "hashing", "openai", "ollama":
	default:
		return fmt.Errorf("embedder.provider: %q is not hashing, openai or ollama", c.Embedder.Provider)
	}
	if c.Embedder.Dimension < 0 || c.Embedder.Dimension > 2000 {
		return fmt.Errorf("embedder.dimension: %d is outside 0..2000", c.Embedder.Dimension)
	}
	// The secret keys signed links, one-time codes and agents' sessions: a short one could
	// be guessed offline from any signed link.
	if n := len(c.SessionSecret); n > 0 && n < MinSessionSecretBytes {
		return fmt.Errorf("TANDEM_SESSION_SECRET: %d bytes is too short; use at least %d (e.g. openssl rand -hex 32)", n, MinSessionSecretBytes)
	}
	seen := map[string]bool{}
	for i, k := range c.Connectors {
		switch k.Channel {
		case "sms", "whatsapp":
			if k.AccountSID == "" || (k.From == "") == (k.MessagingServiceSID == "") {
				return fmt.Errorf("connectors[%d]: twilio needs account_sid and one of from, messaging_service_sid", i)
			}
		case "slack", "discord":
			if k.StatusCallbacks != nil {
				return fmt.Errorf("connectors[%d].status_callbacks: only sms and whatsapp (Twilio) report message status", i)
			}
		default:
			return fmt.Errorf("connectors[%d].channel: %q is not sms, whatsapp, slack or discord", i, k.Channel)
		}
		if k.Bot == "" {
			return fmt.Errorf("connectors[%d].bot: required", i)
		}
		if seen[k.Bot+"/"+k.Channel] {
			return fmt.Errorf("connectors[%d]: bot %s has two %s connectors", i, k.Bot, k.Channel)
		}
		seen[k.Bot+"/"+k.Channel] = true
	}
	if err := c.WebChat.validate(); err != nil {
		return err
	}
	switch c.StaffAuth {
	case "", StaffAuthAccounts, StaffAuthOpen:
	default:
		return fmt.Errorf("staff_auth: %q is not accounts or open", c.StaffAuth)
	}
	if c.StaffSessionTTL < 0 {
		return fmt.Errorf("staff_session_ttl: %s is negative", c.StaffSessionTTL)
	}
	if h := c.ClientIPHeader; h != "" && !headerNameRE.MatchString(h) {
		return fmt.Errorf("client_ip_header: %q is not a header name", h)
	}
	if d := c.Delivery; d.Poll < 0 || d.MaxAttempts < 0 || d.SendTimeout < 0 || d.Lease < 0 {
		return errors.New("delivery: poll, max_attempts, send_timeout and lease must not be negative")
	}
	if c.Escalation.Poll < 0 {
		return errors.New("escalation.poll: must not be negative")
	}
	if err := c.Retention.validate(); err != nil {
		return err
	}
	if c.Desks.Slack != nil {
		if err := c.Desks.Slack.validate(); err != nil {
			return err
		}
	}
	return c.Email.validate()
}

// Load reads the YAML file at path (when not empty), then the environment through getenv.
// The result has defaults applied and is validated.
func Load(path string, getenv func(string) string) (Config, error) {
	var c Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file decodes to io.EOF: it simply sets nothing.
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	c = c.WithDefaults()
	return c, c.Validate()
}

func (c *Config) applyEnv(getenv func(string) string) error {
	str := func(key string, dst *string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	str("TANDEM_ADDR", &c.Addr)
	str("TANDEM_DATA_DIR", &c.DataDir)
	str("TANDEM_DATABASE_URL", &c.DatabaseURL)
	str("TANDEM_BOTS_DIR", &c.BotsDir)
	str("TANDEM_BASE_URL", &c.BaseURL)
	str("TANDEM_TLS_CERT_FILE", &c.TLSCertFile)
	str("TANDEM_TLS_KEY_FILE", &c.TLSKeyFile)
	str("TANDEM_LOG_LEVEL", &c.LogLevel)
	str("TANDEM_LLM_PROVIDER", &c.LLM.Provider)
	str("TANDEM_LLM_MODEL", &c.LLM.Model)
	str("TANDEM_LLM_BASE_URL", &c.LLM.BaseURL)
	str("TANDEM_EMBEDDER_PROVIDER", &c.Embedder.Provider)
	str("TANDEM_EMBEDDER_MODEL", &c.Embedder.Model)
	str("TANDEM_EMBEDDER_BASE_URL", &c.Embedder.BaseURL)
	str("TANDEM_LLM_API_KEY", &c.LLMAPIKey)
	str("TANDEM_ACTION_SECRET", &c.ActionSecret)
	str("TANDEM_SESSION_SECRET", &c.SessionSecret)
	str("TANDEM_STAFF_AUTH", &c.StaffAuth)
	for i := range c.Connectors {
		k := &c.Connectors[i]
		k.AuthToken = connectorSecret(getenv, "TANDEM_TWILIO_AUTH_TOKEN", k.Bot)
		k.BotToken = connectorSecret(getenv, "TANDEM_SLACK_BOT_TOKEN", k.Bot)
		k.SigningSecret = connectorSecret(getenv, "TANDEM_SLACK_SIGNING_SECRET", k.Bot)
		k.Token = connectorSecret(getenv, "TANDEM_DISCORD_TOKEN", k.Bot)
	}
	if d := c.Desks.Slack; d != nil {
		str("TANDEM_SLACKDESK_BOT_TOKEN", &d.BotToken)
		str("TANDEM_SLACKDESK_SIGNING_SECRET", &d.SigningSecret)
	}
	if err := c.Email.applyEnv(getenv); err != nil {
		return err
	}
	if v := getenv("TANDEM_WEB_CHAT_EMBED_ORIGINS"); v != "" {
		c.WebChat.EmbedOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.WebChat.EmbedOrigins = append(c.WebChat.EmbedOrigins, o)
			}
		}
	}
	if v := getenv("TANDEM_API_KEYS"); v != "" {
		c.APIKeys = nil
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.APIKeys = append(c.APIKeys, k)
			}
		}
	}
	for key, dst := range map[string]*bool{"TANDEM_DEMO": &c.Demo, "TANDEM_KNOWLEDGE_REQUIRE_REVIEW": &c.Knowledge.RequireReview} {
		if v := getenv(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a boolean", key, v)
			}
			*dst = b
		}
	}
	for key, dst := range map[string]**bool{"TANDEM_MIGRATE": &c.Migrate, "TANDEM_ANSWER_CACHE": &c.AnswerCache} {
		if v := getenv(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a boolean", key, v)
			}
			*dst = &b
		}
	}
	if v := getenv("TANDEM_ANSWER_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("TANDEM_ANSWER_CACHE_TTL: %q is not a duration", v)
		}
		c.AnswerCacheTTL = d
	}
	for key, dst := range map[string]*time.Duration{"TANDEM_STAFF_SESSION_TTL": &c.StaffSessionTTL,
		"TANDEM_RETENTION_CLOSED_CONVERSATIONS": &c.Retention.ClosedConversations,
		"TANDEM_RETENTION_REDACT_AFTER":         &c.Retention.RedactAfter, "TANDEM_RETENTION_POLL": &c.Retention.Poll} {
		if v := getenv(key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration", key, v)
			}
			*dst = d
		}
	}
	if v := getenv("TANDEM_CLIENT_IP_HEADER"); v != "" {
		c.ClientIPHeader = v
	}
	if v := getenv("TANDEM_MAX_MESSAGE_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("TANDEM_MAX_MESSAGE_BYTES: %q is not a number", v)
		}
		c.MaxMessageBytes = n
	}
	if v := getenv("TANDEM_EMBEDDER_DIMENSION"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("TANDEM_EMBEDDER_DIMENSION: %q is not a number", v)
		}
		c.Embedder.Dimension = n
	}
	return nil
}

// String prints the configuration with secrets and database passwords masked.
func (c Config) String() string {
	masked := c
	masked.DatabaseURL = maskURL(c.DatabaseURL)
	for _, s := range []*string{&masked.LLMAPIKey, &masked.ActionSecret, &masked.SessionSecret} {
		if *s != "" {
			*s = "****"
		}
	}
	masked.APIKeys = nil
	b, _ := yaml.Marshal(masked)
	return string(b)
}

func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.String()
}

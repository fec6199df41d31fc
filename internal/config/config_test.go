package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "OKDefaults", check: func(t *testing.T, c Config) {
			if c.Addr != ":8080" || c.DataDir != "./data" || c.MaxMessageBytes != 4096 || !*c.Migrate {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "OKFileThenEnv", yaml: "addr: \":9000\"\ndata_dir: /tmp/x\n", env: map[string]string{"TANDEM_ADDR": ":7000"},
			check: func(t *testing.T, c Config) {
				if c.Addr != ":7000" || c.DataDir != "/tmp/x" {
					t.Errorf("got addr %q dir %q", c.Addr, c.DataDir)
				}
			}},
		{name: "OKAnswerCache", yaml: "answer_cache_ttl: 5s\n", env: map[string]string{"TANDEM_ANSWER_CACHE": "false"},
			check: func(t *testing.T, c Config) {
				if *c.AnswerCache || c.AnswerCacheTTL != 5*time.Second {
					t.Errorf("answer cache %v ttl %s", *c.AnswerCache, c.AnswerCacheTTL)
				}
			}},
		{name: "ErrAnswerCacheTTL", env: map[string]string{"TANDEM_ANSWER_CACHE_TTL": "soon"}, wantErr: "TANDEM_ANSWER_CACHE_TTL"},
		{name: "ErrNegativeTTL", yaml: "answer_cache_ttl: -1s\n", wantErr: "answer_cache_ttl"},
		{name: "OKEmptyFile", yaml: "", check: func(t *testing.T, c Config) {}},
		{name: "ErrUnknownKey", yaml: "adr: x\n", wantErr: "field adr not found"},
		{name: "OKStaffAuthDefault", check: func(t *testing.T, c Config) {
			if got := c.StaffAuthMode(); got != StaffAuthAccounts {
				t.Errorf("StaffAuthMode = %q, want accounts", got)
			}
			c.Demo = true
			if got := c.StaffAuthMode(); got != StaffAuthOpen {
				t.Errorf("demo StaffAuthMode = %q, want open", got)
			}
		}},
		{name: "OKStaffAuth", yaml: "staff_auth: open\nstaff_session_ttl: 8h\n", env: map[string]string{"TANDEM_STAFF_AUTH": "accounts", "TANDEM_DEMO": "true"},
			check: func(t *testing.T, c Config) {
				if c.StaffAuthMode() != StaffAuthAccounts || c.StaffSessionTTL != 8*time.Hour {
					t.Errorf("staff auth %q ttl %s; want accounts (env over file, even with the demo), 8h", c.StaffAuthMode(), c.StaffSessionTTL)
				}
			}},
		{name: "ErrStaffAuth", env: map[string]string{"TANDEM_STAFF_AUTH": "none"}, wantErr: "staff_auth"},
		{name: "ErrStaffSessionTTL", env: map[string]string{"TANDEM_STAFF_SESSION_TTL": "long"}, wantErr: "TANDEM_STAFF_SESSION_TTL"},
		{name: "OKRequireReview", yaml: "knowledge:\n  require_review: true\n", check: func(t *testing.T, c Config) {
			if !c.Knowledge.RequireReview {
				t.Error("knowledge.require_review not read")
			}
		}},
		{name: "OKRequireReviewEnv", yaml: "knowledge:\n  require_review: true\n", env: map[string]string{"TANDEM_KNOWLEDGE_REQUIRE_REVIEW": "false"},
			check: func(t *testing.T, c Config) {
				if c.Knowledge.RequireReview {
					t.Error("TANDEM_KNOWLEDGE_REQUIRE_REVIEW=false did not override the file")
				}
			}},
		{name: "OKTLS", yaml: "addr: ':8443'\ntls_key_file: /etc/tandem/key.pem\n", env: map[string]string{"TANDEM_TLS_CERT_FILE": "/etc/tandem/cert.pem"},
			check: func(t *testing.T, c Config) {
				if c.TLSCertFile != "/etc/tandem/cert.pem" || c.TLSKeyFile != "/etc/tandem/key.pem" || c.BaseURL != "https://127.0.0.1:8443" {
					t.Errorf("tls cert %q key %q base_url %q; want both files and an https base URL", c.TLSCertFile, c.TLSKeyFile, c.BaseURL)
				}
			}},
		{name: "OKDelivery", yaml: "delivery: {poll: 1s, max_attempts: 8, send_timeout: 5s, lease: 30s}\n", check: func(t *testing.T, c Config) {
			if d := c.Delivery; d.SendTimeout != 5*time.Second || d.Lease != 30*time.Second {
				t.Errorf("delivery = %+v", d)
			}
		}},
		{name: "ErrDeliveryLease", yaml: "delivery: {lease: -1s}\n", wantErr: "lease must not be negative"},
		{name: "ErrTLSHalf", env: map[string]string{"TANDEM_TLS_CERT_FILE": "/etc/tandem/cert.pem"}, wantErr: "set both or neither"},
		{name: "ErrBadBool", env: map[string]string{"TANDEM_DEMO": "maybe"}, wantErr: "TANDEM_DEMO"},
		{name: "ErrBadDatabaseURL", env: map[string]string{"TANDEM_DATABASE_URL": "mysql://x"}, wantErr: "database_url"},
		{name: "ErrMessageLimit", env: map[string]string{"TANDEM_MAX_MESSAGE_BYTES": "-1"}, wantErr: "max_message_bytes"},
		{name: "ErrProvider", yaml: "llm: {provider: skynet}\n", wantErr: "llm.provider"},
		{name: "OKConnectors", yaml: "connectors:\n- {bot: demo, channel: sms, account_sid: AC1, from: '+15005550006'}\n- {bot: demo, channel: slack}\n",
			check: func(t *testing.T, c Config) {
				if len(c.Connectors) != 2 || c.Connectors[0].From != "+15005550006" || c.Connectors[1].Channel != "slack" {
					t.Errorf("connectors = %+v", c.Connectors)
				}
			}},
		{name: "OKConnectorSecrets", yaml: "connectors:\n- {bot: shop-eu, channel: sms, account_sid: AC1, from: '+1'}\n- {bot: demo, channel: sms, account_sid: AC2, from: '+2'}\n",
			env: map[string]string{"TANDEM_TWILIO_AUTH_TOKEN_SHOP_EU": "own-token", "TANDEM_TWILIO_AUTH_TOKEN": "shared-token"},
			check: func(t *testing.T, c Config) {
				if c.Connectors[0].AuthToken != "own-token" || c.Connectors[1].AuthToken != "shared-token" {
					t.Errorf("auth tokens = %q, %q; want the bot's own, then the shared one", c.Connectors[0].AuthToken, c.Connectors[1].AuthToken)
				}
				if strings.Contains(c.String(), "token") {
					t.Errorf("String() shows a connector secret:\n%s", c.String())
				}
			}},
		{name: "ErrShortSessionSecret", env: map[string]string{"TANDEM_SESSION_SECRET": "hunter2"}, wantErr: "TANDEM_SESSION_SECRET: 7 bytes is too short"},
		{name: "OKSessionSecret", env: map[string]string{"TANDEM_SESSION_SECRET": strings.Repeat("k", 32)}, check: func(t *testing.T, c Config) {}},
		{name: "ErrConnectorChannel", yaml: "connectors: [{bot: demo, channel: fax}]\n", wantErr: "connectors[0].channel"},
		{name: "ErrConnectorTwilio", yaml: "connectors: [{bot: demo, channel: sms, account_sid: AC1}]\n", wantErr: "one of from, messaging_service_sid"},
		{name: "ErrConnectorBot", yaml: "connectors: [{channel: discord}]\n", wantErr: "connectors[0].bot"},
		{name: "ErrStatusCallbacksNotTwilio", yaml: "connectors: [{bot: demo, channel: slack, status_callbacks: true}]\n",
			wantErr: "connectors[0].status_callbacks"},
		{name: "OKStatusCallbacks", yaml: "connectors: [{bot: demo, channel: sms, account_sid: AC1, from: '+15005550006', status_callbacks: false}]\n",
			check: func(t *testing.T, c Config) {
				if sc := c.Connectors[0].StatusCallbacks; sc == nil || *sc {
					t.Errorf("status_callbacks = %v, want false", sc)
				}
			}},
		{name: "OKSlackDesk", yaml: "desks: {slack: {channel: C0AGENTS, inbox_url: 'https://support.example.com/inbox'}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": " xoxb-desk-token\n", "TANDEM_SLACKDESK_SIGNING_SECRET": "desk-signing-secret"},
			check: func(t *testing.T, c Config) {
				d := c.Desks.Slack
				if d == nil || d.Channel != "C0AGENTS" || d.InboxURL != "https://support.example.com/inbox" ||
					d.BotToken != "xoxb-desk-token" || d.SigningSecret != "desk-signing-secret" {
					t.Fatalf("desks.slack = %+v", d)
				}
				if s := c.String(); strings.Contains(s, "xoxb-desk-token") || strings.Contains(s, "desk-signing-secret") {
					t.Errorf("String() shows a desk secret:\n%s", s)
				}
			}},
		{name: "OKNoSlackDesk", env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": "xoxb-desk-token"},
			check: func(t *testing.T, c Config) {
				if c.Desks.Slack != nil {
					t.Errorf("desks.slack = %+v without a desks.slack section", c.Desks.Slack)
				}
			}},
		{name: "ErrSlackDeskChannel", yaml: "desks: {slack: {channel: '#support'}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": "xoxb-t", "TANDEM_SLACKDESK_SIGNING_SECRET": "s"}, wantErr: "desks.slack.channel"},
		{name: "ErrSlackDeskNoChannel", yaml: "desks: {slack: {}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": "xoxb-t", "TANDEM_SLACKDESK_SIGNING_SECRET": "s"}, wantErr: "desks.slack.channel"},
		{name: "ErrSlackDeskInboxURL", yaml: "desks: {slack: {channel: C0AGENTS, inbox_url: support.example.com}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": "xoxb-t", "TANDEM_SLACKDESK_SIGNING_SECRET": "s"}, wantErr: "desks.slack.inbox_url"},
		{name: "ErrSlackDeskNoToken", yaml: "desks: {slack: {channel: C0AGENTS}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_SIGNING_SECRET": "s"}, wantErr: "TANDEM_SLACKDESK_BOT_TOKEN is required"},
		{name: "ErrSlackDeskUserToken", yaml: "desks: {slack: {channel: C0AGENTS}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": "xoxp-t", "TANDEM_SLACKDESK_SIGNING_SECRET": "s"}, wantErr: "must be a bot token"},
		{name: "ErrSlackDeskNoSecret", yaml: "desks: {slack: {channel: C0AGENTS}}\n",
			env: map[string]string{"TANDEM_SLACKDESK_BOT_TOKEN": "xoxb-t"}, wantErr: "TANDEM_SLACKDESK_SIGNING_SECRET is required"},
		{name: "ErrSlackDeskSecretInYAML", yaml: "desks: {slack: {channel: C0AGENTS, bot_token: xoxb-t}}\n", wantErr: "field bot_token not found"},
		{name: "OKWebChatLimits", yaml: "web_chat: {messages_per_minute: -1, connections_per_minute: 100}\n",
			env: map[string]string{"TANDEM_CLIENT_IP_HEADER": "X-Forwarded-For"},
			check: func(t *testing.T, c Config) {
				if c.WebChat.MessagesPerMinute != -1 || c.WebChat.ConnectionsPerMinute != 100 || c.ClientIPHeader != "X-Forwarded-For" {
					t.Errorf("web_chat = %+v, client_ip_header %q", c.WebChat, c.ClientIPHeader)
				}
			}},
		{name: "ErrClientIPHeader", env: map[string]string{"TANDEM_CLIENT_IP_HEADER": "X Forwarded: For"}, wantErr: "client_ip_header"},
		{name: "ErrWebChatBurst", yaml: "web_chat: {message_burst: -2}\n", wantErr: "web_chat.message_burst"},
		{name: "OKEmbedOrigins", yaml: "web_chat: {embed_origins: [\"https://shop.example.com\", \"http://localhost:3000\", \"https://[::1]:8443\"]}\n",
			check: func(t *testing.T, c Config) {
				want := []string{"https://shop.example.com", "http://localhost:3000", "https://[::1]:8443"}
				if !slices.Equal(c.WebChat.EmbedOrigins, want) {
					t.Errorf("embed_origins = %q, want %q", c.WebChat.EmbedOrigins, want)
				}
			}},
		{name: "OKEmbedOriginsEnv", yaml: "web_chat: {embed_origins: [\"https://old.example.com\"]}\n",
			env: map[string]string{"TANDEM_WEB_CHAT_EMBED_ORIGINS": "https://a.example.com, https://b.example.com"},
			check: func(t *testing.T, c Config) {
				if want := []string{"https://a.example.com", "https://b.example.com"}; !slices.Equal(c.WebChat.EmbedOrigins, want) {
					t.Errorf("embed_origins = %q, want %q from the environment", c.WebChat.EmbedOrigins, want)
				}
			}},
		{name: "ErrEmbedOriginWildcard", yaml: "web_chat: {embed_origins: [\"*\"]}\n", wantErr: "web_chat.embed_origins[0]: embed origin \"*\": wildcards are not allowed"},
		{name: "ErrEmbedOriginSubdomainWildcard", yaml: "web_chat: {embed_origins: [\"https://*.example.com\"]}\n", wantErr: "wildcards are not allowed"},
		{name: "ErrEmbedOriginPath", yaml: "web_chat: {embed_origins: [\"https://ok.example.com\", \"https://shop.example.com/\"]}\n", wantErr: "web_chat.embed_origins[1]: embed origin \"https://shop.example.com/\": give scheme://host[:port] only, no path"},
		{name: "ErrEmbedOriginQuery", yaml: "web_chat: {embed_origins: [\"https://shop.example.com?a=1\"]}\n", wantErr: "no path"},
		{name: "ErrEmbedOriginNoScheme", yaml: "web_chat: {embed_origins: [shop.example.com]}\n", wantErr: "is not an http(s) origin"},
		{name: "ErrEmbedOriginScheme", yaml: "web_chat: {embed_origins: [\"ftp://shop.example.com\"]}\n", wantErr: "is not an http(s) origin"},
		{name: "ErrEmbedOriginUser", yaml: "web_chat: {embed_origins: [\"https://u@shop.example.com\"]}\n", wantErr: "is not an http(s) origin"},
		{name: "ErrEmbedOriginInjection", yaml: "web_chat: {embed_origins: [\"https://shop.example.com; script-src *\"]}\n", wantErr: "web_chat.embed_origins[0]"},
		{name: "ErrEmbedOriginPort", yaml: "web_chat: {embed_origins: [\"https://shop.example.com:70000\"]}\n", wantErr: "port 70000 is outside"},
		{name: "ErrEmbedOriginEnv", env: map[string]string{"TANDEM_WEB_CHAT_EMBED_ORIGINS": "https://shop.example.com/store"}, wantErr: "web_chat.embed_origins[0]"},
		{name: "OKRetentionOff", check: func(t *testing.T, c Config) {
			if c.Retention != (Retention{}) {
				t.Errorf("retention = %+v, want everything off", c.Retention)
			}
		}},
		{name: "OKRetention", yaml: "retention: {closed_conversations: 2160h, redact_after: 720h, poll: 30m}\n",
			env: map[string]string{"TANDEM_RETENTION_REDACT_AFTER": "168h"},
			check: func(t *testing.T, c Config) {
				want := Retention{ClosedConversations: 2160 * time.Hour, RedactAfter: 168 * time.Hour, Poll: 30 * time.Minute}
				if c.Retention != want {
					t.Errorf("retention = %+v, want %+v", c.Retention, want)
				}
			}},
		{name: "ErrRetentionTooShort", yaml: "retention: {closed_conversations: 90s}\n", wantErr: "retention.closed_conversations: 1m30s is under 1h0m0s"},
		{name: "ErrRetentionNegative", env: map[string]string{"TANDEM_RETENTION_REDACT_AFTER": "-1h"}, wantErr: "retention.redact_after"},
		{name: "ErrRetentionPoll", yaml: "retention: {poll: -1s}\n", wantErr: "retention.poll"},
		{name: "ErrRetentionEnv", env: map[string]string{"TANDEM_RETENTION_CLOSED_CONVERSATIONS": "90d"}, wantErr: "TANDEM_RETENTION_CLOSED_CONVERSATIONS"},
		{name: "ErrConnectorTwice", yaml: "connectors: [{bot: demo, channel: discord}, {bot: demo, channel: discord}]\n", wantErr: "two discord connectors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tt.yaml != "" || tt.name == "OKEmptyFile" {
				path = filepath.Join(t.TempDir(), "tandem.yaml")
				if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestStringMasksSecrets(t *testing.T) {
	t.Parallel()
	c := Config{DatabaseURL: "postgres://u:hunter2@db/x", LLMAPIKey: "sk-secret"}.WithDefaults()
	got := c.String()
	for _, secret := range []string{"hunter2", "sk-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("String() leaks %q:\n%s", secret, got)
		}
	}
}

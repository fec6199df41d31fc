package config

import (
	"os"
	"path/filepath"
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

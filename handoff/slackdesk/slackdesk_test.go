package slackdesk_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/internal/teststore"
)

func TestURLVerification(t *testing.T) {
	t.Parallel()
	f := setup(t, teststore.All[0].Open(t), setupOpt{noRun: true})
	body := []byte(`{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	rec := serve(f.desk, signed("application/json", body, testSecret, time.Now()))
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("got %d %q, want 200 and the challenge", rec.Code, rec.Body)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	ok := slackdesk.Config{Channel: " C0AGENTS\n", BotToken: " xoxb-1-2-abc\n", SigningSecret: "s3cret\n"}
	for _, tc := range []struct {
		name   string
		modify func(c *slackdesk.Config)
		ok     bool
	}{
		{"OK", nil, true},
		{"OKPrivateChannel", func(c *slackdesk.Config) { c.Channel = "G0PRIVATE" }, true},
		{"OKInboxURL", func(c *slackdesk.Config) { c.InboxURL = "https://support.example.com/inbox/" }, true},
		{"ErrNoChannel", func(c *slackdesk.Config) { c.Channel = "" }, false},
		{"ErrChannelName", func(c *slackdesk.Config) { c.Channel = "#support" }, false},
		{"ErrNoToken", func(c *slackdesk.Config) { c.BotToken = "" }, false},
		{"ErrUserToken", func(c *slackdesk.Config) { c.BotToken = "xoxp-1-2" }, false},
		{"ErrNoSecret", func(c *slackdesk.Config) { c.SigningSecret = "" }, false},
		{"ErrInboxURL", func(c *slackdesk.Config) { c.InboxURL = "support.example.com" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			if tc.modify != nil {
				tc.modify(&c)
			}
			err := c.WithDefaults().Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && tandem.ErrorCode(err) != tandem.EINVALID {
				t.Errorf("code = %q, want EINVALID", tandem.ErrorCode(err))
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

// FuzzHandler: whatever Slack (or anyone holding the signing secret) sends, the handler
// answers with a status and does not panic.
func FuzzHandler(f *testing.F) {
	fx := setup(f, teststore.All[0].Open(f), setupOpt{noRun: true})
	f.Add(false, replyBody(map[string]any{"thread_ts": "1700000001.000100"}))
	f.Add(false, replyBody(map[string]any{"thread_ts": "1700000001.000100", "text": "<https://x.example|x> &amp;"}))
	f.Add(true, clickBody("U0ANN", slackdesk.ActionClaim, fx.ticket.ID, "1700000001.000100"))
	f.Add(true, []byte("payload=%7B%22type%22%3A%22block_actions%22%7D"))
	f.Add(true, clickBody("U0ANN", slackdesk.ActionTransfer, fx.ticket.ID, "1700000001.000100"))
	f.Add(true, submitBody("U0ANN", `{"ticket":"`+fx.ticket.ID+`","first":"queue"}`, "billing", "", "note"))
	f.Add(false, []byte(`{"type":"url_verification","challenge":"x"}`))
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		ctype := "application/json"
		if form {
			ctype = "application/x-www-form-urlencoded"
		}
		rec := serve(fx.desk, signed(ctype, body, testSecret, time.Now()))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Errorf("status = %d for %q", rec.Code, body)
		}
	})
}

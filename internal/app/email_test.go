package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/smtptest"
	"github.com/tandemhq/tandem/notify/smtp"
)

func TestCodeNotifierEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		email    bool    // email configured
		script   []error // the SMTP server's answers to DATA
		fallback bool
		ch       tandem.Channel
		code     string // error code; "" for success
		mailed   int
		sent     int // over the SMS connector
		logged   int
	}{
		{name: "OK", email: true, ch: tandem.ChannelEmail, mailed: 1},
		{name: "OKEmailWinsOverFallback", email: true, fallback: true, ch: tandem.ChannelEmail, mailed: 1},
		{name: "OKSMSStillOverConnector", email: true, ch: tandem.ChannelSMS, sent: 1},
		{name: "OKFallbackWithoutEmail", fallback: true, ch: tandem.ChannelEmail, logged: 1},
		{name: "ErrNoEmail", ch: tandem.ChannelEmail, code: tandem.EINVALID},
		{name: "ErrRefused", email: true, script: []error{&gosmtp.SMTPError{Code: 550, Message: "no such user"}}, fallback: true,
			ch: tandem.ChannelEmail, code: tandem.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{Script: tt.script})
			sms := &sendRecorder{}
			log := &codeLog{}
			n := codeNotifier{connector: func(bot string, ch tandem.Channel) (connectors.Connector, bool) {
				return sms, ch == tandem.ChannelSMS
			}, botName: func(string) string { return "Acme Store Assistant" }}
			if tt.email {
				s, err := smtp.New(smtp.Config{URL: srv.URL(), From: "Acme <help@acme.example>", Backoff: time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				n.email = s
			}
			if tt.fallback {
				n.fallback = log
			}
			err := n.SendCode(context.Background(), "demo", tt.ch, "jane@example.org", "123456")
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("error %v (code %q), want %q", err, got, tt.code)
			}
			msgs := srv.Messages()
			if len(msgs) != tt.mailed || len(sms.sent) != tt.sent || len(log.codes) != tt.logged {
				t.Fatalf("mailed %d, sent %d, logged %d; want %d, %d, %d", len(msgs), len(sms.sent), len(log.codes), tt.mailed, tt.sent, tt.logged)
			}
			if tt.mailed > 0 {
				m := msgs[0]
				if m.To[0] != "jane@example.org" || m.Header.Get("Subject") != codeSubject ||
					!strings.Contains(m.Body, "123456") || !strings.Contains(m.Body, "Acme Store Assistant") {
					t.Errorf("email to %v subject %q body %q", m.To, m.Header.Get("Subject"), m.Body)
				}
			}
		})
	}
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// TestLinkAccountByEmail runs the demo's link_account flow through the real app: the code
// arrives by email at a local SMTP server (STARTTLS, AUTH), and typing it links the
// address to the customer. A refused email takes the flow's on_error step.
func TestLinkAccountByEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []error
		want   string // in the reply to the email address
		linked bool
	}{
		{name: "OK", want: "a 6-digit code is on its way", linked: true},
		{name: "ErrRefused", script: []error{&gosmtp.SMTPError{Code: 554, Message: "rejected"}}, want: "couldn't send a code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "tandem", Password: "smtp-pw", Script: tt.script})
			cfg, err := config.Load("", func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			cfg.Addr, cfg.DataDir, cfg.Demo = "127.0.0.1:0", t.TempDir(), true
			// The server's certificate is self-signed: the app trusts it through ca_file.
			cfg.Email = config.Email{SMTPURL: srv.URL(), Username: "tandem", Password: "smtp-pw", From: "Acme <help@acme.example>",
				CAFile: srv.WriteCA(t)}
			a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Close() })

			say := func(text string) string {
				t.Helper()
				turn, err := a.Engine().HandleMessage(context.Background(), tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST,
					ExternalID: "visitor-7", Text: text})
				if err != nil {
					t.Fatalf("say %q: %v", text, err)
				}
				var b strings.Builder
				for _, r := range turn.Replies {
					b.WriteString(r.Text + "\n")
				}
				return b.String()
			}
			say("link my account")
			if got := say("Jane@Example.org"); !strings.Contains(got, tt.want) {
				t.Fatalf("reply to the address = %q, want %q", got, tt.want)
			}
			msgs := srv.Messages()
			if !tt.linked {
				if len(msgs) != 0 {
					t.Fatalf("%d emails accepted", len(msgs))
				}
				return
			}
			if len(msgs) != 1 || msgs[0].To[0] != "jane@example.org" || !msgs[0].TLS || msgs[0].User != "tandem" {
				t.Fatalf("emails = %+v", msgs)
			}
			code := sixDigits.FindString(msgs[0].Body)
			if code == "" {
				t.Fatalf("no code in %q", msgs[0].Body)
			}
			if got := say(code); !strings.Contains(got, "now linked") {
				t.Fatalf("reply to the code = %q", got)
			}
			id, err := a.Store().FindIdentity(context.Background(), tandem.ChannelEmail, "jane@example.org")
			if err != nil {
				t.Fatal(err)
			}
			rest, err := a.Store().FindIdentity(context.Background(), tandem.ChannelREST, "visitor-7")
			if err != nil {
				t.Fatal(err)
			}
			if id.CustomerID != rest.CustomerID {
				t.Errorf("email identity belongs to %s, the visitor is %s", id.CustomerID, rest.CustomerID)
			}
		})
	}
}

func TestNewMailer(t *testing.T) {
	t.Parallel()
	notPEM := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     config.Email
		wantNil bool
		wantErr string
	}{
		{name: "OKOff", wantNil: true},
		{name: "OK", cfg: config.Email{SMTPURL: "smtp://mail.example.com", From: "a@example.com"}},
		{name: "ErrCAFileMissing", cfg: config.Email{SMTPURL: "smtp://mail.example.com", From: "a@example.com", CAFile: t.TempDir() + "/none.pem"}, wantErr: "email.ca_file"},
		{name: "ErrCAFileNotPEM", cfg: config.Email{SMTPURL: "smtp://mail.example.com", From: "a@example.com", CAFile: notPEM}, wantErr: "holds no PEM certificate"},
		{name: "ErrFrom", cfg: config.Email{SMTPURL: "smtp://mail.example.com"}, wantErr: "From address is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewMailer(tt.cfg, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewMailer = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || (m == nil) != tt.wantNil {
				t.Fatalf("NewMailer = %v, %v; want nil mailer %v", m, err, tt.wantNil)
			}
		})
	}
}

package smtp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"mime"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/smtptest"
	"github.com/tandemhq/tandem/notify/smtp"
)

var (
	errTemp = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	errPerm = &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
)

var sentAt = time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)

func TestSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     smtptest.Options
		cfg      func(srv *smtptest.Server, c *smtp.Config)
		to       string
		wantErr  string // substring of the error; "" for success
		wantCode string // tandem error code, when it has one
		datas    int    // DATA commands the server answered
		conns    int    // connections the server accepted; 0 means don't check
		tls      bool
		user     string
	}{
		{name: "OK", datas: 1, conns: 1},
		{name: "OKStartTLSAuthPlain", opts: smtptest.Options{StartTLS: true, Username: "tandem@example.com", Password: "s3cret"},
			cfg: func(srv *smtptest.Server, c *smtp.Config) {
				c.Username, c.Password, c.TLSConfig = "tandem@example.com", "s3cret", srv.ClientTLS()
			}, datas: 1, tls: true, user: "tandem@example.com"},
		{name: "OKImplicitTLS", opts: smtptest.Options{ImplicitTLS: true, Username: "u", Password: "p"},
			cfg: func(srv *smtptest.Server, c *smtp.Config) {
				c.Username, c.Password, c.TLSConfig = "u", "p", srv.ClientTLS()
			},
			datas: 1, tls: true, user: "u"},
		{name: "OKRetryTemporary", opts: smtptest.Options{Script: []error{errTemp}}, datas: 2, conns: 2},
		{name: "OKRetryDroppedConnection", opts: smtptest.Options{Script: []error{smtptest.ErrDrop}}, datas: 2, conns: 2},
		{name: "ErrPermanent", opts: smtptest.Options{Script: []error{errPerm}}, wantErr: "550 \"5.1.1 no such mailbox\"", datas: 1, conns: 1},
		{name: "ErrGiveUp", opts: smtptest.Options{Script: []error{errTemp, errTemp, errTemp, nil}},
			wantErr: "gave up after 3 attempts", datas: 3, conns: 3},
		{name: "ErrAuthFailed", opts: smtptest.Options{StartTLS: true, Username: "u", Password: "p"},
			cfg: func(srv *smtptest.Server, c *smtp.Config) {
				c.Username, c.Password, c.TLSConfig = "u", "wrong", srv.ClientTLS()
			},
			wantErr: "535", conns: 1},
		// The server offers PLAIN before TLS; the password is not sent in the clear.
		{name: "ErrAuthWithoutTLS", opts: smtptest.Options{AllowInsecureAuth: true, Username: "u", Password: "p"},
			cfg:     func(_ *smtptest.Server, c *smtp.Config) { c.Username, c.Password = "u", "p" },
			wantErr: "refused, not retried", conns: 1},
		{name: "ErrUntrustedCertificate", opts: smtptest.Options{StartTLS: true},
			cfg:     func(_ *smtptest.Server, c *smtp.Config) { c.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12} },
			wantErr: "certificate", conns: 1},
		{name: "ErrRecipient", to: "not an address", wantErr: "not an email address", wantCode: tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tt.opts)
			cfg := smtp.Config{URL: srv.URL(), From: "Example Support <support@example.com>", Backoff: time.Millisecond,
				Now: func() time.Time { return sentAt }}
			if tt.cfg != nil {
				tt.cfg(srv, &cfg)
			}
			s, err := smtp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			to := "jane@example.org"
			if tt.to != "" {
				to = tt.to
			}
			err = s.Send(context.Background(), to, "Your code — 123456", "Your code is 123456.\nIt expires soon.")
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Send error = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := tandem.ErrorCode(err); tt.wantCode != "" && got != tt.wantCode {
				t.Errorf("error code = %q, want %q", got, tt.wantCode)
			}
			if got := srv.DataCommands(); got != tt.datas {
				t.Errorf("DATA commands = %d, want %d", got, tt.datas)
			}
			if got := srv.Connections(); tt.conns != 0 && got != tt.conns {
				t.Errorf("connections = %d, want %d", got, tt.conns)
			}
			msgs := srv.Messages()
			if tt.wantErr != "" {
				if len(msgs) != 0 {
					t.Errorf("server accepted %d messages after an error", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("server accepted %d messages, want 1", len(msgs))
			}
			checkMessage(t, msgs[0])
			if msgs[0].TLS != tt.tls || msgs[0].User != tt.user {
				t.Errorf("tls %v, user %q; want %v, %q", msgs[0].TLS, msgs[0].User, tt.tls, tt.user)
			}
		})
	}
}

func checkMessage(t *testing.T, m smtptest.Message) {
	t.Helper()
	if m.From != "support@example.com" || len(m.To) != 1 || m.To[0] != "jane@example.org" {
		t.Errorf("envelope from %q to %v", m.From, m.To)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Name != "Example Support" || from.Address != "support@example.com" {
		t.Errorf("From = %q (%v)", m.Header.Get("From"), err)
	}
	if got := m.Header.Get("To"); got != "<jane@example.org>" && got != "jane@example.org" {
		t.Errorf("To = %q", got)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subj != "Your code — 123456" {
		t.Errorf("Subject = %q (%v)", subj, err)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(sentAt) {
		t.Errorf("Date = %q (%v), want %s", m.Header.Get("Date"), err, sentAt)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q, want <…@example.com>", id)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := strings.ReplaceAll(m.Body, "\r\n", "\n"); strings.TrimSpace(got) != "Your code is 123456.\nIt expires soon." {
		t.Errorf("body = %q", m.Body)
	}
}

func TestSendEachMessageHasItsOwnID(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s, err := smtp.New(smtp.Config{URL: srv.URL(), From: "support@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Send(context.Background(), "jane@example.org", "s", "b"); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[0].Header.Get("Message-Id") == msgs[1].Header.Get("Message-Id") {
		t.Fatalf("messages %d with ids %q", len(msgs), []string{msgs[0].Header.Get("Message-Id"), msgs[1].Header.Get("Message-Id")})
	}
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s, err := smtp.New(smtp.Config{URL: "smtp://" + addr, From: "support@example.com", Attempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), "jane@example.org", "s", "b")
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Send = %v, want two refused connections", err)
	}
}

func TestSendContextCanceled(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s, err := smtp.New(smtp.Config{URL: srv.URL(), From: "support@example.com", Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, "jane@example.org", "s", "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent after cancel", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     smtp.Config
		wantErr string
	}{
		{"OK", smtp.Config{URL: "smtp://mail.example.com", From: "a@example.com"}, ""},
		{"OKSMTPS", smtp.Config{URL: "smtps://mail.example.com:2465", From: "A <a@example.com>", Username: "u", Password: "p"}, ""},
		{"ErrNoURL", smtp.Config{From: "a@example.com"}, "scheme must be smtp://"},
		{"ErrScheme", smtp.Config{URL: "http://mail.example.com", From: "a@example.com"}, "scheme must be smtp://"},
		{"ErrNoHost", smtp.Config{URL: "smtp://:25", From: "a@example.com"}, "no host"},
		{"ErrPort", smtp.Config{URL: "smtp://mail.example.com:99999", From: "a@example.com"}, "bad port"},
		{"ErrPath", smtp.Config{URL: "smtp://mail.example.com/x?y=1", From: "a@example.com"}, "only scheme, host and port"},
		{"ErrCredentialsInURL", smtp.Config{URL: "smtp://u:pw@mail.example.com", From: "a@example.com"}, "must not hold credentials"},
		{"ErrNoFrom", smtp.Config{URL: "smtp://mail.example.com"}, "From address is required"},
		{"ErrFrom", smtp.Config{URL: "smtp://mail.example.com", From: "support"}, "not an email address"},
		{"ErrNoPassword", smtp.Config{URL: "smtp://mail.example.com", From: "a@example.com", Username: "u"}, "has no password"},
		{"ErrNoUsername", smtp.Config{URL: "smtp://mail.example.com", From: "a@example.com", Password: "p"}, "without a username"},
		{"ErrNegative", smtp.Config{URL: "smtp://mail.example.com", From: "a@example.com", Timeout: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := smtp.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

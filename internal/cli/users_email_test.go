package cli

import (
	"path/filepath"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem/internal/smtptest"
)

// TestUsersEmailLinks: with email configured, users add and reset-password email the link
// they print; a refused email is reported and the printed link still stands; a bad email
// configuration stops the command before anything changes.
func TestUsersEmailLinks(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Script: []error{nil, nil, &gosmtp.SMTPError{Code: 550, Message: "mailbox unavailable"}}})
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"TANDEM_SESSION_SECRET": testSessionSecret, "TANDEM_BASE_URL": "https://help.example.com",
		"TANDEM_EMAIL_SMTP_URL": srv.URL(), "TANDEM_EMAIL_FROM": "Support <support@example.com>"}
	noFrom := map[string]string{"TANDEM_SESSION_SECRET": testSessionSecret, "TANDEM_EMAIL_SMTP_URL": srv.URL()}
	steps := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantOut    string
		wantErr    string
		wantMailed int // emails accepted so far
	}{
		{"ErrNoFrom", noFrom, []string{"users", "add", "--data-dir", data, "ada@example.com", "--role", "admin"}, 1, "", "email.from", 0},
		{"OKAdd", env, []string{"users", "add", "--data-dir", data, "ada@example.com", "--role", "admin", "--name", "Ada"}, 0,
			"Emailed ada@example.com this link to set a password", "", 1},
		{"OKReset", env, []string{"users", "reset-password", "--data-dir", data, "ada@example.com"}, 0,
			"Emailed ada@example.com this link to set a new password", "", 2},
		{"OKResetRefused", env, []string{"users", "reset-password", "--data-dir", data, "ada@example.com"}, 0,
			"Send ada@example.com this link to set a new password", "Could not email the link to ada@example.com", 2},
	}
	for _, s := range steps {
		code, out, stderr := runWithEnv(t, s.env, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(stderr, s.wantErr) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", s.name, code, out, stderr, s.wantCode, s.wantOut, s.wantErr)
		}
		msgs := srv.Messages()
		if len(msgs) != s.wantMailed {
			t.Fatalf("%s: %d emails, want %d", s.name, len(msgs), s.wantMailed)
		}
		if code == 0 && s.wantErr == "" {
			last := msgs[len(msgs)-1]
			if last.To[0] != "ada@example.com" || !strings.Contains(last.Body, linkIn(t, out)) || !strings.Contains(last.Body, "Hello Ada") {
				t.Errorf("%s: email to %v: %q; want the printed link", s.name, last.To, last.Body)
			}
		}
	}
}

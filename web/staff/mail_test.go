package staff

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/smtptest"
	"github.com/tandemhq/tandem/notify/smtp"
)

// TestAdminEmailsLink: with a mailer, the admin page emails the set-password link it shows
// to the agent, says so, and still shows it when the email is refused.
func TestAdminEmailsLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		script      []error
		reset       bool // a new link for an existing agent, rather than a new account
		wantSubject string
		wantPage    string
	}{
		{name: "OKAdd", wantSubject: "Your support account: set a password", wantPage: "was emailed to"},
		{name: "OKReset", reset: true, wantSubject: "Set a new password for your support account", wantPage: "was emailed to"},
		{name: "ErrRefused", script: []error{&gosmtp.SMTPError{Code: 550, Message: "mailbox unavailable"}}, wantPage: "Emailing the link failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{Script: tt.script})
			mailer, err := smtp.New(smtp.Config{URL: srv.URL(), From: "Support <support@example.com>", Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			f := setup(t, func(c *Config) { c.Mailer, c.BaseURL = mailer, "https://help.example.com" })
			_, c, csrf := f.admin(t, "root@example.com")
			target, form := AdminPath+"/agents", url.Values{"csrf": {csrf}, "email": {"bea@example.com"}, "role": {"agent"}, "name": {"Bea"}}
			if tt.reset {
				bea := f.addAgent(t, "bea@example.com", tandem.AgentRoleAgent, goodPassword)
				target, form = AdminPath+"/agents/"+bea.ID+"/password-link", url.Values{"csrf": {csrf}}
			}
			w := f.do(t, http.MethodPost, target, form, c)
			body := w.Body.String()
			if w.Code != http.StatusOK || !strings.Contains(body, tt.wantPage) {
				t.Fatalf("status %d, want 200 with %q; body:\n%s", w.Code, tt.wantPage, body)
			}
			link := shownLink(t, body) // shown either way
			msgs := srv.Messages()
			if tt.wantSubject == "" {
				if len(msgs) != 0 {
					t.Fatalf("%d emails accepted", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("%d emails, want 1", len(msgs))
			}
			m := msgs[0]
			if m.To[0] != "bea@example.com" || m.Header.Get("Subject") != tt.wantSubject || !strings.Contains(m.Body, link) {
				t.Errorf("email to %v subject %q body %q; want the shown link %q", m.To, m.Header.Get("Subject"), m.Body, link)
			}
			// The emailed link opens the set-password page.
			u, err := url.Parse(link)
			if err != nil || u.Host != "help.example.com" {
				t.Fatalf("link %q: %v", link, err)
			}
			if w := f.do(t, http.MethodGet, u.RequestURI(), nil, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "bea@example.com") {
				t.Errorf("emailed link opens: status %d", w.Code)
			}
		})
	}
}

func TestPasswordEmail(t *testing.T) {
	t.Parallel()
	a := &tandem.Agent{Name: "Bea", Email: "bea@example.com", Role: tandem.AgentRoleEditor}
	for _, reset := range []bool{false, true} {
		subject, text := PasswordEmail(a, "https://help.example.com/staff/password?token=t", reset)
		if subject == "" || !strings.Contains(text, "Hello Bea") || !strings.Contains(text, "?token=t") || !strings.Contains(text, DefaultLinkTTL.String()) {
			t.Errorf("reset %v: %q\n%s", reset, subject, text)
		}
	}
}

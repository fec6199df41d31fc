package staff

import (
	"context"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem"
)

// Mailer sends a plain-text email to one address (package notify/smtp is one). It is safe
// for concurrent use and returns an error when the message was not handed to the server.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

// PasswordEmail is the email that brings a set-password link to agent a: for a new
// account, or (reset) a new password for an existing one. The admin page and the CLI send
// the same text.
func PasswordEmail(a *tandem.Agent, link string, reset bool) (subject, text string) {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", a.Name)
	if reset {
		subject = "Set a new password for your support account"
		b.WriteString("A new password was asked for your account (" + a.Email + "). Set it here:\n\n")
	} else {
		subject = "Your support account: set a password"
		fmt.Fprintf(&b, "An account was made for you (%s, %s). Set its password here:\n\n", a.Email, a.Role)
	}
	fmt.Fprintf(&b, "%s\n\nThe link works once, for %s. Your current password, if you have one, keeps working until you use it.\nIf you did not expect this email, ignore it and tell your administrator.\n", link, DefaultLinkTTL)
	return subject, b.String()
}

// mailLink emails a set-password link to a when a mailer is configured. It reports
// whether it did, and a message for the admin when sending failed.
func (s *Staff) mailLink(ctx context.Context, a *tandem.Agent, link string, reset bool) (sent bool, failure string) {
	if s.cfg.Mailer == nil {
		return false, ""
	}
	subject, text := PasswordEmail(a, link, reset)
	if err := s.cfg.Mailer.Send(ctx, a.Email, subject, text); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "email set-password link", "agent_id", a.ID, "error", err)
		return false, "Emailing the link failed (the server log says why): send it yourself."
	}
	return true, ""
}

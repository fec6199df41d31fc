package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/notify/smtp"
)

// Mailer sends a plain-text email to one address; *smtp.Sender is one. Implementations
// are safe for concurrent use.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

// NewMailer returns the configured email sender (config.Email), or nil when email is not
// configured. The CLI uses it too, so `tandem users` mails as the server does.
func NewMailer(cfg config.Email, logger *slog.Logger) (Mailer, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	sc := smtp.Config{URL: cfg.SMTPURL, Username: cfg.Username, Password: cfg.Password,
		From: cfg.From, Timeout: cfg.Timeout, Logger: logger}
	if cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("email.ca_file: %s holds no PEM certificate", cfg.CAFile)
		}
		sc.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	s, err := smtp.New(sc)
	if err != nil {
		return nil, err
	}
	return s, nil
}

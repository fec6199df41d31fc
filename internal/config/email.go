package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Email sends one-time codes to email addresses and staff set-password links over SMTP
// (package notify/smtp). Empty SMTPURL: no email is sent.
type Email struct {
	// SMTPURL is the server (TANDEM_EMAIL_SMTP_URL): smtp://host[:port] (default port 587,
	// STARTTLS when offered) or smtps://host[:port] (465, implicit TLS). No credentials.
	SMTPURL string `yaml:"smtp_url"`
	// Username authenticates (TANDEM_EMAIL_USERNAME); its password comes from
	// TANDEM_SMTP_PASSWORD only. Empty: no authentication.
	Username string `yaml:"username"`
	// From is the sender, e.g. "Example Support <support@example.com>" (TANDEM_EMAIL_FROM).
	// Required with SMTPURL.
	From string `yaml:"from"`
	// Timeout bounds one attempt to send (TANDEM_EMAIL_TIMEOUT). Default 15s.
	Timeout time.Duration `yaml:"timeout"`
	// CAFile is a PEM file of the certificate authorities that sign the server's
	// certificate, for a relay with a private CA. Default: the system's roots.
	CAFile string `yaml:"ca_file"`

	Password string `yaml:"-"` // TANDEM_SMTP_PASSWORD
}

// Enabled reports whether email is configured.
func (e Email) Enabled() bool { return e.SMTPURL != "" }

// UnmarshalYAML refuses a password in the file with a message that says where it goes,
// and unknown keys as the rest of the file does.
func (e *Email) UnmarshalYAML(n *yaml.Node) error {
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; strings.Contains(strings.ToLower(k), "password") {
			return fmt.Errorf("line %d: email.%s: the SMTP password is read only from the environment (TANDEM_SMTP_PASSWORD), never from the file", n.Content[i].Line, k)
		}
	}
	// node.Decode would forget the loader's KnownFields; decode again with it.
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	type plain Email
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode((*plain)(e)); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	return nil
}

func (e Email) validate() error {
	if !e.Enabled() {
		if e.Username != "" || e.From != "" {
			return errors.New("email: smtp_url is required when username or from is set")
		}
		return nil
	}
	u, err := url.Parse(e.SMTPURL)
	switch {
	case err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "":
		return fmt.Errorf("email.smtp_url: %q is not an smtp://host:port or smtps://host:port URL", maskURL(e.SMTPURL))
	case u.User != nil:
		return errors.New("email.smtp_url: must not hold credentials; set email.username and TANDEM_SMTP_PASSWORD")
	case strings.TrimSpace(e.From) == "":
		return errors.New("email.from: required with email.smtp_url (e.g. \"Support <support@example.com>\")")
	case e.Username != "" && e.Password == "":
		return errors.New("email: TANDEM_SMTP_PASSWORD is required with email.username")
	case e.Username == "" && e.Password != "":
		return errors.New("email: TANDEM_SMTP_PASSWORD is set but email.username is not")
	case e.Timeout < 0:
		return fmt.Errorf("email.timeout: %s is negative", e.Timeout)
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return fmt.Errorf("email.from: %q is not an email address", e.From)
	}
	return nil
}

func (e *Email) applyEnv(getenv func(string) string) error {
	for key, dst := range map[string]*string{"TANDEM_EMAIL_SMTP_URL": &e.SMTPURL, "TANDEM_EMAIL_USERNAME": &e.Username,
		"TANDEM_EMAIL_FROM": &e.From, "TANDEM_SMTP_PASSWORD": &e.Password} {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	if v := getenv("TANDEM_EMAIL_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("TANDEM_EMAIL_TIMEOUT: %q is not a duration", v)
		}
		e.Timeout = d
	}
	return nil
}

// Package smtp sends plain-text email over SMTP (through github.com/wneessen/go-mail): the
// one-time codes that prove an email address, and staff set-password links.
//
// It sits under notify/ rather than connectors/ because email here is one-way notice to a
// person, not a conversation channel: a connector also receives messages and answers
// webhooks, which this does not. Its consumers (internal/app, internal/cli, web/staff) each
// declare the one method they use, Send, so nothing but the wiring imports it.
package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/tandemhq/tandem"
)

// Defaults of Config.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultAttempts = 3
	DefaultBackoff  = time.Second
	// Ports used when the URL names none: submission with STARTTLS, and implicit TLS.
	DefaultPort    = 587
	DefaultTLSPort = 465
)

// Config configures a Sender.
type Config struct {
	// URL is the server: smtp://host[:port] (port 587 by default) upgrades to TLS with
	// STARTTLS when the server offers it; smtps://host[:port] (465) speaks TLS from the
	// first byte. It holds no credentials. Required.
	URL string
	// Username and Password authenticate (SMTP AUTH); empty Username means no AUTH. The
	// password is sent only over TLS (or to a server on this machine).
	Username string
	Password string
	// From is the sender, an RFC 5322 address such as "Support <support@example.com>".
	// Required.
	From string
	// Timeout bounds one attempt: connecting, TLS, AUTH and the message. Default 15s.
	Timeout time.Duration
	// Attempts bounds tries of one message; only temporary failures (4xx replies, lost
	// connections) are tried again. Default 3.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each later one.
	// Default 1s.
	Backoff time.Duration
	// TLSConfig verifies the server's certificate (e.g. RootCAs of a private CA). Default:
	// the system's roots; its ServerName defaults to the URL's host.
	TLSConfig *tls.Config
	// Now stamps the Date header. Default time.Now.
	Now func() time.Time
	// Logger receives retries. Default slog.Default().
	Logger *slog.Logger
}

// Sender sends email through one SMTP server. It is safe for concurrent use; each Send
// opens its own connection.
type Sender struct {
	cfg    Config
	host   string
	port   int
	tls    bool // implicit TLS (smtps)
	from   *mail.Address
	domain string // of From, for Message-IDs
}

// ParseURL reads an smtp:// or smtps:// URL into host, port and whether TLS is implicit.
func ParseURL(raw string) (host string, port int, implicitTLS bool, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", 0, false, fmt.Errorf("smtp url %q: %w", raw, err)
	}
	switch u.Scheme {
	case "smtp":
		port = DefaultPort
	case "smtps":
		port, implicitTLS = DefaultTLSPort, true
	default:
		return "", 0, false, fmt.Errorf("smtp url %q: scheme must be smtp:// (STARTTLS) or smtps:// (implicit TLS)", raw)
	}
	if u.User != nil {
		return "", 0, false, errors.New("smtp url: must not hold credentials; set the username in the config and the password in the environment")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", 0, false, fmt.Errorf("smtp url %q: only scheme, host and port are read", raw)
	}
	if host = u.Hostname(); host == "" {
		return "", 0, false, fmt.Errorf("smtp url %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", 0, false, fmt.Errorf("smtp url %q: bad port", raw)
		}
	}
	return host, port, implicitTLS, nil
}

// New returns a Sender, or an error naming the first invalid setting.
func New(cfg Config) (*Sender, error) {
	host, port, implicitTLS, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("smtp: a From address is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q is not an email address: %w", cfg.From, err)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("smtp: a password without a username")
	}
	if cfg.Username != "" && cfg.Password == "" {
		return nil, fmt.Errorf("smtp: username %s has no password", cfg.Username)
	}
	if cfg.Timeout < 0 || cfg.Attempts < 0 || cfg.Backoff < 0 {
		return nil, errors.New("smtp: timeout, attempts and backoff must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	cfg.TLSConfig = tc
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Sender{cfg: cfg, host: host, port: port, tls: implicitTLS, from: from, domain: domain}, nil
}

// Send emails text to the address to with subject. A malformed address is EINVALID and
// nothing is sent. Temporary failures are tried again up to Config.Attempts with growing
// waits; a permanent refusal (5xx), a TLS or authentication failure, or ctx ending stops at
// once. The error names the server's reply.
func (s *Sender) Send(ctx context.Context, to, subject, text string) error {
	rcpt, err := mail.ParseAddress(strings.TrimSpace(to))
	if err != nil {
		return tandem.Errorf(tandem.EINVALID, "%q is not an email address", to)
	}
	wait := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err = s.send(ctx, rcpt, subject, text)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("send email to %s: %w: %w", rcpt.Address, ctx.Err(), err)
		}
		if !temporary(err) {
			return fmt.Errorf("send email to %s: refused, not retried: %w", rcpt.Address, err)
		}
		if attempt >= s.cfg.Attempts {
			return fmt.Errorf("send email to %s: gave up after %d attempts: %w", rcpt.Address, attempt, err)
		}
		s.cfg.Logger.WarnContext(ctx, "email not sent, retrying", "server", s.addr(), "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("send email to %s: %w: %w", rcpt.Address, ctx.Err(), err)
		case <-t.C:
		}
		wait *= 2
	}
}

func (s *Sender) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// send makes one attempt over a new connection.
func (s *Sender) send(ctx context.Context, to *mail.Address, subject, text string) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	m.ToMailAddress(to)
	m.Subject(subject)
	m.SetDateWithValue(s.cfg.Now())
	m.SetMessageIDWithValue(rand.Text() + "@" + s.domain)
	m.SetBodyString(gomail.TypeTextPlain, text)

	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithTLSConfig(s.cfg.TLSConfig)}
	if s.tls {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers, and PLAIN or
		// LOGIN only once the connection is encrypted.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		if m.IsDelivered() {
			// The server took the message and only the goodbye failed: trying again would
			// send it twice.
			s.cfg.Logger.DebugContext(ctx, "email sent; closing the connection failed", "server", s.addr(), "err", err)
			return nil
		}
		return fmt.Errorf("%s: %w", s.addr(), err)
	}
	return nil
}

// temporary reports whether err may pass on a later attempt: a 4xx reply, or a connection
// that failed or broke. Certificate errors and everything else the server refused are
// permanent.
func temporary(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.ErrorCode() != 0 {
			return se.IsTemp()
		}
		// No reply code: the connection broke mid-conversation (the error hides why).
		switch se.Reason {
		case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData,
			gomail.ErrWriteContent, gomail.ErrSMTPDataClose:
			return true
		}
		return false
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500
	}
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

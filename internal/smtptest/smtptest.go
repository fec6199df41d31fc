// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on 127.0.0.1:0 for
// tests of code that sends email: it records what it receives, can require AUTH PLAIN, offer
// STARTTLS or speak implicit TLS with a self-signed certificate, and fail DATA as scripted.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// ErrDrop, scripted for a DATA command, closes the connection without a reply.
var ErrDrop = errors.New("smtptest: drop the connection")

// Options configure a Server.
type Options struct {
	// Username and Password, when set, are the only credentials AUTH PLAIN accepts, and
	// mail is refused without them.
	Username, Password string
	// StartTLS offers STARTTLS; ImplicitTLS speaks TLS from the first byte (smtps). Both
	// use a self-signed certificate for 127.0.0.1 that Server.RootCAs trusts.
	StartTLS, ImplicitTLS bool
	// AllowInsecureAuth offers AUTH before TLS.
	AllowInsecureAuth bool
	// Script answers successive DATA commands: nil accepts, an *gosmtp.SMTPError is
	// replied, ErrDrop closes the connection. DATA beyond the script is accepted.
	Script []error
}

// Message is one message the server accepted.
type Message struct {
	From   string   // envelope sender
	To     []string // envelope recipients
	User   string   // who authenticated ("" for nobody)
	TLS    bool     // whether the connection was encrypted
	Header mail.Header
	Body   string // decoded from the transfer encoding
	Raw    []byte
}

// Server is a running SMTP server; t.Cleanup closes it.
type Server struct {
	// Addr is host:port.
	Addr string
	// RootCAs trusts the server's certificate.
	RootCAs *x509.CertPool
	certDER []byte

	opts  Options
	mu    sync.Mutex
	msgs  []Message
	datas int
	conns int
}

// Start starts a server with opts.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts}
	be := gosmtp.NewServer(gosmtp.BackendFunc(s.newSession))
	be.Domain = "127.0.0.1"
	be.ReadTimeout, be.WriteTimeout = 30*time.Second, 30*time.Second
	be.AllowInsecureAuth = opts.AllowInsecureAuth
	var tlsConfig *tls.Config
	if opts.StartTLS || opts.ImplicitTLS {
		cert, pool := selfSigned(t)
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.RootCAs, s.certDER = pool, cert.Certificate[0]
		if opts.StartTLS {
			be.TLSConfig = tlsConfig
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = countingListener{Listener: ln, s: s}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.Addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = be.Serve(ln)
	}()
	t.Cleanup(func() {
		// Closing the listener too ends Serve even when it has not registered it yet.
		_ = be.Close()
		_ = ln.Close()
		<-done
	})
	return s
}

// URL is the server's smtp:// (or smtps://) URL.
func (s *Server) URL() string {
	if s.opts.ImplicitTLS {
		return "smtps://" + s.Addr
	}
	return "smtp://" + s.Addr
}

// ClientTLS is a client configuration that trusts the server.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
}

// WriteCA writes the server's certificate, which is its own CA, to a PEM file in a
// temporary folder and returns its path.
func (s *Server) WriteCA(t testing.TB) string {
	t.Helper()
	if s.certDER == nil {
		t.Fatal("smtptest: WriteCA of a server without TLS")
	}
	path := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.certDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// DataCommands is how many DATA commands the server answered, accepted or not.
func (s *Server) DataCommands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.datas
}

// Connections is how many connections the server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

type countingListener struct {
	net.Listener
	s *Server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// newSession is called on every greeting (EHLO again after STARTTLS, too).
func (s *Server) newSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

type session struct {
	srv  *Server
	conn *gosmtp.Conn
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.srv.opts.Username || password != ss.srv.opts.Password {
			return gosmtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if ss.srv.opts.Username != "" && ss.user == "" {
		return gosmtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.srv
	s.mu.Lock()
	n := s.datas
	s.datas++
	s.mu.Unlock()
	if n < len(s.opts.Script) && s.opts.Script[n] != nil {
		if errors.Is(s.opts.Script[n], ErrDrop) {
			_ = ss.conn.Conn().Close()
		}
		return s.opts.Script[n]
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &gosmtp.SMTPError{Code: 554, Message: "unparsable message: " + err.Error()}
	}
	body, err := decode(m)
	if err != nil {
		return &gosmtp.SMTPError{Code: 554, Message: "undecodable body: " + err.Error()}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	s.mu.Lock()
	s.msgs = append(s.msgs, Message{From: ss.from, To: append([]string(nil), ss.to...), User: ss.user, TLS: isTLS,
		Header: m.Header, Body: body, Raw: raw})
	s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// decode reads the body of m through its Content-Transfer-Encoding.
func decode(m *mail.Message) (string, error) {
	r := m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certRecheck is how often a handshake looks at the certificate files again.
const certRecheck = 10 * time.Second

// certFiles serves the TLS certificate in a PEM certificate file and key file, and loads
// them again when either changes, so a renewed certificate (certbot, cert-manager) is
// served without a restart. A renewal caught half written, or otherwise broken, is logged
// and the previous certificate kept until the files change again.
type certFiles struct {
	certPath, keyPath string
	logger            *slog.Logger
	recheck           time.Duration
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]time.Time // modification times of the files loaded
	checked time.Time
}

// loadCertFiles reads the pair once; an unreadable or mismatched pair is an error, so a
// misconfigured server stops at start instead of failing every handshake.
func loadCertFiles(certPath, keyPath string, logger *slog.Logger) (*certFiles, error) {
	c := &certFiles{certPath: certPath, keyPath: keyPath, logger: logger, recheck: certRecheck, now: time.Now}
	stamp, err := c.stamps()
	if err != nil {
		return nil, err
	}
	if err := c.load(stamp); err != nil {
		return nil, err
	}
	c.checked = c.now()
	return c, nil
}

func (c *certFiles) stamps() ([2]time.Time, error) {
	var s [2]time.Time
	for i, p := range []string{c.certPath, c.keyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return s, fmt.Errorf("tls: %w", err)
		}
		s[i] = fi.ModTime()
	}
	return s, nil
}

func (c *certFiles) load(stamp [2]time.Time) error {
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", c.certPath, c.keyPath, err)
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= c.recheck {
		c.checked = now
		stamp, err := c.stamps()
		if err == nil && stamp != c.stamp {
			err = c.load(stamp)
			if err == nil {
				c.logger.Info("tls certificate reloaded", "cert", c.certPath)
			}
		}
		if err != nil {
			c.logger.Error("tls certificate not reloaded; serving the previous one", "err", err)
		}
	}
	if c.cert == nil {
		return nil, errors.New("tls: no certificate")
	}
	return c.cert, nil
}

// tlsConfig is the server's TLS configuration: HTTP/2 is negotiated by net/http, which
// lifts browsers' limit of six HTTP/1.1 connections per host that an agent's inbox tabs,
// each holding an event stream, would otherwise run into.
func (c *certFiles) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

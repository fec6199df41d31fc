package app

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// WriteTestCert writes a fresh self-signed certificate for 127.0.0.1 and localhost to
// cert.pem and key.pem in dir, named cn, and returns the certificate.
func WriteTestCert(t testing.TB, dir, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "PRIVATE KEY", kder)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestCertFiles: the certificate is read at start (a missing or mismatched pair stops the
// server), a renewed pair is served from the next check on, and a broken renewal keeps the
// previous certificate.
func TestCertFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	if _, err := loadCertFiles(cert, key, logger); err == nil || !strings.Contains(err.Error(), "cert.pem") {
		t.Fatalf("missing files: err = %v, want one naming cert.pem", err)
	}
	WriteTestCert(t, dir, "first")
	c, err := loadCertFiles(cert, key, logger)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }
	served := func() string {
		t.Helper()
		got, err := c.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(got.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Fatalf("served %q, want first", got)
	}

	WriteTestCert(t, dir, "renewed")
	// Modification times may not move within the file system's resolution: set them.
	later := now.Add(time.Minute)
	for _, p := range []string{cert, key} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := served(); got != "first" {
		t.Errorf("before the recheck interval: served %q, want first", got)
	}
	now = now.Add(certRecheck)
	if got := served(); got != "renewed" {
		t.Errorf("after renewal: served %q, want renewed", got)
	}

	// A renewal caught half written: the old certificate stays, and the failure is logged.
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	evenLater := later.Add(time.Minute)
	if err := os.Chtimes(key, evenLater, evenLater); err != nil {
		t.Fatal(err)
	}
	now = now.Add(certRecheck)
	if got := served(); got != "renewed" {
		t.Errorf("after a broken renewal: served %q, want renewed (kept)", got)
	}
	if !strings.Contains(logs.String(), "not reloaded") {
		t.Errorf("broken renewal not logged: %s", logs.String())
	}

	// A key that does not match the certificate stops the server at start.
	other := t.TempDir()
	WriteTestCert(t, other, "other")
	WriteTestCert(t, dir, "third")
	if _, err := loadCertFiles(cert, filepath.Join(other, "key.pem"), slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("mismatched certificate and key: no error")
	}
}

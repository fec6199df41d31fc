// Package signed makes tamper-proof cookie values with HMAC-SHA256 under the server's
// session secret (TANDEM_SESSION_SECRET), for every surface that keeps an identity in a
// cookie: the inbox's agent session and the web chat's visitor id. A value is bound to a
// purpose, so a value made for one cookie is never accepted by another.
package signed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Signer signs and verifies values. It is safe for concurrent use.
type Signer struct {
	secret []byte
}

// New returns a signer with secret. An empty secret is refused by panicking: callers
// default it (a random per-process key) before, where they document what that means.
func New(secret []byte) *Signer {
	if len(secret) == 0 {
		panic("signed.New: empty secret")
	}
	return &Signer{secret: append([]byte(nil), secret...)}
}

// MAC returns the base64url MAC of the parts (each followed by a NUL, so parts cannot be
// shifted into one another).
func (s *Signer) MAC(parts ...string) string {
	m := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Equal compares two MACs in constant time.
func Equal(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// Seal returns "<base64url value>.<expiry unix>.<MAC of purpose, value, expiry>".
func (s *Signer) Seal(purpose, value string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(value)) + "." + e + "." + s.MAC(purpose, value, e)
}

// Open returns the value of a sealed string made by Seal with the same purpose and secret
// that has not expired at now; ok is false for anything else.
func (s *Signer) Open(purpose, sealed string, now time.Time) (value string, ok bool) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() >= exp {
		return "", false
	}
	if !Equal(parts[2], s.MAC(purpose, string(raw), parts[1])) {
		return "", false
	}
	return string(raw), true
}

package staff

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/signed"
)

// Password length bounds, in characters. The upper bound keeps hashing cheap to ask for.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// DefaultHashParams are the argon2id parameters of new hashes (OWASP's 19 MiB, 2 passes, 1
// lane). They are encoded in every hash (PHC string), so raising them later still verifies
// older hashes.
var DefaultHashParams = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// CheckPasswordRules returns EINVALID with a message for the person when password is too
// short, too long or not text.
func CheckPasswordRules(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return tandem.Errorf(tandem.EINVALID, "the password is not valid text")
	case n < MinPasswordLen:
		return tandem.Errorf(tandem.EINVALID, "the password is too short: use at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return tandem.Errorf(tandem.EINVALID, "the password is too long: use at most %d characters", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns the encoded argon2id hash of password with params.
func HashPassword(password string, params argon2id.Params) (string, error) {
	h, err := argon2id.CreateHash(password, &params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// checkPassword reports whether password matches the encoded hash (compared in constant
// time). A hash that does not decode, such as "" for an agent without a password, is no
// match; the caller hashes against a dummy then so the time spent is the same.
func checkPassword(password, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}

// Purposes of signed values (package signed), so one is never accepted as another.
const (
	purposeSession  = "staff-session"
	purposePassword = "staff-password"
	purposeState    = "staff-password-state"
	purposeCSRF     = "staff-csrf"
)

// PasswordPath is the set-password page a link opens.
const PasswordPath = "/staff/password"

// DefaultLinkTTL is how long a set-password link works.
const DefaultLinkTTL = 24 * time.Hour

// PasswordLink returns the one-time link {baseURL}/staff/password?token=… where the agent
// agentID, whose password hash is currently hash ("" for none), sets a password until exp.
// The token is signed with secret and bound to the current hash, so it stops working once a
// password is set with it (or any other way).
func PasswordLink(secret []byte, baseURL, agentID, hash string, exp time.Time) string {
	s := signed.New(secret)
	tok := s.Seal(purposePassword, agentID+":"+s.MAC(purposeState, hash), exp)
	return strings.TrimRight(baseURL, "/") + PasswordPath + "?token=" + url.QueryEscape(tok)
}

// openPasswordToken returns the agent id of a valid, unexpired token and the fingerprint of
// the hash it was made for.
func openPasswordToken(s *signed.Signer, token string, now time.Time) (agentID, state string, ok bool) {
	v, ok := s.Open(purposePassword, token, now)
	if !ok {
		return "", "", false
	}
	agentID, state, ok = strings.Cut(v, ":")
	return agentID, state, ok && agentID != ""
}

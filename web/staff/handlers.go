package staff

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// notices are the messages shown after a redirect (htmlpage.Redirect).
var notices = map[string]string{
	"password":  "Your password is set. Sign in with it.",
	"signedout": "You are signed out.",
}

// signInData is the sign-in page's data.
type signInData struct {
	Next  string
	Email string
}

func (s *Staff) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Sign in", Notice: htmlpage.Notice(r, notices), Data: signInData{Next: safeNext(r.URL.Query().Get("next"))}}
	a, cred, err := s.session(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a != nil {
		p.Agent, p.CSRF = a, s.csrfToken(cred)
	}
	s.render(w, r, http.StatusOK, "signin", p)
}

// errSignIn is what every failed sign-in says, whatever failed: it must not tell which
// emails have accounts.
var errSignIn = tandem.Errorf(tandem.EUNAUTHORIZED, "the email or password is not right")

// handleSignIn checks the posted email and password. Every attempt costs one argon2id
// check, whether or not the email has an account or a password, so timing does not tell.
func (s *Staff) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if err := formError(r); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	data := signInData{Next: safeNext(r.PostFormValue("next")), Email: email}
	client := s.cfg.ClientIP(r)
	// Attempts, not only failures, are limited: a person signs in a few times a day, and
	// counting the attempt first means parallel guesses cannot all slip in before one fails.
	// The store counts them, so the limits hold however many replicas serve this page.
	wait, err := s.takeAttempts(r, client, email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wait > 0 {
		s.cfg.Logger.WarnContext(ctx, "staff sign-in rate limited", "client", client)
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		s.render(w, r, http.StatusTooManyRequests, "signin", page{Title: "Sign in", Data: data,
			Error: fmt.Sprintf("Too many sign-in attempts; try again in %s.", wait.Round(time.Second))})
		return
	}
	a, err := s.store.FindAgentByEmail(ctx, email)
	if err != nil && tandem.ErrorCode(err) != tandem.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	hash, err := s.dummy()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var subject string
	var cred *storage.AgentCredentials
	if a != nil {
		subject = a.ID
		if cred, err = s.store.FindAgentCredentials(ctx, a.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		if cred.PasswordHash != "" {
			hash = cred.PasswordHash
		}
	}
	// An oversized password is checked cut short (so it costs what a long one does) and
	// never matches: no one could have set it.
	match := checkPassword(password[:min(len(password), maxPasswordBytes)], hash) && len(password) <= maxPasswordBytes
	if match && cred != nil && cred.PasswordHash != "" {
		s.setSession(w, r, cred)
		s.audit(ctx, &tandem.AuditEntry{Actor: handoff.Actor(a.ID), Action: ActionSignIn, Subject: a.ID,
			Detail: map[string]string{"email": a.Email, "client": client}})
		next := data.Next
		if next == "" {
			next = home(a.Role)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.audit(ctx, &tandem.AuditEntry{Actor: "anonymous", Action: ActionSignInFailed, Subject: subject,
		Detail: map[string]string{"email": email, "client": client}})
	s.render(w, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Data: data, Error: tandem.ErrorMessage(errSignIn)})
}

// takeAttempts counts a sign-in attempt from client for email against both limits, as
// two keys in the store; it returns how long to wait when either refuses (0: go ahead).
func (s *Staff) takeAttempts(r *http.Request, client, email string) (time.Duration, error) {
	var wait time.Duration
	for _, k := range []struct {
		key string
		lim storage.AttemptLimit
	}{{"client:" + client, s.perClient}, {"email:" + email, s.perEmail}} {
		if k.lim.Every == 0 {
			continue
		}
		ok, w, err := s.store.TakeSignInAttempt(r.Context(), k.key, k.lim, s.cfg.Now())
		if err != nil {
			return 0, fmt.Errorf("sign-in limit: %w", err)
		}
		if !ok {
			wait = max(wait, w, time.Second)
		}
	}
	return wait, nil
}

// maxPasswordBytes is the most bytes MaxPasswordLen characters take in UTF-8.
const maxPasswordBytes = 4 * MaxPasswordLen

// passwordData is the set-password page's data.
type passwordData struct {
	Token string
	Email string
}

// errLink is what an unusable set-password link says.
var errLink = tandem.Errorf(tandem.EFORBIDDEN, "this link is invalid, expired or already used; ask an admin for a new one (tandem users reset-password EMAIL)")

// passwordTarget returns the agent a set-password token is for and that agent's current
// password hash, or errLink.
func (s *Staff) passwordTarget(r *http.Request, token string) (*tandem.Agent, string, error) {
	id, state, ok := openPasswordToken(s.signer, token, s.cfg.Now())
	if !ok {
		return nil, "", errLink
	}
	a, err := s.store.FindAgentByID(r.Context(), id)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, "", errLink
	}
	if err != nil {
		return nil, "", err
	}
	cred, err := s.store.FindAgentCredentials(r.Context(), id)
	if err != nil {
		return nil, "", err
	}
	if !signed.Equal(state, s.signer.MAC(purposeState, cred.PasswordHash)) {
		return nil, "", errLink
	}
	return a, cred.PasswordHash, nil
}

func (s *Staff) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	a, _, err := s.passwordTarget(r, token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "password", page{Title: "Set your password", Data: passwordData{Token: token, Email: a.Email}})
}

// handleSetPassword sets the password of a link's agent. The store only replaces the hash
// the link was made for, so a link works once even when used twice at the same moment.
func (s *Staff) handleSetPassword(w http.ResponseWriter, r *http.Request) {
	if err := formError(r); err != nil {
		s.fail(w, r, err)
		return
	}
	token := r.PostFormValue("token")
	a, oldHash, err := s.passwordTarget(r, token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	password := r.PostFormValue("password")
	data := passwordData{Token: token, Email: a.Email}
	err = CheckPasswordRules(password)
	if err == nil && password != r.PostFormValue("confirm") {
		err = tandem.Errorf(tandem.EINVALID, "the two passwords differ")
	}
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "password", page{Title: "Set your password", Data: data, Error: tandem.ErrorMessage(err)})
		return
	}
	hash, err := HashPassword(password, s.cfg.HashParams)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.store.SetAgentPassword(r.Context(), a.ID, oldHash, hash, s.cfg.Now()); err != nil {
		if tandem.ErrorCode(err) == tandem.ECONFLICT {
			err = errLink
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r.Context(), &tandem.AuditEntry{Actor: handoff.Actor(a.ID), Action: ActionPasswordSet, Subject: a.ID,
		Detail: map[string]string{"email": a.Email, "client": s.cfg.ClientIP(r)}})
	htmlpage.Redirect(w, r, SignInPath, "password")
}

// formError parses the posted form and reports why it could not be read.
func formError(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tandem.Errorf(tandem.ETOOLARGE, "the form is larger than %d bytes", mbe.Limit)
		}
		return tandem.Errorf(tandem.EINVALID, "malformed form")
	}
	return nil
}

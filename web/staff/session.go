package staff

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/storage"
)

type agentKey struct{}

// AgentFrom returns the signed-in agent that Require put in ctx, or nil.
func AgentFrom(ctx context.Context) *tandem.Agent {
	a, _ := ctx.Value(agentKey{}).(*tandem.Agent)
	return a
}

// Require returns middleware that lets in only signed-in agents with one of roles (admins
// always), with the agent in the request's context (AgentFrom). Others get: a GET or HEAD
// without a session, a redirect to the sign-in page that comes back; any other method
// without a session, 403 (a form posted after the session ended must not be replayed
// after signing in); a signed-in agent of another role, a 403 page.
func (s *Staff) Require(roles ...tandem.AgentRole) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.guard(roles, func(w http.ResponseWriter, r *http.Request, a *tandem.Agent, _ *storage.AgentCredentials) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), agentKey{}, a)))
		})
	}
}

// guard is Require for the package's own pages, which also need the session's
// credentials (for the form token).
func (s *Staff) guard(roles []tandem.AgentRole, next func(http.ResponseWriter, *http.Request, *tandem.Agent, *storage.AgentCredentials)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, cred, err := s.session(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if a == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, SignInPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "your session has ended; sign in again"))
			return
		}
		if !allowed(a.Role, roles) {
			s.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "your role (%s) may not open this page", a.Role))
			return
		}
		next(w, r, a, cred)
	})
}

func allowed(role tandem.AgentRole, roles []tandem.AgentRole) bool {
	return role == tandem.AgentRoleAdmin || slices.Contains(roles, role)
}

// session returns the agent of the request's session cookie and its credentials, or nil
// when there is no valid session: a cookie that is forged, expired, of an unknown agent,
// or of an older session epoch (the password changed or the agent signed out since).
func (s *Staff) session(r *http.Request) (*tandem.Agent, *storage.AgentCredentials, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, nil, nil
	}
	v, ok := s.signer.Open(purposeSession, c.Value, s.cfg.Now())
	if !ok {
		return nil, nil, nil
	}
	id, epochStr, _ := strings.Cut(v, ":")
	epoch, err := strconv.ParseInt(epochStr, 10, 64)
	if err != nil {
		return nil, nil, nil
	}
	a, err := s.store.FindAgentByID(r.Context(), id)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cred, err := s.store.FindAgentCredentials(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if cred.SessionEpoch != epoch || cred.PasswordHash == "" {
		return nil, nil, nil
	}
	return a, cred, nil
}

// setSession starts a session for the agent with cred.
func (s *Staff) setSession(w http.ResponseWriter, r *http.Request, cred *storage.AgentCredentials) {
	exp := s.cfg.Now().Add(s.cfg.SessionTTL)
	v := s.signer.Seal(purposeSession, cred.AgentID+":"+strconv.FormatInt(cred.SessionEpoch, 10), exp)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: v, Path: "/", Expires: exp, HttpOnly: true,
		Secure: r.TLS != nil || s.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
}

func (s *Staff) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil || s.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
}

// csrfToken is the token of the staff forms of a session: bound to the agent and its
// session epoch, so it dies with the session.
func (s *Staff) csrfToken(cred *storage.AgentCredentials) string {
	return s.signer.MAC(purposeCSRF, cred.AgentID, strconv.FormatInt(cred.SessionEpoch, 10))
}

// SignOut ends the request's session (every session of its agent: see the package doc) and
// sends the browser to the sign-in page. Sites behind Require call it from their own
// sign-out form, after checking that form's token.
func (s *Staff) SignOut(w http.ResponseWriter, r *http.Request) {
	_, cred, err := s.session(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cred != nil {
		if _, err := s.store.RevokeAgentSessions(r.Context(), cred.AgentID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSession(w, r)
	http.Redirect(w, r, SignInPath+"?done=signedout", http.StatusSeeOther)
}

// handleSignOut is the staff pages' own sign-out form.
func (s *Staff) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, tandem.Errorf(tandem.EINVALID, "malformed form"))
		return
	}
	_, cred, err := s.session(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cred != nil && !signed.Equal(r.PostFormValue("csrf"), s.csrfToken(cred)) {
		s.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "the form's security token is missing or invalid; reload the page and try again"))
		return
	}
	s.SignOut(w, r)
}

// safeNext returns next when it is a path on this site, else "": the sign-in page must not
// send anyone elsewhere (an open redirect). "//host" and "/\host" are other sites to
// browsers, and control characters could split headers.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2048 {
		return ""
	}
	for _, c := range next {
		if c == '\\' || c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

// home is where an agent lands after signing in without a page to return to.
func home(role tandem.AgentRole) string {
	if role == tandem.AgentRoleEditor {
		return "/kb/"
	}
	return "/inbox/"
}

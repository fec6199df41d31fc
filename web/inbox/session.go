package inbox

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/signed"
)

// Agent identity without staff accounts (staff_auth: open; with accounts, Deps.Agent names
// the agent and this cookie is unused): the agent types an
// email address, and the cookie holds that agent's id and an expiry signed with
// HMAC-SHA256 (package signed, shared with the web chat's visitor cookie). Anyone who can reach the inbox can claim any address, which is why the inbox
// sits behind the staff-only guard.

// CookieName is the agent session cookie.
const CookieName = "tandem_inbox_agent"

// sessionValue is the cookie value of agentID's session (signed.Signer.Seal).
func (h *handler) sessionValue(agentID string, exp time.Time) string {
	return h.signer.Seal("session", agentID, exp)
}

// sessionAgentID returns the agent id of a valid, unexpired cookie value, or "".
func (h *handler) sessionAgentID(v string) string {
	id, _ := h.signer.Open("session", v, h.cfg.Now())
	return id
}

// csrfToken is the token agent forms carry; it is bound to the agent's session.
func (h *handler) csrfToken(agentID string) string { return h.signer.MAC("csrf", agentID) }

// agent returns the signed-in agent, or nil.
func (h *handler) agent(r *http.Request) (*tandem.Agent, error) {
	if h.accountAgent != nil {
		return h.accountAgent(r)
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, nil
	}
	id := h.sessionAgentID(c.Value)
	if id == "" {
		return nil, nil
	}
	a, err := h.store.FindAgentByID(r.Context(), id)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// agentOnly passes the signed-in agent to next; others see the sign-in page. POSTs must
// carry the agent's token.
func (h *handler) agentOnly(next func(http.ResponseWriter, *http.Request, *tandem.Agent)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := h.agent(r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if a == nil {
			if r.Method == http.MethodPost {
				h.fail(w, r, nil, tandem.Errorf(tandem.EFORBIDDEN, "your session has ended; sign in again"))
				return
			}
			if h.accountAgent != nil {
				h.fail(w, r, nil, tandem.Errorf(tandem.EUNAUTHORIZED, "sign in at /staff/signin"))
				return
			}
			h.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: r.URL.Path})
			return
		}
		if r.Method == http.MethodPost {
			if err := formError(r); err != nil {
				h.fail(w, r, a, err)
				return
			}
			got := r.PostFormValue("csrf")
			if !signed.Equal(got, h.csrfToken(a.ID)) {
				h.fail(w, r, a, tandem.Errorf(tandem.EFORBIDDEN, "the form's security token is missing or invalid; reload the page and try again"))
				return
			}
		}
		next(w, r, a)
	}
}

// formError parses the posted form and reports why it could not be read (too large,
// malformed). Call it before reading any form value: they swallow the error.
func formError(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tandem.Errorf(tandem.ETOOLARGE, "the form is larger than %d bytes", mbe.Limit)
		}
		if strings.Contains(err.Error(), "too large") {
			return tandem.Errorf(tandem.ETOOLARGE, "the form is too large")
		}
		return tandem.Errorf(tandem.EINVALID, "malformed form")
	}
	return nil
}

// handleSignIn finds or creates the agent with the posted email and sets the session
// cookie, then returns to the page the agent came from (an inbox path only).
func (h *handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if h.accountAgent != nil {
		h.fail(w, r, nil, tandem.Errorf(tandem.ENOTFOUND, "staff sign in at /staff/signin"))
		return
	}
	if err := formError(r); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	email := r.PostFormValue("email")
	a, err := handoff.SignIn(r.Context(), h.store, email)
	if tandem.ErrorCode(err) == tandem.EINVALID {
		h.render(w, r, http.StatusBadRequest, "signin", page{Title: "Sign in", Error: tandem.ErrorMessage(err), Data: "/inbox/"})
		return
	}
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	exp := h.cfg.Now().Add(h.cfg.SessionTTL)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: h.sessionValue(a.ID, exp), Path: "/inbox/",
		Expires: exp, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/inbox/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		next = "/inbox/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSignOut clears the session cookie, or with staff accounts ends the staff session
// (the form's token is checked first).
func (h *handler) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if h.signOut != nil {
		h.agentOnly(func(w http.ResponseWriter, r *http.Request, _ *tandem.Agent) { h.signOut(w, r) })(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/inbox/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/inbox/", http.StatusSeeOther)
}

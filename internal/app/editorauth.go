package app

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/web"
	"github.com/tandemhq/tandem/web/staff"
)

// staffGuard is how the staff sites are guarded: editor and inbox wrap the knowledge
// editor and the inbox; agent and signOut are the inbox's Deps.Agent and Deps.SignOut (nil
// without accounts: the inbox then has its own email sign-in).
type staffGuard struct {
	editor, inbox func(http.Handler) http.Handler
	agent         func(*http.Request) (*tandem.Agent, error)
	signOut       http.HandlerFunc
}

// newStaffGuard returns the guard of the configured staff authentication (config.StaffAuth).
// With accounts, staff sign in at /staff/signin (mounted here) and their role decides what
// they open: the inbox agents and supervisors, the editor editors, admins everything. Open
// keeps editorsOnly and the inbox's email sign-in, so the demo works in a browser with
// nothing to set up.
func (a *App) newStaffGuard(ctx context.Context) (staffGuard, error) {
	cfg := a.cfg
	if cfg.StaffAuthMode() == config.StaffAuthOpen {
		open := func(h http.Handler) http.Handler { return editorsOnly(cfg.APIKeys, h) }
		return staffGuard{editor: open, inbox: open}, nil
	}
	// The CLI signs the set-password links it prints with the same secret; a per-process key
	// would make every link fail.
	if cfg.SessionSecret == "" {
		return staffGuard{}, errors.New("staff_auth accounts needs TANDEM_SESSION_SECRET (it signs staff sessions and the links of tandem users add); set it, or TANDEM_STAFF_AUTH=open")
	}
	st := staff.New(staff.Config{Secret: []byte(cfg.SessionSecret), BaseURL: cfg.BaseURL, SessionTTL: cfg.StaffSessionTTL,
		ClientIP: web.ClientIPFunc(cfg.ClientIPHeader), SecureCookie: strings.HasPrefix(cfg.BaseURL, "https://"), Mailer: a.mailer, Logger: a.logger}, a.store)
	a.web.Mount("/staff/", st)
	if agents, err := a.store.ListAgents(ctx); err == nil && !slices.ContainsFunc(agents, func(ag tandem.Agent) bool { return ag.Role == tandem.AgentRoleAdmin }) {
		a.logger.Info("no staff admin yet: create one with `tandem users add EMAIL --role admin` and open the link it prints")
	}
	return staffGuard{
		editor:  st.Require(tandem.AgentRoleEditor),
		inbox:   st.Require(tandem.AgentRoleAgent, tandem.AgentRoleSupervisor),
		agent:   func(r *http.Request) (*tandem.Agent, error) { return staff.AgentFrom(r.Context()), nil },
		signOut: st.SignOut,
	}, nil
}

// staffActor is the audit actor of the staff member signed in to a request (accounts
// mode), or "" (open mode).
func staffActor(ctx context.Context) string {
	if a := staff.AgentFrom(ctx); a != nil {
		return handoff.Actor(a.ID)
	}
	return ""
}

// staffAdmin reports whether the staff member signed in to a request is an admin.
func staffAdmin(ctx context.Context) bool {
	a := staff.AgentFrom(ctx)
	return a != nil && a.Role == tandem.AgentRoleAdmin
}

// editorsOnly guards the staff pages (the knowledge editor, the agent inbox) when staff
// sign in without accounts (staff_auth: open): with API keys
// configured, a request must carry one (HTTP Basic password, any user name, or a Bearer
// token); with none configured, only requests from this machine (loopback) are let in, so the
// demo works on localhost and nothing is exposed on a network by default.
func editorsOnly(keys []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(keys) == 0 {
			if web.IsLoopback(r.RemoteAddr) {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, "staff pages (knowledge editor, inbox) are only served to this machine until TANDEM_API_KEYS is set", http.StatusForbidden)
			return
		}
		if web.ValidAPIKey(keys, presentedKey(r)) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="tandem staff", charset="UTF-8"`)
		http.Error(w, "sign in with an API key as the password", http.StatusUnauthorized)
	})
}

func presentedKey(r *http.Request) string {
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return ""
}

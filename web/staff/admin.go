package staff

import (
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// AdminPath is the admins' page of staff accounts.
const AdminPath = "/staff/admin"

// Audit actions of the admin page; the CLI (tandem users) records the same ones.
const (
	ActionAgentCreate  = "agent.create"
	ActionAgentUpdate  = "agent.update"
	ActionPasswordLink = "staff.password_link"
)

// MaxCapacity is the largest capacity the admin page accepts (0 is unlimited).
const MaxCapacity = 1000

// maxTokens bounds the skills or languages of one agent.
const maxTokens = 20

// token is one skill (a queue name) or language code.
var token = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

var adminNotices = map[string]string{
	"saved": "Saved.",
}

// adminRow is one agent on the admin page.
type adminRow struct {
	Agent       tandem.Agent
	Skills      string
	Languages   string
	HasPassword bool
}

// adminData is the admin page's data.
type adminData struct {
	Agents []adminRow
	Roles  []tandem.AgentRole
	// Link is a set-password link just made, for LinkEmail.
	Link, LinkEmail string
	LinkTTL         time.Duration
}

var roles = []tandem.AgentRole{tandem.AgentRoleAgent, tandem.AgentRoleSupervisor, tandem.AgentRoleEditor, tandem.AgentRoleAdmin}

func (s *Staff) mountAdmin(mux *http.ServeMux) {
	admin := []tandem.AgentRole{tandem.AgentRoleAdmin}
	mux.Handle("GET "+AdminPath, s.guard(admin, func(w http.ResponseWriter, r *http.Request, a *tandem.Agent, cred *storage.AgentCredentials) {
		s.renderAdmin(w, r, http.StatusOK, a, cred, htmlpage.Notice(r, adminNotices), "", adminData{})
	}))
	mux.Handle("POST "+AdminPath+"/agents", s.guard(admin, s.adminForm(s.handleAddAgent)))
	mux.Handle("POST "+AdminPath+"/agents/{id}", s.guard(admin, s.adminForm(s.handleUpdateAgent)))
	mux.Handle("POST "+AdminPath+"/agents/{id}/password-link", s.guard(admin, s.adminForm(s.handlePasswordLink)))
}

type adminHandler = func(http.ResponseWriter, *http.Request, *tandem.Agent, *storage.AgentCredentials)

// adminForm parses the posted form and checks its token before next.
func (s *Staff) adminForm(next adminHandler) adminHandler {
	return func(w http.ResponseWriter, r *http.Request, a *tandem.Agent, cred *storage.AgentCredentials) {
		if err := formError(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if !signed.Equal(r.PostFormValue("csrf"), s.csrfToken(cred)) {
			s.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "the form's security token is missing or invalid; reload the page and try again"))
			return
		}
		next(w, r, a, cred)
	}
}

// renderAdmin renders the admin page with the current agents, and msg as its error.
func (s *Staff) renderAdmin(w http.ResponseWriter, r *http.Request, status int, a *tandem.Agent, cred *storage.AgentCredentials, notice, msg string, d adminData) {
	ctx := r.Context()
	agents, err := s.store.ListAgents(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Roles, d.LinkTTL = roles, DefaultLinkTTL
	for _, ag := range agents {
		c, err := s.store.FindAgentCredentials(ctx, ag.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Agents = append(d.Agents, adminRow{Agent: ag, Skills: strings.Join(ag.Skills, ", "),
			Languages: strings.Join(ag.Languages, ", "), HasPassword: c.PasswordHash != ""})
	}
	s.render(w, r, status, "admin", page{Title: "Staff", Agent: a, CSRF: s.csrfToken(cred), Notice: notice, Error: msg, Wide: true, Data: d})
}

// invalid renders the admin page with err's message and status 400 (or err's page when it
// is not the person's mistake).
func (s *Staff) invalid(w http.ResponseWriter, r *http.Request, a *tandem.Agent, cred *storage.AgentCredentials, err error) {
	switch tandem.ErrorCode(err) {
	case tandem.EINVALID, tandem.EDUPLICATE, tandem.ECONFLICT:
		s.renderAdmin(w, r, http.StatusBadRequest, a, cred, "", tandem.ErrorMessage(err), adminData{})
	default:
		s.fail(w, r, err)
	}
}

// handleAddAgent creates an account and shows its set-password link.
func (s *Staff) handleAddAgent(w http.ResponseWriter, r *http.Request, admin *tandem.Agent, cred *storage.AgentCredentials) {
	ctx := r.Context()
	role, err := parseRole(r.PostFormValue("role"))
	if err != nil {
		s.invalid(w, r, admin, cred, err)
		return
	}
	email, err := parseEmail(r.PostFormValue("email"))
	if err != nil {
		s.invalid(w, r, admin, cred, err)
		return
	}
	a := &tandem.Agent{Name: strings.TrimSpace(r.PostFormValue("name")), Email: email, Role: role}
	if a.Name == "" {
		a.Name, _, _ = strings.Cut(email, "@")
	}
	if len([]rune(a.Name)) > 100 {
		s.invalid(w, r, admin, cred, tandem.Errorf(tandem.EINVALID, "the name is too long: use at most 100 characters"))
		return
	}
	if err := s.store.CreateAgent(ctx, a); err != nil {
		if tandem.ErrorCode(err) == tandem.EDUPLICATE {
			err = tandem.Errorf(tandem.EDUPLICATE, "%s already has an account: change it in the list, or make a new password link", email)
		}
		s.invalid(w, r, admin, cred, err)
		return
	}
	s.audit(ctx, &tandem.AuditEntry{Actor: handoff.Actor(admin.ID), Action: ActionAgentCreate, Subject: a.ID,
		Detail: map[string]string{"email": a.Email, "role": string(a.Role)}})
	s.renderAdmin(w, r, http.StatusOK, admin, cred, "Created "+a.Email+".", "",
		adminData{Link: s.passwordLink(a.ID, ""), LinkEmail: a.Email})
}

// handlePasswordLink shows a new set-password link for an agent. Their current password
// keeps working until the link is used.
func (s *Staff) handlePasswordLink(w http.ResponseWriter, r *http.Request, admin *tandem.Agent, cred *storage.AgentCredentials) {
	ctx := r.Context()
	a, err := s.store.FindAgentByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.store.FindAgentCredentials(ctx, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(ctx, &tandem.AuditEntry{Actor: handoff.Actor(admin.ID), Action: ActionPasswordLink, Subject: a.ID,
		Detail: map[string]string{"email": a.Email}})
	s.renderAdmin(w, r, http.StatusOK, admin, cred, "", "", adminData{Link: s.passwordLink(a.ID, c.PasswordHash), LinkEmail: a.Email})
}

func (s *Staff) passwordLink(agentID, hash string) string {
	return PasswordLink(s.cfg.Secret, s.cfg.BaseURL, agentID, hash, s.cfg.Now().Add(DefaultLinkTTL))
}

// handleUpdateAgent changes an agent's role, skills, languages and capacity, refusing to
// leave no admin.
func (s *Staff) handleUpdateAgent(w http.ResponseWriter, r *http.Request, admin *tandem.Agent, cred *storage.AgentCredentials) {
	ctx := r.Context()
	upd, err := parseUpdate(r)
	if err != nil {
		s.invalid(w, r, admin, cred, err)
		return
	}
	// One change at a time, so two admins demoting each other cannot both pass the check
	// (within this process; replicas would need the store to check).
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	a, err := s.store.FindAgentByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a.Role == tandem.AgentRoleAdmin && *upd.Role != tandem.AgentRoleAdmin {
		agents, err := s.store.ListAgents(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !slices.ContainsFunc(agents, func(o tandem.Agent) bool { return o.ID != a.ID && o.Role == tandem.AgentRoleAdmin }) {
			s.invalid(w, r, admin, cred, tandem.Errorf(tandem.ECONFLICT, "%s is the last admin: make someone else an admin first", a.Email))
			return
		}
	}
	if a, err = s.store.UpdateAgent(ctx, a.ID, upd); err != nil {
		s.invalid(w, r, admin, cred, err)
		return
	}
	s.audit(ctx, &tandem.AuditEntry{Actor: handoff.Actor(admin.ID), Action: ActionAgentUpdate, Subject: a.ID,
		Detail: map[string]string{"role": string(a.Role), "skills": strings.Join(a.Skills, ","),
			"languages": strings.Join(a.Languages, ","), "capacity": strconv.Itoa(a.Capacity)}})
	if a.ID == admin.ID && a.Role != tandem.AgentRoleAdmin {
		http.Redirect(w, r, home(a.Role), http.StatusSeeOther) // no longer allowed here
		return
	}
	htmlpage.Redirect(w, r, AdminPath, "saved")
}

// parseUpdate reads the update form: every field is set (an empty list clears).
func parseUpdate(r *http.Request) (storage.AgentUpdate, error) {
	role, err := parseRole(r.PostFormValue("role"))
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	skills, err := parseTokens("skill", r.PostFormValue("skills"), false)
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	langs, err := parseTokens("language", r.PostFormValue("languages"), true)
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	c := strings.TrimSpace(r.PostFormValue("capacity"))
	capacity := 0
	if c != "" {
		if capacity, err = strconv.Atoi(c); err != nil || capacity < 0 || capacity > MaxCapacity {
			return storage.AgentUpdate{}, tandem.Errorf(tandem.EINVALID, "capacity %q is not a whole number from 0 (unlimited) to %d", c, MaxCapacity)
		}
	}
	return storage.AgentUpdate{Role: &role, Skills: skills, Languages: langs, Capacity: &capacity}, nil
}

func parseRole(v string) (tandem.AgentRole, error) {
	r := tandem.AgentRole(strings.TrimSpace(v))
	if !slices.Contains(roles, r) {
		return "", tandem.Errorf(tandem.EINVALID, "role %q is not agent, supervisor, editor or admin", v)
	}
	return r, nil
}

// parseTokens splits a comma-separated list into short tokens (lower-cased for language
// codes); empty is an empty, non-nil list, which clears.
func parseTokens(what, v string, lower bool) ([]string, error) {
	out := []string{}
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !token.MatchString(t) {
			return nil, tandem.Errorf(tandem.EINVALID, "%s %q is not a short name: use letters, digits, '-', '_' or '.', at most 32", what, t)
		}
		if lower {
			t = strings.ToLower(t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > maxTokens {
		return nil, tandem.Errorf(tandem.EINVALID, "too many %ss: at most %d", what, maxTokens)
	}
	return out, nil
}

// parseEmail returns the lower-cased address, or EINVALID.
func parseEmail(v string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(v))
	if err != nil || addr.Name != "" || len(addr.Address) > 254 {
		return "", tandem.Errorf(tandem.EINVALID, "%q is not an email address", v)
	}
	return strings.ToLower(addr.Address), nil
}

package staff

import (
	"net/http"
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
	// Link is a set-password link just made, for LinkEmail; Emailed says it was also
	// emailed there, MailError why emailing it failed.
	Link, LinkEmail string
	LinkTTL         time.Duration
	Emailed         bool
	MailError       string
}

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
	d.Roles, d.LinkTTL = handoff.Roles, DefaultLinkTTL
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

// handleAddAgent creates an account and shows its set-password link (emailing it too when
// a mailer is configured).
func (s *Staff) handleAddAgent(w http.ResponseWriter, r *http.Request, admin *tandem.Agent, cred *storage.AgentCredentials) {
	ctx := r.Context()
	role, err := handoff.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.invalid(w, r, admin, cred, err)
		return
	}
	email, err := handoff.ParseEmail(r.PostFormValue("email"))
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
	link := s.passwordLink(a.ID, "")
	d := adminData{Link: link, LinkEmail: a.Email}
	d.Emailed, d.MailError = s.mailLink(ctx, a, link, false)
	s.renderAdmin(w, r, http.StatusOK, admin, cred, "Created "+a.Email+".", "", d)
}

// handlePasswordLink shows (and with a mailer, emails) a new set-password link for an
// agent. Their current password keeps working until the link is used.
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
	link := s.passwordLink(a.ID, c.PasswordHash)
	d := adminData{Link: link, LinkEmail: a.Email}
	d.Emailed, d.MailError = s.mailLink(ctx, a, link, true)
	s.renderAdmin(w, r, http.StatusOK, admin, cred, "", "", d)
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
	a, err := s.store.FindAgentByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The store refuses to demote the last admin (storage.LastAdmin), atomically, so two
	// admins demoting each other on any replicas cannot both succeed.
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
	role, err := handoff.ParseRole(r.PostFormValue("role"))
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	skills, err := handoff.ParseNames("skill", r.PostFormValue("skills"), false)
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	langs, err := handoff.ParseNames("language", r.PostFormValue("languages"), true)
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	capacity, err := handoff.ParseCapacity(r.PostFormValue("capacity"))
	if err != nil {
		return storage.AgentUpdate{}, err
	}
	return storage.AgentUpdate{Role: &role, Skills: skills, Languages: langs, Capacity: &capacity}, nil
}

package staff

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// admin signs in a new admin and returns the session cookie and the form token.
func (f *fixture) admin(t *testing.T, email string) (*tandem.Agent, *http.Cookie, string) {
	t.Helper()
	a := f.addAgent(t, email, tandem.AgentRoleAdmin, goodPassword)
	_, c := f.signIn(t, email, goodPassword)
	if c == nil {
		t.Fatalf("sign in as %s failed", email)
	}
	cred, err := f.store.FindAgentCredentials(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a, c, f.staff.csrfToken(cred)
}

func (f *fixture) audit(t *testing.T, action string) []tandem.AuditEntry {
	t.Helper()
	es, err := f.store.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestAdminPageAccess(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, adminCookie, csrf := f.admin(t, "root@example.com")
	f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, goodPassword)
	f.addAgent(t, "new@example.com", tandem.AgentRoleEditor, "")
	_, agentCookie := f.signIn(t, "ann@example.com", goodPassword)

	w := f.do(t, http.MethodGet, AdminPath, nil, adminCookie)
	if w.Code != http.StatusOK {
		t.Fatalf("admin: status %d", w.Code)
	}
	for _, want := range []string{"ann@example.com", "new@example.com", "not set", `value="` + csrf + `"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("admin page lacks %q", want)
		}
	}

	tests := []struct {
		name         string
		method       string
		cookie       *http.Cookie
		wantStatus   int
		wantLocation string
	}{
		{"agent", http.MethodGet, agentCookie, http.StatusForbidden, ""},
		{"signed out", http.MethodGet, nil, http.StatusSeeOther, SignInPath + "?next=%2Fstaff%2Fadmin"},
		{"signed out post", http.MethodPost, nil, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := AdminPath
			var form url.Values
			if tt.method == http.MethodPost {
				target, form = AdminPath+"/agents", url.Values{"email": {"x@example.com"}, "role": {"agent"}}
			}
			w := f.do(t, tt.method, target, form, tt.cookie)
			if w.Code != tt.wantStatus || w.Header().Get("Location") != tt.wantLocation {
				t.Fatalf("status %d location %q, want %d %q", w.Code, w.Header().Get("Location"), tt.wantStatus, tt.wantLocation)
			}
		})
	}
	if got := f.audit(t, ActionAgentCreate); len(got) != 0 {
		t.Errorf("refused posts were audited: %+v", got)
	}
}

func TestAdminUpdate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	root, c, csrf := f.admin(t, "root@example.com")
	ann := f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, "")
	target := AdminPath + "/agents/" + ann.ID

	w := f.do(t, http.MethodPost, target, url.Values{"csrf": {csrf}, "role": {"supervisor"},
		"skills": {"billing, support"}, "languages": {"EN,fr"}, "capacity": {"7"}}, c)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != AdminPath+"?done=saved" {
		t.Fatalf("update: status %d location %q", w.Code, w.Header().Get("Location"))
	}
	got, err := f.store.FindAgentByID(context.Background(), ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != tandem.AgentRoleSupervisor || strings.Join(got.Skills, ",") != "billing,support" ||
		strings.Join(got.Languages, ",") != "en,fr" || got.Capacity != 7 {
		t.Errorf("agent = %+v", got)
	}
	audit := f.audit(t, ActionAgentUpdate)
	if len(audit) != 1 || audit[0].Actor != "agent:"+root.ID || audit[0].Subject != ann.ID ||
		audit[0].Detail["capacity"] != "7" || audit[0].Detail["role"] != "supervisor" || audit[0].Detail["languages"] != "en,fr" {
		t.Errorf("audit = %+v", audit)
	}

	bad := []struct {
		name    string
		form    url.Values
		status  int
		message string
	}{
		{"role", url.Values{"role": {"boss"}}, http.StatusBadRequest, `role &#34;boss&#34; is not agent, supervisor, editor or admin`},
		{"negative capacity", url.Values{"role": {"agent"}, "capacity": {"-1"}}, http.StatusBadRequest, "from 0 (unlimited) to 1000"},
		{"capacity too large", url.Values{"role": {"agent"}, "capacity": {"1001"}}, http.StatusBadRequest, "from 0 (unlimited) to 1000"},
		{"capacity not a number", url.Values{"role": {"agent"}, "capacity": {"lots"}}, http.StatusBadRequest, "is not a whole number"},
		{"skill", url.Values{"role": {"agent"}, "skills": {"support, <b>"}}, http.StatusBadRequest, "skill &#34;&lt;b&gt;&#34; is not a short name"},
		{"language too long", url.Values{"role": {"agent"}, "languages": {strings.Repeat("x", 33)}}, http.StatusBadRequest, "is not a short name"},
		{"too many skills", url.Values{"role": {"agent"}, "skills": {manyTokens(21)}}, http.StatusBadRequest, "too many skills"},
		{"no token", url.Values{"role": {"agent"}, "csrf": {""}}, http.StatusForbidden, "security token"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.form["csrf"]; !ok {
				tt.form.Set("csrf", csrf)
			}
			w := f.do(t, http.MethodPost, target, tt.form, c)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.message) {
				t.Errorf("status %d, want %d with %q; body:\n%s", w.Code, tt.status, tt.message, w.Body)
			}
		})
	}
	if got := f.audit(t, ActionAgentUpdate); len(got) != 1 {
		t.Errorf("refused updates were audited: %d entries", len(got))
	}
	if w := f.do(t, http.MethodPost, AdminPath+"/agents/nope", url.Values{"csrf": {csrf}, "role": {"agent"}}, c); w.Code != http.StatusNotFound {
		t.Errorf("unknown agent: status %d", w.Code)
	}
}

func TestAdminLastAdmin(t *testing.T) {
	t.Parallel()
	f := setup(t)
	root, c, csrf := f.admin(t, "root@example.com")
	demote := url.Values{"csrf": {csrf}, "role": {"agent"}}

	w := f.do(t, http.MethodPost, AdminPath+"/agents/"+root.ID, demote, c)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "root@example.com is the last admin") {
		t.Fatalf("demoting the last admin: status %d body:\n%s", w.Code, w.Body)
	}
	if a, _ := f.store.FindAgentByID(context.Background(), root.ID); a.Role != tandem.AgentRoleAdmin {
		t.Fatalf("last admin demoted to %s", a.Role)
	}
	// Keeping the admin role while changing the rest is fine.
	keep := url.Values{"csrf": {csrf}, "role": {"admin"}, "capacity": {"3"}}
	if w := f.do(t, http.MethodPost, AdminPath+"/agents/"+root.ID, keep, c); w.Code != http.StatusSeeOther {
		t.Fatalf("last admin keeps the role: status %d", w.Code)
	}

	f.addAgent(t, "second@example.com", tandem.AgentRoleAdmin, "")
	w = f.do(t, http.MethodPost, AdminPath+"/agents/"+root.ID, demote, c)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/inbox/" {
		t.Fatalf("demoting with another admin: status %d location %q", w.Code, w.Header().Get("Location"))
	}
	if w := f.do(t, http.MethodGet, AdminPath, nil, c); w.Code != http.StatusForbidden {
		t.Errorf("demoted admin opens the page: status %d", w.Code)
	}
}

func TestAdminAddAndLink(t *testing.T) {
	t.Parallel()
	f := setup(t)
	root, c, csrf := f.admin(t, "root@example.com")

	w := f.do(t, http.MethodPost, AdminPath+"/agents", url.Values{"csrf": {csrf}, "email": {"Bea@Example.com"}, "role": {"editor"}}, c)
	if w.Code != http.StatusOK {
		t.Fatalf("add: status %d body:\n%s", w.Code, w.Body)
	}
	bea, err := f.store.FindAgentByEmail(context.Background(), "bea@example.com")
	if err != nil || bea.Role != tandem.AgentRoleEditor || bea.Name != "bea" {
		t.Fatalf("added agent = %+v, %v", bea, err)
	}
	link := shownLink(t, w.Body.String())
	if !strings.HasPrefix(link, PasswordPath+"?token=") {
		t.Fatalf("link %q", link)
	}
	if w := f.do(t, http.MethodGet, link, nil, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "bea@example.com") {
		t.Errorf("link opens: status %d", w.Code)
	}
	if a := f.audit(t, ActionAgentCreate); len(a) != 1 || a[0].Actor != "agent:"+root.ID || a[0].Detail["role"] != "editor" {
		t.Errorf("create audit = %+v", a)
	}

	bad := []struct{ name, email, role, message string }{
		{"duplicate", "bea@example.com", "agent", "bea@example.com already has an account"},
		{"email", "not an email", "agent", "is not an email address"},
		{"role", "cy@example.com", "owner", "is not agent, supervisor, editor or admin"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, http.MethodPost, AdminPath+"/agents", url.Values{"csrf": {csrf}, "email": {tt.email}, "role": {tt.role}}, c)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tt.message) {
				t.Errorf("status %d, want 400 with %q; body:\n%s", w.Code, tt.message, w.Body)
			}
		})
	}

	// A new link for an agent with a password: it sets a new one.
	ann := f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, goodPassword)
	w = f.do(t, http.MethodPost, AdminPath+"/agents/"+ann.ID+"/password-link", url.Values{"csrf": {csrf}}, c)
	if w.Code != http.StatusOK {
		t.Fatalf("password link: status %d", w.Code)
	}
	link = shownLink(t, w.Body.String())
	if w := f.do(t, http.MethodGet, link, nil, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ann@example.com") {
		t.Errorf("reset link opens: status %d", w.Code)
	}
	if a := f.audit(t, ActionPasswordLink); len(a) != 1 || a[0].Subject != ann.ID || a[0].Actor != "agent:"+root.ID {
		t.Errorf("link audit = %+v", a)
	}
}

// shownLink returns the set-password link on an admin page (HTML-unescaped).
func shownLink(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `id="password-link" type="text" readonly value="`)
	if !ok {
		t.Fatalf("no link on the page:\n%s", body)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return strings.ReplaceAll(v, "&amp;", "&")
}

// manyTokens returns n different skills, comma-separated.
func manyTokens(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "s%d,", i)
	}
	return b.String()
}

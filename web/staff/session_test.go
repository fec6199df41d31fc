package staff

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/storage"
)

func TestRequire(t *testing.T) {
	t.Parallel()
	// session returns the cookie a case presents.
	type session func(t *testing.T, f *fixture) *http.Cookie
	signedIn := func(email string, role tandem.AgentRole) session {
		return func(t *testing.T, f *fixture) *http.Cookie {
			f.addAgent(t, email, role, goodPassword)
			_, c := f.signIn(t, email, goodPassword)
			if c == nil {
				t.Fatal("no session")
			}
			return c
		}
	}
	tests := []struct {
		name       string
		method     string
		path       string
		session    session
		wantStatus int
		wantBody   string
	}{
		{"OKAgentInbox", "GET", "/inbox/", signedIn("ann@example.com", tandem.AgentRoleAgent), 200, "ann@example.com"},
		{"OKSupervisorInbox", "GET", "/inbox/", signedIn("sue@example.com", tandem.AgentRoleSupervisor), 200, "sue@example.com"},
		{"OKEditorKB", "GET", "/kb/", signedIn("ed@example.com", tandem.AgentRoleEditor), 200, "ed@example.com"},
		{"OKAdminInbox", "GET", "/inbox/", signedIn("root@example.com", tandem.AgentRoleAdmin), 200, "root@example.com"},
		{"OKAdminKB", "POST", "/kb/", signedIn("root@example.com", tandem.AgentRoleAdmin), 200, "root@example.com"},
		{"ErrAgentKB", "GET", "/kb/", signedIn("ann@example.com", tandem.AgentRoleAgent), 403, "may not open this page"},
		{"ErrEditorInbox", "GET", "/inbox/", signedIn("ed@example.com", tandem.AgentRoleEditor), 403, "may not open this page"},
		{"ErrNoSessionGet", "GET", "/inbox/tickets/t1?x=1", nil, 303, ""},
		{"ErrNoSessionPost", "POST", "/inbox/tickets/t1/claim", nil, 403, "session has ended"},
		{"ErrForgedCookie", "GET", "/inbox/", func(t *testing.T, f *fixture) *http.Cookie {
			a := f.addAgent(t, "ann@example.com", tandem.AgentRoleAdmin, goodPassword)
			forged := signed.New([]byte("another-secret-0123456789-0123456789"))
			return &http.Cookie{Name: CookieName, Value: forged.Seal(purposeSession, a.ID+":1", f.clock.Now().Add(time.Hour))}
		}, 303, ""},
		{"ErrOtherPurpose", "GET", "/inbox/", func(t *testing.T, f *fixture) *http.Cookie {
			a := f.addAgent(t, "ann@example.com", tandem.AgentRoleAdmin, goodPassword)
			return &http.Cookie{Name: CookieName, Value: f.staff.signer.Seal(purposePassword, a.ID+":1", f.clock.Now().Add(time.Hour))}
		}, 303, ""},
		{"ErrExpired", "GET", "/inbox/", func(t *testing.T, f *fixture) *http.Cookie {
			c := signedIn("ann@example.com", tandem.AgentRoleAgent)(t, f)
			f.clock.Add(DefaultSessionTTL + time.Second)
			return c
		}, 303, ""},
		{"ErrStaleAfterPasswordChange", "GET", "/inbox/", func(t *testing.T, f *fixture) *http.Cookie {
			c := signedIn("ann@example.com", tandem.AgentRoleAgent)(t, f)
			a, _ := f.store.FindAgentByEmail(context.Background(), "ann@example.com")
			cred, _ := f.store.FindAgentCredentials(context.Background(), a.ID)
			h, _ := HashPassword("another long password", testParams)
			if _, err := f.store.SetAgentPassword(context.Background(), a.ID, cred.PasswordHash, h, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			return c
		}, 303, ""},
		{"ErrSignedOut", "GET", "/inbox/", func(t *testing.T, f *fixture) *http.Cookie {
			c := signedIn("ann@example.com", tandem.AgentRoleAgent)(t, f)
			page := f.do(t, "GET", SignInPath, nil, c).Body.String()
			csrf := between(page, `name="csrf" value="`, `"`)
			if w := f.do(t, "POST", SignOutPath, url.Values{"csrf": {csrf}}, c); w.Code != http.StatusSeeOther {
				t.Fatalf("sign out: %d %s", w.Code, w.Body)
			}
			return c // the browser's copy, still presented
		}, 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			var c *http.Cookie
			if tt.session != nil {
				c = tt.session(t, f)
			}
			w := f.do(t, tt.method, tt.path, url.Values{}, c)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("status %d body %q, want %d with %q", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if w.Code == http.StatusSeeOther {
				if got, want := w.Header().Get("Location"), SignInPath+"?next="+url.QueryEscape(tt.path); got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
			}
		})
	}
}

func TestSignOutCSRF(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, goodPassword)
	_, c := f.signIn(t, "ann@example.com", goodPassword)
	if w := f.do(t, "POST", SignOutPath, url.Values{"csrf": {"forged"}}, c); w.Code != http.StatusForbidden {
		t.Fatalf("sign out with a forged token: %d, want 403", w.Code)
	}
	if w := f.do(t, "GET", "/inbox/", nil, c); w.Code != http.StatusOK {
		t.Errorf("session after a refused sign-out: %d, want 200", w.Code)
	}
}

func TestSignInNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		role tandem.AgentRole
		next string
		want string
	}{
		{"OKNext", tandem.AgentRoleAgent, "/inbox/tickets/t1", "/inbox/tickets/t1"},
		{"OKAgentHome", tandem.AgentRoleAgent, "", "/inbox/"},
		{"OKEditorHome", tandem.AgentRoleEditor, "", "/kb/"},
		{"ErrOtherSite", tandem.AgentRoleAgent, "//evil.example/x", "/inbox/"},
		{"ErrAbsolute", tandem.AgentRoleAgent, "https://evil.example/", "/inbox/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.addAgent(t, "ann@example.com", tt.role, goodPassword)
			w := f.do(t, "POST", SignInPath, url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "next": {tt.next}}, nil)
			if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != tt.want {
				t.Errorf("status %d, Location %q; want 303 to %q", w.Code, got, tt.want)
			}
		})
	}
}

func TestPasswordLink(t *testing.T) {
	t.Parallel()
	// link returns the token of a fresh link for the agent.
	link := func(t *testing.T, f *fixture, a *tandem.Agent, key []byte, ttl time.Duration) string {
		cred, err := f.store.FindAgentCredentials(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(PasswordLink(key, "https://help.example.com/", a.ID, cred.PasswordHash, f.clock.Now().Add(ttl)))
		if err != nil || u.Path != PasswordPath || u.Host != "help.example.com" {
			t.Fatalf("link %v, %v", u, err)
		}
		return u.Query().Get("token")
	}
	form := func(token, password, confirm string) url.Values {
		return url.Values{"token": {token}, "password": {password}, "confirm": {confirm}}
	}
	tests := []struct {
		name       string
		prepare    func(t *testing.T, f *fixture, a *tandem.Agent) string // returns the token
		password   string
		confirm    string
		wantStatus int
		wantBody   string
	}{
		{"OK", func(t *testing.T, f *fixture, a *tandem.Agent) string { return link(t, f, a, secret, DefaultLinkTTL) },
			goodPassword, goodPassword, http.StatusSeeOther, ""},
		{"ErrMismatch", func(t *testing.T, f *fixture, a *tandem.Agent) string { return link(t, f, a, secret, DefaultLinkTTL) },
			goodPassword, goodPassword + "!", http.StatusBadRequest, "differ"},
		{"ErrEmpty", func(t *testing.T, f *fixture, a *tandem.Agent) string { return link(t, f, a, secret, DefaultLinkTTL) },
			"", "", http.StatusBadRequest, "too short"},
		{"ErrShort", func(t *testing.T, f *fixture, a *tandem.Agent) string { return link(t, f, a, secret, DefaultLinkTTL) },
			"short", "short", http.StatusBadRequest, "too short"},
		{"ErrOversized", func(t *testing.T, f *fixture, a *tandem.Agent) string { return link(t, f, a, secret, DefaultLinkTTL) },
			strings.Repeat("x", 300), strings.Repeat("x", 300), http.StatusBadRequest, "too long"},
		{"ErrExpired", func(t *testing.T, f *fixture, a *tandem.Agent) string {
			tok := link(t, f, a, secret, DefaultLinkTTL)
			f.clock.Add(DefaultLinkTTL)
			return tok
		}, goodPassword, goodPassword, http.StatusForbidden, "invalid, expired or already used"},
		{"ErrForged", func(t *testing.T, f *fixture, a *tandem.Agent) string {
			return link(t, f, a, []byte("another-secret-0123456789-0123456789"), DefaultLinkTTL)
		}, goodPassword, goodPassword, http.StatusForbidden, "invalid, expired or already used"},
		{"ErrUsed", func(t *testing.T, f *fixture, a *tandem.Agent) string {
			tok := link(t, f, a, secret, DefaultLinkTTL)
			if w := f.do(t, "POST", PasswordPath, form(tok, goodPassword, goodPassword), nil); w.Code != http.StatusSeeOther {
				t.Fatalf("first use: %d %s", w.Code, w.Body)
			}
			return tok
		}, "another good password", "another good password", http.StatusForbidden, "invalid, expired or already used"},
		{"ErrSessionCookieAsToken", func(t *testing.T, f *fixture, a *tandem.Agent) string {
			return f.staff.signer.Seal(purposeSession, a.ID+":0", f.clock.Now().Add(time.Hour))
		}, goodPassword, goodPassword, http.StatusForbidden, "invalid, expired or already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			a := f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, "")
			tok := tt.prepare(t, f, a)
			get := f.do(t, "GET", PasswordPath+"?token="+url.QueryEscape(tok), nil, nil)
			if tt.wantStatus == http.StatusForbidden {
				if get.Code != http.StatusForbidden {
					t.Errorf("GET page: %d, want 403", get.Code)
				}
			} else if get.Code != http.StatusOK || !strings.Contains(get.Body.String(), "ann@example.com") {
				t.Errorf("GET page: %d %s", get.Code, get.Body)
			}
			w := f.do(t, "POST", PasswordPath, form(tok, tt.password, tt.confirm), nil)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("POST: %d %q, want %d with %q", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			_, cookie := f.signIn(t, "ann@example.com", tt.password)
			if wantIn := tt.wantStatus == http.StatusSeeOther; (cookie != nil) != wantIn {
				t.Errorf("sign in with the new password: session %v, want %v", cookie != nil, wantIn)
			}
			audit, _ := f.store.ListAudit(context.Background(), storage.AuditFilter{Action: ActionPasswordSet})
			if want := map[bool]int{true: 1}[tt.wantStatus == http.StatusSeeOther || tt.name == "ErrUsed"]; len(audit) != want {
				t.Errorf("%d %s audit entries, want %d", len(audit), ActionPasswordSet, want)
			}
		})
	}
}

// between returns the text of s between the first before and the next after.
func between(s, before, after string) string {
	_, rest, _ := strings.Cut(s, before)
	v, _, _ := strings.Cut(rest, after)
	return v
}

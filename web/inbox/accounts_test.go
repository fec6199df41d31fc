package inbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage/sqlite"
	"github.com/tandemhq/tandem/web/inbox"
)

// TestStaffAccounts checks the inbox with Deps.Agent (staff accounts): the agent comes from
// the request (here a header standing in for web/staff's session), the email sign-in is
// off, and sign-out checks the form's token before handing over to Deps.SignOut.
func TestStaffAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ann := &tandem.Agent{Name: "Ann", Email: "ann@example.com", Role: tandem.AgentRoleAgent}
	if err := st.CreateAgent(ctx, ann); err != nil {
		t.Fatal(err)
	}
	signedOut := 0
	h := inbox.New(inbox.Config{}, inbox.Deps{Store: st,
		Agent: func(r *http.Request) (*tandem.Agent, error) {
			if r.Header.Get("X-Test-Agent") == "" {
				return nil, nil
			}
			return ann, nil
		},
		SignOut: func(w http.ResponseWriter, r *http.Request) { signedOut++; w.WriteHeader(http.StatusNoContent) },
	})
	do := func(method, target string, form url.Values, as bool) (int, string) {
		r := httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if as {
			r.Header.Set("X-Test-Agent", "1")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, body := do("GET", "/inbox/", nil, true)
	if code != http.StatusOK || !strings.Contains(body, "ann@example.com") {
		t.Fatalf("queue as Ann: %d %s", code, body)
	}
	csrf := csrfRE.FindStringSubmatch(body)
	if csrf == nil {
		t.Fatal("no sign-out token on the queue page")
	}
	steps := []struct {
		name       string
		method     string
		path       string
		form       url.Values
		as         bool
		wantStatus int
		wantOut    int
	}{
		{"ErrNoAgent", "GET", "/inbox/", nil, false, http.StatusUnauthorized, 0},
		{"ErrEmailSignInOff", "POST", "/inbox/signin", url.Values{"email": {"eve@example.com"}}, false, http.StatusNotFound, 0},
		{"ErrSignOutWithoutToken", "POST", "/inbox/signout", url.Values{}, true, http.StatusForbidden, 0},
		{"OKSignOut", "POST", "/inbox/signout", url.Values{"csrf": {csrf[1]}}, true, http.StatusNoContent, 1},
	}
	for _, s := range steps {
		if code, body := do(s.method, s.path, s.form, s.as); code != s.wantStatus || signedOut != s.wantOut {
			t.Fatalf("%s: %d (signed out %d times) %s; want %d, %d", s.name, code, signedOut, body, s.wantStatus, s.wantOut)
		}
	}
	if _, err := st.FindAgentByEmail(ctx, "eve@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("email sign-in created an agent: %v", err)
	}
}

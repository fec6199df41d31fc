package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web/staff"
)

const testSessionSecret = "cli-test-secret-0123456789-0123456789"

func runWithEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}, args)
	return code, out.String(), errb.String()
}

// linkIn returns the set-password link printed in out.
func linkIn(t *testing.T, out string) string {
	t.Helper()
	for _, f := range strings.Fields(out) {
		if strings.Contains(f, staff.PasswordPath+"?token=") {
			return f
		}
	}
	t.Fatalf("no link in %q", out)
	return ""
}

func TestUsersAccountCommands(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"TANDEM_SESSION_SECRET": testSessionSecret, "TANDEM_BASE_URL": "https://help.example.com"}
	steps := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"ErrNoSecret", nil, []string{"users", "add", "--data-dir", data, "ada@example.com", "--role", "admin"}, 1, ""},
		{"ErrNoRole", env, []string{"users", "add", "--data-dir", data, "ada@example.com"}, 2, ""},
		{"ErrRole", env, []string{"users", "add", "--data-dir", data, "ada@example.com", "--role", "boss"}, 2, ""},
		{"ErrEmail", env, []string{"users", "add", "--data-dir", data, "not an email", "--role", "admin"}, 1, ""},
		{"OKAdd", env, []string{"users", "add", "--data-dir", data, "Ada@Example.com", "--role", "admin", "--name", "Ada L"}, 0, "Created ada@example.com (admin)"},
		{"ErrAddTwice", env, []string{"users", "add", "--data-dir", data, "ada@example.com", "--role", "agent"}, 1, ""},
		{"OKReset", env, []string{"users", "reset-password", "--data-dir", data, "ADA@example.com"}, 0, "Send ada@example.com this link"},
		{"ErrResetUnknown", env, []string{"users", "reset-password", "--data-dir", data, "nobody@example.com"}, 1, ""},
		{"ErrResetUsage", env, []string{"users", "reset-password", "--data-dir", data}, 2, ""},
		{"OKList", env, []string{"users", "list", "--data-dir", data}, 0, "ada@example.com  Ada L  admin"},
	}
	var links []string
	for _, s := range steps {
		code, out, stderr := runWithEnv(t, s.env, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", s.name, code, out, stderr, s.wantCode, s.wantOut)
		}
		if code == 0 && s.args[1] != "list" {
			links = append(links, linkIn(t, out))
		}
	}
	if _, _, stderr := runWithEnv(t, nil, steps[0].args...); !strings.Contains(stderr, "TANDEM_SESSION_SECRET") {
		t.Errorf("error without a secret = %q, want it to name TANDEM_SESSION_SECRET", stderr)
	}

	// Both links open the set-password page of a server with the same secret.
	ctx := context.Background()
	st, err := openStore(ctx, storeFlags{dataDir: data, migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := staff.New(staff.Config{Secret: []byte(testSessionSecret)}, st)
	for _, link := range links {
		u, err := url.Parse(link)
		if err != nil || u.Scheme != "https" || u.Host != "help.example.com" {
			t.Fatalf("link %q: %v", link, err)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ada@example.com") {
			t.Errorf("GET %s: %d %s", u.RequestURI(), w.Code, w.Body)
		}
	}
	a, err := st.FindAgentByEmail(ctx, "ada@example.com")
	if err != nil || a.Role != tandem.AgentRoleAdmin || a.Name != "Ada L" {
		t.Fatalf("agent = %+v, %v", a, err)
	}
}

package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestUsersCommands(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"OK/setRoleCreates", []string{"users", "set-role", "--data-dir", data, "Sue@Example.com", "supervisor"}, 0, "sue@example.com is now supervisor (was agent)"},
		{"OK/setRoleAgain", []string{"users", "set-role", "--data-dir", data, "sue@example.com", "admin"}, 0, "is now admin (was supervisor)"},
		{"OK/list", []string{"users", "list", "--data-dir", data}, 0, "sue@example.com  sue   admin"},
		{"ErrRole", []string{"users", "set-role", "--data-dir", data, "sue@example.com", "boss"}, 2, ""},
		{"ErrUsage", []string{"users", "set-role", "--data-dir", data, "sue@example.com"}, 2, ""},
		{"ErrEmail", []string{"users", "set-role", "--data-dir", data, "not an email", "admin"}, 1, ""},
	}
	for _, s := range steps {
		code, out, stderr := runKBCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", s.name, code, out, stderr, s.wantCode, s.wantOut)
		}
	}
	ctx := context.Background()
	st, err := openStore(ctx, storeFlags{dataDir: data, migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.FindAgentByEmail(ctx, "sue@example.com")
	if err != nil || a.Role != tandem.AgentRoleAdmin {
		t.Fatalf("agent = %+v, %v; want admin", a, err)
	}
	audit, err := st.ListAudit(ctx, storage.AuditFilter{Subject: a.ID, Action: ActionSetRole})
	if err != nil || len(audit) != 2 || audit[0].Detail["to"] != "admin" || audit[0].Actor != "cli" {
		t.Errorf("audit = %+v, %v; want two role changes, newest to admin", audit, err)
	}
}

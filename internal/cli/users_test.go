package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsersCommands(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string // in stderr
	}{
		{"OK/create", []string{"users", "set", "ann@example.com", "--data-dir", data, "--skills", "billing, vip", "--languages", "EN,fr", "--capacity", "3"}, 0,
			"ann@example.com: role agent, skills billing,vip, languages en,fr, capacity 3", ""},
		{"OK/promote", []string{"users", "set", "--data-dir", data, "--role", "supervisor", "ann@example.com"}, 0,
			"role supervisor, skills billing,vip, languages en,fr, capacity 3", ""},
		{"OK/clear", []string{"users", "set", "ann@example.com", "--data-dir", data, "--skills", "", "--capacity", "0"}, 0,
			"role supervisor, skills -, languages en,fr, capacity unlimited", ""},
		{"OK/admin", []string{"users", "set", "ann@example.com", "--data-dir", data, "--role", "admin"}, 0, "role admin", ""},
		// The store keeps an admin: the only one cannot be demoted.
		{"ErrLastAdmin", []string{"users", "set", "ann@example.com", "--data-dir", data, "--role", "supervisor"}, 1, "",
			"ann@example.com is the last admin: make someone else an admin first"},
		{"OK/secondAdmin", []string{"users", "set", "bob@example.com", "--data-dir", data, "--role", "admin"}, 0, "role admin", ""},
		{"OK/demote", []string{"users", "set", "ann@example.com", "--data-dir", data, "--role", "supervisor"}, 0, "role supervisor", ""},
		{"OK/list", []string{"users", "list", "--data-dir", data}, 0, "ann@example.com", ""},
		{"ErrRole", []string{"users", "set", "ann@example.com", "--data-dir", data, "--role", "boss"}, 2, "", ""},
		{"ErrCapacity", []string{"users", "set", "ann@example.com", "--data-dir", data, "--capacity", "-1"}, 2, "", ""},
		{"ErrNoEmail", []string{"users", "set", "--data-dir", data}, 2, "", ""},
		{"ErrBadEmail", []string{"users", "set", "not-an-email", "--data-dir", data}, 1, "", ""},
	}
	for _, s := range steps {
		code, out, stderr := runKBCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(stderr, s.wantErr) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d, %q and %q", s.name, code, out, stderr, s.wantCode, s.wantOut, s.wantErr)
		}
	}
	st, err := openStore(context.Background(), storeFlags{dataDir: data, migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.FindAgentByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a.Role != "supervisor" || len(a.Skills) != 0 || strings.Join(a.Languages, ",") != "en,fr" || a.Capacity != 0 {
		t.Errorf("stored agent = %+v", a)
	}
}

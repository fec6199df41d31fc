package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBotsNew: the new bot loads, and its own conversation test passes (a greeting, a
// cited knowledge answer, a handoff); bad ids and names, and an existing folder, are refused
// with exit 2 and nothing written or overwritten.
func TestBotsNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, code := runCLI(t, "bots", "new", "--dir", dir, "--name", "Shop: Europe", "shop-eu")
	if code != 0 || !strings.Contains(out, "created "+filepath.Join(dir, "shop-eu")) {
		t.Fatalf("bots new: exit %d\n%s", code, out)
	}
	if out, code := runCLI(t, "bots", "validate", filepath.Join(dir, "shop-eu")); code != 0 || !strings.Contains(out, "ok ") {
		t.Fatalf("bots validate: exit %d\n%s", code, out)
	}
	if out, code := runCLI(t, "eval", "run", "--bots", dir, "--bot", "shop-eu"); code != 0 || !strings.Contains(out, "1/1 tests passed") {
		t.Fatalf("eval run on the new bot: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "shop-eu", "bot.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `name: "Shop: Europe"`) {
		t.Errorf("bot.yaml does not carry the name:\n%s", b)
	}

	// Run again: refused, and the edited bot is untouched.
	edited := append(b, []byte("# edited\n")...)
	if err := os.WriteFile(filepath.Join(dir, "shop-eu", "bot.yaml"), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"ErrExists", []string{"--dir", dir, "shop-eu"}},
		{"ErrID", []string{"--dir", dir, "Shop EU"}},
		{"ErrIDPath", []string{"--dir", dir, "../escape"}},
		{"ErrName", []string{"--dir", dir, "--name", `say "hi"`, "quoted"}},
		{"ErrNoID", []string{"--dir", dir}},
	}
	for _, tt := range tests {
		if _, code := runCLI(t, append([]string{"bots", "new"}, tt.args...)...); code != 2 {
			t.Errorf("%s: exit %d, want 2", tt.name, code)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "shop-eu", "bot.yaml")); string(got) != string(edited) {
		t.Error("an existing bot folder was overwritten")
	}
	for _, name := range []string{"quoted", "escape"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("refused bot %s left a folder behind", name)
		}
	}
}

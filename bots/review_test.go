package bots_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/bots"
)

// TestLoadRequireReview: knowledge.require_review is read as set, left unset (the server
// decides) when absent, and anything but a boolean is refused with its line.
func TestLoadRequireReview(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		knowledge string
		server    bool
		want      bool
		wantErr   string
	}{
		{"OKUnsetFollowsServerFalse", "  collections: [kb]\n", false, false, ""},
		{"OKUnsetFollowsServerTrue", "  collections: [kb]\n", true, true, ""},
		{"OKTrue", "  require_review: true\n", false, true, ""},
		{"OKFalseOverServer", "  require_review: false\n", true, false, ""},
		{"ErrNotBool", "  require_review: sometimes\n", false, false, "bot.yaml:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def, err := bots.Load(minimalBot(map[string]string{"b/bot.yaml": "id: mini\nknowledge:\n" + tt.knowledge}), "b")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "bool") {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := def.RequiresReview(tt.server); got != tt.want {
				t.Errorf("RequiresReview(%v) = %v, want %v", tt.server, got, tt.want)
			}
		})
	}
}

// TestReviewRule: bot A requires review, bot B does not, in one server; a collection both
// answer from requires it (a document there answers A's customers too); a collection no bot
// names follows the server.
func TestReviewRule(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	defs := []*bots.Definition{
		{ID: "a", Knowledge: bots.KnowledgeConfig{Collections: []string{"a-kb", "shared"}, RequireReview: &yes}},
		{ID: "b", Knowledge: bots.KnowledgeConfig{Collections: []string{"b-kb", "shared"}, RequireReview: &no}},
		{ID: "c", Knowledge: bots.KnowledgeConfig{Collections: []string{"c-kb"}}},
	}
	for _, server := range []bool{false, true} {
		rule := bots.ReviewRule(defs, server)
		for collection, want := range map[string]bool{"a-kb": true, "b-kb": false, "shared": true, "c-kb": server, "unnamed": server} {
			if got := rule(collection); got != want {
				t.Errorf("server %v: rule(%q) = %v, want %v", server, collection, got, want)
			}
		}
	}
}

// TestLoadDefinitions reads bot settings from a folder without compiling the bots; a bad
// folder is reported.
func TestLoadDefinitions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range minimalBot(map[string]string{"b/bot.yaml": "id: mini\nknowledge:\n  require_review: true\n"}) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "not-a-bot"), 0o755); err != nil {
		t.Fatal(err)
	}
	defs, err := bots.LoadDefinitions(dir)
	if err != nil || len(defs) != 1 || defs[0].ID != "mini" || !defs[0].RequiresReview(false) {
		t.Fatalf("LoadDefinitions = %v, %v; want bot mini requiring review", defs, err)
	}
	if _, err := bots.LoadDefinitions(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder loaded")
	}
}

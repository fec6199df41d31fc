package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
)

// kbStores are the stores the ingestion tests run on: the embedded one and PostgreSQL.
var kbStores = map[string]func(t *testing.T, dir string) []string{
	"SQLite":   func(t *testing.T, dir string) []string { return []string{"--data-dir", filepath.Join(dir, "data")} },
	"Postgres": func(t *testing.T, dir string) []string { return []string{"--database-url", pgtest.NewSchema(t)} },
}

// openTestStore opens the store the flags name, to check what a command left there.
func openTestStore(t *testing.T, flags []string) storage.Store {
	t.Helper()
	sf := storeFlags{migrate: true}
	if flags[0] == "--data-dir" {
		sf.dataDir = flags[1]
	} else {
		sf.databaseURL = flags[1]
	}
	st, err := openStore(context.Background(), sf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestKBIngestReview: where review is required, `tandem kb ingest` saves drafts (a change
// to a published document as its next version, the published one still published),
// --submit puts them in review, and --publish publishes them with an audited bypass;
// without the requirement ingestion publishes as before and audits nothing. Conflicting
// flags are a usage error that ingests nothing.
func TestKBIngestReview(t *testing.T) {
	t.Parallel()
	for name, storeArgs := range kbStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			sa := storeArgs(t, dir)
			writeKBFiles(t, dir, map[string]string{
				"v1/returns.md":  "---\nid: returns\ntitle: Returns\nstatus: published\n---\nReturn any item within 30 days.\n",
				"v2/returns.md":  "---\nid: returns\ntitle: Returns\n---\nReturn any item within 60 days.\n",
				"new/privacy.md": "---\nid: privacy\ntitle: Privacy\n---\nWe never sell your data.\n",
			})
			kb := func(collection string, args ...string) []string {
				return append(append([]string{"kb", args[0], "--collection", collection}, sa...), args[1:]...)
			}
			steps := []struct {
				name     string
				args     []string
				wantCode int
				wantOut  string
			}{
				{"ErrDraftAndPublish", kb("help", "ingest", "--draft", "--publish", filepath.Join(dir, "v1")), 2, ""},
				{"OK/requiredDraft", kb("help", "ingest", "--require-review", filepath.Join(dir, "v1")), 0, "help requires review"},
				{"OK/bypass", kb("help", "ingest", "--require-review", "--publish", filepath.Join(dir, "v1")), 0, "published without review"},
				{"OK/changeStaged", kb("help", "ingest", "--require-review", filepath.Join(dir, "v2")), 0, "1 added"},
				{"OK/submit", kb("help", "ingest", "--require-review", "--submit", filepath.Join(dir, "new")), 0, "submitted for review: help/privacy"},
				{"OK/optional", kb("open", "ingest", filepath.Join(dir, "v2")), 0, "1 added"},
				{"OK/optionalPublish", kb("open", "ingest", "--publish", filepath.Join(dir, "new")), 0, "1 added"},
			}
			for _, s := range steps {
				code, out, errOut := runKBCLI(t, s.args...)
				if code != s.wantCode || !strings.Contains(out, s.wantOut) {
					t.Fatalf("%s: code %d, out %q, err %q; want %d and %q", s.name, code, out, errOut, s.wantCode, s.wantOut)
				}
			}

			st := openTestStore(t, sa)
			wantStatus := map[string]tandem.DocumentStatus{
				"help/returns":                tandem.DocumentPublished, // the bypass; v2 did not unpublish it
				review.NextID("help/returns"): tandem.DocumentDraft,     // v2, waiting for review
				"help/privacy":                tandem.DocumentInReview,
				"open/returns":                tandem.DocumentPublished,
				"open/privacy":                tandem.DocumentPublished,
			}
			for id, want := range wantStatus {
				d, err := st.FindDocumentByID(ctx, id)
				if err != nil {
					t.Errorf("%s: %v", id, err)
					continue
				}
				if d.Status != want {
					t.Errorf("%s is %s, want %s", id, d.Status, want)
				}
			}
			if d, err := st.FindDocumentByID(ctx, "help/returns"); err == nil && !strings.Contains(d.Body, "30 days") {
				t.Errorf("published returns = %q, want the reviewed 30 days", d.Body)
			}
			es, err := st.ListAudit(ctx, storage.AuditFilter{Action: review.AuditIngestUnreviewed})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].Actor != "cli" || es[0].Subject != "help" || !strings.Contains(es[0].Detail["review"], "bypassed") {
				t.Errorf("bypass audit = %+v, want one entry by cli on help saying review was bypassed", es)
			}
			subs, err := st.ListAudit(ctx, storage.AuditFilter{Action: review.AuditSubmit})
			if err != nil || len(subs) != 1 || subs[0].Actor != "cli" || subs[0].Subject != "help/privacy" {
				t.Errorf("submit audit = %+v, %v", subs, err)
			}
		})
	}
}

// TestKBReviewPerBot: bot "strict" requires review, bot "relaxed" does not, in one server
// whose default is not to; a third collection no bot names follows the server. Ingestion
// and `tandem kb publish` apply the rule of the bot owning the collection.
func TestKBReviewPerBot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	botsDir := filepath.Join(dir, "bots")
	const intents = "intents:\n  - name: returns\n    examples: [how do I return an item]\n    knowledge: true\n"
	writeKBFiles(t, botsDir, map[string]string{
		"strict/bot.yaml":      "id: strict\nknowledge:\n  collections: [strict-kb]\n  require_review: true\n",
		"relaxed/bot.yaml":     "id: relaxed\nknowledge:\n  require_review: false\n",
		"strict/intents.yaml":  intents,
		"relaxed/intents.yaml": intents,
	})
	writeKBFiles(t, dir, map[string]string{"kb/returns.md": "---\nid: returns\ntitle: Returns\n---\nReturn any item within 30 days.\n"})
	kb := func(collection string, args ...string) []string {
		return append([]string{"kb", args[0], "--data-dir", data, "--bots", botsDir, "--collection", collection}, args[1:]...)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"OK/strictDraft", kb("strict-kb", "ingest", filepath.Join(dir, "kb")), 0, "strict-kb requires review", ""},
		{"ErrStrictPublish", kb("strict-kb", "publish", "returns"), 1, "", "needs review"},
		{"OK/relaxedPublished", kb("relaxed", "ingest", "--require-review", filepath.Join(dir, "kb")), 0, "1 added", ""},
		{"OK/unnamedFollowsServer", kb("other", "ingest", "--require-review", filepath.Join(dir, "kb")), 0, "other requires review", ""},
		{"OK/relaxedPublishDraft", kb("relaxed", "publish", "--draft", "returns"), 0, "is draft", ""},
		{"OK/relaxedRepublish", kb("relaxed", "publish", "--require-review", "returns"), 0, "is published", ""},
		{"ErrBadBots", []string{"kb", "ingest", "--data-dir", data, "--bots", filepath.Join(dir, "missing"), filepath.Join(dir, "kb")}, 2, "", "load bots"},
	}
	for _, s := range steps {
		code, out, errOut := runKBCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Fatalf("%s: code %d, out %q, err %q; want %d, %q and %q", s.name, code, out, errOut, s.wantCode, s.wantOut, s.wantErr)
		}
	}
	st := openTestStore(t, []string{"--data-dir", data})
	for id, want := range map[string]tandem.DocumentStatus{"strict-kb/returns": tandem.DocumentDraft, "relaxed/returns": tandem.DocumentPublished, "other/returns": tandem.DocumentDraft} {
		if d, err := st.FindDocumentByID(context.Background(), id); err != nil || d.Status != want {
			t.Errorf("%s = %+v, %v; want %s", id, d, err, want)
		}
	}
}

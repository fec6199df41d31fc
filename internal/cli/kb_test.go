package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in process and returns its exit code and output.
func runKBCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func writeKBFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKBCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeKBFiles(t, dir, map[string]string{
		"kb/shipping.md": "---\nid: shipping\ntitle: Shipping times\nurl: https://help.example.com/shipping\n---\nStandard shipping takes 3 to 5 business days.\n",
		"kb/faq.csv":     "question,answer\nDo you accept PayPal?,\"Yes, we accept PayPal and all major cards.\"\n",
	})
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"OK/ingest", []string{"kb", "ingest", "--data-dir", data, "--collection", "help", filepath.Join(dir, "kb")}, 0, "2 added"},
		{"OK/reingest", []string{"kb", "ingest", "--data-dir", data, "--collection", "help", filepath.Join(dir, "kb")}, 0, "2 unchanged"},
		{"OK/list", []string{"kb", "list", "--data-dir", data, "--collection", "help"}, 0, "shipping"},
		{"OK/search", []string{"kb", "search", "--data-dir", data, "--collection", "help", "how", "long", "is", "shipping"}, 0, "Shipping times"},
		{"OK/answer", []string{"kb", "answer", "--data-dir", data, "--collection", "help", "How long does shipping take?"}, 0, "3 to 5 business days"},
		{"OK/show", []string{"kb", "show", "--data-dir", data, "--collection", "help", "shipping"}, 0, "version:  1"},
		{"OK/unpublish", []string{"kb", "publish", "--draft", "--data-dir", data, "--collection", "help", "shipping"}, 0, "is draft"},
		{"OK/answerDraft", []string{"kb", "answer", "--data-dir", data, "--collection", "help", "How long does shipping take?"}, 0, ""},
		{"OK/reembed", []string{"kb", "reembed", "--data-dir", data, "--collection", "help"}, 0, "2 chunks re-embedded"},
		{"OK/delete", []string{"kb", "delete", "--data-dir", data, "--collection", "help", "shipping"}, 0, "deleted help/shipping"},
		{"ErrShowDeleted", []string{"kb", "show", "--data-dir", data, "--collection", "help", "shipping"}, 1, ""},
		{"ErrUsage", []string{"kb", "ingest", "--data-dir", data}, 2, ""},
	}
	for _, s := range steps {
		code, out, errOut := runKBCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) {
			t.Fatalf("%s: code %d, out %q, err %q; want %d and %q", s.name, code, out, errOut, s.wantCode, s.wantOut)
		}
		if s.name == "OK/answerDraft" && strings.Contains(out, "3 to 5") {
			t.Errorf("a draft answered: %q", out)
		}
	}
}

func TestEvalRetrieval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeKBFiles(t, dir, map[string]string{
		"corpus.jsonl": `{"id":"a1","title":"How do I delete my account?","text":"Open settings, then choose delete account."}
{"id":"b1","title":"How do I change my password?","text":"Use the forgot password link on the sign-in page."}
{"id":"c1","title":"Can I export my data?","text":"Yes, download an archive from the privacy page."}
`,
		"questions.jsonl": `{"question":"remove my account for good","doc_ids":["a1"]}
{"question":"I forgot my password","doc_ids":["b1"]}
{"question":"download all my data","doc_ids":["c1"]}
`,
	})
	code, out, errOut := runKBCLI(t, "eval", "retrieval", "--corpus", filepath.Join(dir, "corpus.jsonl"),
		"--questions", filepath.Join(dir, "questions.jsonl"), "--format", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var rep map[string]float64
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"recall_at_1", "recall_at_5", "mrr_at_10", "p50_query_ms", "p95_query_ms", "index_seconds", "chunks"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %s: %s", k, out)
		}
	}
	if rep["recall_at_5"] != 1 || rep["chunks"] != 3 {
		t.Errorf("report = %v, want recall@5 1 and 3 chunks", rep)
	}
	if code, _, _ := runKBCLI(t, "eval", "retrieval", "--corpus", filepath.Join(dir, "corpus.jsonl")); code != 2 {
		t.Errorf("missing --questions: code %d, want 2", code)
	}
}

func TestKBReviewCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeKBFiles(t, dir, map[string]string{
		"kb/returns.md": "---\nid: returns\ntitle: Returns\n---\nReturn any item within 30 days.\n",
	})
	kb := func(args ...string) []string {
		return append([]string{"kb", args[0], "--data-dir", data, "--collection", "help"}, args[1:]...)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"OK/ingestDraft", kb("ingest", "--draft", filepath.Join(dir, "kb")), 0, "1 added", ""},
		{"ErrPublishNeedsReview", kb("publish", "--require-review", "returns"), 1, "", "needs review"},
		{"ErrApproveDraft", kb("approve", "returns"), 1, "", "not in review"},
		{"OK/submit", kb("submit", "returns"), 0, "help/returns is in_review", ""},
		{"ErrRejectWithoutComment", kb("reject", "returns"), 1, "", "comment is required"},
		{"OK/reject", kb("reject", "--comment", "Add the address.", "returns"), 0, "help/returns is draft", ""},
		{"OK/showComment", kb("show", "returns"), 0, "comment:  Add the address.", ""},
		{"OK/resubmit", kb("submit", "returns"), 0, "is in_review", ""},
		{"OK/approve", kb("approve", "returns"), 0, "help/returns is published", ""},
		{"OK/publishPublished", kb("publish", "--require-review", "returns"), 0, "is published", ""},
		{"ErrUsage", []string{"kb", "submit", "--data-dir", data}, 2, "", ""},
	}
	for _, s := range steps {
		code, out, errOut := runKBCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Fatalf("%s: code %d, out %q, err %q; want %d, %q and %q", s.name, code, out, errOut, s.wantCode, s.wantOut, s.wantErr)
		}
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/evals/conversation"
)

// demoBotDir copies the demo bot folder to disk as <dir>/acme, with extra test files.
func demoBotDir(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	sub, err := fs.Sub(demo.FS, demo.Root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "acme"), sub); err != nil {
		t.Fatal(err)
	}
	for name, body := range extra {
		p := filepath.Join(dir, "acme", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readReport(t *testing.T, p string) conversation.Result {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := conversation.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const wrongTest = `name: shipping time with a wrong expectation
turns:
  - user: how long does shipping take?
    expect: {decision: knowledge, cites: shipping-times}
  - user: where is my order
    expect: {intent: refund_status, response: "^never$"}
`

func TestEvalRun(t *testing.T) {
	t.Parallel()
	out := t.TempDir()

	t.Run("OKDemoText", func(t *testing.T) {
		t.Parallel()
		got, code := runCLI(t, "eval", "run", "--demo")
		if code != 0 || !strings.Contains(got, "PASS order status asks for the order number") ||
			!strings.Contains(got, "intent accuracy 1.000") {
			t.Fatalf("exit %d, output:\n%s", code, got)
		}
	})
	t.Run("OKDemoJSONThenCompare", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(out, "demo.json")
		if got, code := runCLI(t, "eval", "run", "--format", "json", "--out", p); code != 0 || got != "" {
			t.Fatalf("exit %d, stdout %q", code, got)
		}
		r := readReport(t, p)
		m := r.Metrics
		if r.Bot != "demo" || m.Tests < 10 || m.TestsPassed != m.Tests || m.IntentAccuracy != 1 || m.HandoffTurns == 0 {
			t.Fatalf("metrics = %+v, want every demo test passed", m)
		}
		got, code := runCLI(t, "eval", "compare", p, p)
		if code != 0 || !strings.Contains(got, "no test or turn changed") || !strings.Contains(got, "no regression") {
			t.Fatalf("compare with itself: exit %d\n%s", code, got)
		}
		// Flags may follow the files.
		got, code = runCLI(t, "eval", "compare", p, p, "--format", "json")
		var d struct {
			Regressed bool                  `json:"regressed"`
			Tests     []conversation.Change `json:"tests"`
			Metrics   []conversation.Delta  `json:"metrics"`
		}
		if err := json.Unmarshal([]byte(got), &d); err != nil || code != 0 || d.Regressed || d.Tests == nil || len(d.Metrics) == 0 {
			t.Fatalf("compare --format json: exit %d, %v:\n%s", code, err, got)
		}
		got, code = runCLI(t, "eval", "compare", "--format", "html", p, p)
		if code != 0 || !strings.HasPrefix(got, "<!doctype html>") || !strings.Contains(got, "NO REGRESSION") {
			t.Fatalf("compare --format html: exit %d\n%s", code, got)
		}
	})
	t.Run("OKDemoHTML", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(out, "demo.html")
		if got, code := runCLI(t, "eval", "run", "--demo", "--format", "html", "--out", p); code != 0 || got != "" {
			t.Fatalf("exit %d, stdout %q", code, got)
		}
		page, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(demo.FS, demo.Root+"/tests/*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(bytes.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		bars := 0
		for n := range doc.Descendants() {
			if n.Type == html.ElementNode && n.Data == "g" && len(n.Attr) > 0 && n.Attr[0].Val == "bar" {
				bars++
			}
		}
		if bars != len(files) || !bytes.Contains(page, []byte("Conversation tests of bot demo")) ||
			!bytes.Contains(page, []byte(`<span class="verdict ok">PASSED</span>`)) {
			t.Errorf("%d bars for %d demo test files, page:\n%s", bars, len(files), page)
		}
	})
	t.Run("OKJUnit", func(t *testing.T) {
		t.Parallel()
		got, code := runCLI(t, "eval", "run", "--demo", "--format", "junit", "--tests", "tests/shipping_*.yaml")
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(got), &doc); err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, got)
		}
		if s := doc.Suites[0]; s.Tests != 4 || s.Failures != 0 {
			t.Errorf("suite = %+v, want 4 shipping tests, no failure", s)
		}
	})
	t.Run("ErrFailingTestThenRegression", func(t *testing.T) {
		t.Parallel()
		dir := demoBotDir(t, map[string]string{"more/wrong.yaml": wrongTest})
		base := filepath.Join(out, "base.json")
		if _, code := runCLI(t, "eval", "run", "--bots", dir, "--bot", "acme", "--tests", "tests/shipping_time.yaml", "--format", "json", "--out", base); code != 0 {
			t.Fatalf("base run: exit %d", code)
		}
		// --bot takes the bot's id ("demo") as well as its folder's name ("acme").
		got, code := runCLI(t, "eval", "run", "--bots", dir, "--bot", "demo", "--tests", "more/*.yaml")
		if code != 1 {
			t.Fatalf("exit %d, want 1 for a failing test:\n%s", code, got)
		}
		for _, want := range []string{"FAIL shipping time with a wrong expectation", "acme/more/wrong.yaml:5 turn 2",
			"intent: want refund_status, got order_status", `response: want /^never$/ to match`, "0/1 tests passed, 1/2 turns passed"} {
			if !strings.Contains(got, want) {
				t.Errorf("output lacks %q:\n%s", want, got)
			}
		}
		// The next run's report as if the bot had stopped citing the article.
		next := filepath.Join(out, "next.json")
		r := readReport(t, base)
		r.Tests[0].Passed, r.Tests[0].Turns[0].Passed, r.Metrics.TestsPassed = false, false, 0
		r.Tests[0].Turns[0].Failures = []string{"cites: want shipping-times, got []"}
		f, err := os.Create(next)
		if err != nil {
			t.Fatal(err)
		}
		if err := conversation.WriteJSON(f, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, code = runCLI(t, "eval", "compare", base, next)
		if code != 1 || !strings.Contains(got, "test broke   acme/tests/shipping_time.yaml") ||
			!strings.Contains(got, "turn broke   acme/tests/shipping_time.yaml turn 1: cites: want shipping-times") ||
			!strings.Contains(got, "REGRESSED") {
			t.Errorf("compare: exit %d, want 1 and the broken test:\n%s", code, got)
		}
		page := filepath.Join(out, "diff.html")
		got, code = runCLI(t, "eval", "compare", "--format", "html", "--out", page, base, next)
		body, err := os.ReadFile(page)
		if code != 1 || got != "" || err != nil || !bytes.Contains(body, []byte("stopped passing")) ||
			!bytes.Contains(body, []byte("cites: want shipping-times")) {
			t.Errorf("compare --format html: exit %d, %v, want 1 and the broken turn:\n%s", code, err, body)
		}
	})
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"ErrUsageFormat", []string{"run", "--format", "xml"}},
		{"ErrUsageBotsWithoutBot", []string{"run", "--bots", "x"}},
		{"ErrUsageDemoAndBots", []string{"run", "--demo", "--bots", "x", "--bot", "y"}},
		{"ErrUsageBotWithoutBots", []string{"run", "--bot", "acme"}},
		{"ErrUsageNoTests", []string{"run", "--tests", "nothing/*.yaml"}},
		{"ErrUsageArgument", []string{"run", "extra"}},
		{"ErrUsageNoSuchBot", []string{"run", "--bots", ".", "--bot", "nobody"}},
		{"ErrUsageCompareArgs", []string{"compare", "a.json"}},
		{"ErrUsageCompareMissing", []string{"compare", "missing-a.json", "missing-b.json"}},
		{"ErrUsageCompareFlag", []string{"compare", "a.json", "b.json", "--colour"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, code := runCLI(t, append([]string{"eval"}, tt.args...)...); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
		})
	}
	for _, tt := range []struct {
		name, want string
		args       []string
	}{
		{"ErrUsageRunFormatMessage", `--format must be text, json, junit or html, got "pdf"`, []string{"run", "--demo", "--format", "pdf"}},
		{"ErrUsageCompareFormatMessage", `--format must be text, json or html, got "junit"`, []string{"compare", "a.json", "b.json", "--format", "junit"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, append([]string{"eval"}, tt.args...))
			if code != 2 || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q; want 2 and %q", code, stderr.String(), stdout.String(), tt.want)
			}
		})
	}
	t.Run("ErrBadTestFile", func(t *testing.T) {
		t.Parallel()
		dir := demoBotDir(t, map[string]string{"bad/x.yaml": "name: x\nturns:\n  - user: hi\n    expect: {intnet: greet}\n"})
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, []string{"eval", "run", "--bots", dir, "--bot", "acme", "--tests", "bad/*.yaml"})
		if code != 1 || !strings.Contains(stderr.String(), "acme/bad/x.yaml:4: turns[0].expect.intnet: unknown field") {
			t.Errorf("exit %d, stderr %q; want 1 and the file and line", code, stderr.String())
		}
	})
}

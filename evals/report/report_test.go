package report_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/evals/conversation"
	"github.com/tandemhq/tandem/evals/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./evals/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./evals/report -update to accept):\n--- got\n%s", name, got)
	}
}

// hostile is text from a test file that must come out as text, never as markup.
const hostile = `<script>alert("x")</script> & 'quotes' "too"`

func ptr[T any](v T) *T { return &v }

// fixture is a run of four tests: two pass, one fails on its intent and
// reply, one hits an engine error and skips its second turn. One test's name and texts are
// hostile.
func fixture() conversation.Result {
	turn := func(i int, user string, want, got string, lat float64, fails ...string) conversation.TurnResult {
		return conversation.TurnResult{Index: i, Line: 3 + 2*i, User: user, Passed: len(fails) == 0, Played: true,
			Failures: fails, Expect: conversation.Expect{Intent: want}, Intent: got, Confidence: 0.8,
			Decision: "intent", Reason: "intent " + got, Replies: []string{"Reply to " + user}, LatencyMS: lat}
	}
	handoff := turn(0, "human please", "", "handoff", 7.5)
	handoff.Expect.Handoff, handoff.Handoff, handoff.Decision = ptr(true), true, "handoff"
	skipped := conversation.TurnResult{Index: 1, Line: 5, User: "and then?", Failures: []string{"not played: turn 1 failed"},
		Expect: conversation.Expect{Intent: "order_status"}}
	broken := turn(0, "where is A1?", "order_status", "", 0, "engine error: store is down")
	broken.Played, broken.Decision, broken.Replies = true, "", nil
	return conversation.Result{Bot: "acme", Tests: []conversation.TestResult{
		{Name: "order status", File: "tests/order.yaml", Passed: true, Turns: []conversation.TurnResult{
			turn(0, "where is my order", "order_status", "order_status", 1.2),
			turn(1, "A100001", "", "", 3.4)}},
		{Name: "handoff", File: "tests/handoff.yaml", Passed: true, Turns: []conversation.TurnResult{handoff}},
		{Name: hostile, File: "tests/<evil>.yaml", Passed: false, Turns: []conversation.TurnResult{
			turn(0, hostile, "shipping_time", "shipping_cost", 12.25,
				"intent: want shipping_time, got shipping_cost (0.80)", `contains: want "<b>" in "Reply to `+hostile+`"`),
			turn(1, "thanks", "", "", 0.8)}},
		{Name: "engine error", File: "tests/error.yaml", Passed: false, Turns: []conversation.TurnResult{broken, skipped}},
	}, Metrics: conversation.Metrics{Tests: 4, TestsPassed: 2, Turns: 7, TurnsPassed: 4, IntentTurns: 4, IntentAccuracy: 0.25,
		HandoffTurns: 1, HandoffPrecision: 1, HandoffRecall: 1, LatencyP50MS: 1.2, LatencyP95MS: 12.25}}
}

func runHTML(t *testing.T, r conversation.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.RunHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// parse parses page as HTML, failing the test on an error.
func parse(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// find returns the elements under n with tag name and, when class is not "", that class.
func find(n *html.Node, name, class string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == name && (class == "" || hasClass(d, class)) {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// byID returns the element with id, failing the test when there is none.
func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	for d := range doc.Descendants() {
		if d.Type == html.ElementNode && attr(d, "id") == id {
			return d
		}
	}
	t.Fatalf("no element #%s", id)
	return nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func TestRunHTML(t *testing.T) {
	t.Parallel()
	page := runHTML(t, fixture())
	t.Run("OKGolden", func(t *testing.T) {
		t.Parallel()
		golden(t, "run.html", page)
	})
	t.Run("OKOneBarPerTestFile", func(t *testing.T) {
		t.Parallel()
		doc := parse(t, page)
		svgs := find(byID(t, doc, "files"), "svg", "chart")
		if len(svgs) != 1 {
			t.Fatalf("%d charts of test files, want 1", len(svgs))
		}
		var got []string
		for _, g := range find(svgs[0], "g", "bar") {
			got = append(got, textOf(find(g, "title", "")[0]))
			if n := len(find(g, "rect", "")); n == 0 {
				t.Errorf("bar %q has no rect", got[len(got)-1])
			}
		}
		want := "tests/order.yaml|tests/handoff.yaml|tests/<evil>.yaml|tests/error.yaml"
		if strings.Join(got, "|") != want {
			t.Errorf("bars = %q, want one per file: %s", got, want)
		}
	})
	t.Run("OKHistogramCountsPlayedTurns", func(t *testing.T) {
		t.Parallel()
		doc := parse(t, page)
		bars := find(byID(t, doc, "latency-histogram"), "g", "bin-bar")
		total := 0
		for _, b := range bars {
			var n int
			if _, err := fmt.Sscan(textOf(find(b, "text", "")[0]), &n); err != nil {
				t.Fatal(err)
			}
			total += n
		}
		if len(bars) == 0 || total != 6 {
			t.Errorf("%d bins counting %d turns, want the 6 played turns", len(bars), total)
		}
	})
	t.Run("OKSummaryAndFailures", func(t *testing.T) {
		t.Parallel()
		doc := parse(t, page)
		for id, want := range map[string]string{"tests": "2/4", "turns": "4/7", "intent-accuracy": "0.250 over 4 turns",
			"latency": "12.2 ms max", "confusions": "shipping_time"} {
			if got := textOf(byID(t, doc, id)); !strings.Contains(got, want) {
				t.Errorf("#%s = %q, want %q in it", id, got, want)
			}
		}
		failures := textOf(byID(t, doc, "failures"))
		for _, want := range []string{"tests/<evil>.yaml:3 turn 1", "intent: want shipping_time, got shipping_cost (0.80)",
			"Got intent shipping_cost 0.80, decision intent (intent shipping_cost)", "engine error: store is down",
			"not played: turn 1 failed"} {
			if !strings.Contains(failures, want) {
				t.Errorf("failed turns lack %q:\n%s", want, failures)
			}
		}
	})
}

// TestHTMLEscapes checks that names and texts from test files and datasets stay text:
// the page has no script at all, and the hostile text reads back unchanged.
func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	base := fixture()
	next := fixture()
	next.Tests[0].File = "tests/\"><script>x</script>.yaml"
	var diff, clf bytes.Buffer
	if err := report.DiffHTML(&diff, `base"<i>.json`, "new.json", conversation.Compare(base, next)); err != nil {
		t.Fatal(err)
	}
	if err := report.ClassificationHTML(&clf, classification(hostile)); err != nil {
		t.Fatal(err)
	}
	for name, page := range map[string][]byte{"run": runHTML(t, base), "diff": diff.Bytes(), "classification": clf.Bytes()} {
		t.Run("OK"+name, func(t *testing.T) {
			t.Parallel()
			if bytes.Contains(bytes.ToLower(page), []byte("<script")) {
				t.Errorf("page holds a raw <script")
			}
			doc := parse(t, page)
			if n := len(find(doc, "script", "")) + len(find(doc, "i", "")); n > 0 {
				t.Errorf("%d script or injected elements", n)
			}
			for d := range doc.Descendants() {
				for _, a := range d.Attr {
					if strings.HasPrefix(a.Key, "on") || a.Key == "src" || (a.Key == "href" && a.Val != "") {
						t.Errorf("<%s %s=%q>: pages load and run nothing", d.Data, a.Key, a.Val)
					}
				}
			}
			if name != "diff" && !strings.Contains(textOf(doc), hostile) {
				t.Errorf("the hostile text does not read back as text")
			}
		})
	}
}

func TestDiffHTML(t *testing.T) {
	t.Parallel()
	base := fixture()
	next := fixture()
	// fixed: the hostile test; broke: the handoff test; slower.
	next.Tests[2].Passed, next.Tests[2].Turns[0].Passed, next.Tests[2].Turns[0].Failures = true, true, nil
	next.Tests[1].Passed, next.Tests[1].Turns[0].Passed = false, false
	next.Tests[1].Turns[0].Failures = []string{"handoff: want true, got false"}
	next.Metrics.IntentAccuracy, next.Metrics.HandoffRecall, next.Metrics.LatencyP95MS = 0.5, 0, 20
	var b bytes.Buffer
	if err := report.DiffHTML(&b, "base.json", "new.json", conversation.Compare(base, next)); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.html", b.Bytes())

	doc := parse(t, b.Bytes())
	rows := map[string]string{} // metric → class of its row
	for _, tr := range find(byID(t, doc, "metrics"), "tr", "") {
		if c := find(tr, "code", ""); len(c) > 0 {
			rows[textOf(c[0])] = strings.TrimPrefix(attr(tr, "class"), "metric-")
		}
	}
	for metric, want := range map[string]string{"intent_accuracy": "better", "handoff_recall": "worse",
		"latency_p95_ms": "worse", "latency_p50_ms": "same", "tests_passed": "same"} {
		if rows[metric] != want {
			t.Errorf("%s is %q, want %q", metric, rows[metric], want)
		}
	}
	for id, want := range map[string]string{"tests": "broke tests/handoff.yaml; fixed tests/<evil>.yaml",
		"turns": "broke tests/handoff.yaml turn 1 (handoff: want true, got false); fixed tests/<evil>.yaml turn 1"} {
		var got []string
		for _, tr := range find(byID(t, doc, id), "tr", "") {
			if kind, ok := strings.CutPrefix(attr(tr, "class"), "change-"); ok {
				td := find(tr, "td", "")
				s := kind + " " + textOf(td[1])
				if d := textOf(td[2]); d != "" {
					s += " (" + d + ")"
				}
				got = append(got, s)
			}
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("#%s = %q, want %s", id, got, want)
		}
	}
	if got := textOf(doc); !strings.Contains(got, "REGRESSED") || !strings.Contains(got, "started passing") {
		t.Errorf("page lacks the verdict or the fixed test:\n%s", got)
	}
}

func classification(label string) report.Classification {
	gold := []string{"refund", "refund", "order_status", "order_status", label, "oos"}
	pred := []string{"refund", "order_status", "order_status", "order_status", "oos", "oos"}
	return report.Classification{Title: "Intent classifier", Summary: [][2]string{{"accuracy", "0.6667"}, {"macro F1", "0.5"}},
		Scores: evals.Classification(gold, pred, "oos"), Confusions: evals.Confusions(gold, pred, 10)}
}

func TestClassificationHTML(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := report.ClassificationHTML(&b, classification("greeting")); err != nil {
		t.Fatal(err)
	}
	golden(t, "classification.html", b.Bytes())
	doc := parse(t, b.Bytes())
	var got []string
	for _, g := range find(byID(t, doc, "f1-chart"), "g", "bar") {
		got = append(got, textOf(find(g, "title", "")[0]))
	}
	// Worst F1 first; ties keep label order.
	if want := "greeting|oos|refund|order_status"; strings.Join(got, "|") != want {
		t.Errorf("F1 bars = %q, want %s", got, want)
	}
	if got := textOf(byID(t, doc, "confusions")); !strings.Contains(got, "greeting") || !strings.Contains(got, "refund") {
		t.Errorf("confusions = %q", got)
	}
}

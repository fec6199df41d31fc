package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/evals"

	"github.com/tandemhq/tandem/nlu"
)

func writeCSV(t *testing.T, dir, name string, rows [][2]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("text,label\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%q,%s\n", r[0], r[1])
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb}, args)
	if code != 0 {
		t.Logf("stderr: %s", errb.String())
	}
	return out.String(), code
}

func TestEvalNLU(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var train [][2]string
	for i := range 10 {
		train = append(train,
			[2]string{fmt.Sprintf("where is my order number %d", i), "order_status"},
			[2]string{fmt.Sprintf("I want a refund for item %d", i), "refund"},
			[2]string{fmt.Sprintf("tell me a joke about topic %d", i), "oos"})
	}
	test := [][2]string{{"where is my order", "order_status"}, {"refund please", "refund"}, {"a joke please", "oos"}}
	trainPath, testPath := writeCSV(t, dir, "train.csv", train), writeCSV(t, dir, "test.csv", test)

	t.Run("OK/json", func(t *testing.T) {
		t.Parallel()
		out, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--test", testPath, "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		for _, k := range []string{"in_scope_accuracy", "macro_f1", "oos_recall", "train_seconds", "p50_query_us", "queries_per_second"} {
			if _, ok := got[k]; !ok {
				t.Errorf("missing key %s in %s", k, out)
			}
		}
		if got["in_scope_accuracy"].(float64) < 0.5 {
			t.Errorf("in_scope_accuracy = %v", got["in_scope_accuracy"])
		}
	})
	t.Run("OK/html", func(t *testing.T) {
		t.Parallel()
		out, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--test", testPath, "--format", "html")
		if code != 0 || !strings.HasPrefix(out, "<!doctype html>") {
			t.Fatalf("exit %d, output %s", code, out)
		}
		for _, want := range []string{"Intent classifier (tandem eval nlu)", "in-scope accuracy", "<code>order_status</code>", `id="f1-chart"`} {
			if !strings.Contains(out, want) {
				t.Errorf("page lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("OK/holdoutTable", func(t *testing.T) {
		t.Parallel()
		out, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--holdout", "0.2", "--seed", "3")
		if code != 0 || !strings.Contains(out, "in-scope accuracy") {
			t.Fatalf("exit %d, output %s", code, out)
		}
	})
	t.Run("OK/writeSplit", func(t *testing.T) {
		t.Parallel()
		// The written split is the one scored: 20% of each label held out, 24 rows kept.
		split := filepath.Join(t.TempDir(), "split")
		if _, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--holdout", "0.2", "--write-split", split); code != 0 {
			t.Fatalf("exit %d", code)
		}
		for name, want := range map[string]int{"train.csv": 24, "test.csv": 6} {
			b, err := os.ReadFile(filepath.Join(split, name))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), "\n") - 1; n != want {
				t.Errorf("%s: %d rows, want %d", name, n, want)
			}
		}
	})
	t.Run("OK/holdoutPerClass", func(t *testing.T) {
		t.Parallel()
		split := t.TempDir()
		if _, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--holdout-per-class", "1", "--write-split", split); code != 0 {
			t.Fatalf("exit %d", code)
		}
		test, err := evals.ReadLabeledCSVFile(filepath.Join(split, "test.csv"))
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, r := range test {
			per[r.Label]++
		}
		for l, n := range per {
			if n != 1 {
				t.Errorf("label %s: %d held out, want 1", l, n)
			}
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		t.Parallel()
		if _, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--test", testPath, "--write-split", t.TempDir()); code != 2 {
			t.Errorf("--write-split without --holdout: exit %d, want 2", code)
		}
		if _, code := runCLI(t, "eval", "nlu", "--train", trainPath); code != 2 {
			t.Errorf("no --test/--holdout: exit %d, want 2", code)
		}
		if _, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--holdout", "0.2", "--holdout-per-class", "2"); code != 2 {
			t.Errorf("--holdout with --holdout-per-class: exit %d, want 2", code)
		}
		if _, code := runCLI(t, "eval", "nlu", "--train", trainPath, "--test", testPath, "--format", "xml"); code != 2 {
			t.Errorf("bad format: exit %d, want 2", code)
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		t.Parallel()
		if _, code := runCLI(t, "eval", "nlu", "--train", filepath.Join(dir, "nope.csv"), "--holdout", "0.2"); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
}

func TestEvalSentiment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var rows [][2]string
	for i := range 40 {
		rows = append(rows,
			[2]string{fmt.Sprintf("great service thanks %d", i), "positive"},
			[2]string{fmt.Sprintf("terrible delay again %d", i), "negative"},
			[2]string{fmt.Sprintf("what time is flight %d", i), "neutral"})
	}
	p := writeCSV(t, dir, "s.csv", rows)
	out, code := runCLI(t, "eval", "sentiment", "--train", p, "--holdout", "0.25", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["accuracy"].(float64) < 0.9 || got["macro_f1"] == nil {
		t.Errorf("got %s", out)
	}
	out, code = runCLI(t, "eval", "sentiment", "--train", p, "--holdout", "0.25", "--format", "html")
	if code != 0 || !strings.Contains(out, "Sentiment model (tandem eval sentiment)") || strings.Count(out, `<g class="bar">`) != 3 {
		t.Errorf("html: exit %d, want one F1 bar per label:\n%s", code, out)
	}
}

func TestNLUTrain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeCSV(t, dir, "ex.csv", [][2]string{
		{"where is my order", "order_status"}, {"track my parcel", "order_status"}, {"order status", "order_status"},
		{"refund please", "refund"}, {"money back", "refund"}, {"return this item", "refund"},
	})
	out := filepath.Join(dir, "model.nlu")
	var stdout, stderr bytes.Buffer
	err := runNLU(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, []string{"train", "--train", p, "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := nlu.Load(f, nlu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Analyze(context.Background(), "where is my order").Intent.Name; got != "order_status" {
		t.Errorf("intent = %q", got)
	}
	if err := runNLU(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, []string{"train", "--train", p}); !errors.Is(err, errUsage) {
		t.Errorf("missing --out: err = %v, want usage", err)
	}
}

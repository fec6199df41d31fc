package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/evals/report"
	"github.com/tandemhq/tandem/nlu"
	"github.com/tandemhq/tandem/nlu/intent"
	"github.com/tandemhq/tandem/nlu/sentiment"
)

// classificationFlags are the flags shared by `tandem eval nlu` and `tandem eval sentiment`.
type classificationFlags struct {
	train, test, format, splitDir string
	holdout                       float64
	perClass                      int
	seed                          int64
}

func parseClassificationFlags(env Env, name string, args []string) (classificationFlags, []evals.LabeledText, []evals.LabeledText, error) {
	var f classificationFlags
	fs := newFlagSet(env, name)
	fs.StringVar(&f.train, "train", "", "training CSV with text,label columns (required)")
	fs.StringVar(&f.test, "test", "", "test CSV with text,label columns (default: --holdout of --train)")
	fs.Float64Var(&f.holdout, "holdout", 0, "when > 0, hold out this stratified share of --train as the test set instead of --test")
	fs.IntVar(&f.perClass, "holdout-per-class", 0, "when > 0, hold out this many rows of every label of --train (at most half of each), a balanced test set like an official one")
	fs.Int64Var(&f.seed, "seed", 1, "seed for training and for --holdout")
	fs.StringVar(&f.format, "format", "text", "output format: text, json or html (one self-contained page with per-label scores and confusions)")
	fs.StringVar(&f.splitDir, "write-split", "", "with --holdout, also write the split to train.csv and test.csv in this folder, so other tools can be scored on the same rows")
	if err := parseFlags(fs, args); err != nil {
		return f, nil, nil, err
	}
	if f.train == "" {
		return f, nil, nil, fmt.Errorf("%w: %s needs --train", errUsage, name)
	}
	if n := btoi(f.test != "") + btoi(f.holdout > 0) + btoi(f.perClass > 0); n != 1 {
		return f, nil, nil, fmt.Errorf("%w: %s needs exactly one of --test, --holdout and --holdout-per-class", errUsage, name)
	}
	if f.format != "text" && f.format != "json" && f.format != "html" {
		return f, nil, nil, fmt.Errorf("%w: --format must be text, json or html, got %q", errUsage, f.format)
	}
	train, err := evals.ReadLabeledCSVFile(f.train)
	if err != nil {
		return f, nil, nil, err
	}
	var test []evals.LabeledText
	if f.holdout > 0 {
		if f.holdout >= 1 {
			return f, nil, nil, fmt.Errorf("%w: --holdout must be in (0, 1)", errUsage)
		}
		train, test = evals.StratifiedSplit(train, f.holdout, f.seed)
	} else if f.perClass > 0 {
		train, test = evals.BalancedSplit(train, f.perClass, f.seed)
	} else if test, err = evals.ReadLabeledCSVFile(f.test); err != nil {
		return f, nil, nil, err
	}
	if len(train) == 0 || len(test) == 0 {
		return f, nil, nil, tandem.Errorf(tandem.EINVALID, "empty training or test set")
	}
	if f.splitDir != "" {
		if f.test != "" {
			return f, nil, nil, fmt.Errorf("%w: --write-split needs --holdout or --holdout-per-class", errUsage)
		}
		if err := writeSplit(f.splitDir, train, test); err != nil {
			return f, nil, nil, err
		}
	}
	return f, train, test, nil
}

// writeSplit writes a hold-out split as dir/train.csv and dir/test.csv.
func writeSplit(dir string, train, test []evals.LabeledText) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write split: %w", err)
	}
	for name, rows := range map[string][]evals.LabeledText{"train.csv": train, "test.csv": test} {
		var b bytes.Buffer
		if err := evals.WriteLabeledCSV(&b, rows); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write split: %w", err)
		}
	}
	return nil
}

// maxConfusions bounds the confusions an HTML report lists: the most frequent say enough.
const maxConfusions = 20

// nluEvalResult is the JSON output of `tandem eval nlu`.
type nluEvalResult struct {
	Train           int     `json:"train_n"`
	Test            int     `json:"test_n"`
	InScopeAccuracy float64 `json:"in_scope_accuracy"`
	// TopIntentAccuracy is in-scope accuracy of the best in-scope candidate, ignoring the
	// out-of-scope decision (what a classifier without rejection would score).
	TopIntentAccuracy float64 `json:"top_intent_accuracy"`
	Accuracy          float64 `json:"accuracy"`
	MacroF1           float64 `json:"macro_f1"`
	OOSRecall         float64 `json:"oos_recall"`
	OOSN              int     `json:"oos_n"`
	TrainSeconds      float64 `json:"train_seconds"`
	P50QueryUS        float64 `json:"p50_query_us"`
	P99QueryUS        float64 `json:"p99_query_us"`
	QueriesPerSecond  float64 `json:"queries_per_second"`
}

func runEvalNLU(ctx context.Context, env Env, args []string) error {
	f, train, test, err := parseClassificationFlags(env, "tandem eval nlu", args)
	if err != nil {
		return err
	}
	examples := make([]intent.Example, len(train))
	for i, r := range train {
		examples[i] = intent.Example{Text: r.Text, Intent: r.Label}
	}
	start := time.Now()
	clf, err := intent.Train(ctx, examples, intent.Options{Seed: f.seed})
	if err != nil {
		return fmt.Errorf("eval nlu: %w", err)
	}
	trainDur := time.Since(start)
	gold := make([]string, len(test))
	pred := make([]string, len(test))
	lat := make([]time.Duration, len(test))
	topOK, inN := 0, 0
	// One warm-up pass so pools and caches are filled, then the timed pass.
	for _, r := range test[:min(len(test), 100)] {
		clf.Predict(r.Text, 3)
	}
	all := time.Now()
	for i, r := range test {
		t0 := time.Now()
		p := clf.Predict(r.Text, 3)
		lat[i] = time.Since(t0)
		gold[i], pred[i] = r.Label, p.Intent
		if r.Label != tandem.IntentOutOfScope {
			inN++
			if len(p.Top) > 0 && p.Top[0].Name == r.Label {
				topOK++
			}
		}
	}
	total := time.Since(all)
	rep := evals.Classification(gold, pred, tandem.IntentOutOfScope)
	slices.Sort(lat)
	res := nluEvalResult{
		Train: len(train), Test: len(test),
		InScopeAccuracy: rep.InScopeAccuracy, Accuracy: rep.Accuracy, MacroF1: rep.MacroF1,
		TopIntentAccuracy: float64(topOK) / float64(max(inN, 1)),
		OOSRecall:         rep.OOSRecall, OOSN: rep.OOSN,
		TrainSeconds:     trainDur.Seconds(),
		P50QueryUS:       float64(lat[len(lat)/2].Nanoseconds()) / 1e3,
		P99QueryUS:       float64(lat[len(lat)*99/100].Nanoseconds()) / 1e3,
		QueriesPerSecond: float64(len(test)) / total.Seconds(),
	}
	if f.format == "json" {
		return nluWriteJSON(env.Stdout, res)
	}
	rowsOut := [][2]string{
		{"train examples", fmt.Sprint(res.Train)},
		{"test examples", fmt.Sprint(res.Test)},
		{"in-scope accuracy", fmt.Sprintf("%.4f", res.InScopeAccuracy)},
		{"top intent accuracy", fmt.Sprintf("%.4f (no oos rejection)", res.TopIntentAccuracy)},
		{"accuracy", fmt.Sprintf("%.4f", res.Accuracy)},
		{"macro F1", fmt.Sprintf("%.4f", res.MacroF1)},
		{"oos recall", fmt.Sprintf("%.4f (n=%d)", res.OOSRecall, res.OOSN)},
		{"train seconds", fmt.Sprintf("%.2f", res.TrainSeconds)},
		{"p50 query µs", fmt.Sprintf("%.1f", res.P50QueryUS)},
		{"p99 query µs", fmt.Sprintf("%.1f", res.P99QueryUS)},
		{"queries/second", fmt.Sprintf("%.0f", res.QueriesPerSecond)},
	}
	if f.format == "html" {
		return report.ClassificationHTML(env.Stdout, report.Classification{Title: "Intent classifier (tandem eval nlu)",
			Summary: rowsOut, Scores: rep, Confusions: evals.Confusions(gold, pred, maxConfusions)})
	}
	return nluWriteTable(env.Stdout, rowsOut)
}

// sentimentEvalResult is the JSON output of `tandem eval sentiment`.
type sentimentEvalResult struct {
	Train        int                         `json:"train_n"`
	Test         int                         `json:"test_n"`
	Accuracy     float64                     `json:"accuracy"`
	MacroF1      float64                     `json:"macro_f1"`
	TrainSeconds float64                     `json:"train_seconds"`
	PerLabel     map[string]evals.LabelScore `json:"per_label"`
}

func runEvalSentiment(ctx context.Context, env Env, args []string) error {
	f, train, test, err := parseClassificationFlags(env, "tandem eval sentiment", args)
	if err != nil {
		return err
	}
	examples := make([]sentiment.Example, len(train))
	for i, r := range train {
		examples[i] = sentiment.Example{Text: r.Text, Label: r.Label}
	}
	start := time.Now()
	m, err := sentiment.Train(ctx, examples, sentiment.Options{Seed: f.seed})
	if err != nil {
		return fmt.Errorf("eval sentiment: %w", err)
	}
	trainDur := time.Since(start)
	gold := make([]string, len(test))
	pred := make([]string, len(test))
	for i, r := range test {
		gold[i], pred[i] = r.Label, m.Score(r.Text).Label
	}
	rep := evals.Classification(gold, pred, "")
	res := sentimentEvalResult{Train: len(train), Test: len(test), Accuracy: rep.Accuracy, MacroF1: rep.MacroF1,
		TrainSeconds: trainDur.Seconds(), PerLabel: rep.PerLabel}
	if f.format == "json" {
		return nluWriteJSON(env.Stdout, res)
	}
	rowsOut := [][2]string{
		{"train examples", fmt.Sprint(res.Train)},
		{"test examples", fmt.Sprint(res.Test)},
		{"accuracy", fmt.Sprintf("%.4f", res.Accuracy)},
		{"macro F1", fmt.Sprintf("%.4f", res.MacroF1)},
		{"train seconds", fmt.Sprintf("%.2f", res.TrainSeconds)},
	}
	for _, l := range []string{tandem.SentimentNegative, tandem.SentimentNeutral, tandem.SentimentPositive} {
		if s, ok := res.PerLabel[l]; ok {
			rowsOut = append(rowsOut, [2]string{"F1 " + l, fmt.Sprintf("%.4f (n=%d)", s.F1, s.Support)})
		}
	}
	if f.format == "html" {
		return report.ClassificationHTML(env.Stdout, report.Classification{Title: "Sentiment model (tandem eval sentiment)",
			Summary: rowsOut, Scores: rep, Confusions: evals.Confusions(gold, pred, maxConfusions)})
	}
	return nluWriteTable(env.Stdout, rowsOut)
}

func nluWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

func nluWriteTable(w io.Writer, rows [][2]string) error {
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "%-20s %s\n", r[0], r[1]); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}

// runNLU is `tandem nlu <subcommand>`; wire it in commands() as
// "nlu": {"train and save NLU models", runNLU}.
func runNLU(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem nlu", map[string]command{
		"train": {"train the intent classifier from a text,label CSV and save the model", runNLUTrain},
	}, args)
}

// runNLUTrain trains an NLU model from examples and writes it where a bot loads it from.
func runNLUTrain(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem nlu train")
	train := fs.String("train", "", "examples CSV with text,label columns; label oos marks out-of-scope examples (required)")
	out := fs.String("out", "", "file to write the model to (required)")
	seed := fs.Int64("seed", 1, "training seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *train == "" || *out == "" {
		return fmt.Errorf("%w: tandem nlu train needs --train and --out", errUsage)
	}
	rows, err := evals.ReadLabeledCSVFile(*train)
	if err != nil {
		return err
	}
	examples := make([]nlu.Example, len(rows))
	for i, r := range rows {
		examples[i] = nlu.Example{Text: r.Text, Intent: r.Label}
	}
	start := time.Now()
	m, err := nlu.Train(ctx, examples, nlu.Config{Seed: *seed})
	if err != nil {
		return fmt.Errorf("nlu train: %w", err)
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("nlu train: %w", err)
	}
	if err := m.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("nlu train: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("nlu train: %w", err)
	}
	fmt.Fprintf(env.Stdout, "trained %d intents on %d examples in %.2fs, wrote %s\n",
		len(m.Intents()), len(examples), time.Since(start).Seconds(), *out)
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

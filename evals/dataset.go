package evals

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
)

// LabeledText is one row of a classification dataset.
type LabeledText struct {
	Text  string
	Label string
}

// ReadLabeledCSV reads a CSV with a header naming a `text` and a `label` column (in any order;
// other columns are ignored). Rows with an empty text are skipped.
func ReadLabeledCSV(r io.Reader) ([]LabeledText, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, tandem.Errorf(tandem.EINVALID, "dataset is empty")
		}
		return nil, fmt.Errorf("read dataset header: %w", err)
	}
	ti, li := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "text":
			ti = i
		case "label":
			li = i
		}
	}
	if ti < 0 || li < 0 {
		return nil, tandem.Errorf(tandem.EINVALID, "dataset header must name text and label columns, got %q", header)
	}
	var rows []LabeledText
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read dataset: %w", err)
		}
		if ti >= len(rec) || li >= len(rec) {
			line, _ := cr.FieldPos(0)
			return nil, tandem.Errorf(tandem.EINVALID, "dataset line %d: missing columns", line)
		}
		text := strings.TrimSpace(rec[ti])
		if text == "" {
			continue
		}
		rows = append(rows, LabeledText{Text: text, Label: strings.TrimSpace(rec[li])})
	}
	return rows, nil
}

// ReadLabeledCSVFile reads ReadLabeledCSV from a file path.
func ReadLabeledCSVFile(path string) ([]LabeledText, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	defer f.Close()
	rows, err := ReadLabeledCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// StratifiedSplit holds out round(share × n) rows of each label, chosen with a fixed seed, and
// returns (rest, heldOut), each in the original row order.
func StratifiedSplit(rows []LabeledText, share float64, seed int64) (rest, heldOut []LabeledText) {
	return splitPerLabel(rows, seed, 0xda7a, func(n int) int { return int(math.Round(share * float64(n))) })
}

// BalancedSplit holds out perClass rows of every label (at most half of a label's rows, so
// each keeps training examples), chosen at random with seed: a test set with the class
// balance of a benchmark's official test split (Banking77's has 40 per label) when train's
// classes are imbalanced.
func BalancedSplit(rows []LabeledText, perClass int, seed int64) (rest, heldOut []LabeledText) {
	return splitPerLabel(rows, seed, 0xba1a, func(n int) int { return min(perClass, n/2) })
}

// splitPerLabel holds out, of each label's rows in a seeded random order, the first
// take(number of the label's rows); rows keep their order in both parts.
func splitPerLabel(rows []LabeledText, seed int64, salt uint64, take func(n int) int) (rest, heldOut []LabeledText) {
	by := map[string][]int{}
	var labels []string
	for i, r := range rows {
		if _, ok := by[r.Label]; !ok {
			labels = append(labels, r.Label)
		}
		by[r.Label] = append(by[r.Label], i)
	}
	slices.Sort(labels)
	rng := rand.New(rand.NewPCG(uint64(seed), salt))
	out := make([]bool, len(rows))
	for _, l := range labels {
		idx := by[l]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[:take(len(idx))] {
			out[i] = true
		}
	}
	for i, r := range rows {
		if out[i] {
			heldOut = append(heldOut, r)
		} else {
			rest = append(rest, r)
		}
	}
	return rest, heldOut
}

// WriteLabeledCSV writes rows with a `text,label` header.
func WriteLabeledCSV(w io.Writer, rows []LabeledText) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"text", "label"}); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Text, r.Label}); err != nil {
			return fmt.Errorf("write dataset: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	return nil
}

package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/tandemhq/tandem/evals"
)

// Classification is what a dataset eval of a classifier found, as ClassificationHTML shows it.
type Classification struct {
	// Title names the eval, e.g. "Intent classifier".
	Title string
	// Summary rows (name, value) are shown first, in order.
	Summary [][2]string
	// Scores holds the per-label precision, recall and F1.
	Scores evals.ClassificationReport
	// Confusions are the most frequent wrong predictions (evals.Confusions).
	Confusions []evals.Confusion
}

type classificationPage struct {
	Classification
	Labels []labelRow
	F1     hbarChart
}

type labelRow struct {
	Label string
	evals.LabelScore
}

// ClassificationHTML writes c as one HTML page: the summary, a table of precision, recall
// and F1 per label, a bar chart of F1 per label (worst first) and the most frequent
// confusions.
func ClassificationHTML(w io.Writer, c Classification) error {
	p := classificationPage{Classification: c}
	for l, s := range c.Scores.PerLabel {
		p.Labels = append(p.Labels, labelRow{Label: l, LabelScore: s})
	}
	slices.SortFunc(p.Labels, func(a, b labelRow) int { return cmp.Compare(a.Label, b.Label) })
	worst := slices.Clone(p.Labels)
	slices.SortStableFunc(worst, func(a, b labelRow) int { return cmp.Compare(a.F1, b.F1) })
	items := make([]hbarItem, len(worst))
	for i, l := range worst {
		// A fixed scale of 1, drawn as the F1 bar and the rest of the way in white space.
		items[i] = hbarItem{Label: l.Label, Value: fmt.Sprintf("%.3f", l.F1),
			Parts: []part{{N: l.F1, Class: "f1"}, {N: 1 - l.F1, Class: "rest"}}}
	}
	p.F1 = newHBarChart("F1 per label", items)
	return render(w, "classification", p)
}

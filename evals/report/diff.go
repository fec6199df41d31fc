package report

import (
	"io"

	"github.com/tandemhq/tandem/evals/conversation"
)

type diffPage struct {
	Title     string
	Base, New string
	Regressed bool
	Metrics   []metricRow
	Tests     []conversation.Change
	Turns     []conversation.Change
}

type metricRow struct {
	M  conversation.Delta
	By float64 // new minus base
	// Class is better, worse or same, from the metric's own direction.
	Class string
}

// DiffHTML writes d, the comparison of run base with run next (named as the user gave
// them, e.g. file paths), as one HTML page: every metric with its change coloured by whether
// it got better or worse, then the tests and turns that started or stopped passing, appeared
// or disappeared.
func DiffHTML(w io.Writer, base, next string, d conversation.Diff) error {
	p := diffPage{Title: "Conversation test comparison", Base: base, New: next, Regressed: d.Regressed(),
		Tests: d.Tests, Turns: d.Turns}
	for _, m := range d.Metrics {
		p.Metrics = append(p.Metrics, metricRow{M: m, By: m.New - m.Base,
			Class: map[int]string{1: "better", -1: "worse", 0: "same"}[m.Change()]})
	}
	return render(w, "diff", p)
}

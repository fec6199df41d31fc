// Package evals measures Tandem's components on datasets: classification metrics for NLU and
// sentiment, and the dataset readers the eval commands use.
package evals

import (
	"cmp"
	"slices"
)

// ClassificationReport holds the scores of a classifier on a labelled test set.
type ClassificationReport struct {
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
	// InScopeAccuracy is accuracy over rows whose true label is not the out-of-scope label
	// (a prediction of out-of-scope counts as wrong); equal to Accuracy without such a label.
	InScopeAccuracy float64 `json:"in_scope_accuracy"`
	// OOSRecall is the share of out-of-scope rows predicted out of scope (0 when there are none).
	OOSRecall float64               `json:"oos_recall"`
	OOSN      int                   `json:"oos_n"`
	PerLabel  map[string]LabelScore `json:"per_label,omitempty"`
}

// LabelScore is precision, recall and F1 of one label.
type LabelScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Classification scores predictions against gold labels. oosLabel names the out-of-scope label
// ("" when the task has none). Macro-F1 averages over the labels present in gold, including the
// out-of-scope label when present.
func Classification(gold, pred []string, oosLabel string) ClassificationReport {
	r := ClassificationReport{N: len(gold), PerLabel: map[string]LabelScore{}}
	if len(gold) == 0 || len(gold) != len(pred) {
		return r
	}
	tp, fp, fn, support := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	correct, inN, inCorrect, oosHit := 0, 0, 0, 0
	for i, g := range gold {
		p := pred[i]
		support[g]++
		if p == g {
			correct++
			tp[g]++
		} else {
			fp[p]++
			fn[g]++
		}
		if oosLabel != "" && g == oosLabel {
			r.OOSN++
			if p == oosLabel {
				oosHit++
			}
			continue
		}
		inN++
		if p == g {
			inCorrect++
		}
	}
	r.Accuracy = float64(correct) / float64(len(gold))
	if inN > 0 {
		r.InScopeAccuracy = float64(inCorrect) / float64(inN)
	}
	if r.OOSN > 0 {
		r.OOSRecall = float64(oosHit) / float64(r.OOSN)
	}
	labels := make([]string, 0, len(support))
	for l := range support {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	var sumF1 float64
	for _, l := range labels {
		var s LabelScore
		s.Support = support[l]
		if d := tp[l] + fp[l]; d > 0 {
			s.Precision = float64(tp[l]) / float64(d)
		}
		if d := tp[l] + fn[l]; d > 0 {
			s.Recall = float64(tp[l]) / float64(d)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		r.PerLabel[l] = s
		sumF1 += s.F1
	}
	r.MacroF1 = sumF1 / float64(len(labels))
	return r
}

// Confusion is a gold label predicted as another label, and how often.
type Confusion struct {
	Gold string `json:"gold"`
	Pred string `json:"pred"`
	N    int    `json:"n"`
}

// Confusions returns the wrong (gold, predicted) pairs of gold and pred, most frequent
// first, ties in label order; at most n of them, or all when n <= 0.
func Confusions(gold, pred []string, n int) []Confusion {
	counts := map[[2]string]int{}
	for i, g := range gold {
		if i < len(pred) && pred[i] != g {
			counts[[2]string{g, pred[i]}]++
		}
	}
	cs := make([]Confusion, 0, len(counts))
	for k, c := range counts {
		cs = append(cs, Confusion{Gold: k[0], Pred: k[1], N: c})
	}
	slices.SortFunc(cs, func(a, b Confusion) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Gold, b.Gold), cmp.Compare(a.Pred, b.Pred))
	})
	if n > 0 && len(cs) > n {
		cs = cs[:n]
	}
	return cs
}

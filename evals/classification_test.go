package evals

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestClassification(t *testing.T) {
	t.Parallel()
	gold := []string{"a", "a", "b", "b", "oos", "oos"}
	pred := []string{"a", "b", "b", "oos", "oos", "a"}
	r := Classification(gold, pred, "oos")
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("accuracy", r.Accuracy, 3.0/6)
	near("in_scope_accuracy", r.InScopeAccuracy, 2.0/4)
	near("oos_recall", r.OOSRecall, 1.0/2)
	// F1: a p=1/2 r=1/2 -> .5; b p=1/2 r=1/2 -> .5; oos p=1/2 r=1/2 -> .5
	near("macro_f1", r.MacroF1, 0.5)
	if r.OOSN != 2 || r.N != 6 {
		t.Errorf("counts: oos %d n %d", r.OOSN, r.N)
	}
	noOOS := Classification([]string{"x", "y"}, []string{"x", "x"}, "")
	near("no-oos in_scope", noOOS.InScopeAccuracy, 0.5)
	near("no-oos macro_f1", noOOS.MacroF1, (2.0/3+0)/2)
	if empty := Classification(nil, nil, ""); empty.Accuracy != 0 {
		t.Errorf("empty: %+v", empty)
	}
}

func TestConfusions(t *testing.T) {
	t.Parallel()
	gold := []string{"a", "a", "a", "b", "b", "c", "c"}
	pred := []string{"b", "b", "a", "a", "c", "a", "c"}
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"OKAll", 0, "a>b 2, b>a 1, b>c 1, c>a 1"},
		{"OKTop", 2, "a>b 2, b>a 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, c := range Confusions(gold, pred, tt.n) {
				got = append(got, fmt.Sprintf("%s>%s %d", c.Gold, c.Pred, c.N))
			}
			if s := strings.Join(got, ", "); s != tt.want {
				t.Errorf("confusions = %s, want %s", s, tt.want)
			}
		})
	}
}

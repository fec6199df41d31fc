package report

import (
	"fmt"
	"strings"
	"testing"
)

func TestNewHistogram(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xs   []float64
		want string // "label:count" per bin
	}{
		{"OKEmpty", nil, ""},
		{"OKAllZero", []float64{0, 0}, "0–1:2"},
		{"OKOnBoundary", []float64{0.1, 1, 2}, "0–0.2:1 0.2–0.4:0 0.4–0.6:0 0.6–0.8:0 0.8–1:0 1–1.2:1 1.2–1.4:0 1.4–1.6:0 1.6–1.8:0 1.8–2:1"},
		{"OKSpread", []float64{3, 14, 27, 30}, "0–5:1 5–10:0 10–15:1 15–20:0 20–25:0 25–30:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			tallest := 0.0
			for _, b := range newHistogram("h", "x", "ms", tt.xs).Bars {
				got = append(got, fmt.Sprintf("%s:%d", b.Label, b.Count))
				tallest = max(tallest, b.H)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("bins = %s, want %s", s, tt.want)
			}
			if len(tt.xs) > 0 && tallest != histPlot {
				t.Errorf("tallest bar = %v, want %v", tallest, histPlot)
			}
		})
	}
}

func TestNewHBarChart(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxLabel+5)
	c := newHBarChart("c", []hbarItem{
		{Label: long, Parts: []part{{N: 3, Class: "pass"}, {N: 1, Class: "fail"}}},
		{Label: "b", Parts: []part{{N: 0, Class: "pass"}, {N: 2, Class: "fail"}}},
	})
	r := c.Rows[0]
	if len([]rune(r.Label)) != maxLabel || !strings.HasSuffix(r.Label, "…") || r.Title != long {
		t.Errorf("label %q, title %q: want the label cut, the title whole", r.Label, r.Title)
	}
	if len(r.Segs) != 2 || r.Segs[0].W+r.Segs[1].W != barSpace || r.Segs[1].X != r.Segs[0].X+r.Segs[0].W {
		t.Errorf("segments = %+v, want the largest bar filling %d, end to end", r.Segs, barSpace)
	}
	if s := c.Rows[1].Segs; len(s) != 1 || s[0].Class != "fail" || s[0].W != barSpace/2 {
		t.Errorf("second bar = %+v, want one fail segment of half the space", s)
	}
}

package kb

import (
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		want       string // ops and lines joined by "|"
	}{
		{"Same", "a\nb", "a\nb", " a| b"},
		{"Changed", "a\nb\nc", "a\nB\nc", " a|-b|+B| c"},
		{"Added", "a", "a\nb", " a|+b"},
		{"Removed", "a\nb", "b", "-a| b"},
		{"Empty", "", "x", "-|+x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range lineDiff(tt.a, tt.b) {
				got = append(got, l.Op+l.Text)
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("lineDiff = %q, want %q", g, tt.want)
			}
		})
	}
	if lineDiff(strings.Repeat("x\n", maxDiffLines+1), "x") != nil {
		t.Error("a long body was diffed")
	}
}

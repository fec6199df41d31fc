package storage

import (
	"slices"
	"strings"
	"testing"
)

func TestQueryTerms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"OKWords", "How long does Shipping take?", []string{"how", "long", "does", "shipping", "take"}},
		{"OKDuplicates", "a A a", []string{"a"}},
		{"OKJapanese", "配送は何日？", []string{"配送は何日"}},
		{"OKSyntaxStripped", `"x" OR y* NEAR(z) | !w & (v)`, []string{"x", "or", "y", "near", "z", "w", "v"}},
		{"OKEmpty", " ?! ", nil},
		{"OKBounded", strings.Repeat("w ", 10) + strings.Join(func() []string {
			var s []string
			for i := range 100 {
				s = append(s, "t"+strings.Repeat("x", i))
			}
			return s
		}(), " "), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := QueryTerms(tt.in)
			if tt.name == "OKBounded" {
				if len(got) != MaxQueryTerms {
					t.Errorf("len = %d, want %d", len(got), MaxQueryTerms)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("QueryTerms(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

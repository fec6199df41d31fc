package entity

import (
	"math/rand/v2"
	"testing"
)

// naiveDistance is the textbook edit distance, the reference for the pruned one.
func naiveDistance(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
		}
	}
	return d[len(a)][len(b)]
}

func TestFuzzyEqualMatchesEditDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"shoes", "shoes", true},
		{"shoe", "shoes", true},   // one insertion, 5 letters allow 1
		{"sheos", "shoes", false}, // a transposition is two edits
		{"cat", "car", false},     // under 4 letters must match exactly
		{"electronis", "electronics", true},
		{"elctronis", "electronics", true},
		{"elctrnis", "electronics", false},
		{"東京都", "東京", false},
		{"longwordwithmanyletters", "longwordwithmanyletterz", true}, // beyond the stack buffer
	}
	for _, tt := range tests {
		if got := fuzzyEqual(newTerm(tt.a), newTerm(tt.b)); got != tt.want {
			t.Errorf("fuzzyEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	// The letter-mask shortcut and the pruned distance must agree with the textbook one.
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdeéxyz"
	word := func() string {
		r := []rune(letters)
		w := make([]rune, 1+rng.IntN(12))
		for i := range w {
			w[i] = r[rng.IntN(len(r))]
		}
		return string(w)
	}
	for range 20000 {
		a, b := newTerm(word()), newTerm(word())
		want := b.allowed > 0 && naiveDistance(a.r, b.r) <= b.allowed || a.s == b.s
		if got := fuzzyEqual(a, b); got != want {
			t.Fatalf("fuzzyEqual(%q, %q) = %v, want %v", a.s, b.s, got, want)
		}
	}
}

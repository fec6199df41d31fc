package evals

import (
	"math"
	"testing"
	"time"
)

func TestRankingScorer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		ranked, relevant [][]string
		wantR1, wantR5   float64
		wantMRR          float64
	}{
		{"OK/first", [][]string{{"a", "b"}}, [][]string{{"a"}}, 1, 1, 1},
		{"OK/dedupedSecond", [][]string{{"x", "x", "x", "a"}}, [][]string{{"a", "z"}}, 0, 1, 0.5},
		{"OK/miss", [][]string{{"x", "y"}}, [][]string{{"a"}}, 0, 0, 0},
		{"OK/sixth", [][]string{{"1", "2", "3", "4", "5", "a"}}, [][]string{{"a"}}, 0, 0, 1.0 / 6},
		{"OK/mixed", [][]string{{"a"}, {"b", "a"}}, [][]string{{"a"}, {"a"}}, 0.5, 1, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s RankingScorer
			for i := range tt.ranked {
				s.Add(tt.ranked[i], tt.relevant[i], time.Millisecond)
			}
			r := s.Report()
			if r.RecallAt1 != tt.wantR1 || r.RecallAt5 != tt.wantR5 || math.Abs(r.MRRAt10-tt.wantMRR) > 1e-9 {
				t.Errorf("got r1=%v r5=%v mrr=%v, want %v %v %v", r.RecallAt1, r.RecallAt5, r.MRRAt10, tt.wantR1, tt.wantR5, tt.wantMRR)
			}
			if r.P95QueryMS != 1 {
				t.Errorf("p95 = %v, want 1", r.P95QueryMS)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ds := []time.Duration{5 * time.Millisecond, 1 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}
	if got, want := Percentile(ds, 0.5), 3.0; got != want {
		t.Errorf("p50 = %v, want %v", got, want)
	}
	if got, want := Percentile(ds, 0.95), 5.0; got != want {
		t.Errorf("p95 = %v, want %v", got, want)
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("empty = %v, want 0", got)
	}
}

package intent

import (
	"math"
	"sync"

	"github.com/tandemhq/tandem/nlu/internal/linear"
)

// knn is nearest-neighbour voting over the training examples' TF-IDF vectors (intent by
// retrieval). Only word features are indexed: character n-grams have posting lists too long for
// the per-message budget.
type knn struct {
	K        int
	Labels   []int32   // example -> class
	Postings [][]int32 // feature -> examples, for indexed features
	Weights  [][]float32
	pool     sync.Pool
}

type knnScratch struct {
	acc     []float32
	touched []int32
}

// maxPostingShare drops features found in more than this share of examples from the index;
// they carry little evidence and dominate query time.
const maxPostingShare = 0.02

func newKNN(xs []linear.Vec, ys []int, wordFeature func(int32) bool, features, k int) *knn {
	n := &knn{K: k, Labels: make([]int32, len(xs)), Postings: make([][]int32, features), Weights: make([][]float32, features)}
	for i, x := range xs {
		n.Labels[i] = int32(ys[i])
		// Re-normalise the word part so similarities are cosines over words.
		var ss float64
		for j, f := range x.Idx {
			if wordFeature(f) {
				ss += float64(x.Val[j]) * float64(x.Val[j])
			}
		}
		if ss == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(ss))
		for j, f := range x.Idx {
			if wordFeature(f) {
				n.Postings[f] = append(n.Postings[f], int32(i))
				n.Weights[f] = append(n.Weights[f], x.Val[j]*inv)
			}
		}
	}
	limit := int(maxPostingShare*float64(len(xs))) + 10
	for f := range n.Postings {
		if len(n.Postings[f]) > limit {
			n.Postings[f], n.Weights[f] = nil, nil
		}
	}
	return n
}

// vote adds the kNN class distribution of x (similarity-weighted over the K nearest examples) to
// dst and reports whether any neighbour was found.
func (n *knn) vote(x linear.Vec, wordFeature func(int32) bool, dst []float32) bool {
	sc, _ := n.pool.Get().(*knnScratch)
	if sc == nil {
		sc = &knnScratch{acc: make([]float32, len(n.Labels))}
	}
	defer n.pool.Put(sc)
	var ss float64
	for j, f := range x.Idx {
		if wordFeature(f) {
			ss += float64(x.Val[j]) * float64(x.Val[j])
		}
	}
	if ss == 0 {
		return false
	}
	inv := float32(1 / math.Sqrt(ss))
	for j, f := range x.Idx {
		if int(f) >= len(n.Postings) {
			continue
		}
		ps := n.Postings[f]
		if len(ps) == 0 {
			continue
		}
		q := x.Val[j] * inv
		ws := n.Weights[f]
		for k, e := range ps {
			if sc.acc[e] == 0 {
				sc.touched = append(sc.touched, e)
			}
			sc.acc[e] += q * ws[k]
		}
	}
	if len(sc.touched) == 0 {
		return false
	}
	// Partial selection of the K best by similarity.
	type hit struct {
		e int32
		s float32
	}
	var best [32]hit
	nb := 0
	k := min(n.K, len(best))
	for _, e := range sc.touched {
		s := sc.acc[e]
		sc.acc[e] = 0
		if nb < k {
			best[nb] = hit{e, s}
			nb++
			for i := nb - 1; i > 0 && best[i].s > best[i-1].s; i-- {
				best[i], best[i-1] = best[i-1], best[i]
			}
			continue
		}
		if s <= best[k-1].s {
			continue
		}
		best[k-1] = hit{e, s}
		for i := k - 1; i > 0 && best[i].s > best[i-1].s; i-- {
			best[i], best[i-1] = best[i-1], best[i]
		}
	}
	sc.touched = sc.touched[:0]
	var sum float32
	for _, h := range best[:nb] {
		sum += h.s * h.s
	}
	if sum == 0 {
		return false
	}
	// Votes are scaled by the best similarity so that a message barely touching the examples
	// gets little confidence from them.
	top := min(best[0].s, 1)
	for _, h := range best[:nb] {
		dst[n.Labels[h.e]] += top * h.s * h.s / sum
	}
	return true
}

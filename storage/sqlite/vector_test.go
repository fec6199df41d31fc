package sqlite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// bruteForce is the reference the segmented index must agree with: cosine similarity of
// every chunk of the wanted dimension, best first, ties by seq.
func bruteForce(vecs map[string][]float32, ents map[string]entry, q []float32, f storage.SearchFilter, limit int) []string {
	type scored struct {
		id    string
		seq   int64
		score float64
	}
	var all []scored
	for id, v := range vecs {
		if len(v) != len(q) || !matchDoc(ents[id].meta, f) {
			continue
		}
		var dot, nv, nq float64
		for i := range v {
			dot += float64(v[i]) * float64(q[i])
			nv += float64(v[i]) * float64(v[i])
			nq += float64(q[i]) * float64(q[i])
		}
		all = append(all, scored{id, ents[id].seq, dot / math.Sqrt(nv*nq)})
	}
	slices.SortFunc(all, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return int(a.seq - b.seq)
	})
	var ids []string
	for _, s := range all[:min(limit, len(all))] {
		ids = append(ids, s.id)
	}
	return ids
}

func TestVectorIndexMatchesBruteForce(t *testing.T) {
	t.Parallel()
	const dim = 24
	rng := rand.New(rand.NewPCG(7, 8))
	sparse := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			if rng.IntN(3) == 0 {
				v[i] = rng.Float32() - 0.3
			}
		}
		return v
	}
	published := &docMeta{collection: "kb", status: tandem.DocumentPublished, tags: []string{"a"}}
	draft := &docMeta{collection: "kb", status: tandem.DocumentDraft, language: "ja"}
	ci := newVectors()
	vecs := map[string][]float32{}
	ents := map[string]entry{}
	put := func(i int, v []float32) {
		id := fmt.Sprint("c", i)
		m := published
		if i%4 == 0 {
			m = draft
		}
		e := entry{id: id, docID: fmt.Sprint("d", i/3), seq: int64(i), meta: m, text: id}
		ci.set(e, v)
		if invNorm(v) == 0 {
			delete(vecs, id)
			delete(ents, id)
			return
		}
		vecs[id], ents[id] = v, e
	}
	// More than two segments, then removals that move entries across segments, replaced
	// vectors, a chunk changing dimension and zero vectors.
	n := 2*segSize + 300
	for i := range n {
		put(i, sparse(dim))
	}
	for i := 0; i < n; i += 7 {
		id := fmt.Sprint("c", i)
		ci.remove(id)
		delete(vecs, id)
		delete(ents, id)
	}
	for i := 1; i < n; i += 11 {
		put(i, sparse(dim))
	}
	put(5, sparse(dim+3))
	put(6, make([]float32, dim))
	for i := n - 1; i > n-400; i-- {
		id := fmt.Sprint("c", i)
		ci.remove(id)
		delete(vecs, id)
		delete(ents, id)
	}

	x := &knowledgeIndex{collections: map[string]*collectionIndex{"kb": {vec: ci}}}
	for _, tt := range []struct {
		name string
		q    []float32
		f    storage.SearchFilter
	}{
		{"OK", sparse(dim), storage.SearchFilter{}},
		{"OKPublished", sparse(dim), storage.SearchFilter{Status: tandem.DocumentPublished}},
		{"OKLanguage", sparse(dim), storage.SearchFilter{Language: "ja"}},
		{"OKTag", sparse(dim), storage.SearchFilter{Tags: []string{"a", "b"}}},
		{"OKOtherDimension", sparse(dim + 3), storage.SearchFilter{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 10, 50} {
				var got []string
				for _, h := range x.searchVector(tt.q, []string{"kb"}, func(m *docMeta) bool { return matchDoc(m, tt.f) }, limit) {
					got = append(got, h.id)
					if h.text != h.id || h.collection != "kb" {
						t.Fatalf("hit %s carries text %q, collection %q", h.id, h.text, h.collection)
					}
				}
				want := bruteForce(vecs, ents, tt.q, tt.f, limit)
				// Scores are summed in float32 in another order: allow swaps of near-ties only.
				if !slices.Equal(got, want) && !nearTies(got, want, vecs, tt.q) {
					t.Errorf("limit %d: got %v, want %v", limit, got, want)
				}
			}
		})
	}
	for _, b := range ci.blocks {
		if len(b.pos) != len(b.entries) || len(b.segs) != (len(b.entries)+segSize-1)/segSize {
			t.Errorf("dim %d: %d positions, %d entries, %d segments", b.dim, len(b.pos), len(b.entries), len(b.segs))
		}
		for id, i := range b.pos {
			if b.entries[i].id != id {
				t.Errorf("position of %s points at %s", id, b.entries[i].id)
			}
		}
	}
}

// nearTies reports whether got and want hold the same chunks up to reordering or exchanging
// chunks whose similarities differ by less than float32 rounding.
func nearTies(got, want []string, vecs map[string][]float32, q []float32) bool {
	if len(got) != len(want) {
		return false
	}
	cos := func(id string) float64 {
		v := vecs[id]
		var dot, nv, nq float64
		for i := range v {
			dot += float64(v[i]) * float64(q[i])
			nv += float64(v[i]) * float64(v[i])
			nq += float64(q[i]) * float64(q[i])
		}
		return dot / math.Sqrt(nv*nq)
	}
	for i := range got {
		if math.Abs(cos(got[i])-cos(want[i])) > 1e-5 {
			return false
		}
	}
	return true
}

func TestAxpy4(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 63, 100, segSize} {
		t.Run(fmt.Sprint("OK", n), func(t *testing.T) {
			xs := make([][]float32, 4)
			for i := range xs {
				xs[i] = make([]float32, n+5) // longer than dst: only len(dst) is read
				for j := range xs[i] {
					xs[i][j] = rng.Float32() - 0.5
				}
			}
			got, want := make([]float32, n+1), make([]float32, n+1)
			for i := range n {
				got[i] = float32(i)
				want[i] = float32(i)
			}
			got[n], want[n] = 42, 42 // past the end: untouched
			axpy4(got[:n], 0.5, -1, 2, 0.25, xs[0], xs[1], xs[2], xs[3])
			axpy4Go(want[:n], 0.5, -1, 2, 0.25, xs[0], xs[1], xs[2], xs[3])
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-5*max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("dst[%d] = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

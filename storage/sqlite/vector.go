package sqlite

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// encodeVector stores v as little-endian float32s.
func encodeVector(v []float32) []byte {
	if v == nil {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if b == nil {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// invNorm returns 1/|v|, or 0 for a zero vector.
func invNorm(v []float32) float32 {
	var sum float64
	for _, f := range v {
		sum += float64(f) * float64(f)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return 0
	}
	return float32(1 / math.Sqrt(sum))
}

// docMeta is what vector filters and results need from a document.
type docMeta struct {
	collection string
	status     tandem.DocumentStatus
	language   string
	tags       []string
	title, url string
}

// entry is one indexed chunk: everything a search result needs besides the score, so a
// search never goes back to the database.
type entry struct {
	id, docID     string
	seq           int64
	ordinal       int
	heading, text string
	meta          *docMeta
}

// segSize is how many chunks one segment of a vector block holds. A segment stores its
// vectors dimension-major (column d of the segment is seg[d*segSize:][:segSize]), so a query
// reads only the columns of its non-zero dimensions (the offline embedder's queries use a
// few percent of them), and the segment's scores (4 KiB) stay in the L1 cache while they
// accumulate. Segments never move, so growing a block copies nothing.
const segSize = 1024

// vecBlock holds the unit-length vectors of one dimension in a collection.
type vecBlock struct {
	dim     int
	entries []entry        // entry i's vector is in segs[i/segSize] at offset i%segSize
	segs    [][]float32    // dim*segSize floats each
	pos     map[string]int // chunk id -> entry index
}

func newVecBlock(dim int) *vecBlock { return &vecBlock{dim: dim, pos: map[string]int{}} }

// set adds or replaces a chunk; v is normalised while it is copied in (inv = 1/|v|).
func (b *vecBlock) set(e entry, v []float32, inv float32) {
	i, ok := b.pos[e.id]
	if !ok {
		i = len(b.entries)
		if i%segSize == 0 && i/segSize == len(b.segs) {
			b.segs = append(b.segs, make([]float32, b.dim*segSize))
		}
		b.entries = append(b.entries, entry{})
		b.pos[e.id] = i
	}
	b.entries[i] = e
	seg, off := b.segs[i/segSize], i%segSize
	for d, f := range v {
		seg[d*segSize+off] = f * inv
	}
}

// remove drops a chunk by moving the last entry into its place; it reports whether the
// chunk was there.
func (b *vecBlock) remove(id string) bool {
	i, ok := b.pos[id]
	if !ok {
		return false
	}
	last := len(b.entries) - 1
	if i != last {
		b.entries[i] = b.entries[last]
		b.pos[b.entries[i].id] = i
		dst, doff := b.segs[i/segSize], i%segSize
		src, soff := b.segs[last/segSize], last%segSize
		for d := range b.dim {
			dst[d*segSize+doff] = src[d*segSize+soff]
		}
	}
	b.entries[last] = entry{}
	b.entries = b.entries[:last]
	delete(b.pos, id)
	if last%segSize == 0 {
		b.segs[len(b.segs)-1] = nil
		b.segs = b.segs[:len(b.segs)-1]
	}
	return true
}

// vectors holds the vectors of one collection, one block per dimension.
type vectors struct {
	blocks map[int]*vecBlock // dimension -> block
	dimOf  map[string]int    // chunk id -> dimension of the block holding it
}

func newVectors() *vectors {
	return &vectors{blocks: map[int]*vecBlock{}, dimOf: map[string]int{}}
}

// set adds or replaces a chunk's vector; a zero vector removes the chunk.
func (vs *vectors) set(e entry, v []float32) {
	inv := invNorm(v)
	if inv == 0 {
		vs.remove(e.id)
		return
	}
	if d, ok := vs.dimOf[e.id]; ok && d != len(v) {
		vs.remove(e.id)
	}
	b := vs.blocks[len(v)]
	if b == nil {
		b = newVecBlock(len(v))
		vs.blocks[len(v)] = b
	}
	vs.dimOf[e.id] = len(v)
	b.set(e, v, inv)
}

// remove drops a chunk's vector, if any.
func (vs *vectors) remove(id string) {
	d, ok := vs.dimOf[id]
	if !ok {
		return
	}
	vs.blocks[d].remove(id)
	if len(vs.blocks[d].entries) == 0 {
		delete(vs.blocks, d)
	}
	delete(vs.dimOf, id)
}

// hit is a search result: a copy of the chunk's entry and document fields, taken under the
// index lock.
type hit struct {
	entry
	collection, title, url string
	score                  float64
}

// topK keeps the best k candidates in a binary min-heap (the worst on top).
type topK struct {
	k int
	h []cand
}

// cand is a candidate before its entry is copied out.
type cand struct {
	score float64
	seq   int64
	e     *entry
}

func (c cand) worse(d cand) bool {
	if c.score != d.score {
		return c.score < d.score
	}
	return c.seq > d.seq
}

// admits reports whether a candidate with score and seq would enter the heap.
func (t *topK) admits(score float64, seq int64) bool {
	if len(t.h) < t.k {
		return true
	}
	w := t.h[0]
	return score > w.score || score == w.score && seq < w.seq
}

// below reports whether a candidate with score cannot enter the heap whatever its seq: a
// test that needs no entry, so a scan touches only the entries of its good candidates.
func (t *topK) below(score float64) bool { return len(t.h) == t.k && score < t.h[0].score }

func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.h[i].worse(t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	t.h[0] = c
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(t.h) && t.h[l].worse(t.h[m]) {
			m = l
		}
		if r := l + 1; r < len(t.h) && t.h[r].worse(t.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// nzDim is one non-zero dimension of a query, weighted by the query's normalisation.
type nzDim struct {
	d int
	w float32
}

// search returns the best `limit` chunks of the given collections by cosine similarity,
// ignoring chunks whose dimension differs from len(q). It is exact: every chunk of the
// collections is scored.
func (x *knowledgeIndex) searchVector(q []float32, collections []string, match func(*docMeta) bool, limit int) []hit {
	inv := invNorm(q)
	if inv == 0 || limit <= 0 {
		return nil
	}
	nz := make([]nzDim, 0, 256)
	for d, v := range q {
		if v != 0 {
			nz = append(nz, nzDim{d, v * inv})
		}
	}
	top := topK{k: limit, h: make([]cand, 0, limit)}
	var scores [segSize]float32
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, name := range collections {
		ci := x.collections[name]
		if ci == nil {
			continue
		}
		b := ci.vec.blocks[len(q)]
		if b == nil {
			continue
		}
		for s, seg := range b.segs {
			entries := b.entries[s*segSize : min(len(b.entries), (s+1)*segSize)]
			sc := scores[:len(entries)]
			scoreSegment(sc, seg, nz)
			for i := range sc {
				v := float64(sc[i])
				if top.below(v) {
					continue
				}
				if e := &entries[i]; top.admits(v, e.seq) && match(e.meta) {
					top.push(cand{score: v, seq: e.seq, e: e})
				}
			}
		}
	}
	return top.sorted()
}

// sorted returns the kept candidates best first, copied out of the index.
func (t *topK) sorted() []hit {
	slices.SortFunc(t.h, func(a, b cand) int {
		switch {
		case b.worse(a):
			return -1
		case a.worse(b):
			return 1
		}
		return 0
	})
	out := make([]hit, len(t.h))
	for i, c := range t.h {
		out[i] = hit{entry: *c.e, collection: c.e.meta.collection, title: c.e.meta.title, url: c.e.meta.url, score: c.score}
		out[i].meta = nil
	}
	return out
}

// scoreSegment sets sc[i] to the dot product of the query's non-zero dimensions with the
// segment's vector i, four columns at a time so each score is loaded and stored once per
// four dimensions.
func scoreSegment(sc []float32, seg []float32, nz []nzDim) {
	clear(sc)
	n := len(sc)
	col := func(d int) []float32 { return seg[d*segSize : d*segSize+n] }
	i := 0
	for ; i+4 <= len(nz); i += 4 {
		axpy4(sc, nz[i].w, nz[i+1].w, nz[i+2].w, nz[i+3].w, col(nz[i].d), col(nz[i+1].d), col(nz[i+2].d), col(nz[i+3].d))
	}
	for ; i < len(nz); i++ {
		axpy(sc, nz[i].w, col(nz[i].d))
	}
}

// axpy4Go adds a0·x0 + a1·x1 + a2·x2 + a3·x3 to dst (the portable kernel).
func axpy4Go(dst []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	n := len(dst)
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	for i := range dst {
		dst[i] += a0*x0[i] + a1*x1[i] + a2*x2[i] + a3*x3[i]
	}
}

// axpy adds a·x to dst.
func axpy(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += a * x[i]
	}
}

func matchDoc(m *docMeta, f storage.SearchFilter) bool {
	if f.Status != "" && m.status != f.Status {
		return false
	}
	if f.Language != "" && m.language != f.Language {
		return false
	}
	if len(f.Tags) > 0 {
		ok := false
		for _, t := range f.Tags {
			if slices.Contains(m.tags, t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

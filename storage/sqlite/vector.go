package sqlite

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"

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

// collectionIndex holds the vectors of one collection, one block per dimension.
type collectionIndex struct {
	blocks map[int]*vecBlock   // dimension -> block
	dimOf  map[string]int      // chunk id -> dimension of the block holding it
	byDoc  map[string][]string // doc id -> chunk ids
}

func newCollectionIndex() *collectionIndex {
	return &collectionIndex{blocks: map[int]*vecBlock{}, dimOf: map[string]int{}, byDoc: map[string][]string{}}
}

// set adds or replaces a chunk's vector; a zero vector removes the chunk.
func (ci *collectionIndex) set(e entry, v []float32) {
	inv := invNorm(v)
	if inv == 0 {
		ci.remove(e.id, e.docID)
		return
	}
	if d, ok := ci.dimOf[e.id]; ok && d != len(v) {
		ci.blocks[d].remove(e.id)
	}
	b := ci.blocks[len(v)]
	if b == nil {
		b = newVecBlock(len(v))
		ci.blocks[len(v)] = b
	}
	if _, ok := ci.dimOf[e.id]; !ok {
		ci.byDoc[e.docID] = append(ci.byDoc[e.docID], e.id)
	}
	ci.dimOf[e.id] = len(v)
	b.set(e, v, inv)
}

// remove drops a chunk.
func (ci *collectionIndex) remove(id, docID string) {
	d, ok := ci.dimOf[id]
	if !ok {
		return
	}
	ci.blocks[d].remove(id)
	if len(ci.blocks[d].entries) == 0 {
		delete(ci.blocks, d)
	}
	delete(ci.dimOf, id)
	ci.byDoc[docID] = slices.DeleteFunc(ci.byDoc[docID], func(c string) bool { return c == id })
	if len(ci.byDoc[docID]) == 0 {
		delete(ci.byDoc, docID)
	}
}

// entryOf returns the indexed chunk, if any.
func (ci *collectionIndex) entryOf(id string) (entry, bool) {
	d, ok := ci.dimOf[id]
	if !ok {
		return entry{}, false
	}
	b := ci.blocks[d]
	return b.entries[b.pos[id]], true
}

// vectorIndex is the in-memory vector index: collections are loaded from the database on
// first search and then updated by every knowledge write (under Store.kmu, in commit
// order). Updates are idempotent "set to" operations, so one racing with a load converges.
type vectorIndex struct {
	s           *Store
	mu          sync.RWMutex
	collections map[string]*collectionIndex // loaded collections
	docs        map[string]*docMeta         // docs of loaded collections
}

func newVectorIndex(s *Store) *vectorIndex {
	return &vectorIndex{s: s, collections: map[string]*collectionIndex{}, docs: map[string]*docMeta{}}
}

// load reads the collection from the database when it is not loaded yet.
func (x *vectorIndex) load(ctx context.Context, collection string) error {
	x.mu.RLock()
	_, ok := x.collections[collection]
	x.mu.RUnlock()
	if ok {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.collections[collection]; ok {
		return nil
	}
	ci := newCollectionIndex()
	rows, err := x.s.r.QueryContext(ctx, `SELECT id, status, language, tags, title, url FROM documents WHERE collection = ?`, collection)
	if err != nil {
		return err
	}
	docs := map[string]*docMeta{}
	for rows.Next() {
		var id, tags string
		m := &docMeta{collection: collection}
		if err := rows.Scan(&id, &m.status, &m.language, &tags, &m.title, &m.url); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(tags), &m.tags); err != nil {
			rows.Close()
			return fmt.Errorf("decode tags: %w", err)
		}
		docs[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = x.s.r.QueryContext(ctx, `SELECT seq, id, document_id, ordinal, heading, text, embedding FROM chunks WHERE collection = ? AND embedding IS NOT NULL ORDER BY seq`, collection)
	if err != nil {
		return err
	}
	defer rows.Close()
	var v []float32
	for rows.Next() {
		var e entry
		var blob []byte
		if err := rows.Scan(&e.seq, &e.id, &e.docID, &e.ordinal, &e.heading, &e.text, &blob); err != nil {
			return err
		}
		if e.meta = docs[e.docID]; e.meta == nil {
			continue
		}
		v = slices.Grow(v[:0], len(blob)/4)[:len(blob)/4]
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
		}
		ci.set(e, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for id, m := range docs {
		x.docs[id] = m
	}
	x.collections[collection] = ci
	return nil
}

// removeDocLocked drops a document's chunks from whichever loaded collection holds them.
func (x *vectorIndex) removeDocLocked(docID string) {
	m, ok := x.docs[docID]
	if !ok {
		return
	}
	if ci := x.collections[m.collection]; ci != nil {
		for _, id := range slices.Clone(ci.byDoc[docID]) {
			ci.remove(id, docID)
		}
	}
	delete(x.docs, docID)
}

// putDoc sets a document and its chunks (with their database seq numbers).
func (x *vectorIndex) putDoc(d *tandem.Document, chunks []tandem.Chunk, seqs []int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeDocLocked(d.ID)
	ci := x.collections[d.Collection]
	if ci == nil {
		return // not loaded: the first search reads it from the database
	}
	m := &docMeta{collection: d.Collection, status: d.Status, language: d.Language, tags: slices.Clone(d.Tags), title: d.Title, url: d.URL}
	x.docs[d.ID] = m
	for i, c := range chunks {
		if c.Embedding != nil {
			ci.set(entry{id: c.ID, docID: d.ID, seq: seqs[i], ordinal: c.Ordinal, heading: c.Heading, text: c.Text, meta: m}, c.Embedding)
		}
	}
}

func (x *vectorIndex) deleteDoc(docID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeDocLocked(docID)
}

func (x *vectorIndex) setStatus(docID string, status tandem.DocumentStatus) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if m := x.docs[docID]; m != nil {
		m.status = status
	}
}

// setEmbedding replaces one chunk's vector; e identifies the chunk (and describes it when it
// had none).
func (x *vectorIndex) setEmbedding(collection string, e entry, v []float32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ci := x.collections[collection]
	m := x.docs[e.docID]
	if ci == nil || m == nil {
		return
	}
	e.meta = m
	ci.set(e, v)
}

// hit is a search result: a copy of the chunk's entry and document fields, taken under the
// index lock.
type hit struct {
	entry
	collection, title, url string
	score                  float32
}

// topK keeps the best k candidates in a binary min-heap (the worst on top).
type topK struct {
	k int
	h []cand
}

// cand is a candidate before its entry is copied out.
type cand struct {
	score float32
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
func (t *topK) admits(score float32, seq int64) bool {
	if len(t.h) < t.k {
		return true
	}
	w := t.h[0]
	return score > w.score || score == w.score && seq < w.seq
}

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
func (x *vectorIndex) search(q []float32, collections []string, f storage.SearchFilter, limit int) []hit {
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
		b := ci.blocks[len(q)]
		if b == nil {
			continue
		}
		for s, seg := range b.segs {
			entries := b.entries[s*segSize : min(len(b.entries), (s+1)*segSize)]
			sc := scores[:len(entries)]
			scoreSegment(sc, seg, nz)
			for i := range sc {
				e := &entries[i]
				if top.admits(sc[i], e.seq) && matchDoc(e.meta, f) {
					top.push(cand{score: sc[i], seq: e.seq, e: e})
				}
			}
		}
	}
	slices.SortFunc(top.h, func(a, b cand) int {
		switch {
		case b.worse(a):
			return -1
		case a.worse(b):
			return 1
		}
		return 0
	})
	out := make([]hit, len(top.h))
	for i, c := range top.h {
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

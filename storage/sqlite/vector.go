package sqlite

import (
	"container/heap"
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

// normalize returns v scaled to unit length (nil for a zero vector).
func normalize(v []float32) []float32 {
	var sum float64
	for _, f := range v {
		sum += float64(f) * float64(f)
	}
	if sum == 0 {
		return nil
	}
	n := float32(1 / math.Sqrt(sum))
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = f * n
	}
	return out
}

// docMeta is what vector filters need from a document.
type docMeta struct {
	collection string
	status     tandem.DocumentStatus
	language   string
	tags       []string
}

// collectionIndex holds the normalised embeddings of one collection in parallel slices,
// so a search is a linear scan without map lookups.
type collectionIndex struct {
	ids   []string
	seqs  []int64
	metas []*docMeta
	vecs  [][]float32         // unit length
	pos   map[string]int      // chunk id -> slice index
	byDoc map[string][]string // doc id -> chunk ids
}

func newCollectionIndex() *collectionIndex {
	return &collectionIndex{pos: map[string]int{}, byDoc: map[string][]string{}}
}

// set adds or replaces a chunk's vector (v must be normalised and non-nil).
func (ci *collectionIndex) set(id, docID string, seq int64, m *docMeta, v []float32) {
	if i, ok := ci.pos[id]; ok {
		ci.seqs[i], ci.metas[i], ci.vecs[i] = seq, m, v
		return
	}
	ci.pos[id] = len(ci.ids)
	ci.ids = append(ci.ids, id)
	ci.seqs = append(ci.seqs, seq)
	ci.metas = append(ci.metas, m)
	ci.vecs = append(ci.vecs, v)
	ci.byDoc[docID] = append(ci.byDoc[docID], id)
}

// remove drops a chunk by swapping the last entry into its place.
func (ci *collectionIndex) remove(id, docID string) {
	i, ok := ci.pos[id]
	if !ok {
		return
	}
	last := len(ci.ids) - 1
	if i != last {
		ci.ids[i], ci.seqs[i], ci.metas[i], ci.vecs[i] = ci.ids[last], ci.seqs[last], ci.metas[last], ci.vecs[last]
		ci.pos[ci.ids[i]] = i
	}
	ci.ids, ci.seqs, ci.metas, ci.vecs = ci.ids[:last], ci.seqs[:last], ci.metas[:last], ci.vecs[:last]
	delete(ci.pos, id)
	ci.byDoc[docID] = slices.DeleteFunc(ci.byDoc[docID], func(c string) bool { return c == id })
	if len(ci.byDoc[docID]) == 0 {
		delete(ci.byDoc, docID)
	}
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
	rows, err := x.s.r.QueryContext(ctx, `SELECT id, status, language, tags FROM documents WHERE collection = ?`, collection)
	if err != nil {
		return err
	}
	docs := map[string]*docMeta{}
	for rows.Next() {
		var id, tags string
		m := &docMeta{collection: collection}
		if err := rows.Scan(&id, &m.status, &m.language, &tags); err != nil {
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
	rows, err = x.s.r.QueryContext(ctx, `SELECT seq, id, document_id, embedding FROM chunks WHERE collection = ? AND embedding IS NOT NULL`, collection)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id, docID string
		var blob []byte
		if err := rows.Scan(&seq, &id, &docID, &blob); err != nil {
			return err
		}
		m := docs[docID]
		v := normalize(decodeVector(blob))
		if m == nil || v == nil {
			continue
		}
		ci.set(id, docID, seq, m, v)
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
	m := &docMeta{collection: d.Collection, status: d.Status, language: d.Language, tags: slices.Clone(d.Tags)}
	x.docs[d.ID] = m
	for i, c := range chunks {
		if v := normalize(c.Embedding); v != nil {
			ci.set(c.ID, d.ID, seqs[i], m, v)
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

// setEmbedding replaces one chunk's vector; seq and docID identify it when it had none.
func (x *vectorIndex) setEmbedding(collection, docID, chunkID string, seq int64, v []float32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ci := x.collections[collection]
	m := x.docs[docID]
	if ci == nil || m == nil {
		return
	}
	if v = normalize(v); v == nil {
		ci.remove(chunkID, docID)
		return
	}
	ci.set(chunkID, docID, seq, m, v)
}

// hit is a candidate result.
type hit struct {
	chunkID string
	seq     int64
	score   float64
}

// minHeap keeps the best k hits with the worst on top.
type minHeap []hit

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].seq > h[j].seq
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(v any)   { *h = append(*h, v.(hit)) }
func (h *minHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// search returns the best `limit` chunks of the given collections by cosine similarity.
func (x *vectorIndex) search(q []float32, collections []string, f storage.SearchFilter, limit int) []hit {
	qn := normalize(q)
	if qn == nil {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	h := make(minHeap, 0, limit+1)
	for _, name := range collections {
		ci := x.collections[name]
		if ci == nil {
			continue
		}
		for i, v := range ci.vecs {
			if len(v) != len(qn) || !matchDoc(ci.metas[i], f) {
				continue
			}
			cand := hit{chunkID: ci.ids[i], seq: ci.seqs[i], score: float64(dot(v, qn))}
			if len(h) < limit {
				heap.Push(&h, cand)
			} else if better(cand, h[0]) {
				h[0] = cand
				heap.Fix(&h, 0)
			}
		}
	}
	out := make([]hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(hit)
	}
	return out
}

// dot returns the dot product of two equally long vectors.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

func better(a, b hit) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.seq < b.seq
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

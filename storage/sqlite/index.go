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
)

// collectionIndex is the in-memory index of one collection: every chunk in the full-text
// index, chunks with an embedding in the vector index.
type collectionIndex struct {
	text  *textIndex
	vec   *vectors
	byDoc map[string][]string // doc id -> chunk ids
}

func newCollectionIndex() *collectionIndex {
	return &collectionIndex{text: newTextIndex(), vec: newVectors(), byDoc: map[string][]string{}}
}

// add indexes a chunk (its title is e.meta's); v may be nil.
func (ci *collectionIndex) add(e entry, v []float32) {
	ci.text.set(e, e.meta.title)
	if v != nil {
		ci.vec.set(e, v)
	}
	ci.byDoc[e.docID] = append(ci.byDoc[e.docID], e.id)
}

// removeDoc drops a document's chunks.
func (ci *collectionIndex) removeDoc(docID string) {
	for _, id := range ci.byDoc[docID] {
		ci.text.remove(id)
		ci.vec.remove(id)
	}
	delete(ci.byDoc, docID)
}

// knowledgeIndex answers full-text and vector searches from memory. Open starts loading
// every collection in the background (a search needing one first waits for it), a new
// collection starts empty, and every knowledge write updates the index after it committed
// and under Store.kmu, so updates apply in commit order. Updates are
// idempotent "set to" operations, so one racing with a load converges.
type knowledgeIndex struct {
	s           *Store
	mu          sync.RWMutex
	collections map[string]*collectionIndex // loaded collections
	docs        map[string]*docMeta         // docs of loaded collections
}

func newKnowledgeIndex(s *Store) *knowledgeIndex {
	return &knowledgeIndex{s: s, collections: map[string]*collectionIndex{}, docs: map[string]*docMeta{}}
}

// load reads the collection from the database when it is not loaded yet.
func (x *knowledgeIndex) load(ctx context.Context, collection string) error {
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
	rows, err = x.s.r.QueryContext(ctx, `SELECT seq, id, document_id, ordinal, heading, text, embedding FROM chunks WHERE collection = ? ORDER BY seq`, collection)
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
		var vec []float32
		if blob != nil {
			v = slices.Grow(v[:0], len(blob)/4)[:len(blob)/4]
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
			}
			vec = v
		}
		ci.add(e, vec)
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

// created records a collection that has just been created: empty, so it is loaded.
func (x *knowledgeIndex) created(collection string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.collections[collection] == nil {
		x.collections[collection] = newCollectionIndex()
	}
}

// warm loads every collection, so the first searches after Open do not wait for it.
func (x *knowledgeIndex) warm(ctx context.Context) error {
	cs, err := x.s.ListCollections(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := x.load(ctx, c.Name); err != nil {
			return fmt.Errorf("load collection %s: %w", c.Name, err)
		}
	}
	return nil
}

// removeDocLocked drops a document's chunks from whichever loaded collection holds them.
func (x *knowledgeIndex) removeDocLocked(docID string) {
	m, ok := x.docs[docID]
	if !ok {
		return
	}
	if ci := x.collections[m.collection]; ci != nil {
		ci.removeDoc(docID)
	}
	delete(x.docs, docID)
}

// putDoc sets a document and its chunks (with their database seq numbers).
func (x *knowledgeIndex) putDoc(d *tandem.Document, chunks []tandem.Chunk, seqs []int64) {
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
		ci.add(entry{id: c.ID, docID: d.ID, seq: seqs[i], ordinal: c.Ordinal, heading: c.Heading, text: c.Text, meta: m}, c.Embedding)
	}
}

func (x *knowledgeIndex) deleteDoc(docID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeDocLocked(docID)
}

func (x *knowledgeIndex) setStatus(docID string, status tandem.DocumentStatus) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if m := x.docs[docID]; m != nil {
		m.status = status
	}
}

// setEmbedding replaces one chunk's vector; e identifies the chunk (and describes it when it
// had none).
func (x *knowledgeIndex) setEmbedding(collection string, e entry, v []float32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ci := x.collections[collection]
	m := x.docs[e.docID]
	if ci == nil || m == nil {
		return
	}
	e.meta = m
	if v == nil {
		ci.vec.remove(e.id)
		return
	}
	ci.vec.set(e, v)
}

package sqlite

import (
	"math"
	"slices"
	"sync"
)

// Full-text search runs on an in-memory inverted index per collection, kept beside the
// vector index and updated by the same knowledge writes. It scores like the FTS5 table it
// replaced, bm25(chunks_fts, 3.0, 2.0, 1.0): a term's frequency in a chunk counts title
// tokens three times and heading tokens twice, a chunk's length is its number of tokens,
// and the statistics (chunks, average length, chunks holding a term) are those of the
// collections searched.

// Column weights and BM25 parameters of SearchText (FTS5's defaults).
const (
	weightTitle   = 3
	weightHeading = 2
	weightText    = 1
	bm25K1        = 1.2
	bm25B         = 0.75
)

// posting is one chunk holding a term.
type posting struct {
	slot uint32  // the chunk's slot in textIndex.chunks
	tf   float32 // weighted frequency of the term in the chunk
}

// termRef points from a chunk to its posting in a term's list, so removing a chunk touches
// only its own terms.
type termRef struct {
	term uint32 // index in textIndex.terms
	pos  uint32 // index in that term's postings
}

// textChunk is one indexed chunk.
type textChunk struct {
	entry
	refs []termRef // sorted by term
}

// termPostings is one term of the dictionary.
type termPostings struct {
	term string
	list []posting
}

// textIndex is the inverted index of one collection. Removals swap the last element into
// the hole (chunks and postings alike), so every slice stays dense.
type textIndex struct {
	chunks    []textChunk
	lens      []int32 // tokens per chunk, by slot (scoring reads it for every posting)
	slotOf    map[string]uint32
	termOf    map[string]uint32
	terms     []termPostings
	freeTerms []uint32
	tokens    int64 // sum of lens
}

func newTextIndex() *textIndex {
	return &textIndex{slotOf: map[string]uint32{}, termOf: map[string]uint32{}}
}

// termCounter accumulates a chunk's weighted term frequencies while it is tokenised.
type termCounter struct {
	tf    map[uint32]float32
	count int32
}

var counterPool = sync.Pool{New: func() any { return &termCounter{tf: map[uint32]float32{}} }}

// set adds or replaces a chunk; title is its document's title.
func (t *textIndex) set(e entry, title string) {
	t.remove(e.id)
	c := counterPool.Get().(*termCounter)
	defer counterPool.Put(c)
	clear(c.tf)
	c.count = 0
	for _, f := range [...]struct {
		text string
		w    float32
	}{{title, weightTitle}, {e.heading, weightHeading}, {e.text, weightText}} {
		tokenize(f.text, func(tok []byte) {
			c.tf[t.termID(tok)] += f.w
			c.count++
		})
	}
	slot := uint32(len(t.chunks))
	refs := make([]termRef, 0, len(c.tf))
	for term, tf := range c.tf {
		p := &t.terms[term]
		refs = append(refs, termRef{term: term, pos: uint32(len(p.list))})
		p.list = append(p.list, posting{slot: slot, tf: tf})
	}
	slices.SortFunc(refs, func(a, b termRef) int { return int(a.term) - int(b.term) })
	t.chunks = append(t.chunks, textChunk{entry: e, refs: refs})
	t.lens = append(t.lens, c.count)
	t.slotOf[e.id] = slot
	t.tokens += int64(c.count)
}

// termID returns the dictionary index of tok, adding it when new.
func (t *textIndex) termID(tok []byte) uint32 {
	if id, ok := t.termOf[string(tok)]; ok {
		return id
	}
	term := string(tok)
	var id uint32
	if n := len(t.freeTerms); n > 0 {
		id = t.freeTerms[n-1]
		t.freeTerms = t.freeTerms[:n-1]
		t.terms[id] = termPostings{term: term}
	} else {
		id = uint32(len(t.terms))
		t.terms = append(t.terms, termPostings{term: term})
	}
	t.termOf[term] = id
	return id
}

// remove drops a chunk, if indexed.
func (t *textIndex) remove(id string) {
	slot, ok := t.slotOf[id]
	if !ok {
		return
	}
	c := &t.chunks[slot]
	for _, r := range c.refs {
		p := &t.terms[r.term]
		last := uint32(len(p.list) - 1)
		if r.pos != last {
			moved := p.list[last]
			p.list[r.pos] = moved
			t.chunks[moved.slot].refTo(r.term).pos = r.pos
		}
		p.list = p.list[:last]
		if last == 0 {
			delete(t.termOf, p.term)
			*p = termPostings{}
			t.freeTerms = append(t.freeTerms, r.term)
		}
	}
	t.tokens -= int64(t.lens[slot])
	delete(t.slotOf, id)
	last := uint32(len(t.chunks) - 1)
	if slot != last {
		t.chunks[slot] = t.chunks[last]
		t.lens[slot] = t.lens[last]
		moved := &t.chunks[slot]
		for _, r := range moved.refs {
			t.terms[r.term].list[r.pos].slot = slot
		}
		t.slotOf[moved.id] = slot
	}
	t.chunks[last] = textChunk{}
	t.chunks, t.lens = t.chunks[:last], t.lens[:last]
}

// refTo returns the chunk's reference to term (which it must hold).
func (c *textChunk) refTo(term uint32) *termRef {
	i, _ := slices.BinarySearchFunc(c.refs, term, func(r termRef, t uint32) int { return int(r.term) - int(t) })
	return &c.refs[i]
}

// postings returns the chunks holding the normalised term tok.
func (t *textIndex) postings(tok string) []posting {
	if id, ok := t.termOf[tok]; ok {
		return t.terms[id].list
	}
	return nil
}

// bm25IDF is FTS5's inverse document frequency: never below a small positive number, so a
// term in most chunks still counts a little.
func bm25IDF(rows, hits float64) float64 {
	idf := math.Log((rows - hits + 0.5) / (hits + 0.5))
	if idf <= 0 {
		return 1e-6
	}
	return idf
}

// scoreBuf holds a search's per-slot scores; only touched slots are non-zero.
type scoreBuf struct {
	score   []float64
	touched []uint32
}

var scorePool = sync.Pool{New: func() any { return &scoreBuf{} }}

// searchText ranks the chunks of the given collections holding any of the normalised
// query terms by BM25 (FTS5's formula and tie order: score, then seq). Each term counts
// once per occurrence in terms, as each quoted phrase of an FTS5 OR query did.
func (x *knowledgeIndex) searchText(terms []string, collections []string, match func(*docMeta) bool, limit int) []hit {
	if len(terms) == 0 || limit <= 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var texts []*textIndex
	var rows, tokens float64
	for _, name := range collections {
		if ci := x.collections[name]; ci != nil && !slices.Contains(texts, ci.text) {
			texts = append(texts, ci.text)
			rows += float64(len(ci.text.chunks))
			tokens += float64(ci.text.tokens)
		}
	}
	if rows == 0 {
		return nil
	}
	avgdl := tokens / rows
	idf := make([]float64, len(terms))
	for i, term := range terms {
		var hits int
		for _, t := range texts {
			hits += len(t.postings(term))
		}
		idf[i] = bm25IDF(rows, float64(hits))
	}
	top := topK{k: limit, h: make([]cand, 0, limit)}
	buf := scorePool.Get().(*scoreBuf)
	defer scorePool.Put(buf)
	for _, t := range texts {
		if cap(buf.score) < len(t.chunks) {
			buf.score = make([]float64, len(t.chunks))
		}
		score := buf.score[:len(t.chunks)]
		touched := buf.touched[:0]
		for i, term := range terms {
			for _, p := range t.postings(term) {
				if score[p.slot] == 0 {
					touched = append(touched, p.slot)
				}
				d := float64(t.lens[p.slot])
				tf := float64(p.tf)
				score[p.slot] += idf[i] * ((tf * (bm25K1 + 1.0)) / (tf + bm25K1*(1-bm25B+bm25B*d/avgdl)))
			}
		}
		for _, slot := range touched {
			if v := score[slot]; !top.below(v) {
				if e := &t.chunks[slot].entry; top.admits(v, e.seq) && match(e.meta) {
					top.push(cand{score: v, seq: e.seq, e: e})
				}
			}
			score[slot] = 0
		}
		buf.touched = touched
	}
	return top.sorted()
}

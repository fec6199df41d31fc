package retrieval

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval/embed"
)

// BM25 parameters of the lexical ranking.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
	// bm25TitleWeight counts title words this many times (measured: 1 beats 2 and 3 on
	// StackFAQ once the vector side already weighs titles).
	bm25TitleWeight = 1
)

// lexicalRank ranks the store's full-text hits by BM25
// over the offline embedder's word features and the collection's learned document
// frequencies. The stores only generate candidates, so the full-text signal is the same on
// SQLite (in-memory index) and PostgreSQL (tsvector). It returns ok=false when a collection uses
// another embedder; the store's own full-text order is used then.
func (kb *KnowledgeBase) lexicalRank(ctx context.Context, query string, cands []tandem.ScoredChunk) ([]tandem.ScoredChunk, bool) {
	// The query's features and their IDF are looked up once per collection (searches
	// mostly span one), not once per candidate.
	type queryTerm struct {
		f   uint64
		idf float64
	}
	type collectionQuery struct {
		name  string
		h     *embed.Hashing
		terms []queryTerm
	}
	type scored struct {
		i     int // into cands
		q     *collectionQuery
		terms map[uint64]float64
		n     float64
	}
	var queries []*collectionQuery
	queryFor := func(collection string) (*collectionQuery, bool) {
		for _, q := range queries {
			if q.name == collection {
				return q, true
			}
		}
		emb, err := kb.embedderFor(ctx, collection)
		if err != nil {
			return nil, false
		}
		h, ok := emb.(*embed.Hashing)
		if !ok {
			return nil, false
		}
		q := &collectionQuery{name: collection, h: h}
		for f := range h.Terms(query) {
			q.terms = append(q.terms, queryTerm{f, h.TermIDF(f)})
		}
		// A fixed order keeps the float sums, and so the ranking, the same run after run.
		slices.SortFunc(q.terms, func(a, b queryTerm) int { return cmp.Compare(a.f, b.f) })
		queries = append(queries, q)
		return q, true
	}
	seen := make(map[string]bool, len(cands))
	docs := make([]scored, 0, len(cands))
	var total float64
	for i, c := range cands {
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		q, ok := queryFor(c.Collection)
		if !ok {
			return nil, false
		}
		terms, n := kb.terms.get(q.h, c)
		total += n
		docs = append(docs, scored{i: i, q: q, terms: terms, n: n})
	}
	if len(docs) == 0 {
		return nil, true
	}
	avg := max(total/float64(len(docs)), 1)
	type hit struct {
		i     int
		score float64
	}
	hits := make([]hit, 0, len(docs))
	for _, d := range docs {
		var s float64
		for _, t := range d.q.terms {
			if tf := d.terms[t.f]; tf != 0 {
				s += t.idf * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*d.n/avg))
			}
		}
		if s > 0 {
			hits = append(hits, hit{d.i, s})
		}
	}
	// Ties keep the store's order; sorting small records, not whole chunks.
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(b.score, a.score) })
	out := make([]tandem.ScoredChunk, len(hits))
	for k, h := range hits {
		out[k] = cands[h.i]
		out[k].Score = h.score
	}
	return out, true
}

// termCacheSize bounds the chunks whose word features termCache keeps (a few MB).
const termCacheSize = 4096

// termCache keeps the word features of full-text candidates: the same popular chunks come
// back query after query, and tokenising the ~50 candidates of every search was the
// costliest step of a knowledge turn. Entries are checked against the chunk's text, so an
// edited chunk is never scored with stale features.
type termCache struct {
	mu sync.Mutex
	m  map[termKey]termEntry
}

type termKey struct {
	h  *embed.Hashing
	id string
}

type termEntry struct {
	title, heading, text string
	terms                map[uint64]float64 // read-only once cached
	n                    float64            // sum of terms
}

// get returns the chunk's word features (title words weighted by bm25TitleWeight) and their
// total; callers must not modify the map.
func (tc *termCache) get(h *embed.Hashing, c tandem.ScoredChunk) (map[uint64]float64, float64) {
	k := termKey{h, c.ID}
	tc.mu.Lock()
	e, ok := tc.m[k]
	tc.mu.Unlock()
	if ok && e.title == c.DocumentTitle && e.heading == c.Heading && e.text == c.Text {
		return e.terms, e.n
	}
	terms := h.Terms(c.Heading + "\n" + c.Text)
	for f, n := range h.Terms(c.DocumentTitle) {
		terms[f] += bm25TitleWeight * n
	}
	var n float64
	for _, v := range terms {
		n += v
	}
	tc.mu.Lock()
	if tc.m == nil || len(tc.m) >= termCacheSize {
		tc.m = make(map[termKey]termEntry, termCacheSize)
	}
	tc.m[k] = termEntry{title: c.DocumentTitle, heading: c.Heading, text: c.Text, terms: terms, n: n}
	tc.mu.Unlock()
	return terms, n
}

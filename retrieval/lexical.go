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
	type scored struct {
		c     tandem.ScoredChunk
		terms map[uint64]float64
		n     float64
	}
	hashers := map[string]*embed.Hashing{}
	queries := map[string]map[uint64]float64{}
	seen := make(map[string]bool, len(cands))
	var docs []scored
	var total float64
	for _, c := range cands {
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		h, ok := hashers[c.Collection]
		if !ok {
			emb, err := kb.embedderFor(ctx, c.Collection)
			if err != nil {
				return nil, false
			}
			if h, ok = emb.(*embed.Hashing); !ok {
				return nil, false
			}
			hashers[c.Collection] = h
			queries[c.Collection] = h.Terms(query)
		}
		terms, n := kb.terms.get(h, c)
		total += n
		docs = append(docs, scored{c: c, terms: terms, n: n})
	}
	if len(docs) == 0 {
		return nil, true
	}
	avg := total / float64(len(docs))
	out := make([]tandem.ScoredChunk, 0, len(docs))
	for _, d := range docs {
		h := hashers[d.c.Collection]
		var s float64
		for f := range queries[d.c.Collection] {
			tf := d.terms[f]
			if tf == 0 {
				continue
			}
			s += h.TermIDF(f) * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*d.n/max(avg, 1)))
		}
		if s > 0 {
			d.c.Score = s
			out = append(out, d.c)
		}
	}
	slices.SortStableFunc(out, func(a, b tandem.ScoredChunk) int { return cmp.Compare(b.Score, a.Score) })
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

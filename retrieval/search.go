package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Search returns the passages that best match query, best first, fusing full-text and
// vector rankings. f selects collections, tags, language and status; f.Limit (default 10)
// bounds the result. Query expansion with the glossary applies when one is configured.
func (kb *KnowledgeBase) Search(ctx context.Context, query string, f storage.SearchFilter) ([]Passage, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 10
	}
	collections := f.Collections
	if len(collections) == 0 {
		cs, err := kb.store.ListCollections(ctx)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		for _, c := range cs {
			collections = append(collections, c.Name)
		}
	}
	if len(collections) == 0 {
		return nil, nil
	}
	expanded := kb.expand(query, collections)
	cand := max(kb.fusion.Candidates, limit)

	// The query vectors come first: full text needs them to score its candidates (below).
	vecs := make(map[string][]float32, len(collections))
	for _, c := range collections {
		emb, err := kb.embedderFor(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		if vecs[c], err = emb.EmbedQuery(ctx, expanded); err != nil {
			return nil, fmt.Errorf("search: embed query: %w", err)
		}
	}

	// Full text runs next to the vector searches: on PostgreSQL each is a round trip.
	type textResult struct {
		hits []tandem.ScoredChunk
		sims map[string]float64 // exact similarities of hits, when the store scores them
	}
	textDone := make(chan textResult, 1)
	go func() {
		var r textResult
		if tq := textQuery(expanded); kb.fusion.TextWeight > 0 && tq != "" {
			tf := f
			tf.Collections, tf.Limit = collections, cand
			hits, err := kb.store.SearchText(ctx, tq, tf)
			if err != nil {
				// Full text only helps; a query the engine cannot parse must not fail the search.
				kb.logger.WarnContext(ctx, "full-text search failed", "err", err)
			}
			r.hits = hits
			if kb.lexical {
				if ranked, ok := kb.lexicalRank(ctx, expanded, r.hits); ok {
					r.hits = ranked
				}
			}
			r.sims = kb.scoreChunks(ctx, r.hits, vecs)
		}
		textDone <- r
	}()
	var vector []tandem.ScoredChunk
	for _, c := range collections {
		vf := f
		vf.Collections, vf.Limit = []string{c}, cand
		hits, err := kb.store.SearchVector(ctx, vecs[c], vf)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		vector = append(vector, hits...)
	}
	if len(collections) > 1 {
		slices.SortStableFunc(vector, func(a, b tandem.ScoredChunk) int { return cmp.Compare(b.Score, a.Score) })
		vector = vector[:min(len(vector), cand)]
	}
	tr := <-textDone
	text := tr.hits
	vector = admitMissed(vector, text, tr.sims, cand)
	out := kb.fusion.fuse(vector, text)
	out = out[:min(len(out), limit)]
	// Passages found by full text only get their similarity computed, so confidence means
	// the same whichever side found them.
	for i := range out {
		if out[i].VectorRank != 0 {
			continue
		}
		emb, err := kb.embedderFor(ctx, out[i].Collection)
		if err != nil {
			return nil, err
		}
		dv, err := emb.EmbedDocuments(ctx, []string{embedText(out[i].Title, out[i].Heading, out[i].Text)})
		if err != nil || len(dv) != 1 {
			continue
		}
		out[i].Similarity = cosine(vecs[out[i].Collection], dv[0])
	}
	return out, nil
}

// chunkScorer is a store whose vector search is approximate (storage/postgres, an HNSW
// index) and that scores given chunks exactly. Stores that search exactly (storage/sqlite)
// need not implement it: admitMissed would change nothing for them.
type chunkScorer interface {
	// ScoreChunks returns the cosine similarity of vec to each of the chunks ids of
	// dimension len(vec), the same figure SearchVector's Score is.
	ScoreChunks(ctx context.Context, vec []float32, ids []string) (map[string]float64, error)
}

// scoreChunks returns the exact similarity of the full-text hits to the query vector of
// their collection, when the store's vector search is approximate (see admitMissed); nil
// otherwise. On PostgreSQL it is one round trip a collection, made while the vector
// search runs.
func (kb *KnowledgeBase) scoreChunks(ctx context.Context, hits []tandem.ScoredChunk, vecs map[string][]float32) map[string]float64 {
	sc, ok := kb.store.(chunkScorer)
	if !ok || len(hits) == 0 {
		return nil
	}
	ids := map[string][]string{} // by collection, whose query vectors differ
	for _, h := range hits {
		ids[h.Collection] = append(ids[h.Collection], h.ID)
	}
	sims := make(map[string]float64, len(hits))
	for c, ids := range ids {
		got, err := sc.ScoreChunks(ctx, vecs[c], ids)
		if err != nil {
			// Like full text itself, this only helps.
			kb.logger.WarnContext(ctx, "scoring full-text hits failed", "err", err)
			return nil
		}
		maps.Copy(sims, got)
	}
	return sims
}

// admitMissed gives the vector ranking (best first, at most cand) the full-text hits an
// approximate vector search missed: each hit whose exact similarity (sims) beats the
// last vector hit, or any while there are fewer than cand, takes its place by similarity.
// An HNSW graph can leave a few chunks unlike the rest of the collection (the demo's
// articles among 10,000 synthetic FAQs) out of every search, at any ef_search; an exact
// search would have ranked them, so with this both kinds of store put the same chunks
// first. After an exact search no hit qualifies.
func admitMissed(vector, text []tandem.ScoredChunk, sims map[string]float64, cand int) []tandem.ScoredChunk {
	if len(sims) == 0 {
		return vector
	}
	floor := math.Inf(-1)
	if len(vector) >= cand {
		floor = vector[len(vector)-1].Score
	}
	found := make(map[string]bool, len(vector))
	for _, c := range vector {
		found[c.ID] = true
	}
	added := false
	for _, c := range text {
		sim, ok := sims[c.ID]
		if !ok || found[c.ID] || sim <= floor {
			continue
		}
		found[c.ID] = true
		c.Score = sim
		vector = append(vector, c)
		added = true
	}
	if !added {
		return vector
	}
	// Ties in the order SearchVector breaks them.
	slices.SortStableFunc(vector, func(a, b tandem.ScoredChunk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
	return vector[:min(len(vector), cand)]
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / (sqrt(na) * sqrt(nb))
}

// textQuery keeps the words of query that can discriminate documents for full-text
// search: stop words match nearly every chunk, cost time (both stores OR the terms) and
// add nothing the vector side lacks.
func textQuery(query string) string {
	var keep []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '\'')
	}) {
		w = strings.Trim(w, "'")
		if len(w) < 2 && !isCJKRune([]rune(w + " ")[0]) || stopwords[w] || seen[w] {
			continue
		}
		seen[w] = true
		keep = append(keep, w)
	}
	return strings.Join(keep, " ")
}

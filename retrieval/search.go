package retrieval

import (
	"cmp"
	"context"
	"fmt"
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

	// Full text runs next to the vector searches: on PostgreSQL each is a round trip.
	textDone := make(chan []tandem.ScoredChunk, 1)
	go func() {
		var text []tandem.ScoredChunk
		if tq := textQuery(expanded); kb.fusion.TextWeight > 0 && tq != "" {
			tf := f
			tf.Collections, tf.Limit = collections, cand
			hits, err := kb.store.SearchText(ctx, tq, tf)
			if err != nil {
				// Full text only helps; a query the engine cannot parse must not fail the search.
				kb.logger.WarnContext(ctx, "full-text search failed", "err", err)
			}
			text = hits
			if kb.lexical {
				if ranked, ok := kb.lexicalRank(ctx, expanded, text); ok {
					text = ranked
				}
			}
		}
		textDone <- text
	}()
	var vector []tandem.ScoredChunk
	vecs := make(map[string][]float32, len(collections))
	for _, c := range collections {
		emb, err := kb.embedderFor(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		qv, err := emb.EmbedQuery(ctx, expanded)
		if err != nil {
			return nil, fmt.Errorf("search: embed query: %w", err)
		}
		vecs[c] = qv
		vf := f
		vf.Collections, vf.Limit = []string{c}, cand
		hits, err := kb.store.SearchVector(ctx, qv, vf)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		vector = append(vector, hits...)
	}
	if len(collections) > 1 {
		slices.SortStableFunc(vector, func(a, b tandem.ScoredChunk) int { return cmp.Compare(b.Score, a.Score) })
		vector = vector[:min(len(vector), cand)]
	}
	text := <-textDone
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

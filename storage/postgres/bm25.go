package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Full-text candidates are ranked by BM25 with the parameters of SQLite's FTS5 bm25()
// (k1 1.2, b 0.75; title counted 3 times, heading twice, text once; frequencies over all
// chunks), so both stores hand the knowledge base the same candidates: ts_rank_cd has no
// inverse document frequency and let common words crowd out the rare ones that identify
// the answer (StackFAQ dev recall@5 0.920 with it, 0.932 with BM25 as on SQLite).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
	// textStatsTTL bounds how stale the corpus statistics may be when another replica
	// writes; this process's own writes refresh them at once.
	textStatsTTL = 30 * time.Second
	// maxCachedLexemes bounds the document frequencies kept (a few MB at most).
	maxCachedLexemes = 50000
)

// textStats caches what BM25 needs besides the chunk itself: the number of chunks, their
// average length (distinct lexemes) and the number of chunks holding each lexeme.
type textStats struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every knowledge write that changes chunks
	loaded  uint64 // gen the statistics were read at
	at      time.Time
	total   float64
	avgLen  float64
	df      map[string]float64
	lexemes map[string][]string // query term → its lexemes (English stemming; stable)
}

// changed marks the statistics stale after a write that added or removed chunks.
func (ts *textStats) changed() {
	ts.mu.Lock()
	ts.gen++
	ts.mu.Unlock()
}

// weights returns the lexemes of terms with their BM25 inverse document frequencies, and
// the average chunk length.
func (s *Store) bm25Weights(ctx context.Context, terms []string) (lexemes []string, idf []float64, avgLen float64, err error) {
	ts := &s.text
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.lexemes == nil || len(ts.lexemes) > maxCachedLexemes {
		ts.lexemes = map[string][]string{}
	}
	var missing []string
	for _, t := range terms {
		if _, ok := ts.lexemes[t]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		rows, err := s.pool.Query(ctx, `SELECT t, array(SELECT lexeme FROM unnest(to_tsvector('english', t))) FROM unnest($1::text[]) t`, missing)
		if err != nil {
			return nil, nil, 0, err
		}
		var t string
		var lex []string
		if _, err := pgx.ForEachRow(rows, []any{&t, &lex}, func() error {
			ts.lexemes[t] = lex
			return nil
		}); err != nil {
			return nil, nil, 0, err
		}
	}
	seen := map[string]bool{}
	for _, t := range terms {
		for _, l := range ts.lexemes[t] {
			if !seen[l] {
				seen[l] = true
				lexemes = append(lexemes, l)
			}
		}
	}
	if len(lexemes) == 0 {
		return nil, nil, 0, nil
	}
	if ts.df == nil || ts.loaded != ts.gen || time.Since(ts.at) > textStatsTTL || len(ts.df) > maxCachedLexemes {
		if err := s.pool.QueryRow(ctx, `SELECT count(*)::float8, coalesce(avg(length(tsv)), 0)::float8 FROM chunks`).Scan(&ts.total, &ts.avgLen); err != nil {
			return nil, nil, 0, err
		}
		ts.df, ts.loaded, ts.at = map[string]float64{}, ts.gen, time.Now()
	}
	missing = missing[:0]
	for _, l := range lexemes {
		if _, ok := ts.df[l]; !ok {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		rows, err := s.pool.Query(ctx, `SELECT l, (SELECT count(*) FROM chunks WHERE tsv @@ quote_literal(l)::tsquery)::float8 FROM unnest($1::text[]) l`, missing)
		if err != nil {
			return nil, nil, 0, err
		}
		var l string
		var n float64
		if _, err := pgx.ForEachRow(rows, []any{&l, &n}, func() error {
			ts.df[l] = n
			return nil
		}); err != nil {
			return nil, nil, 0, err
		}
	}
	idf = make([]float64, len(lexemes))
	for i, l := range lexemes {
		n := ts.df[l]
		// FTS5's IDF, floored so a word in most chunks still counts a little.
		idf[i] = max(math.Log((ts.total-n+0.5)/(n+0.5)), 1e-6)
	}
	return lexemes, idf, max(ts.avgLen, 1), nil
}

// SearchText ranks chunks holding any of the query's words by BM25 (see bm25K1). The
// tsquery is built from extracted words only, so user input is never parsed as tsquery
// syntax.
func (s *Store) SearchText(ctx context.Context, query string, f storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	terms := storage.QueryTerms(query)
	if len(terms) == 0 {
		return []tandem.ScoredChunk{}, nil
	}
	lexemes, idf, avgLen, err := s.bm25Weights(ctx, terms)
	if err != nil {
		return nil, translate("search text", err)
	}
	if len(lexemes) == 0 { // only stop words
		return []tandem.ScoredChunk{}, nil
	}
	where, args := searchWhere(f, []any{lexemes, idf, avgLen, lexemeQuery(lexemes)})
	args = append(args, searchLimit(f))
	// Title lexemes carry weight A, heading B, text D (see PutDocument), so the weighted
	// term frequency is tf(all) + 2 tf(A) + tf(B).
	q := fmt.Sprintf(`WITH q AS MATERIALIZED (SELECT l.idf, quote_literal(l.lexeme)::tsquery AS tq FROM unnest($1::text[], $2::float8[]) AS l(lexeme, idf))
		SELECT c.id, c.document_id, c.collection, c.ordinal, c.heading, c.text, d.title, d.url,
			(SELECT sum(q.idf * w.tf * %[1]g / (w.tf + %[2]g * (%[3]g + %[4]g * length(c.tsv) / $3::float8)))
			FROM q CROSS JOIN LATERAL (SELECT %[5]s + 2 * %[6]s + %[7]s AS tf) w)::float8 AS score
		FROM chunks c JOIN documents d ON d.id = c.document_id
		CROSS JOIN LATERAL (SELECT ts_filter(c.tsv, '{a}') AS a, ts_filter(c.tsv, '{b}') AS b) f
		WHERE c.tsv @@ $4::tsquery`, bm25K1+1, bm25K1, 1-bm25B, bm25B, termFrequency("c.tsv"), termFrequency("f.a"), termFrequency("f.b")) +
		where + fmt.Sprintf(` ORDER BY score DESC, c.seq LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("search text", err)
	}
	out, err := collect(rows, scanHit)
	return out, translate("search text", err)
}

// lexemeQuery returns a tsquery that ORs the given lexemes, each quoted so it is taken
// literally (no operator, prefix or weight syntax, no further stemming).
func lexemeQuery(lexemes []string) string {
	quoted := make([]string, len(lexemes))
	for i, l := range lexemes {
		quoted[i] = "'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(l) + "'"
	}
	return strings.Join(quoted, " | ")
}

// termFrequency returns SQL for how often the lexeme of the one-term query q.tq occurs in
// the tsvector expression vec. Unnesting every candidate's tsvector to count positions
// cost 30-50 µs a row; ts_rank with all weights 1 is sum(1/i², i = 1..tf) / (π²/6) for
// one term, which this inverts exactly (tsvectors keep at most 255 positions a lexeme)
// in ~1 µs.
func termFrequency(vec string) string {
	return fmt.Sprintf(`round(1 / (1.6449341 * (1 - ts_rank('{1,1,1,1}', %s, q.tq, 0))) - 0.5)`, vec)
}

package postgres

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.NewSchema(t), Config{Migrate: true, Logger: slog.New(slog.DiscardHandler), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSearchVectorUsesHNSW checks a search of one collection matches the collection's
// partial HNSW index once built (with sequential scans disabled, the plan must name it; for
// a second, oddly named collection of these few rows the planner may prefer an exact scan,
// so its index predicate is checked instead), and finds its chunks.
func TestSearchVectorUsesHNSW(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	for _, coll := range []string{"kb", `it's "odd" \ 'named'`} {
		if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: coll, Dimension: 3}); err != nil {
			t.Fatal(err)
		}
		d := &tandem.Document{Collection: coll, Title: "T", ContentHash: "h", Status: tandem.DocumentPublished}
		if _, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "a", Embedding: []float32{1, 0, 0}}, {Text: "b", Embedding: []float32{0, 1, 0}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.BuildVectorIndex(ctx, coll); err != nil {
			t.Fatal(err)
		}
		index := vectorIndexPrefix(coll) + "3"
		var def string
		if err := s.pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, index).Scan(&def); err != nil {
			t.Fatal(err)
		}
		if want := "(collection = '" + strings.ReplaceAll(coll, "'", "''") + "'::text)"; !strings.Contains(def, want) {
			t.Errorf("index %s = %s, want the predicate %s", index, def, want)
		}
		tests := []struct {
			name string
			f    storage.SearchFilter
		}{
			{"OK", storage.SearchFilter{Collections: []string{coll}}},
			{"Limit", storage.SearchFilter{Collections: []string{coll}, Limit: 50}},
			{"Published", storage.SearchFilter{Collections: []string{coll}, Status: tandem.DocumentPublished}},
		}
		for _, tt := range tests {
			q, args := vectorQuery([]float32{1, 0, 0}, tt.f)
			var plan []string
			err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
					return err
				}
				rows, err := tx.Query(ctx, `EXPLAIN `+q, args...)
				if err != nil {
					return err
				}
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(plan, "\n"); coll == "kb" && !strings.Contains(got, index) {
				t.Errorf("%q %s: plan does not use %s:\n%s", coll, tt.name, index, got)
			}
			hits, err := s.SearchVector(ctx, []float32{1, 0, 0}, tt.f)
			if err != nil || len(hits) != 2 || hits[0].Text != "a" || hits[0].Collection != coll {
				t.Errorf("%q %s: hits = %+v, %v", coll, tt.name, hits, err)
			}
		}
	}
}

func TestLexemeQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"OK", []string{"refund", "get"}, "'refund' | 'get'"},
		{"Quotes", []string{`it's`, `a\b`}, `'it''s' | 'a\\b'`},
		{"Operators", []string{"a:*", "!b"}, "'a:*' | '!b'"},
	}
	for _, tt := range tests {
		if got := lexemeQuery(tt.in); got != tt.want {
			t.Errorf("%s: lexemeQuery(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// FuzzSearchText checks that no input makes a full-text query fail.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"refund", "a & b", "x:*", "!(a|b)", "'quoted'", "返金", "\xff\x00", "a <-> b", "don't", `a\b`} {
		f.Add(s)
	}
	s := openTemp(f)
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := s.SearchText(context.Background(), q, storage.SearchFilter{}); err != nil {
			t.Fatalf("SearchText(%q): %v", q, err)
		}
	})
}

// TestTermFrequency checks the ts_rank inversion counts every occurrence, up to the 255
// positions a tsvector keeps per lexeme.
func TestTermFrequency(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	for _, n := range []int{0, 1, 2, 3, 7, 50, 254, 255} {
		words := strings.Repeat("refund ", n) + "shipping"
		var got int
		err := s.pool.QueryRow(context.Background(), `WITH q AS (SELECT 'refund'::tsquery AS tq)
			SELECT `+termFrequency("to_tsvector('english', $1)")+` FROM q`, words).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("tf of %d occurrences = %d", n, got)
		}
	}
}

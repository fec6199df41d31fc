package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/embed"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/postgres"

	"github.com/tandemhq/tandem/storage/storagetest"
)

// BenchmarkTurn measures one engine turn's store work (see storagetest.BenchTurn).
func BenchmarkTurn(b *testing.B) {
	for _, bc := range []struct {
		name        string
		parallelism int
		cfg         postgres.Config
	}{
		{"Serial", 0, postgres.Config{}},
		{"Parallel", 16, postgres.Config{MaxConns: 32}},
		{"ParallelAsyncCommit", 16, postgres.Config{MaxConns: 32, SynchronousCommit: "off"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := bc.cfg
			cfg.Migrate, cfg.Logger = true, quiet
			s, err := postgres.Open(context.Background(), pgtest.NewSchema(b), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storagetest.BenchTurn(b, s, 1000, bc.parallelism)
		})
	}
}

// searchQueries are support questions as the knowledge base sends them to each side of a
// hybrid search: the vector side embeds the whole question, full text gets its content words.
var searchQueries = []struct{ question, words string }{
	{"How long does shipping take?", "long shipping take"},
	{"what payment methods do you accept", "payment methods accept"},
	{"How do I reset my password?", "reset password"},
	{"can I return shoes that don't fit", "return shoes fit"},
	{"do you ship to Canada?", "ship canada"},
	{"refund for a damaged parcel", "refund damaged parcel"},
	{"tracking number for international express delivery", "tracking number international express delivery"},
}

// BenchmarkSearch10k measures each side of a knowledge search over the 10,000 synthetic FAQ
// chunks `tandem bench turns` uses, embedded by the offline embedder (1,536 dimensions),
// with the published-only filter answers use. p95_ms is the figure to read. Ingesting
// takes a few minutes (every chunk goes into the HNSW index).
func BenchmarkSearch10k(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.NewSchema(b), postgres.Config{Migrate: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	kb := retrieval.New(s, nil)
	if _, err := kb.Ingest(ctx, "kb", retrieval.SyntheticSources(10000), nil); err != nil {
		b.Fatal(err)
	}
	time.Sleep(5 * time.Second) // the store analyzes the tables once writes pause
	benchSearch(b, s)
}

func benchSearch(b *testing.B, s storage.Store) {
	ctx := context.Background()
	emb, err := embed.New(embed.DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	f := storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Limit: 50}
	vecs := make([][]float32, len(searchQueries))
	for i, q := range searchQueries {
		vecs[i] = emb.Embed(q.question)
	}
	for _, bc := range []struct {
		name   string
		search func(i int) ([]tandem.ScoredChunk, error)
	}{
		{"Vector", func(i int) ([]tandem.ScoredChunk, error) { return s.SearchVector(ctx, vecs[i], f) }},
		{"Text", func(i int) ([]tandem.ScoredChunk, error) { return s.SearchText(ctx, searchQueries[i].words, f) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var times []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				hits, err := bc.search(i % len(searchQueries))
				times = append(times, time.Since(start))
				if err != nil || len(hits) == 0 {
					b.Fatal(len(hits), err)
				}
				i++
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95_ms")
		})
	}
}

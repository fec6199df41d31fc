package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/embed"
	"github.com/tandemhq/tandem/storage"

	"github.com/tandemhq/tandem/storage/storagetest"
)

// BenchmarkTurn measures one engine turn's store work (see storagetest.BenchTurn).
func BenchmarkTurn(b *testing.B) {
	for _, bc := range []struct {
		name        string
		parallelism int
	}{{"Serial", 0}, {"Parallel", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			storagetest.BenchTurn(b, openTemp(b), 1000, bc.parallelism)
		})
	}
}

// BenchmarkSearchVector measures a brute-force cosine search over 20,000 chunks of 384
// dimensions (the in-memory index is loaded before timing).
func BenchmarkSearchVector(b *testing.B) {
	const docs, perDoc, dim = 2000, 10, 384
	ctx := context.Background()
	s := openTemp(b)
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: dim}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = rng.Float32() - 0.5
		}
		return v
	}
	for d := range docs {
		chunks := make([]tandem.Chunk, perDoc)
		for i := range chunks {
			chunks[i] = tandem.Chunk{Ordinal: i, Text: fmt.Sprintf("chunk %d of doc %d", i, d), Embedding: vec()}
		}
		doc := &tandem.Document{Collection: "kb", Title: fmt.Sprint("doc ", d), ContentHash: fmt.Sprint(d), Status: tandem.DocumentPublished, Tags: []string{fmt.Sprint("t", d%5)}}
		if _, err := s.PutDocument(ctx, doc, chunks); err != nil {
			b.Fatal(err)
		}
	}
	f := storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Limit: 10}
	if _, err := s.SearchVector(ctx, vec(), f); err != nil {
		b.Fatal(err)
	}
	q := vec()
	b.ReportAllocs()
	for b.Loop() {
		hits, err := s.SearchVector(ctx, q, f)
		if err != nil || len(hits) != 10 {
			b.Fatal(len(hits), err)
		}
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
// chunks `tandem bench turns` uses, embedded by the offline embedder (1,024 dimensions),
// with the published-only filter answers use. p95_ms is the figure to read.
func BenchmarkSearch10k(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	kb := retrieval.New(s, nil)
	if _, err := kb.Ingest(ctx, "kb", retrieval.SyntheticSources(10000), nil); err != nil {
		b.Fatal(err)
	}
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
			if _, err := bc.search(0); err != nil { // loads the vector index
				b.Fatal(err)
			}
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

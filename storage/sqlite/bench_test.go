package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tandemhq/tandem"
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

// BenchmarkSearch10k measures each side of a knowledge search over 10,000 chunks (see
// storagetest.BenchSearch10k).
func BenchmarkSearch10k(b *testing.B) {
	storagetest.BenchSearch10k(b, openTemp(b), nil)
}

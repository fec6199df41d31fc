package retrieval_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
)

// BenchmarkIngest measures ingestion with the offline embedder into each store; chunks/s
// is the figure to read.
func BenchmarkIngest(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchIngest(b, be.open) })
	}
}

func benchIngest(b *testing.B, open func(testing.TB) storage.KnowledgeStore) {
	srcs := retrieval.SyntheticSources(2000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store := open(b)
		kb := retrieval.New(store, nil)
		b.StartTimer()
		st, err := kb.Ingest(ctx, "bench", srcs, nil)
		if err != nil {
			b.Fatal(err)
		}
		if st.Chunks != len(srcs) {
			b.Fatalf("chunks = %d, want %d", st.Chunks, len(srcs))
		}
	}
	b.ReportMetric(float64(len(srcs)*b.N)/b.Elapsed().Seconds(), "chunks/s")
}

// BenchmarkSearch10k measures one hybrid search over a 10,000-chunk collection in each
// store, reporting p50 and p95 latency.
func BenchmarkSearch10k(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchSearch(b, be.open) })
	}
}

func benchSearch(b *testing.B, open func(testing.TB) storage.KnowledgeStore) {
	ctx := context.Background()
	store := open(b)
	kb := retrieval.New(store, nil)
	if _, err := kb.Ingest(ctx, "bench", retrieval.SyntheticSources(10000), nil); err != nil {
		b.Fatal(err)
	}
	queries := []string{
		"how do I reset my password on iphone", "refund for a damaged parcel", "export the dashboard report to csv",
		"two factor authentication on a new device", "tracking number for international express delivery",
	}
	f := storage.SearchFilter{Collections: []string{"bench"}, Limit: 10}
	if _, err := kb.Search(ctx, queries[0], f); err != nil { // warm the vector index
		b.Fatal(err)
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := kb.Search(ctx, queries[i%len(queries)], f); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.ReportMetric(evals.Percentile(times, 0.50), "p50_ms")
	b.ReportMetric(evals.Percentile(times, 0.95), "p95_ms")
}

package retrieval_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
)

// benchVocabulary is a support-desk vocabulary the synthetic collection is drawn from.
var benchVocabulary = strings.Fields(`account password reset email login sign order shipping delivery parcel
refund return invoice payment card paypal subscription plan upgrade cancel billing address phone
notification settings privacy security two factor authentication device app android iphone browser
chrome firefox cookie cache error message crash slow upload download file folder share link
permission team member admin role export import csv report dashboard chart filter search tag label
archive delete restore backup sync calendar event reminder meeting invite video call audio microphone
camera screen language translation currency tax discount coupon gift voucher warranty repair
replacement damaged missing late tracking number courier customs international express standard
weekend holiday hours support agent chat ticket feedback review rating`)

// syntheticSources returns n FAQ-like sources of 40–90 words each, deterministically: the
// support vocabulary plus 5,000 made-up words drawn with a Zipf law, like real text.
func syntheticSources(n int) []retrieval.Source {
	r := rand.New(rand.NewPCG(1, 2))
	vocab := slices.Clone(benchVocabulary)
	syll := []string{"ka", "lo", "mi", "ter", "an", "so", "ru", "vex", "pi", "dor", "el", "un", "ba", "qui", "st"}
	for len(vocab) < 5000 {
		w := ""
		for k := 0; k < 2+r.IntN(3); k++ {
			w += syll[r.IntN(len(syll))]
		}
		vocab = append(vocab, w)
	}
	r.Shuffle(len(vocab), func(i, j int) { vocab[i], vocab[j] = vocab[j], vocab[i] })
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 2, uint64(len(vocab)-1))
	word := func() string { return vocab[zipf.Uint64()] }
	out := make([]retrieval.Source, n)
	for i := range out {
		title := make([]string, 4+r.IntN(5))
		for j := range title {
			title[j] = word()
		}
		body := make([]string, 40+r.IntN(50))
		for j := range body {
			body[j] = word()
			if j%12 == 11 {
				body[j] += "."
			}
		}
		out[i] = retrieval.Source{
			ID: fmt.Sprintf("doc-%05d", i), Title: "How do I " + strings.Join(title, " ") + "?",
			Body: strings.Join(body, " "), Kind: ingest.KindFAQ,
		}
	}
	return out
}

// BenchmarkIngest measures ingestion with the offline embedder into each store; chunks/s
// is the figure to read.
func BenchmarkIngest(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchIngest(b, be.open) })
	}
}

func benchIngest(b *testing.B, open func(testing.TB) storage.KnowledgeStore) {
	srcs := syntheticSources(2000)
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
	if _, err := kb.Ingest(ctx, "bench", syntheticSources(10000), nil); err != nil {
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

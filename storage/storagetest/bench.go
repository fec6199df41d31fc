package storagetest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/embed"
	"github.com/tandemhq/tandem/storage"
)

// BenchTurn measures the store work of one engine turn: ResolveIdentity,
// FindOpenConversation (CreateConversation on the customer's first turn), CreateMessage
// for the inbound message with its annotations (with a provider id, so de-duplication is
// exercised) and RecordTurn with one reply and a state update. customers distinct identities
// take turns in rotation; parallelism > 0 runs b.RunParallel with that many goroutines
// per GOMAXPROCS, 0 runs serially.
func BenchTurn(b *testing.B, s storage.Store, customers, parallelism int) {
	ctx := context.Background()
	var seq atomic.Int64
	prefix := fmt.Sprintf("bench-%p-", b)
	turn := func() error {
		n := seq.Add(1)
		ext := fmt.Sprintf("%s%d", prefix, n%int64(customers))
		cust, _, err := s.ResolveIdentity(ctx, tandem.ChannelWebChat, ext)
		if err != nil {
			return err
		}
		conv, err := s.FindOpenConversation(ctx, "bench-bot", cust.ID)
		if tandem.ErrorCode(err) == tandem.ENOTFOUND {
			conv = &tandem.Conversation{BotID: "bench-bot", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusOpen}
			err = s.CreateConversation(ctx, conv)
		}
		if err != nil {
			return err
		}
		in := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelWebChat,
			Text: "How do I get a refund for my order?", ProviderID: fmt.Sprintf("%sp%d", prefix, n),
			Annotations: &tandem.Annotations{Language: "en", Intent: tandem.IntentScore{Name: "refund", Confidence: 0.91}, Sentiment: tandem.Sentiment{Label: tandem.SentimentNeutral}}}
		if err := s.CreateMessage(ctx, in); err != nil {
			return err
		}
		return s.RecordTurn(ctx, storage.TurnRecord{
			ConversationID: conv.ID,
			Replies: []*tandem.Message{{Role: tandem.RoleBot, Channel: tandem.ChannelWebChat, Text: "You can get a refund within 30 days.",
				Decision: &tandem.Decision{Kind: tandem.DecisionKnowledge, Reason: "kb"}, Citations: []tandem.Citation{{DocID: "d1", Title: "Refunds"}}}},
			Update: storage.ConversationUpdate{State: []byte(`{"flow":"","turns":1}`)},
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	if parallelism <= 0 {
		for b.Loop() {
			if err := turn(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := turn(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
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

// BenchSearch10k measures each side of a knowledge search over the 10,000 synthetic FAQ
// chunks `tandem bench turns` uses, embedded by the offline embedder (1,536 dimensions),
// with the published-only filter answers use; p95_ms is the figure to read. settle, when
// not nil, runs between the ingestion and the searches (e.g. to let a store analyze).
func BenchSearch10k(b *testing.B, s storage.Store, settle func()) {
	ctx := context.Background()
	kb := retrieval.New(s, nil)
	if _, err := kb.Ingest(ctx, "kb", retrieval.SyntheticSources(10000), nil); err != nil {
		b.Fatal(err)
	}
	if settle != nil {
		settle()
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
	cases := []struct {
		name   string
		search func(i int) ([]tandem.ScoredChunk, error)
	}{
		{"Vector", func(i int) ([]tandem.ScoredChunk, error) { return s.SearchVector(ctx, vecs[i], f) }},
		{"Text", func(i int) ([]tandem.ScoredChunk, error) { return s.SearchText(ctx, searchQueries[i].words, f) }},
	}
	// Stores with an approximate vector search score the knowledge base's 40 full-text
	// candidates exactly (see retrieval's chunkScorer).
	if sc, ok := s.(interface {
		ScoreChunks(ctx context.Context, vec []float32, ids []string) (map[string]float64, error)
	}); ok {
		ids := make([][]string, len(searchQueries))
		for i, q := range searchQueries {
			hits, err := s.SearchText(ctx, q.words, storage.SearchFilter{Collections: f.Collections, Status: f.Status, Limit: 40})
			if err != nil {
				b.Fatal(err)
			}
			for _, h := range hits {
				ids[i] = append(ids[i], h.ID)
			}
		}
		cases = append(cases, struct {
			name   string
			search func(i int) ([]tandem.ScoredChunk, error)
		}{"ScoreText", func(i int) ([]tandem.ScoredChunk, error) {
			sims, err := sc.ScoreChunks(ctx, vecs[i], ids[i])
			return make([]tandem.ScoredChunk, len(sims)), err
		}})
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := bc.search(0); err != nil { // loads in-memory indexes before timing
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

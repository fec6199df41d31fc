package storagetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tandemhq/tandem"
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

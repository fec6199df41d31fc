package jobs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/jobs"
)

// BenchmarkDeliver measures the outbox's own cost per delivered message on each store:
// claim, send through a connector that answers at once, record the outcome. One recipient
// per delivery, so the worker's concurrency applies.
func BenchmarkDeliver(b *testing.B) {
	for _, be := range teststore.All {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			st := be.Open(b)
			sms := &channel{}
			d, err := jobs.NewDeliverer(st, func(string, tandem.Channel) (connectors.Connector, bool) { return sms, true },
				jobs.DeliveryConfig{Batch: 64})
			must(b, err)
			cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550100")
			must(b, err)
			conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen}
			must(b, st.CreateConversation(ctx, conv))
			ds := make([]*tandem.Delivery, 0, b.N)
			for i := range b.N {
				m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "your order shipped"}
				must(b, st.CreateMessage(ctx, m))
				ds = append(ds, &tandem.Delivery{MessageID: m.ID, BotID: "demo", Channel: tandem.ChannelSMS,
					To: fmt.Sprint("+1555", i), Reply: tandem.Reply{Text: m.Text}})
			}
			must(b, st.EnqueueDeliveries(ctx, ds))
			b.ResetTimer()
			sent := 0
			for sent < b.N {
				n, err := d.DeliverDue(ctx)
				must(b, err)
				if n == 0 {
					b.Fatalf("queue empty after %d of %d", sent, b.N)
				}
				sent += n
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

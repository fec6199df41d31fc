package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testHeldDeliveries checks deliveries held until the customer writes again (a closed
// WhatsApp window) and their release.
func testHeldDeliveries(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	const to, other = "+15550900", "+15550901"
	cust, _ := resolve(t, s, tandem.ChannelWhatsApp, to)
	conv := newConversation(t, s, "bot", cust.ID, tandem.ChannelWhatsApp)
	// hold stores a bot message for (bot, to) and leaves its delivery held, as the delivery
	// worker does after the channel refused it.
	hold := func(t *testing.T, bot, to, text string) string {
		t.Helper()
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelWhatsApp, Text: text}
		must(t, s.CreateMessage(ctx, m))
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: bot, Channel: tandem.ChannelWhatsApp, To: to,
			Reply: tandem.Reply{Text: text}}}))
		_, err := s.UpdateDelivery(ctx, m.ID, storage.DeliveryUpdate{Status: ptr(tandem.DeliveryHeld), LastError: ptr("window closed")})
		must(t, err)
		return m.ID
	}
	status := func(t *testing.T, id string) tandem.DeliveryStatus {
		t.Helper()
		d, err := s.FindDelivery(ctx, id)
		must(t, err)
		return d.Status
	}

	first := hold(t, "bot", to, "the agent's reply")
	second := hold(t, "bot", to, "and a second one")
	otherTo := hold(t, "bot", other, "to someone else")
	otherBot := hold(t, "other-bot", to, "from another bot")

	t.Run("NotClaimed", func(t *testing.T) {
		ds, err := s.ClaimDeliveries(ctx, time.Now().Add(time.Hour), 50, time.Minute)
		must(t, err)
		if len(ds) != 0 {
			t.Fatalf("claimed %d held deliveries, want none", len(ds))
		}
	})

	t.Run("ListByRecipient", func(t *testing.T) {
		ds, err := s.ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliveryHeld, BotID: "bot",
			Channel: tandem.ChannelWhatsApp, To: to})
		must(t, err)
		if len(ds) != 2 || ds[0].MessageID != first || ds[1].MessageID != second {
			t.Fatalf("held deliveries to %s = %+v, want %s and %s", to, ds, first, second)
		}
		ds, err = s.ListDeliveries(ctx, storage.DeliveryFilter{Channel: tandem.ChannelSMS})
		must(t, err)
		if len(ds) != 0 {
			t.Errorf("deliveries on sms = %d, want 0", len(ds))
		}
	})

	t.Run("Release", func(t *testing.T) {
		now := time.Now().Add(time.Second)
		n, err := s.ReleaseHeldDeliveries(ctx, "bot", tandem.ChannelWhatsApp, to, now)
		must(t, err)
		if n != 2 {
			t.Fatalf("released %d, want 2", n)
		}
		d, err := s.FindDelivery(ctx, first)
		must(t, err)
		if d.Status != tandem.DeliveryPending || d.LastError != "window closed" {
			t.Errorf("released delivery = %+v, want pending with its last error kept", d)
		}
		wantTime(t, "NextAt", d.NextAt, now)
		if got := status(t, otherTo); got != tandem.DeliveryHeld {
			t.Errorf("another recipient's delivery is %s, want held", got)
		}
		if got := status(t, otherBot); got != tandem.DeliveryHeld {
			t.Errorf("another bot's delivery is %s, want held", got)
		}
		n, err = s.ReleaseHeldDeliveries(ctx, "bot", tandem.ChannelWhatsApp, to, now)
		must(t, err)
		if n != 0 {
			t.Errorf("a second release released %d, want 0", n)
		}
		ds, err := s.ClaimDeliveries(ctx, now, 50, time.Minute)
		must(t, err)
		if len(ds) != 2 || ds[0].MessageID != first || ds[1].MessageID != second {
			t.Fatalf("claimed %+v, want the two released deliveries in order", ds)
		}
		for _, d := range ds {
			_, err := s.UpdateDelivery(ctx, d.MessageID, storage.DeliveryUpdate{Status: ptr(tandem.DeliverySent)})
			must(t, err)
		}
	})

	t.Run("ReleaseOnce", func(t *testing.T) {
		// Two replicas answering the customer's message at once release each delivery once.
		var ids []string
		for range 3 {
			ids = append(ids, hold(t, "bot", to, "held again"))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Go(func() {
				n, err := s.ReleaseHeldDeliveries(ctx, "bot", tandem.ChannelWhatsApp, to, time.Now())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if total != len(ids) {
			t.Errorf("concurrent releases released %d in all, want %d", total, len(ids))
		}
		for _, id := range ids {
			if got := status(t, id); got != tandem.DeliveryPending {
				t.Errorf("delivery %s is %s, want pending", id, got)
			}
		}
	})
}

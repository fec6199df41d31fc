package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testDeliveryStatus checks what providers' later status reports need: finding a delivery
// by the provider's id, and updates that apply only while the delivery is as expected.
func testDeliveryStatus(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	const to = "+15550950"
	cust, _ := resolve(t, s, tandem.ChannelWhatsApp, to)
	conv := newConversation(t, s, "bot", cust.ID, tandem.ChannelWhatsApp)
	// sent stores a bot message whose delivery the provider accepted as sid.
	sent := func(t *testing.T, sid string) string {
		t.Helper()
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelWhatsApp, Text: "reply " + sid}
		must(t, s.CreateMessage(ctx, m))
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: "bot", Channel: tandem.ChannelWhatsApp, To: to,
			Reply: tandem.Reply{Text: m.Text}}}))
		if sid != "" {
			_, err := s.UpdateDelivery(ctx, m.ID, storage.DeliveryUpdate{Status: ptr(tandem.DeliverySent), ProviderID: ptr(sid)})
			must(t, err)
		}
		return m.ID
	}
	const sid = "SM00000000000000000000000000000001"
	id := sent(t, sid)
	pending := sent(t, "")

	t.Run("FindByProviderID", func(t *testing.T) {
		d, err := s.FindDeliveryByProviderID(ctx, tandem.ChannelWhatsApp, sid)
		must(t, err)
		if d.MessageID != id || d.ProviderID != sid || d.Status != tandem.DeliverySent || !d.DeliveredAt.IsZero() {
			t.Fatalf("found %+v, want the sent delivery %s", d, id)
		}
		// The same id on another channel, an unknown id, and the empty id of a delivery
		// not sent yet name nothing.
		for _, c := range []struct {
			ch  tandem.Channel
			sid string
		}{{tandem.ChannelSMS, sid}, {tandem.ChannelWhatsApp, "SM0000000000000000000000000000dead"}, {tandem.ChannelWhatsApp, ""}} {
			d, err := s.FindDeliveryByProviderID(ctx, c.ch, c.sid)
			if tandem.ErrorCode(err) != tandem.ENOTFOUND {
				t.Errorf("FindDeliveryByProviderID(%s, %q) = %+v, %v; want ENOTFOUND", c.ch, c.sid, d, err)
			}
		}
	})

	t.Run("ConditionalUpdate", func(t *testing.T) {
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		d, err := s.UpdateDelivery(ctx, id, storage.DeliveryUpdate{Status: ptr(tandem.DeliveryDelivered), DeliveredAt: &at,
			IfStatus: ptr(tandem.DeliverySent), IfProviderID: ptr(sid)})
		must(t, err)
		if d.Status != tandem.DeliveryDelivered || !d.DeliveredAt.Equal(at) {
			t.Fatalf("delivered = %+v", d)
		}
		// A late failure of the same message finds it delivered: nothing changes.
		_, err = s.UpdateDelivery(ctx, id, storage.DeliveryUpdate{Status: ptr(tandem.DeliveryFailed), LastError: ptr("late"),
			IfStatus: ptr(tandem.DeliverySent), IfProviderID: ptr(sid)})
		wantCode(t, err, tandem.ECONFLICT)
		// A report for an older send of the message (another provider id) changes nothing either.
		_, err = s.UpdateDelivery(ctx, pending, storage.DeliveryUpdate{Status: ptr(tandem.DeliveryFailed),
			IfStatus: ptr(tandem.DeliveryPending), IfProviderID: ptr(sid)})
		wantCode(t, err, tandem.ECONFLICT)
		got, err := s.FindDelivery(ctx, id)
		must(t, err)
		if got.Status != tandem.DeliveryDelivered || !got.DeliveredAt.Equal(at) || got.LastError != "" {
			t.Fatalf("after a late failure, delivery = %+v; want it still delivered at %s", got, at)
		}
		if p, err := s.FindDelivery(ctx, pending); err != nil || p.Status != tandem.DeliveryPending {
			t.Fatalf("pending delivery = %+v, %v; want it unchanged", p, err)
		}
		_, err = s.UpdateDelivery(ctx, "no-such-message", storage.DeliveryUpdate{Status: ptr(tandem.DeliveryFailed), IfStatus: ptr(tandem.DeliverySent)})
		wantCode(t, err, tandem.ENOTFOUND)
	})
}

package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testOutbox checks the delivery outbox. Its cases run one after another: a claim takes
// every due delivery in the store.
func testOutbox(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550700")
	conv := newConversation(t, s, "bot", cust.ID, tandem.ChannelSMS)
	// message stores a bot message to deliver.
	message := func(t *testing.T, text string) *tandem.Message {
		t.Helper()
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: text}
		must(t, s.CreateMessage(ctx, m))
		return m
	}
	delivery := func(m *tandem.Message) *tandem.Delivery {
		return &tandem.Delivery{MessageID: m.ID, BotID: "bot", Channel: tandem.ChannelSMS, To: "+15550700", Reply: tandem.Reply{Text: m.Text}}
	}
	// drain marks every pending delivery sent, so the next case starts from an empty queue.
	drain := func(t *testing.T) {
		t.Helper()
		for {
			ds, err := s.ClaimDeliveries(ctx, time.Now().Add(24*time.Hour), 50, time.Minute)
			must(t, err)
			if len(ds) == 0 {
				return
			}
			for _, d := range ds {
				_, err := s.UpdateDelivery(ctx, d.MessageID, storage.DeliveryUpdate{Status: ptr(tandem.DeliverySent)})
				must(t, err)
			}
		}
	}
	later := time.Now().Add(time.Minute) // every delivery enqueued so far is due

	t.Run("Enqueue/OK", func(t *testing.T) {
		m := message(t, "your order shipped")
		d := delivery(m)
		d.Reply = tandem.Reply{Text: m.Text, QuickReplies: []tandem.QuickReply{{Title: "Track", Payload: "track"}},
			Citations: []tandem.Citation{{DocID: "doc-1", Title: "Shipping", URL: "https://example.com/s"}}}
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{d}))
		if d.Status != tandem.DeliveryPending || d.NextAt.IsZero() || d.CreatedAt.IsZero() {
			t.Errorf("assigned fields = %+v", d)
		}
		got, err := s.FindDelivery(ctx, m.ID)
		must(t, err)
		if got.Status != tandem.DeliveryPending || got.Attempts != 0 || got.To != "+15550700" || got.Channel != tandem.ChannelSMS ||
			got.BotID != "bot" || got.Reply.Text != m.Text || len(got.Reply.QuickReplies) != 1 || got.Reply.QuickReplies[0].Payload != "track" ||
			len(got.Reply.Citations) != 1 || got.Reply.Citations[0].URL != "https://example.com/s" {
			t.Errorf("stored delivery = %+v", got)
		}
		wantTime(t, "NextAt", got.NextAt, d.NextAt)
		drain(t)
	})

	t.Run("Enqueue/Idempotent", func(t *testing.T) {
		m := message(t, "hello")
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{delivery(m)}))
		again := delivery(m)
		again.To = "+15550799"
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{again}))
		got, err := s.FindDelivery(ctx, m.ID)
		must(t, err)
		if got.To != "+15550700" {
			t.Errorf("a second enqueue changed the delivery: to %s", got.To)
		}
		drain(t)
	})

	t.Run("Enqueue/ErrNoMessage", func(t *testing.T) {
		m := message(t, "kept out")
		err := s.EnqueueDeliveries(ctx, []*tandem.Delivery{delivery(m), {MessageID: "no-such-message", Channel: tandem.ChannelSMS, To: "+1"}})
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.FindDelivery(ctx, m.ID)
		wantCode(t, err, tandem.ENOTFOUND) // all or nothing
	})

	t.Run("Enqueue/ErrInvalid", func(t *testing.T) {
		m := message(t, "no recipient")
		d := delivery(m)
		d.To = ""
		wantCode(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{d}), tandem.EINVALID)
	})

	t.Run("Claim/Lease", func(t *testing.T) {
		var ids []string
		for i := range 3 {
			m := message(t, fmt.Sprint("reply ", i))
			must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{delivery(m)}))
			ids = append(ids, m.ID)
		}
		const lease = time.Minute
		first, err := s.ClaimDeliveries(ctx, later, 2, lease)
		must(t, err)
		if len(first) != 2 {
			t.Fatalf("claimed %d, want 2 (the limit)", len(first))
		}
		for _, d := range first {
			if d.Attempts != 1 {
				t.Errorf("attempts = %d, want 1", d.Attempts)
			}
			wantTime(t, "NextAt (the lease's end)", d.NextAt, later.Add(lease))
		}
		second, err := s.ClaimDeliveries(ctx, later, 2, lease)
		must(t, err)
		if len(second) != 1 || second[0].MessageID == first[0].MessageID || second[0].MessageID == first[1].MessageID {
			t.Fatalf("second claim = %+v, want the one delivery not leased", second)
		}
		none, err := s.ClaimDeliveries(ctx, later.Add(lease/2), 10, lease)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("claimed %d leased deliveries before their lease ended", len(none))
		}
		// A worker that died: its deliveries come back once the lease ends.
		again, err := s.ClaimDeliveries(ctx, later.Add(lease), 10, lease)
		must(t, err)
		if len(again) != 3 || again[0].Attempts != 2 {
			t.Fatalf("after the lease: %d claimed (attempts %d), want 3 with 2 attempts", len(again), again[0].Attempts)
		}
		drain(t)
	})

	t.Run("Claim/NotDue", func(t *testing.T) {
		m := message(t, "tomorrow")
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{delivery(m)}))
		_, err := s.UpdateDelivery(ctx, m.ID, storage.DeliveryUpdate{NextAt: ptr(later.Add(time.Hour))})
		must(t, err)
		got, err := s.ClaimDeliveries(ctx, later, 10, time.Minute)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("claimed %d deliveries not yet due", len(got))
		}
		drain(t)
	})

	t.Run("Claim/Concurrent", func(t *testing.T) {
		const n, workers = 24, 4
		want := map[string]bool{}
		for i := range n {
			m := message(t, fmt.Sprint("bulk ", i))
			must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{delivery(m)}))
			want[m.ID] = true
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					ds, err := s.ClaimDeliveries(ctx, later, 3, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						seen[d.MessageID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("delivery %s claimed %d times, want exactly once", id, seen[id])
			}
		}
		drain(t)
	})

	t.Run("Update/Sent", func(t *testing.T) {
		m := message(t, "sent")
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{delivery(m)}))
		got, err := s.UpdateDelivery(ctx, m.ID, storage.DeliveryUpdate{Status: ptr(tandem.DeliverySent), ProviderID: ptr("SM123"), LastError: ptr("")})
		must(t, err)
		if got.Status != tandem.DeliverySent || got.ProviderID != "SM123" {
			t.Errorf("updated = %+v", got)
		}
		claimed, err := s.ClaimDeliveries(ctx, later, 10, time.Minute)
		must(t, err)
		if len(claimed) != 0 {
			t.Errorf("claimed %d sent deliveries", len(claimed))
		}
		sent, err := s.ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliverySent, BotID: "bot"})
		must(t, err)
		found := false
		for _, d := range sent {
			found = found || d.MessageID == m.ID
			if d.Status != tandem.DeliverySent {
				t.Errorf("listed a %s delivery for status sent", d.Status)
			}
		}
		if !found {
			t.Errorf("sent delivery not listed")
		}
		byID, err := s.ListDeliveries(ctx, storage.DeliveryFilter{MessageIDs: []string{m.ID, "no-such-message"}})
		must(t, err)
		if len(byID) != 1 || byID[0].MessageID != m.ID {
			t.Errorf("by message ids = %+v, want only %s", byID, m.ID)
		}
		none, err := s.ListDeliveries(ctx, storage.DeliveryFilter{MessageIDs: []string{}})
		must(t, err)
		if len(none) != 0 {
			t.Errorf("an empty id list matched %d deliveries", len(none))
		}
	})

	t.Run("Update/ErrNotFound", func(t *testing.T) {
		_, err := s.UpdateDelivery(ctx, "no-such-message", storage.DeliveryUpdate{Status: ptr(tandem.DeliveryFailed)})
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.FindDelivery(ctx, "no-such-message")
		wantCode(t, err, tandem.ENOTFOUND)
	})

	t.Run("RecordTurn", func(t *testing.T) {
		in := &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "where is my order"}
		reply := &tandem.Message{Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "it shipped", ID: "turn-reply-1"}
		err := s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Inbound: in, Replies: []*tandem.Message{reply},
			Deliveries: []*tandem.Delivery{delivery(reply)}})
		must(t, err)
		got, err := s.FindDelivery(ctx, reply.ID)
		must(t, err)
		if got.Status != tandem.DeliveryPending || got.Reply.Text != "it shipped" {
			t.Errorf("turn's delivery = %+v", got)
		}
		// A turn that is not stored leaves no delivery.
		lost := &tandem.Message{Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "never", ID: "turn-reply-2"}
		err = s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Replies: []*tandem.Message{lost},
			Deliveries: []*tandem.Delivery{delivery(lost)}, CheckState: true, PrevState: []byte("not the state")})
		wantCode(t, err, tandem.ECONFLICT)
		_, err = s.FindDelivery(ctx, lost.ID)
		wantCode(t, err, tandem.ENOTFOUND)
		drain(t)
	})
}

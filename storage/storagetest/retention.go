package storagetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testRetention checks deleting and redacting old data and erasing a customer. Its cases
// run one after another on a store of their own: each counts every row it may touch.
// Rows written now are "old": the cutoff is an hour ahead; "young" rows are given times
// after it.
func testRetention(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	cutoff := time.Now().Add(time.Hour)
	young := cutoff.Add(time.Hour)

	// closedConv stores a closed conversation with a bot message, its delivery, a ticket
	// with an agent's note and a CSAT rating of it, all old.
	closedConv := func(t *testing.T, customerID, bot string) *tandem.Conversation {
		t.Helper()
		c := newConversation(t, s, bot, customerID, tandem.ChannelSMS)
		m := &tandem.Message{ConversationID: c.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "hi"}
		must(t, s.CreateMessage(ctx, m))
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: bot, Channel: tandem.ChannelSMS, To: "+1555", Reply: tandem.Reply{Text: "hi"}}}))
		tk := &tandem.Ticket{ConversationID: c.ID, BotID: bot, Queue: "retention", Status: tandem.TicketClosed}
		must(t, s.CreateTicket(ctx, tk))
		must(t, s.CreateNote(ctx, &tandem.Note{ConversationID: c.ID, TicketID: tk.ID, AuthorID: "agent-1", Text: "called them"}, nil))
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: c.ID, Update: storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)},
			CSAT: &tandem.CSATResponse{TicketID: tk.ID, ConversationID: c.ID, BotID: bot, Queue: "retention", Score: 4, At: time.Now()}}))
		return c
	}
	ratings := func(t *testing.T) int {
		t.Helper()
		st, err := s.CSATStats(ctx, time.Now().Add(-24*time.Hour))
		must(t, err)
		n := 0
		for _, g := range st.ByQueue {
			n += g.Count
		}
		return n
	}

	t.Run("DeleteClosedConversations/OK", func(t *testing.T) {
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550800")
		gone := []*tandem.Conversation{closedConv(t, cust.ID, "b1"), closedConv(t, cust.ID, "b2"), closedConv(t, cust.ID, "b3")}
		_, answer := answered(t, s, gone[0], "shipping?", "shipping")
		must(t, s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: answer.ID, CustomerID: cust.ID, Helpful: true}))
		open := newConversation(t, s, "b1", cust.ID, tandem.ChannelSMS) // old but never closed
		active := &tandem.Conversation{BotID: "b4", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed,
			CreatedAt: time.Now(), UpdatedAt: young} // created long ago, active lately
		must(t, s.CreateConversation(ctx, active))
		fresh := &tandem.Conversation{BotID: "b5", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed,
			CreatedAt: young, UpdatedAt: young}
		must(t, s.CreateConversation(ctx, fresh))
		if got := ratings(t); got != 3 {
			t.Fatalf("ratings before = %d, want 3", got)
		}

		for i, want := range []int{2, 1, 0} { // batches respect the limit; a last run does nothing
			n, err := s.DeleteClosedConversations(ctx, cutoff, 2)
			must(t, err)
			if n != want {
				t.Errorf("run %d deleted %d, want %d", i, n, want)
			}
		}
		for _, c := range gone {
			_, err := s.FindConversationByID(ctx, c.ID)
			wantCode(t, err, tandem.ENOTFOUND)
			ms, err := s.ListMessages(ctx, c.ID, storage.MessageFilter{})
			must(t, err)
			if len(ms) != 0 {
				t.Errorf("conversation %s kept %d messages", c.ID, len(ms))
			}
		}
		ds, err := s.ListDeliveries(ctx, storage.DeliveryFilter{BotID: "b1"})
		must(t, err)
		ts, err := s.ListTickets(ctx, storage.TicketFilter{Queue: "retention"})
		must(t, err)
		ns, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		fb, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{ConversationID: gone[0].ID})
		must(t, err)
		if len(ds) != 0 || len(ts) != 0 || ratings(t) != 0 || len(ns) != 0 || len(fb) != 0 {
			t.Errorf("left %d deliveries, %d tickets, %d ratings, %d notes, %d answer votes", len(ds), len(ts), ratings(t), len(ns), len(fb))
		}
		for _, c := range []*tandem.Conversation{open, active, fresh} {
			_, err := s.FindConversationByID(ctx, c.ID)
			must(t, err)
		}
	})

	t.Run("DeleteClosedConversations/ErrInvalid", func(t *testing.T) {
		_, err := s.DeleteClosedConversations(ctx, cutoff, 0)
		wantCode(t, err, tandem.EINVALID)
	})

	t.Run("RedactMessages/OK", func(t *testing.T) {
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550801")
		c := newConversation(t, s, "redact", cust.ID, tandem.ChannelSMS)
		msg := func(text string, at time.Time, ann *tandem.Annotations) *tandem.Message {
			t.Helper()
			m := &tandem.Message{ConversationID: c.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: text, CreatedAt: at, Annotations: ann}
			must(t, s.CreateMessage(ctx, m))
			return m
		}
		ann := &tandem.Annotations{Intent: tandem.IntentScore{Name: "order"}, Entities: []tandem.Entity{{Type: "email", Value: "secret@x.io", Text: "secret@x.io"}}}
		first := msg("mail secret@x.io", time.Now().Add(-time.Minute), ann)
		second := msg("nothing personal", time.Now(), nil)
		reply := &tandem.Message{ConversationID: c.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "we wrote to secret@x.io"}
		must(t, s.CreateMessage(ctx, reply))
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: reply.ID, BotID: "redact", Channel: tandem.ChannelSMS, To: "+15550801", Reply: tandem.Reply{Text: reply.Text,
			Template: &tandem.Template{Name: "notice", ContentSID: "HX0123456789abcdef0123456789abcdef", Variables: map[string]string{"1": "secret@x.io"}}}}}))
		later := msg("secret kept for now", young, nil)
		redact := func(s string) string { return strings.ReplaceAll(s, "secret", "[redacted]") }

		for i, want := range []int{2, 1, 0} {
			n, err := s.RedactMessages(ctx, cutoff, 2, redact)
			must(t, err)
			if n != want {
				t.Errorf("run %d redacted %d, want %d", i, n, want)
			}
		}
		ms, err := s.ListMessages(ctx, c.ID, storage.MessageFilter{})
		must(t, err)
		got := map[string]tandem.Message{}
		for _, m := range ms {
			got[m.ID] = m
		}
		if m := got[first.ID]; m.Text != "mail [redacted]@x.io" || m.Annotations == nil || m.Annotations.Intent.Name != "order" || len(m.Annotations.Entities) != 0 {
			t.Errorf("first = %q %+v", m.Text, m.Annotations)
		}
		if m := got[second.ID]; m.Text != second.Text {
			t.Errorf("second = %q", m.Text)
		}
		if m := got[reply.ID]; m.Text != "we wrote to [redacted]@x.io" {
			t.Errorf("reply = %q", m.Text)
		}
		if m := got[later.ID]; m.Text != later.Text {
			t.Errorf("a young message was redacted: %q", m.Text)
		}
		d, err := s.FindDelivery(ctx, reply.ID)
		must(t, err)
		if d.Reply.Text != "we wrote to [redacted]@x.io" {
			t.Errorf("delivery reply = %q", d.Reply.Text)
		}
		if tm := d.Reply.Template; tm == nil || tm.Variables["1"] != "[redacted]@x.io" || tm.ContentSID == "" {
			t.Errorf("delivery template = %+v, want its variables redacted", tm)
		}
	})

	t.Run("RedactMessages/ErrInvalid", func(t *testing.T) {
		_, err := s.RedactMessages(ctx, cutoff, 0, strings.ToUpper)
		wantCode(t, err, tandem.EINVALID)
		_, err = s.RedactMessages(ctx, cutoff, 10, nil)
		wantCode(t, err, tandem.EINVALID)
	})

	t.Run("RedactMessages/OKFeedbackComment", func(t *testing.T) {
		// A vote's comment is redacted with its answer; a vote on an answer redacted
		// already keeps no comment.
		cust, _ := resolve(t, s, tandem.ChannelWebChat, "visitor-805")
		c := newConversation(t, s, "redact-fb", cust.ID, tandem.ChannelWebChat)
		_, a := answered(t, s, c, "shipping?", "shipping")
		_, b := answered(t, s, c, "returns?", "returns")
		must(t, s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: a.ID, CustomerID: cust.ID, Comment: "write to secret@x.io"}))
		for {
			n, err := s.RedactMessages(ctx, cutoff, 10, func(s string) string { return strings.ReplaceAll(s, "secret", "[redacted]") })
			must(t, err)
			if n == 0 {
				break
			}
		}
		must(t, s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: b.ID, CustomerID: cust.ID, Comment: "secret again"}))
		got, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{ConversationID: c.ID})
		must(t, err)
		comments := map[string]string{}
		for _, v := range got {
			comments[v.MessageID] = v.Comment
		}
		if len(got) != 2 || comments[a.ID] != "write to [redacted]@x.io" || comments[b.ID] != "" {
			t.Errorf("comments = %q", comments)
		}
	})

	t.Run("Concurrent/OK", func(t *testing.T) {
		// Replicas sweeping at once share the work: each row is done exactly once.
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550804")
		keep := newConversation(t, s, "keep", cust.ID, tandem.ChannelSMS)
		const n = 12
		for i := range n {
			c := &tandem.Conversation{BotID: fmt.Sprint("c", i), CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed}
			must(t, s.CreateConversation(ctx, c))
			must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: keep.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "secret"}))
		}
		var mu sync.Mutex
		deleted, redacted := 0, 0
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					d, err := s.DeleteClosedConversations(ctx, cutoff, 2)
					if err != nil {
						t.Error(err)
						return
					}
					r, err := s.RedactMessages(ctx, cutoff, 2, strings.ToUpper)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					deleted, redacted = deleted+d, redacted+r
					mu.Unlock()
					if d == 0 && r == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		if deleted != n || redacted != n {
			t.Errorf("deleted %d, redacted %d; want %d each", deleted, redacted, n)
		}
	})

	t.Run("EraseCustomer/OK", func(t *testing.T) {
		cust, phone := resolve(t, s, tandem.ChannelSMS, "+15550802")
		_, web := resolve(t, s, tandem.ChannelWebChat, "visitor-802")
		must(t, s.LinkIdentity(ctx, web.ID, cust.ID, "system"))
		_, err := s.UpdateCustomer(ctx, cust.ID, storage.CustomerUpdate{DisplayName: ptr("Ada"), Profile: map[string]string{"email": "ada@x.io"}})
		must(t, err)
		closedConv(t, cust.ID, "e1")
		openConv := newConversation(t, s, "e2", cust.ID, tandem.ChannelWebChat)
		pending := &tandem.Message{ConversationID: openConv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelWebChat, Text: "pending"}
		must(t, s.CreateMessage(ctx, pending))
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: pending.ID, BotID: "e2", Channel: tandem.ChannelWebChat, To: "visitor-802", Reply: tandem.Reply{Text: "pending"}}}))
		_, answer := answered(t, s, openConv, "shipping?", "shipping")
		must(t, s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: answer.ID, CustomerID: cust.ID, Helpful: false, Comment: "my email is ada@x.io"}))
		other, _ := resolve(t, s, tandem.ChannelSMS, "+15550803")
		otherConv := newConversation(t, s, "e2", other.ID, tandem.ChannelSMS)
		kept := &tandem.Message{ConversationID: otherConv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "kept"}
		must(t, s.CreateMessage(ctx, kept))
		must(t, s.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: kept.ID, BotID: "e2", Channel: tandem.ChannelSMS, To: "+15550803", Reply: tandem.Reply{Text: "kept"}}}))

		want := storage.Erasure{CustomerID: cust.ID, Identities: 2, Conversations: 2, Messages: 4, Deliveries: 2, Tickets: 1, Notes: 1, CSATResponses: 1,
			AnswerFeedback: 1}
		count, err := s.CountCustomerData(ctx, cust.ID)
		must(t, err)
		if count != want {
			t.Errorf("count = %+v, want %+v", count, want)
		}
		got, err := s.EraseCustomer(ctx, cust.ID, "agent:admin")
		must(t, err)
		if got != want {
			t.Errorf("erased = %+v, want %+v", got, want)
		}

		_, err = s.FindCustomerByID(ctx, cust.ID)
		wantCode(t, err, tandem.ENOTFOUND)
		for _, i := range []*tandem.Identity{phone, web} {
			_, err = s.FindIdentity(ctx, i.Channel, i.ExternalID)
			wantCode(t, err, tandem.ENOTFOUND)
		}
		_, err = s.FindConversationByID(ctx, openConv.ID)
		wantCode(t, err, tandem.ENOTFOUND)
		ns, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		if len(ns) != 0 {
			t.Errorf("erasure left %d notes", len(ns))
		}
		if fb, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{ConversationID: openConv.ID}); err != nil || len(fb) != 0 {
			t.Errorf("answer votes after erasure = %+v, %v", fb, err)
		}
		ds, err := s.ClaimDeliveries(ctx, time.Now().Add(24*time.Hour), 100, time.Minute)
		must(t, err)
		claimable := map[string]bool{}
		for _, d := range ds {
			claimable[d.MessageID] = true
		}
		if claimable[pending.ID] || !claimable[kept.ID] {
			t.Errorf("claimable after erasure = %+v, want the other customer's and none of the erased one's", ds)
		}
		// Writing to the customer again makes a new one.
		again, _ := resolve(t, s, tandem.ChannelSMS, "+15550802")
		if again.ID == cust.ID || again.DisplayName != "" {
			t.Errorf("resolved again = %+v", again)
		}

		es, err := s.ListAudit(ctx, storage.AuditFilter{Subject: cust.ID, Action: storage.AuditCustomerErase})
		must(t, err)
		if len(es) != 1 || es[0].Actor != "agent:admin" || es[0].Detail["messages"] != "4" || es[0].Detail["identities"] != "2" ||
			es[0].Detail["notes"] != "1" || es[0].Detail["answer_feedback"] != "1" {
			t.Fatalf("audit = %+v", es)
		}
		for k, v := range es[0].Detail {
			if strings.Contains(v, "555") || strings.Contains(v, "ada") || strings.Contains(v, "visitor") {
				t.Errorf("audit detail %s = %q holds personal data", k, v)
			}
		}
	})

	t.Run("EraseCustomer/ErrNotFound", func(t *testing.T) {
		_, err := s.EraseCustomer(ctx, "no-such-customer", "system")
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.CountCustomerData(ctx, "no-such-customer")
		wantCode(t, err, tandem.ENOTFOUND)
		es, err := s.ListAudit(ctx, storage.AuditFilter{Subject: "no-such-customer"})
		must(t, err)
		if len(es) != 0 {
			t.Errorf("audit of a failed erasure = %+v", es)
		}
	})
}

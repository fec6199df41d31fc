package storagetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testReports checks the dashboard's aggregates. Its store holds only the fixture below,
// so its subtests run one after another and compare whole results.
func testReports(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	now := time.Date(2030, 1, 10, 12, 0, 0, 0, time.UTC)
	since := now.Add(-24 * time.Hour)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	n := 0
	// ticket opens a ticket in queue, in a conversation of its own started a minute before,
	// claimed claim after it opened and then closed or returned at end (zero: unset).
	ticket := func(queue string, opened, claim time.Duration, st tandem.TicketStatus, end time.Time) *tandem.Ticket {
		t.Helper()
		n++
		cust, _ := resolve(t, s, tandem.ChannelSMS, fmt.Sprintf("+1555090%02d", n))
		conv := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen,
			CreatedAt: ago(opened + time.Minute), UpdatedAt: ago(opened)}
		must(t, s.CreateConversation(ctx, conv))
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: queue, CreatedAt: ago(opened)}
		must(t, s.CreateTicket(ctx, tk))
		if claim > 0 {
			_, err := s.ClaimTicket(ctx, tk.ID, "ag-1", ago(opened-claim))
			must(t, err)
		}
		if st == tandem.TicketClosed || st == tandem.TicketReturned {
			_, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Status: &st, ClosedAt: &end})
			must(t, err)
		}
		return tk
	}
	ticket("billing", 2*time.Hour, 0, tandem.TicketQueued, time.Time{})
	ticket("billing", 3*time.Hour, 10*time.Minute, tandem.TicketClaimed, time.Time{})
	closedC := ticket("billing", 5*time.Hour, 30*time.Minute, tandem.TicketClosed, ago(4*time.Hour))
	closedD := ticket("billing", 48*time.Hour, time.Hour, tandem.TicketClosed, ago(time.Hour)) // opened and claimed before the period
	ticket("billing", 6*time.Hour, 20*time.Minute, tandem.TicketReturned, ago(5*time.Hour))
	ticket("sales", 30*time.Hour, 0, tandem.TicketQueued, time.Time{})
	old := ticket("old", 100*time.Hour, time.Hour, tandem.TicketClosed, ago(90*time.Hour))
	// Two conversations the bot kept to itself, one in the period.
	for i, age := range []time.Duration{time.Hour, 50 * time.Hour} {
		cust, _ := resolve(t, s, tandem.ChannelWebChat, fmt.Sprintf("contained-%d", i))
		must(t, s.CreateConversation(ctx, &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelWebChat,
			Status: tandem.StatusOpen, CreatedAt: ago(age), UpdatedAt: ago(age)}))
	}

	t.Run("QueueStats/OK", func(t *testing.T) {
		got, err := s.QueueStats(ctx, since, now)
		must(t, err)
		want := []storage.QueueStats{
			{Queue: "billing", Waiting: 1, Claimed: 1, OldestWait: 2 * time.Hour, Opened: 4, Closed: 2, MedianClaim: 20 * time.Minute},
			{Queue: "sales", Waiting: 1, OldestWait: 30 * time.Hour},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("QueueStats/OKEvenMedian", func(t *testing.T) {
		got, err := s.QueueStats(ctx, ago(4*time.Hour), now)
		must(t, err)
		// Claimed in the last 4 hours: 10 minutes (billing's second ticket) only; from
		// 6 hours, 10, 20 and 30 minutes; the mean of the two middles when even.
		if len(got) == 0 || got[0].MedianClaim != 10*time.Minute {
			t.Errorf("last 4 hours = %+v", got)
		}
		got, err = s.QueueStats(ctx, ago(5*time.Hour), now)
		must(t, err)
		if len(got) == 0 || got[0].MedianClaim != 20*time.Minute { // 10 and 30 minutes
			t.Errorf("last 5 hours = %+v", got)
		}
	})
	t.Run("CSATStats/OK", func(t *testing.T) {
		rate := func(tk *tandem.Ticket, agent string, score int, at time.Time) {
			t.Helper()
			must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: tk.ConversationID, CSAT: &tandem.CSATResponse{
				TicketID: tk.ID, ConversationID: tk.ConversationID, BotID: "bot", Queue: tk.Queue, AgentID: agent, Score: score, At: at}}))
		}
		rate(closedC, "ag-1", 4, ago(3*time.Hour))
		rate(closedC, "ag-1", 1, ago(2*time.Hour)) // resent: the first rating stays
		rate(closedD, "ag-2", 2, ago(30*time.Minute))
		rate(old, "ag-2", 5, ago(89*time.Hour)) // before the period
		got, err := s.CSATStats(ctx, since)
		must(t, err)
		want := &storage.CSATStats{
			ByQueue: []storage.CSATGroup{{Key: "billing", Count: 2, Sum: 6}},
			ByAgent: []storage.CSATGroup{{Key: "ag-1", Count: 1, Sum: 4}, {Key: "ag-2", Count: 1, Sum: 2}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		if avg := got.ByQueue[0].Average(); avg != 3 {
			t.Errorf("average = %v, want 3", avg)
		}
		got, err = s.CSATStats(ctx, now)
		must(t, err)
		if len(got.ByQueue) != 0 || len(got.ByAgent) != 0 {
			t.Errorf("empty period = %+v", got)
		}
	})
	t.Run("ConversationStats/OK", func(t *testing.T) {
		got, err := s.ConversationStats(ctx, since)
		must(t, err)
		// Billing's queued, claimed, closed and returned tickets' conversations, and one
		// contained conversation.
		if want := (storage.ConversationStats{Started: 5, WithTicket: 4}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("CountAudit/OK", func(t *testing.T) {
		for _, e := range []tandem.AuditEntry{
			{Action: tandem.AuditQuestionUnanswered, At: ago(time.Hour)},
			{Action: tandem.AuditQuestionUnanswered, At: ago(2 * time.Hour)},
			{Action: tandem.AuditQuestionUnanswered, At: ago(50 * time.Hour)},
			{Action: "ticket.claim", At: ago(time.Hour)},
		} {
			e.Actor, e.Subject = "system", "kb"
			must(t, s.AppendAudit(ctx, &e))
		}
		got, err := s.CountAudit(ctx, tandem.AuditQuestionUnanswered, since)
		must(t, err)
		if got != 2 {
			t.Errorf("count = %d, want 2", got)
		}
	})
}

package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/storage"
)

func TestRetentionSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550950")
			if err != nil {
				t.Fatal(err)
			}
			conv := func(bot string, status tandem.ConversationStatus, at time.Time) *tandem.Conversation {
				t.Helper()
				c := &tandem.Conversation{BotID: bot, CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: status, CreatedAt: at, UpdatedAt: at}
				if err := st.CreateConversation(ctx, c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			msg := func(c *tandem.Conversation, text string, at time.Time) *tandem.Message {
				t.Helper()
				m := &tandem.Message{ConversationID: c.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: text, CreatedAt: at}
				if err := st.CreateMessage(ctx, m); err != nil {
					t.Fatal(err)
				}
				return m
			}
			old := conv("a", tandem.StatusClosed, t0)
			later := conv("b", tandem.StatusClosed, t0.Add(10*day))
			open := conv("c", tandem.StatusOpen, t0)
			first := msg(open, "write to ada@example.com", t0)
			second := msg(open, "or to ada.l@example.org", t0.Add(10*day))
			tk := &tandem.Ticket{ConversationID: open.ID, BotID: "c", Queue: "q"}
			if err := st.CreateTicket(ctx, tk); err != nil {
				t.Fatal(err)
			}
			note := &tandem.Note{ConversationID: open.ID, TicketID: tk.ID, AuthorID: "ann", Text: "she also uses ada@work.example", CreatedAt: t0.Add(day)}
			if err := st.CreateNote(ctx, note, nil); err != nil {
				t.Fatal(err)
			}

			clk := &clock{t: t0}
			var mu sync.Mutex
			observed := map[string]int{}
			w := jobs.NewRetention(st, jobs.RetentionConfig{ClosedConversations: 30 * day, RedactAfter: 7 * day, Batch: 1, Now: clk.Now,
				Observe: func(kind string, n int) { mu.Lock(); observed[kind] += n; mu.Unlock() }})

			steps := []struct {
				at   time.Duration // after t0
				want jobs.RetentionResult
			}{
				{5 * day, jobs.RetentionResult{}},
				{8 * day, jobs.RetentionResult{RedactedMessages: 1}},                    // first (the note is 7 days old)
				{8*day + 2*time.Hour, jobs.RetentionResult{RedactedNotes: 1}},           // the note
				{31 * day, jobs.RetentionResult{Conversations: 1, RedactedMessages: 1}}, // old, second
				{41 * day, jobs.RetentionResult{Conversations: 1}},                      // later
				{400 * day, jobs.RetentionResult{}},                                     // the open one stays
			}
			for _, s := range steps {
				clk.t = t0.Add(s.at)
				got, err := w.Sweep(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got != s.want {
					t.Errorf("sweep at +%s = %+v, want %+v", s.at, got, s.want)
				}
			}
			if observed[jobs.RetentionConversations] != 2 || observed[jobs.RetentionRedactedMessages] != 2 {
				t.Errorf("observed = %v", observed)
			}
			for _, c := range []*tandem.Conversation{old, later} {
				if _, err := st.FindConversationByID(ctx, c.ID); tandem.ErrorCode(err) != tandem.ENOTFOUND {
					t.Errorf("conversation %s: err = %v, want not found", c.BotID, err)
				}
			}
			ms, err := st.ListMessages(ctx, open.ID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			notes, err := st.ListCustomerNotes(ctx, open.CustomerID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) != 1 || notes[0].Text != "she also uses [EMAIL]" {
				t.Errorf("notes = %+v, want the address redacted", notes)
			}
			want := map[string]string{first.ID: "write to [EMAIL]", second.ID: "or to [EMAIL]"}
			if len(ms) != 2 || ms[0].Text != want[ms[0].ID] || ms[1].Text != want[ms[1].ID] {
				t.Errorf("messages = %+v", ms)
			}
		})
	}
}

func TestRetentionDisabled(t *testing.T) {
	t.Parallel()
	st := teststore.All[0].Open(t)
	w := jobs.NewRetention(st, jobs.RetentionConfig{})
	if w.Enabled() {
		t.Fatal("enabled with no ages set")
	}
	// Run returns at once: it has nothing to do.
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := w.Sweep(context.Background())
	if err != nil || got != (jobs.RetentionResult{}) {
		t.Errorf("sweep = %+v, %v", got, err)
	}
}

// TestRetentionRun checks the worker sweeps as it starts, then stops with its context.
func TestRetentionRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := teststore.All[0].Open(t)
	cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550951")
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-48 * time.Hour)
	c := &tandem.Conversation{BotID: "a", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed, CreatedAt: long, UpdatedAt: long}
	if err := st.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	swept := make(chan string, 1)
	w := jobs.NewRetention(st, jobs.RetentionConfig{ClosedConversations: 24 * time.Hour, Poll: time.Hour,
		Observe: func(kind string, n int) { swept <- kind }})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	if kind := <-swept; kind != jobs.RetentionConversations {
		t.Errorf("swept %q", kind)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := st.FindConversationByID(context.Background(), c.ID); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("old closed conversation: err = %v, want not found", err)
	}
}

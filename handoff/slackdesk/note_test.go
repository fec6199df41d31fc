package slackdesk_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/storage"
)

// testThreadNote: a thread message starting with "note:" is an internal note on the ticket,
// from any agent, holder or not; it is never an agent message to the customer, and Slack's
// retry stores it once.
func testThreadNote(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		user    string
		text    string
		want    string // the stored note, "" for none
		answer  string // the ephemeral answer to the writer
		retries int
	}{
		{name: "OKHolder", user: "U0ANN", text: "note: called her, refund approved", want: "called her, refund approved", answer: "only agents see it"},
		{name: "OKNotHolder", user: "U0BOB", text: "  NOTE:  prefers email  ", want: "prefers email", answer: "only agents see it"},
		{name: "OKRetry", user: "U0ANN", text: "note: once", want: "once", retries: 2},
		{name: "ErrEmpty", user: "U0BOB", text: "note:   ", answer: "Note not saved: the note is empty"},
		{name: "ErrTooLarge", user: "U0BOB", text: "note: " + strings.Repeat("x", 5000), answer: "Note not saved: the note is 5000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			f.claim(t, "ann@example.com")
			body := replyBody(map[string]any{"thread_ts": ts, "user": tt.user, "text": tt.text})
			for range 1 + tt.retries {
				if rec := serve(f.desk, signed("application/json", body, testSecret, time.Now())); rec.Code != http.StatusOK {
					t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
				}
			}
			if got := f.agentMessages(t); len(got) != 0 {
				t.Errorf("agent messages = %+v, want none: a note never goes to the customer", got)
			}
			ds, err := f.st.ListDeliveries(context.Background(), storage.DeliveryFilter{})
			if err != nil || len(ds) != 0 {
				t.Errorf("deliveries = %+v, %v; want none", ds, err)
			}
			notes, err := f.st.ListCustomerNotes(context.Background(), f.conv.CustomerID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(notes) != 0 {
					t.Errorf("notes = %+v, want none", notes)
				}
			} else {
				author, err := f.st.FindAgentByEmail(context.Background(), map[string]string{"U0ANN": "ann@example.com", "U0BOB": "bob@example.com"}[tt.user])
				if err != nil {
					t.Fatal(err)
				}
				if len(notes) != 1 || notes[0].Text != tt.want || notes[0].AuthorID != author.ID || notes[0].TicketID != f.ticket.ID {
					t.Errorf("notes = %+v, want one %q by %s", notes, tt.want, author.ID)
				}
			}
			if tt.answer != "" {
				if text, thread := f.ephemeral(t, tt.user); !strings.Contains(text, tt.answer) || thread != ts {
					t.Errorf("ephemeral = %q in thread %q, want %q in the card's thread", text, thread, tt.answer)
				}
			}
		})
	}
}

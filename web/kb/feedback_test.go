package kb_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/kb"
)

// TestFeedbackReport: customers' votes on answers show per document on its page and, for
// the unhelpful ones, on /kb/feedback with the questions that led to them; votes older
// than the window count nowhere.
func TestFeedbackReport(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := setup(t, kb.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	cust, _, err := f.store.ResolveIdentity(ctx, tandem.ChannelWebChat, "visitor")
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusOpen}
	if err := f.store.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	vote := func(question string, helpful bool, at time.Time, comment string, docs ...string) {
		t.Helper()
		q := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelWebChat, Text: question}
		a := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelWebChat, Text: "answer to " + question}
		for _, d := range docs {
			a.Citations = append(a.Citations, tandem.Citation{DocID: d})
		}
		if err := f.store.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Inbound: q, Replies: []*tandem.Message{a}}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: a.ID, CustomerID: cust.ID, Helpful: helpful,
			Comment: comment, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	vote("How long does shipping take to Oslo?", false, now.Add(-day), "I asked about Norway", shippingID)
	vote("Is shipping free?", false, now.Add(-2*day), "", shippingID, returnsID)
	vote("When will my parcel come?", true, now.Add(-3*day), "", shippingID)
	vote("Can I return socks?", true, now.Add(-day), "", returnsID)
	vote("Ancient shipping question", false, now.Add(-40*day), "", shippingID) // outside the window
	vote("Gone article question", false, now.Add(-day), "", "default/faq/deleted")

	tests := []struct {
		name, target string
		want, not    []string
	}{
		{"ReportOK", "/kb/feedback", []string{"Answers that did not help", `aria-current="page">Did not help`,
			`title="not helpful votes">2<`, "How long does shipping take?", "How long does shipping take to Oslo?", "Is shipping free?",
			"I asked about Norway", "1 helpful of 3 (33%)", "Returns and refunds", "default/faq/deleted", "(deleted)"},
			[]string{"When will my parcel come?", "Can I return socks?", "Ancient shipping question"}},
		{"DocPageOK", "/kb/docs/" + shippingID, []string{`id="doc-feedback"`, "1 helpful", "2 not helpful", "(33% helpful)", "last 30 days"}, nil},
		{"DocPageNoVotes", "/kb/docs/default/faq/payment", []string{`id="doc-feedback"`, "no votes"}, []string{"see the questions"}},
		{"NavLink", "/kb/unanswered", []string{`href="/kb/feedback"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := f.do(t, httptest.NewRequest("GET", tt.target, nil))
			if res.StatusCode != 200 {
				t.Fatalf("status = %d; body:\n%s", res.StatusCode, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("body has %q", n)
				}
			}
		})
	}
	t.Run("OrderByNotHelpful", func(t *testing.T) {
		t.Parallel()
		_, body := f.do(t, httptest.NewRequest("GET", "/kb/feedback", nil))
		ship, ret := strings.Index(body, "How long does shipping take?"), strings.Index(body, "Returns and refunds")
		if ship < 0 || ret < 0 || ship > ret {
			t.Errorf("shipping (2 not helpful) should come before returns (1): %d, %d", ship, ret)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		g := setup(t, kb.Config{})
		_, body := g.do(t, httptest.NewRequest("GET", "/kb/feedback", nil))
		if !strings.Contains(body, "No answer was marked") {
			t.Errorf("empty report:\n%s", body)
		}
	})
}

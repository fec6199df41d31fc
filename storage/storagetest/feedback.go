package storagetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// answered stores a customer question and the bot's answer citing docs (none: a plain bot
// message) in conv, and returns both.
func answered(t *testing.T, s storage.Store, conv *tandem.Conversation, question string, docs ...string) (q, a *tandem.Message) {
	t.Helper()
	ctx := context.Background()
	q = &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: conv.Channel, Text: question}
	a = &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: conv.Channel, Text: "answer to " + question}
	for _, d := range docs {
		a.Citations = append(a.Citations, tandem.Citation{DocID: d, Title: strings.ToUpper(d)})
	}
	must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Inbound: q, Replies: []*tandem.Message{a}}))
	return q, a
}

// testAnswerFeedback checks votes on knowledge answers. Its subtests run one after another:
// the sums cover the whole store, so each case uses documents and times of its own.
func testAnswerFeedback(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	cust, _ := resolve(t, s, tandem.ChannelWebChat, "voter")
	conv := newConversation(t, s, "fb", cust.ID, tandem.ChannelWebChat)
	other, _ := resolve(t, s, tandem.ChannelWebChat, "someone-else")

	t.Run("Put/OK", func(t *testing.T) {
		q, a := answered(t, s, conv, "how long is shipping?", "shipping")
		f := &tandem.AnswerFeedback{MessageID: a.ID, CustomerID: cust.ID, Helpful: true, At: when}
		must(t, s.PutAnswerFeedback(ctx, f))
		if f.ConversationID != conv.ID || f.BotID != "fb" || f.QuestionID != q.ID {
			t.Errorf("filled in %+v, want conversation %s, bot fb, question %s", f, conv.ID, q.ID)
		}
		// Changing one's mind replaces the vote.
		later := when.Add(time.Minute)
		must(t, s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: a.ID, CustomerID: cust.ID, Helpful: false, Comment: "too vague", At: later}))
		got, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{ConversationID: conv.ID})
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("votes = %+v, want one", got)
		}
		g := got[0]
		if g.MessageID != a.ID || g.Helpful || g.Comment != "too vague" || g.QuestionID != q.ID || g.Question != q.Text || g.Answer != a.Text ||
			g.CustomerID != cust.ID || g.BotID != "fb" {
			t.Errorf("vote = %+v", g)
		}
		wantTime(t, "at", g.At, later)
	})

	t.Run("Put/Err", func(t *testing.T) {
		_, plain := answered(t, s, conv, "hello") // a bot message citing nothing
		q, a := answered(t, s, conv, "returns?", "returns")
		long := strings.Repeat("x", tandem.MaxFeedbackCommentBytes+1)
		for _, tt := range []struct {
			name string
			f    tandem.AnswerFeedback
			code string
		}{
			{"ErrNotFound", tandem.AnswerFeedback{MessageID: "no-such-message", CustomerID: cust.ID}, tandem.ENOTFOUND},
			{"ErrForbidden", tandem.AnswerFeedback{MessageID: a.ID, CustomerID: other.ID}, tandem.EFORBIDDEN},
			{"ErrInvalidCustomerMessage", tandem.AnswerFeedback{MessageID: q.ID, CustomerID: cust.ID}, tandem.EINVALID},
			{"ErrInvalidNotKnowledge", tandem.AnswerFeedback{MessageID: plain.ID, CustomerID: cust.ID}, tandem.EINVALID},
			{"ErrInvalidComment", tandem.AnswerFeedback{MessageID: a.ID, CustomerID: cust.ID, Comment: long}, tandem.EINVALID},
			{"ErrInvalidNoMessage", tandem.AnswerFeedback{CustomerID: cust.ID}, tandem.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := s.PutAnswerFeedback(ctx, &tt.f)
				wantCode(t, err, tt.code)
			})
		}
		got, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{DocumentID: "returns"})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("refused votes were stored: %+v", got)
		}
	})

	t.Run("Put/OKConversationCustomer", func(t *testing.T) {
		// No customer id: the vote is the conversation's customer's (an integrator's call).
		_, a := answered(t, s, conv, "exchanges?", "exchanges")
		f := &tandem.AnswerFeedback{MessageID: a.ID, Helpful: true}
		must(t, s.PutAnswerFeedback(ctx, f))
		got, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{DocumentID: "exchanges"})
		must(t, err)
		if f.CustomerID != cust.ID || len(got) != 1 || got[0].CustomerID != cust.ID {
			t.Errorf("vote = %+v, stored %+v; want customer %s", f, got, cust.ID)
		}
	})

	t.Run("Concurrent/OK", func(t *testing.T) {
		// Many tabs voting at once leave exactly one vote, one of theirs.
		_, a := answered(t, s, conv, "concurrent?", "concurrent")
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: a.ID, CustomerID: cust.ID, Helpful: i%2 == 0,
					Comment: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{DocumentID: "concurrent"})
		must(t, err)
		if len(got) != 1 || got[0].Helpful != (got[0].Comment == "0" || got[0].Comment == "2" || got[0].Comment == "4" || got[0].Comment == "6") {
			t.Errorf("votes = %+v, want one, consistent", got)
		}
	})

	t.Run("Stats/OK", func(t *testing.T) {
		// Votes of 2031, after every other case's: the period starts then.
		base := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
		vote := func(c *tandem.Conversation, voter, question string, helpful bool, at time.Time, docs ...string) {
			t.Helper()
			_, a := answered(t, s, c, question, docs...)
			must(t, s.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: a.ID, CustomerID: voter, Helpful: helpful, At: at}))
		}
		otherConv := newConversation(t, s, "fb2", other.ID, tandem.ChannelWebChat)
		vote(conv, cust.ID, "old question", false, base.Add(-time.Hour), "st-a") // before the period
		vote(conv, cust.ID, "q1", false, base.Add(time.Hour), "st-a", "st-b")
		vote(conv, cust.ID, "q2", false, base.Add(2*time.Hour), "st-a", "st-a") // two chunks of one document
		vote(otherConv, other.ID, "q3", true, base.Add(3*time.Hour), "st-a")
		vote(otherConv, other.ID, "q4", true, base.Add(4*time.Hour), "st-c")

		got, err := s.DocumentFeedbackStats(ctx, base, "", 0)
		must(t, err)
		want := []storage.DocumentFeedback{
			{DocumentID: "st-a", Helpful: 1, NotHelpful: 2},
			{DocumentID: "st-b", NotHelpful: 1},
			{DocumentID: "st-c", Helpful: 1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stats = %+v\nwant    %+v", got, want)
		}
		one, err := s.DocumentFeedbackStats(ctx, base, "st-c", 0)
		must(t, err)
		if !reflect.DeepEqual(one, want[2:]) || one[0].HelpfulRate() != 1 {
			t.Errorf("st-c = %+v", one)
		}
		top, err := s.DocumentFeedbackStats(ctx, base, "", 1)
		must(t, err)
		if !reflect.DeepEqual(top, want[:1]) {
			t.Errorf("limit 1 = %+v", top)
		}
		none, err := s.DocumentFeedbackStats(ctx, base, "no-votes", 0)
		must(t, err)
		if len(none) != 0 {
			t.Errorf("a document without votes = %+v", none)
		}

		all, err := s.AnswerFeedbackStats(ctx, base)
		must(t, err)
		if all != (storage.AnswerFeedbackStats{Rated: 4, Helpful: 2}) || all.HelpfulRate() != 0.5 {
			t.Errorf("answer stats = %+v", all)
		}

		unhelpful, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{DocumentID: "st-a", Helpful: ptr(false), Since: base})
		must(t, err)
		var qs []string
		for _, u := range unhelpful {
			qs = append(qs, u.Question)
		}
		if !reflect.DeepEqual(qs, []string{"q2", "q1"}) {
			t.Errorf("unhelpful questions of st-a = %q, want newest first [q2 q1]", qs)
		}
		limited, err := s.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{Since: base, Limit: 2})
		must(t, err)
		if len(limited) != 2 || limited[0].Question != "q4" {
			t.Errorf("limit 2 = %+v", limited)
		}
	})
}

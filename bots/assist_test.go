package bots_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestSuggestReplies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	first := f.say(t, tandem.ChannelWebChat, "visitor-suggest", "I want to talk to a human")
	if first.Handoff == nil {
		t.Fatalf("the demo bot did not hand off: %+v", first)
	}
	// While a human has the conversation the bot stays silent; the agent gets suggestions.
	f.say(t, tandem.ChannelWebChat, "visitor-suggest", "how long does shipping take?")
	f.say(t, tandem.ChannelWebChat, "visitor-suggest", "hello")
	msgs, err := f.store.ListMessages(ctx, first.ConversationID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byText := map[string]*tandem.Message{}
	for i := range msgs {
		byText[msgs[i].Text] = &msgs[i]
	}
	cust, err := f.store.FindCustomerByID(ctx, first.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	audit, _ := f.store.ListAudit(ctx, storage.AuditFilter{Action: tandem.AuditQuestionUnanswered})

	tests := []struct {
		name       string
		bot        string
		msg        *tandem.Message
		wantSource string // of the first suggestion; "" wants none
		wantText   string
		cited      bool
	}{
		{name: "OK/Knowledge", bot: "demo", msg: byText["how long does shipping take?"], wantSource: "knowledge", wantText: "business days", cited: true},
		{name: "OK/IntentResponse", bot: "demo", msg: byText["hello"], wantSource: "intent greet"},
		{name: "ErrUnknownBot", bot: "nobody", msg: byText["hello"]},
		{name: "ErrEmptyText", bot: "demo", msg: &tandem.Message{Text: "  "}},
		{name: "ErrNoMessage", bot: "demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.engine.SuggestReplies(ctx, tt.bot, cust, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSource == "" {
				if len(got) != 0 {
					t.Errorf("suggestions = %+v, want none", got)
				}
				return
			}
			if len(got) == 0 || got[0].Source != tt.wantSource || !strings.Contains(got[0].Text, tt.wantText) ||
				tt.cited != (len(got[0].Citations) > 0) {
				t.Fatalf("suggestions = %+v, want first from %q containing %q (cited: %v)", got, tt.wantSource, tt.wantText, tt.cited)
			}
		})
	}
	after, err := f.store.ListMessages(ctx, first.ConversationID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	auditAfter, _ := f.store.ListAudit(ctx, storage.AuditFilter{Action: tandem.AuditQuestionUnanswered})
	if len(after) != len(msgs) || len(auditAfter) != len(audit) {
		t.Errorf("suggesting stored something: %d → %d messages, %d → %d unanswered reports", len(msgs), len(after), len(audit), len(auditAfter))
	}
}

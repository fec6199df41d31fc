package inbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/inbox"
)

// TestReplyWindow checks the ticket page's notice about WhatsApp's 24-hour window: open
// until 24 hours after the customer's last WhatsApp message, else closed, saying that
// replies are held and the bot's reopen template sent, or that they cannot be delivered
// when the bot has none; and a held reply's badge. Channels without a window show none.
func TestReplyWindow(t *testing.T) {
	t.Parallel()
	pageNow := now.Add(5 * time.Minute) // the inbox's clock (setupWith)
	tests := []struct {
		name    string
		wrote   time.Duration // before pageNow; 0: never on WhatsApp
		reopen  string        // the bot's reopen template
		want    []string
		notWant []string
	}{
		{name: "OKOpen", wrote: time.Hour, reopen: "reopen",
			want:    []string{`class="reply-window reply-window-open small"`, "whatsapp window open until <time>2026-11-25 14:05 UTC</time>"},
			notWant: []string{"held"}},
		{name: "OKClosedReopen", wrote: 30 * time.Hour, reopen: "reopen",
			want: []string{`class="reply-window reply-window-closed small"`, "whatsapp window closed since <time>2026-11-24 09:05 UTC</time>",
				"replies are held and the template <code>reopen</code> is sent", "delivery-held\">held: until the customer writes again<"}},
		{name: "OKClosedNoTemplate", wrote: 30 * time.Hour,
			want:    []string{"whatsapp window closed since", "replies cannot be delivered until the customer writes again (the bot has no reopen template)"},
			notWant: []string{"<code>"}},
		{name: "OKNeverWrote", reopen: "reopen",
			want:    []string{"whatsapp window closed:", "<code>reopen</code>"},
			notWant: []string{"closed since"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var asked []string
			f := setupWith(t, func(_ *inbox.Config, d *inbox.Deps) {
				d.ReopenTemplate = func(bot string, ch tandem.Channel) string {
					asked = append(asked, bot+"/"+string(ch))
					return tt.reopen
				}
			})
			cust, _, err := f.store.ResolveIdentity(ctx, tandem.ChannelWhatsApp, "+15550177")
			if err != nil {
				t.Fatal(err)
			}
			conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelWhatsApp, Status: tandem.StatusHandoff}
			if err := f.store.CreateConversation(ctx, conv); err != nil {
				t.Fatal(err)
			}
			if tt.wrote > 0 {
				// An older message on another channel does not count.
				for _, m := range []*tandem.Message{
					{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "hello by sms", CreatedAt: pageNow.Add(-tt.wrote + time.Minute)},
					{Role: tandem.RoleCustomer, Channel: tandem.ChannelWhatsApp, Text: "I want a human", CreatedAt: pageNow.Add(-tt.wrote)},
				} {
					m.ConversationID = conv.ID
					if err := f.store.CreateMessage(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
			}
			late := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleAgent, Channel: tandem.ChannelWhatsApp, Text: "Here is your answer.", CreatedAt: pageNow}
			if err := f.store.CreateMessage(ctx, late); err != nil {
				t.Fatal(err)
			}
			if err := f.store.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: late.ID, BotID: "demo", Channel: tandem.ChannelWhatsApp,
				To: "+15550177", Reply: tandem.Reply{Text: late.Text}}}); err != nil {
				t.Fatal(err)
			}
			if tt.wrote > 24*time.Hour && tt.reopen != "" {
				held, why := tandem.DeliveryHeld, "WhatsApp accepts only templates (error 63016)"
				if _, err := f.store.UpdateDelivery(ctx, late.ID, storage.DeliveryUpdate{Status: &held, LastError: &why}); err != nil {
					t.Fatal(err)
				}
			}
			tk, err := handoff.Open(ctx, f.store, conv, handoff.Request{Queue: "support", Reason: "customer asked for a human"})
			if err != nil {
				t.Fatal(err)
			}
			cookie := f.signIn(t, "ann@example.com")
			_, body := f.do(t, get("/inbox/tickets/"+tk.ID, cookie))
			notice := body
			if i, j := strings.Index(body, `id="reply-window"`), strings.Index(body, `id="reply-suggestions"`); i >= 0 && j > i {
				notice = body[i:j]
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("ticket page lacks %q; notice:\n%s", w, notice)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(notice, w) {
					t.Errorf("window notice has %q:\n%s", w, notice)
				}
			}
			if len(asked) != 1 || asked[0] != "demo/whatsapp" {
				t.Errorf("asked for reopen templates of %v, want demo/whatsapp", asked)
			}

			// A web chat ticket has no window.
			_, body = f.do(t, get("/inbox/tickets/"+f.ticket.ID, cookie))
			if strings.Contains(body, `class="reply-window`) {
				t.Error("a web chat ticket shows a reply window")
			}
		})
	}
}

package bots_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

const phone = "+15550100199"

// TestCrossChannelContinuity: a web visitor proves their phone with a one-time code, then
// continues the same open conversation over SMS, mid-flow, with history and profile.
func TestCrossChannelContinuity(t *testing.T) {
	t.Parallel()
	for _, sb := range teststore.All {
		t.Run(sb.Name, func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				name   string
				code   func(f *fixture) string
				linked bool
			}{
				{"OK", func(f *fixture) string { return f.notifier.last(tandem.ChannelSMS, phone) }, true},
				{"ErrWrongCode", func(f *fixture) string { return "000000" }, false},
				{"ErrExpiredCode", func(f *fixture) string {
					c := f.notifier.last(tandem.ChannelSMS, phone)
					f.clock.Add(25 * time.Minute)
					return c
				}, false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					f := setupStore(t, sb.Open(t))
					web := f.say(t, tandem.ChannelWebChat, "visitor-1", "I want to return something")
					f.say(t, tandem.ChannelWebChat, "visitor-1", "A100002")
					name := "Jane"
					if _, err := f.store.UpdateCustomer(ctx, web.CustomerID, storage.CustomerUpdate{DisplayName: &name, Profile: map[string]string{"name": "Jane"}}); err != nil {
						t.Fatal(err)
					}
					if err := f.engine.SendLinkCode(ctx, "demo", web.CustomerID, tandem.ChannelSMS, phone); err != nil {
						t.Fatal(err)
					}
					err := f.engine.VerifyLinkCode(ctx, web.CustomerID, tandem.ChannelSMS, phone, tt.code(f))
					if tt.linked != (err == nil) {
						t.Fatalf("VerifyLinkCode = %v, want linked %v", err, tt.linked)
					}
					if !tt.linked && tandem.ErrorCode(err) != tandem.EINVALID {
						t.Fatalf("code = %s, want invalid", tandem.ErrorCode(err))
					}
					sms := f.say(t, tandem.ChannelSMS, phone, "it's damaged")
					if !tt.linked {
						if sms.CustomerID == web.CustomerID || sms.ConversationID == web.ConversationID {
							t.Fatal("an unproven identity joined the customer")
						}
						return
					}
					if sms.CustomerID != web.CustomerID || sms.ConversationID != web.ConversationID {
						t.Fatalf("sms turn customer/conversation = %s/%s, want %s/%s", sms.CustomerID, sms.ConversationID, web.CustomerID, web.ConversationID)
					}
					if sms.Decision.Kind != tandem.DecisionFlow || !strings.Contains(joined(sms), "A100002") {
						t.Fatalf("sms turn did not continue the flow: %s %q", sms.Decision.Reason, joined(sms))
					}
					conv, err := f.store.FindConversationByID(ctx, web.ConversationID)
					if err != nil {
						t.Fatal(err)
					}
					if conv.Channel != tandem.ChannelSMS {
						t.Errorf("conversation channel = %s, want sms (replies go where the customer last wrote)", conv.Channel)
					}
					msgs, err := f.store.ListMessages(ctx, conv.ID, storage.MessageFilter{})
					if err != nil {
						t.Fatal(err)
					}
					chans := map[tandem.Channel]bool{}
					for _, m := range msgs {
						chans[m.Channel] = true
					}
					if !chans[tandem.ChannelWebChat] || !chans[tandem.ChannelSMS] || len(msgs) < 6 {
						t.Errorf("history = %d messages on %v, want both channels", len(msgs), chans)
					}
					audit, err := f.store.ListAudit(ctx, storage.AuditFilter{Action: "identity.link"})
					if err != nil || len(audit) != 1 {
						t.Fatalf("audit = %v, %v; want one identity.link entry", audit, err)
					}
					// Unlinking is reversible: the phone gets a customer of its own again.
					id, err := f.store.FindIdentity(ctx, tandem.ChannelSMS, phone)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := f.store.UnlinkIdentity(ctx, id.ID, "agent:a1"); err != nil {
						t.Fatal(err)
					}
					again := f.say(t, tandem.ChannelSMS, phone, "hi")
					if again.CustomerID == web.CustomerID {
						t.Error("unlinked identity still resolves to the web customer")
					}
				})
			}
		})
	}
}

func TestSignedLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		mangle func(f *fixture, tok string) string
		code   string
	}{
		{"OK", func(f *fixture, tok string) string { return tok }, ""},
		{"ErrForged", func(f *fixture, tok string) string { return forge(tok) }, tandem.EUNAUTHORIZED},
		{"ErrExpired", func(f *fixture, tok string) string { f.clock.Add(2 * time.Hour); return tok }, tandem.EUNAUTHORIZED},
		{"ErrMalformed", func(f *fixture, tok string) string { return "nonsense" }, tandem.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			web := f.say(t, tandem.ChannelWebChat, "visitor-1", "hi")
			tok := f.engine.SignLink(web.CustomerID, tandem.ChannelSMS, phone, time.Hour)
			id, err := f.engine.ConfirmLink(ctx, tt.mangle(f, tok))
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("ConfirmLink code = %q (%v), want %q", got, err, tt.code)
			}
			if err == nil && (id.CustomerID != web.CustomerID || !id.Verified) {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

// TestLinkAccountFlow links an email through the demo bot's link_account flow.
func TestLinkAccountFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	f.say(t, tandem.ChannelWebChat, "visitor-1", "link my account")
	turn := f.say(t, tandem.ChannelWebChat, "visitor-1", "jane@example.com")
	code := f.notifier.last(tandem.ChannelEmail, "jane@example.com")
	if code == "" {
		t.Fatalf("no code sent; bot said %q (%s)", joined(turn), turn.Decision.Reason)
	}
	// A question while the flow waits for the (free-text) code is answered, then the flow resumes.
	turn = f.say(t, tandem.ChannelWebChat, "visitor-1", "how long does shipping take?")
	if turn.Decision.Flow != "link_account" || !strings.Contains(joined(turn), "code") {
		t.Fatalf("mid-flow question: %s %q", turn.Decision.Reason, joined(turn))
	}
	turn = f.say(t, tandem.ChannelWebChat, "visitor-1", code)
	if !strings.Contains(joined(turn), "linked") {
		t.Fatalf("reply %q (%s)", joined(turn), turn.Decision.Reason)
	}
	id, err := f.store.FindIdentity(ctx, tandem.ChannelEmail, "jane@example.com")
	if err != nil || id.CustomerID != turn.CustomerID || !id.Verified {
		t.Fatalf("email identity = %+v, %v", id, err)
	}
}

func TestSendOutbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(f *fixture)
		req     bots.OutboundRequest
		code    string
	}{
		{"OKText", nil, bots.OutboundRequest{Text: "Your order shipped."}, ""},
		{"OKFlowWithSlots", nil, bots.OutboundRequest{Flow: "order_status", Slots: map[string]string{"order_number": "A100001"}}, ""},
		{"ErrOptedOut", func(f *fixture) {
			c, _, _ := f.store.ResolveIdentity(ctx, tandem.ChannelSMS, phone)
			_, _ = f.store.UpdateCustomer(ctx, c.ID, storage.CustomerUpdate{Profile: map[string]string{"opt_out": "true"}})
		}, bots.OutboundRequest{Text: "promo"}, tandem.EFORBIDDEN},
		{"ErrDailyLimit", func(f *fixture) {
			for range 3 {
				if _, err := f.engine.SendOutbound(ctx, bots.OutboundRequest{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: phone, Text: "x"}); err != nil {
					panic(err)
				}
			}
		}, bots.OutboundRequest{Text: "one too many"}, tandem.ECONFLICT},
		{"ErrHandoff", func(f *fixture) { f.say(t, tandem.ChannelSMS, phone, "I want to talk to a human") },
			bots.OutboundRequest{Text: "x"}, tandem.ECONFLICT},
		{"ErrTwoContents", nil, bots.OutboundRequest{Text: "x", Flow: "order_status"}, tandem.EINVALID},
		{"ErrUnknownBot", nil, bots.OutboundRequest{BotID: "nope", Text: "x"}, tandem.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			if tt.prepare != nil {
				tt.prepare(f)
			}
			req := tt.req
			if req.BotID == "" {
				req.BotID = "demo"
			}
			req.Channel, req.ExternalID = tandem.ChannelSMS, phone
			turn, err := f.engine.SendOutbound(ctx, req)
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("SendOutbound code = %q (%v), want %q", got, err, tt.code)
			}
			if err != nil {
				return
			}
			if len(turn.Replies) == 0 || turn.Decision.Kind != bots.DecisionOutbound {
				t.Fatalf("turn = %+v", turn)
			}
			// Each proactive message is on its way to the customer's phone.
			pending, err := f.store.ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliveryPending})
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) != len(turn.Replies) || pending[0].To != phone || pending[0].Channel != tandem.ChannelSMS || pending[0].Reply.Text != turn.Replies[0].Text {
				t.Errorf("deliveries = %+v, want the %d replies to %s by SMS", pending, len(turn.Replies), phone)
			}
			// The customer's reply continues the same conversation.
			reply := f.say(t, tandem.ChannelSMS, phone, "thanks!")
			if reply.ConversationID != turn.ConversationID {
				t.Errorf("reply went to conversation %s, want %s", reply.ConversationID, turn.ConversationID)
			}
		})
	}
}

// forge changes the last two characters of a signed value (to ones it did not end with).
func forge(s string) string {
	if strings.HasSuffix(s, "xx") {
		return s[:len(s)-2] + "yy"
	}
	return s[:len(s)-2] + "xx"
}

package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
)

// handOffAngry hands user's conversation with the demo bot to a human over the REST
// channel, then has the customer write a strongly negative message while they wait; it
// returns the ticket.
func handOffAngry(t *testing.T, base string, st storage.Store, user string) *tandem.Ticket {
	t.Helper()
	var conv string
	for _, text := range []string{"agent please", "this is the worst service ever, absolutely useless"} {
		code, body := post(t, base+"/api/v1/bots/demo/messages", fmt.Sprintf(`{"user":%q,"text":%q}`, user, text))
		if code != http.StatusOK {
			t.Fatalf("%q: status %d: %s", text, code, body)
		}
		if conv == "" {
			conv = string(body[strings.Index(string(body), `"conversation_id":"`)+len(`"conversation_id":"`):])
			conv = conv[:strings.Index(conv, `"`)]
		}
	}
	tk, err := st.FindActiveTicket(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestEscalationEndToEnd runs the real app on both stores: a strongly negative message
// during a handoff escalates its ticket in the turn, the worker escalates a ticket that
// waited longer than the demo bot's escalate_after, and /metrics counts both.
func TestEscalationEndToEnd(t *testing.T) {
	t.Parallel()
	for name, dsn := range storeDSNs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a, base := startApp(t, dsn(t), func(c *config.Config) { c.Escalation.Poll = 20 * time.Millisecond })
			st := a.Store()
			angry := handOffAngry(t, base, st, "e2e-angry")
			if !angry.Escalated() || !strings.Contains(angry.Escalation, "strongly negative") {
				t.Errorf("ticket after a negative message = %+v, want escalated", angry)
			}

			// A ticket queued an hour ago: the worker escalates it at its next poll.
			cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550999")
			if err != nil {
				t.Fatal(err)
			}
			conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusHandoff}
			if err := st.CreateConversation(ctx, conv); err != nil {
				t.Fatal(err)
			}
			waiting := &tandem.Ticket{ConversationID: conv.ID, BotID: "demo", Queue: "support", CreatedAt: time.Now().Add(-time.Hour)}
			if err := st.CreateTicket(ctx, waiting); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				tk, err := st.FindTicketByID(ctx, waiting.ID)
				if err != nil {
					t.Fatal(err)
				}
				if tk.Escalated() {
					if !strings.HasPrefix(tk.Escalation, "waited 1h0m0s in queue support") {
						t.Errorf("escalation = %q", tk.Escalation)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the worker did not escalate a ticket that waited an hour")
				}
				time.Sleep(20 * time.Millisecond)
			}

			// The worker counts an escalation just after storing it: read until it has.
			wants := []string{`tandem_tickets_escalated_total{reason="sentiment"} 1`, `tandem_tickets_escalated_total{reason="wait"} 1`}
			for {
				resp, err := http.Get(base + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				metrics, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				missing := slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(string(metrics), w) })
				if len(missing) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/metrics lacks %q", missing)
				}
				time.Sleep(20 * time.Millisecond)
			}
			audit, err := st.ListAudit(ctx, storage.AuditFilter{Action: handoff.ActionEscalate})
			if err != nil {
				t.Fatal(err)
			}
			if len(audit) != 2 {
				t.Errorf("audit has %d escalations, want 2", len(audit))
			}
		})
	}
}

// TestSupervisionBrowser: in headless Chromium, the inbox shows an escalated ticket with
// its badge and reason; the agent claims it and transfers it to a colleague.
func TestSupervisionBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, base := startApp(t, "")
	st := a.Store()
	tk := handOffAngry(t, base, st, "e2e-browser")
	bob := &tandem.Agent{Name: "Bob", Email: "bob@example.com", Capacity: 2}
	if err := st.CreateAgent(ctx, bob); err != nil {
		t.Fatal(err)
	}
	inbox := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, inbox)
	err := chromedp.Do(inbox,
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "ann@example.com"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("tr.escalated .badge-escalated")),
	)
	if err != nil {
		t.Fatalf("queue with an escalated ticket: %v", err)
	}
	reason, err := chromedp.Run(inbox, chromedp.Text(chromedp.CSS("tr.escalated td.reason")))
	if err != nil || !strings.Contains(reason, "Escalated: the customer wrote a strongly negative message") {
		t.Errorf("escalated row's reason = %q, %v", reason, err)
	}
	err = chromedp.Do(inbox,
		chromedp.Click(chromedp.CSS("tr.escalated a.ticket-link")),
		chromedp.WaitVisible(chromedp.ID("escalation")),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("reply-text")),
		chromedp.Click(chromedp.CSS("#transfer summary")),
		chromedp.WaitVisible(chromedp.ID("transfer-agent-select")),
		chromedp.SetValue(chromedp.ID("transfer-agent-select"), bob.ID),
		chromedp.SendKeys(chromedp.CSS("#transfer-agent input[name=note]"), "Angry about a late parcel"),
		chromedp.Click(chromedp.CSS("#transfer-agent button")),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="notice"][contains(.,"Transferred")]`)),
	)
	if err != nil {
		t.Fatalf("claim and transfer: %v", err)
	}
	got, err := st.FindTicketByID(ctx, tk.ID)
	if err != nil || got.AgentID != bob.ID || got.Status != tandem.TicketClaimed {
		t.Fatalf("ticket after transfer = %+v, %v; want claimed by Bob", got, err)
	}
	held, err := chromedp.Run(inbox, chromedp.Text(chromedp.CSS(".handoff-reason")))
	if err != nil || !strings.Contains(held, "held by Bob") {
		t.Errorf("ticket page says %q, %v; want held by Bob", held, err)
	}
}

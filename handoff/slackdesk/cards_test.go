package slackdesk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/storage"
)

// testEscalated: an escalation (by the worker or a turn) redraws the card with its reason.
func testEscalated(t *testing.T, open func(testing.TB) storage.Store) {
	ctx := context.Background()
	f := setup(t, open(t), setupOpt{})
	ts := f.posted(t)
	esc := &handoff.Escalator{Store: f.st, Desks: []handoff.TicketWatcher{f.desk}}
	if _, err := esc.Escalate(ctx, f.ticket.ID, handoff.EscalationWait, "waited 12m in queue support (limit 10m)", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the escalated card", func() bool {
		for _, c := range f.slack.called("chat.update") {
			text := cardText(t, c)
			if c.form.Get("ts") == ts && strings.Contains(text, "Escalated: ") && strings.Contains(text, "waited 12m in queue support (limit 10m)") {
				return true
			}
		}
		return false
	})
}

// testTicketChanged: a claim made at another desk (the web inbox) redraws the card.
func testTicketChanged(t *testing.T, open func(testing.TB) storage.Store) {
	ctx := context.Background()
	f := setup(t, open(t), setupOpt{})
	ts := f.posted(t)
	agent := f.signIn(t, "ann@example.com")
	if _, err := handoff.Claim(ctx, f.st, f.ticket.ID, agent.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.TicketChanged(ctx, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the card's update", func() bool {
		for _, c := range f.slack.called("chat.update") {
			if c.form.Get("ts") == ts && c.form.Get("channel") == testChannel && strings.Contains(cardText(t, c), "ann@example.com") {
				return true
			}
		}
		return false
	})
}

// testCard: a new ticket gets one card in the agents' channel, with who the customer is,
// why, their last messages and the buttons; the ticket records the card.
func testCard(t *testing.T, open func(testing.TB) storage.Store) {
	f := setup(t, open(t), setupOpt{})
	ts := f.posted(t)
	// A second TicketOpened (the engine's retry) finds the card and posts nothing; the
	// queue is in order, so once the relay is in the thread both were handled.
	if err := f.desk.TicketOpened(context.Background(), f.conv, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Relay(context.Background(), f.conv, &tandem.Message{Channel: tandem.ChannelSMS, Text: "hello?"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the relayed message", func() bool { return len(f.slack.called("chat.postMessage")) >= 2 })
	posts := f.slack.called("chat.postMessage")
	if len(posts) != 2 || posts[1].form.Get("thread_ts") != ts {
		t.Fatalf("posts = %+v, want the card then a message in its thread", posts)
	}
	c := posts[0]
	if got := c.form.Get("channel"); got != testChannel {
		t.Errorf("card posted to %q, want %q", got, testChannel)
	}
	if c.form.Get("thread_ts") != "" {
		t.Errorf("card posted in a thread")
	}
	raw := cardText(t, c)
	for _, want := range []string{"Dana Scully", "customer asked for a human", "demo", "sms", phone,
		"my order &lt;never&gt; arrived", "Sorry! Let me find someone to help.", "support",
		"*Summary*", `Came for: "my order &lt;never&gt; arrived"`, "Mood: neutral (+0.00) over 1 customer message",
		"https://support.example.com/inbox/tickets/" + f.ticket.ID} {
		if !strings.Contains(raw, want) {
			t.Errorf("card does not show %q:\n%s", want, raw)
		}
	}
	if !strings.Contains(c.form.Get("text"), "customer asked for a human") {
		t.Errorf("notification text = %q", c.form.Get("text"))
	}
	got := buttons(t, c)
	for _, id := range []string{slackdesk.ActionClaim, slackdesk.ActionGiveBack, slackdesk.ActionClose} {
		if got[id] != f.ticket.ID {
			t.Errorf("button %s has value %q, want the ticket id %s (buttons %v)", id, got[id], f.ticket.ID, got)
		}
	}
}

// testReconcile: a queued ticket left without a card (a crash between the turn and the
// post) gets one when Run starts; a ticket that has a card does not get another.
func testReconcile(t *testing.T, open func(testing.TB) storage.Store) {
	st := open(t)
	ctx := context.Background()
	_, carded := handedOff(t, st, "+15550999", "Fox Mulder")
	ref := "slack:" + testChannel + ":1600000000.000001"
	if _, err := st.UpdateTicket(ctx, carded.ID, storage.TicketUpdate{DeskRef: &ref}); err != nil {
		t.Fatal(err)
	}
	// The clock is an hour on, so both tickets are old enough to be reconciled.
	f := setup(t, st, setupOpt{now: func() time.Time { return time.Now().Add(time.Hour) }})
	waitFor(t, "the reconciled card", func() bool { return f.findTicket(t).DeskRef != "" })
	posts := f.slack.called("chat.postMessage")
	if len(posts) != 1 || !strings.Contains(cardText(t, posts[0]), "Dana Scully") {
		t.Fatalf("posts = %+v, want only Dana's card", posts)
	}
	if tk, err := st.FindTicketByID(ctx, carded.ID); err != nil || tk.DeskRef != ref {
		t.Errorf("the carded ticket = %+v, %v; want its desk ref unchanged", tk, err)
	}
}

// testRelay: a customer's message during the handoff appears in the card's thread; when
// the ticket has no card yet (its TicketOpened was lost), the card is posted instead, and
// shows the message.
func testRelay(t *testing.T, open func(testing.TB) storage.Store) {
	for _, name := range []string{"OK", "OKNoCardYet"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, open(t), setupOpt{})
			ts := ""
			if name == "OK" {
				ts = f.posted(t)
			}
			msg := &tandem.Message{ConversationID: f.conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS,
				Text: "It was order <@U0ANN> #1234 & it's late"}
			if name == "OKNoCardYet" {
				if err := f.st.CreateMessage(ctx, msg); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.desk.Relay(ctx, f.conv, msg); err != nil {
				t.Fatal(err)
			}
			// The customer's text cannot mention or link: Slack's markup characters are escaped.
			const want = "It was order &lt;@U0ANN&gt; #1234 &amp; it's late"
			if name == "OKNoCardYet" {
				waitFor(t, "the card", func() bool { return f.findTicket(t).DeskRef != "" })
				posts := f.slack.called("chat.postMessage")
				if len(posts) != 1 || posts[0].form.Get("thread_ts") != "" || !strings.Contains(cardText(t, posts[0]), want) {
					t.Fatalf("posts = %+v, want one card showing %q", posts, want)
				}
				return
			}
			var got []call
			waitFor(t, "the relayed message", func() bool {
				got = nil
				for _, c := range f.slack.called("chat.postMessage") {
					if c.form.Get("thread_ts") != "" {
						got = append(got, c)
					}
				}
				return len(got) > 0
			})
			c := got[0]
			if len(got) != 1 || c.form.Get("thread_ts") != ts || c.form.Get("channel") != testChannel {
				t.Fatalf("thread posts = %+v, want one in the card's thread %s", got, ts)
			}
			if !strings.Contains(c.form.Get("text"), want) {
				t.Errorf("relayed %q, want it to contain %q", c.form.Get("text"), want)
			}
		})
	}
}

package slackdesk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

// transferStaff are the staff accounts of the transfer tests: two agents (Bob takes at
// most one conversation), a supervisor with a skill and an editor.
func (f *fixture) transferStaff(t *testing.T) map[string]*tandem.Agent {
	t.Helper()
	staff := f.addStaff(t, map[string]tandem.AgentRole{"ann@example.com": tandem.AgentRoleAgent, "bob@example.com": tandem.AgentRoleAgent,
		"sue@example.com": tandem.AgentRoleSupervisor, "ed@example.com": tandem.AgentRoleEditor})
	one, vip := 1, []string{"vip"}
	for email, upd := range map[string]storage.AgentUpdate{"bob@example.com": {Capacity: &one}, "sue@example.com": {Skills: vip}} {
		a, err := f.st.UpdateAgent(context.Background(), staff[email].ID, upd)
		if err != nil {
			t.Fatal(err)
		}
		staff[email] = a
	}
	return staff
}

// openForm clicks Transfer on the card ts as user and returns the views.open call's
// trigger and view.
func (f *fixture) openForm(t *testing.T, user, ts string) (trigger string, view map[string]any) {
	t.Helper()
	before := len(f.slack.called("views.open"))
	if rec := serve(f.desk, click(user, slackdesk.ActionTransfer, f.ticket.ID, ts)); rec.Code != http.StatusOK {
		t.Fatalf("transfer click: status %d (%s)", rec.Code, rec.Body)
	}
	// views.open is made before the click is answered: the trigger expires in 3 s.
	opened := f.slack.called("views.open")
	if len(opened) != before+1 {
		t.Fatalf("views.open called %d times, want once", len(opened)-before)
	}
	c := opened[len(opened)-1]
	trigger, _ = c.json["trigger_id"].(string)
	view, _ = c.json["view"].(map[string]any)
	return trigger, view
}

// options returns the values and labels of the static select of the form's block id.
func options(view map[string]any, id string) (values, labels []string) {
	for _, b := range view["blocks"].([]any) {
		bl := b.(map[string]any)
		if bl["block_id"] != id {
			continue
		}
		el := bl["element"].(map[string]any)
		opts, _ := el["options"].([]any)
		for _, o := range opts {
			om := o.(map[string]any)
			values = append(values, om["value"].(string))
			labels = append(labels, om["text"].(map[string]any)["text"].(string))
		}
	}
	return values, labels
}

// submitBody is the view_submission of the transfer form by user, with the form's private
// metadata and the chosen queue, agent (ids, "" for none) and note.
func submitBody(user, metadata, queue, agent, note string) []byte {
	selected := func(v string) any {
		if v == "" {
			return nil
		}
		return map[string]any{"text": map[string]any{"type": "plain_text", "text": v}, "value": v}
	}
	p, _ := json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T0SHOP"}, "api_app_id": "A0DESK",
		"user": map[string]any{"id": user, "username": strings.ToLower(user), "team_id": "T0SHOP"}, "trigger_id": "4.5.6",
		"view": map[string]any{"id": "V0TRANSFER", "type": "modal", "callback_id": "tandem_transfer", "private_metadata": metadata,
			"state": map[string]any{"values": map[string]any{
				"queue": map[string]any{"queue": map[string]any{"type": "static_select", "selected_option": selected(queue)}},
				"agent": map[string]any{"agent": map[string]any{"type": "static_select", "selected_option": selected(agent)}},
				"note":  map[string]any{"note": map[string]any{"type": "plain_text_input", "value": note}},
			}}},
	})
	return []byte(url.Values{"payload": {string(p)}}.Encode())
}

// testTransferForm: Transfer is on the card of an active ticket; clicked by its holder (or
// a supervisor) it opens the form with the known queues and the agents who work tickets,
// with their load; clicked by anyone else it is refused and opens nothing.
func testTransferForm(t *testing.T, open func(testing.TB) storage.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		f := setup(t, open(t), setupOpt{staff: true, queues: []string{"billing", "support"}})
		staff := f.transferStaff(t)
		ts := f.posted(t)
		if got := buttons(t, f.slack.called("chat.postMessage")[0]); got[slackdesk.ActionTransfer] != f.ticket.ID {
			t.Errorf("the card's buttons = %v, want Transfer", got)
		}
		if _, err := handoff.Claim(context.Background(), f.st, f.ticket.ID, staff["ann@example.com"].ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		trigger, view := f.openForm(t, "U0ANN", ts)
		if trigger != "1.2.3" || view["type"] != "modal" || view["callback_id"] != "tandem_transfer" {
			t.Errorf("views.open trigger %q, view %v", trigger, view)
		}
		if md, _ := view["private_metadata"].(string); !strings.Contains(md, f.ticket.ID) {
			t.Errorf("private_metadata = %q, want the ticket id", md)
		}
		queues, _ := options(view, "queue")
		if want := []string{"billing", "support", "vip"}; !slices.Equal(queues, want) {
			t.Errorf("queues = %v, want %v (the bots', the ticket's, the skills')", queues, want)
		}
		ids, labels := options(view, "agent")
		want := []string{staff["bob@example.com"].ID, staff["sue@example.com"].ID}
		if slices.Sort(ids); !slices.Equal(ids, slices.Sorted(slices.Values(want))) {
			t.Errorf("agents = %v %v, want Bob and Sue (not Ann who holds it, not the editor)", ids, labels)
		}
		if !slices.Contains(labels, "bob (bob@example.com) (holds 0 of 1)") {
			t.Errorf("agent labels = %v, want Bob's load", labels)
		}
		if !strings.Contains(cardTextOf(view), "Note") {
			t.Errorf("the form has no note: %v", view)
		}
		if tk := f.findTicket(t); tk.Status != tandem.TicketClaimed || tk.AgentID != staff["ann@example.com"].ID {
			t.Errorf("opening the form changed the ticket: %+v", tk)
		}
	})
	for _, tt := range []struct{ name, user, refusal string }{
		{"ErrNotHolder", "U0BOB", "only the agent holding this ticket, or a supervisor, can transfer it"},
		{"ErrNotAgent", "U0EVE", "You are not a Tandem agent: ask an admin to add eve@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open(t), setupOpt{staff: true})
			staff := f.transferStaff(t)
			ts := f.posted(t)
			if _, err := handoff.Claim(context.Background(), f.st, f.ticket.ID, staff["ann@example.com"].ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if rec := serve(f.desk, click(tt.user, slackdesk.ActionTransfer, f.ticket.ID, ts)); rec.Code != http.StatusOK {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body)
			}
			if text, _ := f.ephemeral(t, tt.user); !strings.Contains(text, tt.refusal) {
				t.Errorf("ephemeral = %q, want %q", text, tt.refusal)
			}
			if n := len(f.slack.called("views.open")); n != 0 {
				t.Errorf("views.open called %d times", n)
			}
		})
	}
}

// cardTextOf is all the text of a view or message's blocks.
func cardTextOf(view map[string]any) string {
	b, _ := json.Marshal(view["blocks"])
	return string(b)
}

// testTransfer: the form's submission transfers the ticket (to a queue, where it waits,
// or to an agent, who holds it), closes the form, redraws the card showing the transfer
// and announces it; a refused one keeps the form open with the reason on its block, and
// changes nothing.
func testTransfer(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		holder  string // who claimed the ticket ("" queued)
		opener  string // who opens the form
		user    string // who submits it
		queue   string
		agent   string // email of the agent chosen
		note    string
		status  tandem.TicketStatus // after
		holds   string              // after
		inQueue string              // after
		errors  map[string]string   // block id → part of the error shown there
		card    string              // what the redrawn card says
	}{
		{name: "OKQueue", holder: "ann@example.com", opener: "U0ANN", user: "U0ANN", queue: "billing", note: "VIP, refund <asap>",
			status: tandem.TicketQueued, inQueue: "billing", card: "by ann (ann@example.com) to queue billing: VIP, refund &lt;asap&gt;"},
		{name: "OKAgent", holder: "ann@example.com", opener: "U0ANN", user: "U0ANN", agent: "bob@example.com",
			status: tandem.TicketClaimed, holds: "bob@example.com", inQueue: "support", card: "to bob (bob@example.com)"},
		{name: "OKSupervisorQueued", opener: "U0SUE", user: "U0SUE", agent: "bob@example.com",
			status: tandem.TicketClaimed, holds: "bob@example.com", inQueue: "support", card: "Claimed by *bob*"},
		{name: "ErrBoth", holder: "ann@example.com", opener: "U0ANN", user: "U0ANN", queue: "billing", agent: "bob@example.com",
			status: tandem.TicketClaimed, holds: "ann@example.com", inQueue: "support",
			errors: map[string]string{"queue": "choose either a queue or an agent"}},
		{name: "ErrNeither", holder: "ann@example.com", opener: "U0ANN", user: "U0ANN",
			status: tandem.TicketClaimed, holds: "ann@example.com", inQueue: "support",
			errors: map[string]string{"queue": "choose either a queue or an agent"}},
		{name: "ErrAtCapacity", holder: "ann@example.com", opener: "U0ANN", user: "U0ANN", agent: "bob@example.com",
			status: tandem.TicketClaimed, holds: "ann@example.com", inQueue: "support",
			errors: map[string]string{"agent": "bob is at capacity"}},
		{name: "ErrNotHolder", holder: "ann@example.com", opener: "U0ANN", user: "U0BOB", queue: "billing",
			status: tandem.TicketClaimed, holds: "ann@example.com", inQueue: "support",
			errors: map[string]string{"queue": "only the agent holding this ticket, or a supervisor, can transfer it"}},
		{name: "ErrNotAgent", holder: "ann@example.com", opener: "U0ANN", user: "U0EVE", queue: "billing",
			status: tandem.TicketClaimed, holds: "ann@example.com", inQueue: "support",
			errors: map[string]string{"queue": "You are not a Tandem agent: ask an admin to add eve@example.com"}},
		{name: "ErrNoteTooLarge", holder: "ann@example.com", opener: "U0ANN", user: "U0ANN", queue: "billing", note: strings.Repeat("é", handoff.MaxNoteBytes),
			status: tandem.TicketClaimed, holds: "ann@example.com", inQueue: "support",
			errors: map[string]string{"note": "the note is"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rec := &recorder{}
			f := setup(t, open(t), setupOpt{staff: true, queues: []string{"billing"}, events: rec})
			staff := f.transferStaff(t)
			if tt.name == "ErrAtCapacity" { // Bob already holds his one conversation
				_, other := handedOff(t, f.st, "+15550777", "Walter Skinner")
				if _, err := handoff.Claim(ctx, f.st, other.ID, staff["bob@example.com"].ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			ts := f.posted(t)
			if tt.holder != "" {
				if _, err := handoff.Claim(ctx, f.st, f.ticket.ID, staff[tt.holder].ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			_, view := f.openForm(t, tt.opener, ts)
			rec.take()
			agentID := ""
			if tt.agent != "" {
				agentID = staff[tt.agent].ID
			}
			body := submitBody(tt.user, view["private_metadata"].(string), tt.queue, agentID, tt.note)
			res := serve(f.desk, signed("application/x-www-form-urlencoded", body, testSecret, time.Now()))
			if res.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", res.Code, res.Body)
			}

			tk := f.findTicket(t)
			holds := ""
			if tk.AgentID != "" {
				a, err := f.st.FindAgentByID(ctx, tk.AgentID)
				if err != nil {
					t.Fatal(err)
				}
				holds = a.Email
			}
			if tk.Status != tt.status || holds != tt.holds || tk.Queue != tt.inQueue {
				t.Errorf("ticket %s in %q held by %q, want %s in %q by %q", tk.Status, tk.Queue, holds, tt.status, tt.inQueue, tt.holds)
			}
			audit, err := f.st.ListAudit(ctx, storage.AuditFilter{Subject: f.ticket.ID, Action: handoff.ActionTransfer})
			if err != nil {
				t.Fatal(err)
			}

			if tt.errors != nil {
				var got struct {
					ResponseAction string            `json:"response_action"`
					Errors         map[string]string `json:"errors"`
				}
				if err := json.Unmarshal(res.Body.Bytes(), &got); err != nil || got.ResponseAction != "errors" {
					t.Fatalf("answer = %q (%v), want response_action errors", res.Body, err)
				}
				if len(got.Errors) != len(tt.errors) {
					t.Errorf("errors = %v, want %v", got.Errors, tt.errors)
				}
				for block, want := range tt.errors {
					if !strings.Contains(got.Errors[block], want) {
						t.Errorf("error on block %q = %q, want %q (errors %v)", block, got.Errors[block], want, got.Errors)
					}
				}
				if len(audit) != 0 {
					t.Errorf("a refused transfer was audited: %+v", audit)
				}
				if es := rec.take(); len(es) != 0 {
					t.Errorf("a refused transfer published %+v", es)
				}
				return
			}

			if res.Body.Len() != 0 {
				t.Errorf("answer = %q, want an empty body (the form closes)", res.Body)
			}
			if len(audit) != 1 || audit[0].Actor != handoff.Actor(staff[users[tt.user]].ID) || audit[0].Detail["note"] != tt.note {
				t.Errorf("audit = %+v, want one transfer by %s with the note", audit, tt.user)
			}
			topics := []string{}
			for _, e := range rec.take() {
				topics = append(topics, e.Topic+":"+string(e.Kind))
			}
			if want := []string{f.conv.ID + ":status", events.TopicTickets + ":status"}; !slices.Equal(topics, want) {
				t.Errorf("published %v, want %v", topics, want)
			}
			waitFor(t, "the redrawn card", func() bool {
				for _, c := range f.slack.called("chat.update") {
					if c.form.Get("ts") == ts && strings.Contains(cardText(t, c), tt.card) {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestTransferSignature: a transfer form's submission that Slack did not sign changes
// nothing.
func TestTransferSignature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t, teststore.All[0].Open(t), setupOpt{})
	ts := f.posted(t)
	ann := f.claim(t, "ann@example.com")
	_, view := f.openForm(t, "U0ANN", ts)
	body := submitBody("U0ANN", view["private_metadata"].(string), "billing", "", "")
	res := serve(f.desk, signed("application/x-www-form-urlencoded", body, "another-secret", time.Now()))
	if res.Code != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", res.Code)
	}
	if tk := f.findTicket(t); tk.Status != tandem.TicketClaimed || tk.AgentID != ann.ID || tk.Queue != "support" {
		t.Errorf("ticket = %+v, want unchanged", tk)
	}
	if audit, err := f.st.ListAudit(ctx, storage.AuditFilter{Action: handoff.ActionTransfer}); err != nil || len(audit) != 0 {
		t.Errorf("audit = %+v, %v; want no transfer", audit, err)
	}
}

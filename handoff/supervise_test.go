package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

func TestSupervision(t *testing.T) {
	t.Parallel()
	for _, s := range teststore.All {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("ClaimCapacity", func(t *testing.T) { t.Parallel(); testClaimCapacity(t, s.Open(t)) })
			t.Run("Transfer", func(t *testing.T) { t.Parallel(); testTransfer(t, s.Open) })
			t.Run("TransferCapacityRace", func(t *testing.T) { t.Parallel(); testTransferCapacityRace(t, s.Open(t)) })
			t.Run("ListActiveOrder", func(t *testing.T) { t.Parallel(); testListActiveOrder(t, s.Open(t)) })
		})
	}
}

// another queues a ticket for another web chat customer ext.
func (d *desk) another(t *testing.T, ext string) *tandem.Ticket {
	t.Helper()
	ctx := context.Background()
	c, _, err := d.st.ResolveIdentity(ctx, tandem.ChannelWebChat, ext)
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: c.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusHandoff}
	if err := d.st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	tk, err := handoff.Open(ctx, d.st, conv, handoff.Request{Queue: "support", Reason: "r"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// set changes an agent's routing fields in the store and in a.
func (d *desk) set(t *testing.T, a *tandem.Agent, upd storage.AgentUpdate) {
	t.Helper()
	got, err := d.st.UpdateAgent(context.Background(), a.ID, upd)
	if err != nil {
		t.Fatal(err)
	}
	*a = *got
}

func wantRefusal(t *testing.T, err error, code, msg string) {
	t.Helper()
	if tandem.ErrorCode(err) != code || !strings.Contains(tandem.ErrorMessage(err), msg) {
		t.Fatalf("err = %v (%s), want %s saying %q", err, tandem.ErrorCode(err), code, msg)
	}
}

func testClaimCapacity(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDesk(t, st)
	second := d.another(t, "web-2")
	one := 1
	d.set(t, d.ann, storage.AgentUpdate{Capacity: &one})
	if _, err := handoff.Claim(ctx, st, d.ticket.ID, d.ann.ID, t0); err != nil {
		t.Fatal(err)
	}
	// Claiming the one she holds again is still a no-op.
	if _, err := handoff.Claim(ctx, st, d.ticket.ID, d.ann.ID, t0); err != nil {
		t.Fatalf("claim again: %v", err)
	}
	_, err := handoff.Claim(ctx, st, second.ID, d.ann.ID, t0)
	wantRefusal(t, err, tandem.ECONFLICT, "you are at capacity: holding 1 conversations of 1")
	if tk, _ := st.FindTicketByID(ctx, second.ID); tk.Status != tandem.TicketQueued {
		t.Fatalf("refused ticket = %+v, want still queued", tk)
	}
	// Bob has no limit (capacity 0).
	if _, err := handoff.Claim(ctx, st, d.another(t, "web-3").ID, d.bob.ID, t0); err != nil {
		t.Fatal(err)
	}
	// Once Ann closes hers, she has room again.
	if err := handoff.Close(ctx, st, d.ticket.ID, d.ann.ID, t0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.Claim(ctx, st, second.ID, d.ann.ID, t0); err != nil {
		t.Fatalf("claim after close: %v", err)
	}
}

// testTransferCapacityRace has a supervisor send five tickets at once to Bob, who may hold
// two: two arrive, and each of the others is refused saying Bob is at capacity, whether
// the early count or the store's atomic check caught it.
func testTransferCapacityRace(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDesk(t, st)
	carol, err := handoff.SignIn(ctx, st, "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	d.set(t, carol, storage.AgentUpdate{Role: ptr(tandem.AgentRoleSupervisor)})
	d.set(t, d.bob, storage.AgentUpdate{Capacity: ptr(2)})
	tickets := []*tandem.Ticket{d.ticket}
	for i := range 4 {
		tickets = append(tickets, d.another(t, fmt.Sprint("race-", i)))
	}
	errs := make([]error, len(tickets))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tk := range tickets {
		wg.Go(func() {
			<-start
			_, errs[i] = handoff.Transfer(ctx, st, handoff.TransferRequest{TicketID: tk.ID, By: carol, ToAgent: d.bob.ID, At: t0})
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantRefusal(t, err, tandem.ECONFLICT, "bob is at capacity: holding 2 conversations of 2")
	}
	held, err := st.ListTickets(ctx, storage.TicketFilter{AgentID: d.bob.ID, Status: tandem.TicketClaimed})
	if err != nil {
		t.Fatal(err)
	}
	if won != 2 || len(held) != 2 {
		t.Errorf("%d transfers won and Bob holds %d tickets; want 2 and 2", won, len(held))
	}
	if n := len(d.audit(t, handoff.ActionTransfer)); n != 2 {
		t.Errorf("%d transfer audit entries, want 2", n)
	}
}

func testTransfer(t *testing.T, open func(testing.TB) storage.Store) {
	ctx := context.Background()
	at := t0.Add(time.Minute)
	type fixture struct {
		*desk
		carol *tandem.Agent // a supervisor
	}
	holdsAnn := func(t *testing.T, f *fixture) {
		if _, err := handoff.Claim(ctx, f.st, f.ticket.ID, f.ann.ID, t0); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		before func(t *testing.T, f *fixture)
		req    func(f *fixture) handoff.TransferRequest
		code   string // "" for OK
		msg    string // in the refusal
		// On success: where the ticket is.
		status tandem.TicketStatus
		queue  string
		agent  func(f *fixture) string
	}{
		{name: "OKHolderToQueue", before: holdsAnn,
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.ann, ToQueue: "billing", Note: "refund question"}
			},
			status: tandem.TicketQueued, queue: "billing", agent: func(*fixture) string { return "" }},
		{name: "OKHolderToAgent", before: holdsAnn,
			req:    func(f *fixture) handoff.TransferRequest { return handoff.TransferRequest{By: f.ann, ToAgent: f.bob.ID} },
			status: tandem.TicketClaimed, queue: "support", agent: func(f *fixture) string { return f.bob.ID }},
		{name: "OKSupervisorMovesHeld", before: holdsAnn,
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.carol, ToAgent: f.bob.ID}
			},
			status: tandem.TicketClaimed, queue: "support", agent: func(f *fixture) string { return f.bob.ID }},
		{name: "OKSupervisorMovesQueued",
			req:    func(f *fixture) handoff.TransferRequest { return handoff.TransferRequest{By: f.carol, ToQueue: "vip"} },
			status: tandem.TicketQueued, queue: "vip", agent: func(*fixture) string { return "" }},
		{name: "ErrNotHolder", before: holdsAnn,
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.bob, ToQueue: "billing"}
			},
			code: tandem.ECONFLICT, msg: "only the agent holding this ticket, or a supervisor, can transfer it"},
		{name: "ErrQueuedNotSupervisor",
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.ann, ToQueue: "billing"}
			},
			code: tandem.ECONFLICT, msg: "only the agent holding this ticket"},
		{name: "ErrAgentAtCapacity", before: func(t *testing.T, f *fixture) {
			holdsAnn(t, f)
			one := 1
			f.set(t, f.bob, storage.AgentUpdate{Capacity: &one})
			if _, err := handoff.Claim(ctx, f.st, f.another(t, "web-2").ID, f.bob.ID, t0); err != nil {
				t.Fatal(err)
			}
		},
			req:  func(f *fixture) handoff.TransferRequest { return handoff.TransferRequest{By: f.ann, ToAgent: f.bob.ID} },
			code: tandem.ECONFLICT, msg: "bob is at capacity: holding 1 conversations of 1"},
		{name: "ErrAlreadyHolds", before: holdsAnn,
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.carol, ToAgent: f.ann.ID}
			},
			code: tandem.ECONFLICT, msg: "ann already holds this ticket"},
		{name: "ErrSameQueue",
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.carol, ToQueue: "support"}
			},
			code: tandem.ECONFLICT, msg: "already waits in queue support"},
		{name: "ErrClosed", before: func(t *testing.T, f *fixture) {
			holdsAnn(t, f)
			if err := handoff.Close(ctx, f.st, f.ticket.ID, f.ann.ID, t0, nil); err != nil {
				t.Fatal(err)
			}
		},
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.carol, ToQueue: "billing"}
			},
			code: tandem.ECONFLICT, msg: "the ticket is closed"},
		{name: "ErrNoTarget", before: holdsAnn,
			req:  func(f *fixture) handoff.TransferRequest { return handoff.TransferRequest{By: f.ann} },
			code: tandem.EINVALID, msg: "choose either a queue or an agent"},
		{name: "ErrBothTargets", before: holdsAnn,
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.ann, ToQueue: "x", ToAgent: f.bob.ID}
			},
			code: tandem.EINVALID, msg: "choose either a queue or an agent"},
		{name: "ErrToEditor", before: func(t *testing.T, f *fixture) {
			holdsAnn(t, f)
			editor := tandem.AgentRoleEditor
			f.set(t, f.bob, storage.AgentUpdate{Role: &editor})
		},
			req:  func(f *fixture) handoff.TransferRequest { return handoff.TransferRequest{By: f.ann, ToAgent: f.bob.ID} },
			code: tandem.EINVALID, msg: "bob is an editor: only agents, supervisors and admins work tickets"},
		{name: "ErrUnknownAgent", before: holdsAnn,
			req:  func(f *fixture) handoff.TransferRequest { return handoff.TransferRequest{By: f.ann, ToAgent: "nobody"} },
			code: tandem.EINVALID, msg: "no such agent"},
		{name: "ErrBadQueue", before: holdsAnn,
			req: func(f *fixture) handoff.TransferRequest {
				return handoff.TransferRequest{By: f.ann, ToQueue: "bad\nqueue"}
			},
			code: tandem.EINVALID, msg: "queue name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			f := &fixture{desk: setupDesk(t, st)}
			var err error
			if f.carol, err = handoff.SignIn(ctx, st, "carol@example.com"); err != nil {
				t.Fatal(err)
			}
			f.set(t, f.carol, storage.AgentUpdate{Role: ptr(tandem.AgentRoleSupervisor)})
			if tt.before != nil {
				tt.before(t, f)
			}
			before, err := st.FindTicketByID(ctx, f.ticket.ID)
			if err != nil {
				t.Fatal(err)
			}
			req := tt.req(f)
			req.TicketID, req.At = f.ticket.ID, at
			got, err := handoff.Transfer(ctx, st, req)
			audit := f.audit(t, handoff.ActionTransfer)
			if tt.code != "" {
				wantRefusal(t, err, tt.code, tt.msg)
				after, _ := st.FindTicketByID(ctx, f.ticket.ID)
				if after.Status != before.Status || after.AgentID != before.AgentID || after.Queue != before.Queue || len(audit) != 0 {
					t.Errorf("a refused transfer changed the ticket %+v to %+v (audit %+v)", before, after, audit)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.status || got.Queue != tt.queue || got.AgentID != tt.agent(f) {
				t.Fatalf("ticket = %s %s %q, want %s %s %q", got.Status, got.Queue, got.AgentID, tt.status, tt.queue, tt.agent(f))
			}
			if (got.ClaimedAt != nil) != (tt.status == tandem.TicketClaimed) || (got.ClaimedAt != nil && !got.ClaimedAt.Equal(at)) {
				t.Errorf("claimed at %v, want %v when claimed", got.ClaimedAt, at)
			}
			if len(audit) != 1 {
				t.Fatalf("audit = %+v, want one transfer", audit)
			}
			e := audit[0]
			wantDetail := fmt.Sprintf("%s>%s %s>%s %s", before.Queue, tt.queue, before.AgentID, tt.agent(f), req.Note)
			gotDetail := fmt.Sprintf("%s>%s %s>%s %s", e.Detail["from_queue"], e.Detail["to_queue"], e.Detail["from_agent"], e.Detail["to_agent"], e.Detail["note"])
			if e.Actor != handoff.Actor(req.By.ID) || e.Subject != f.ticket.ID || gotDetail != wantDetail {
				t.Errorf("audit = %+v (%s), want by %s: %s", e, gotDetail, req.By.ID, wantDetail)
			}
		})
	}
}

// testListActiveOrder: escalated first, then higher priority, then oldest.
func testListActiveOrder(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDesk(t, st) // oldest, priority 0
	urgent := d.another(t, "web-2")
	if _, err := st.UpdateTicket(ctx, urgent.ID, storage.TicketUpdate{Priority: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	plain := d.another(t, "web-3")
	late := d.another(t, "web-4")
	if _, err := (&handoff.Escalator{Store: st}).Escalate(ctx, late.ID, handoff.EscalationWait, "waited", t0); err != nil {
		t.Fatal(err)
	}
	got, err := handoff.ListActive(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tk := range got {
		ids = append(ids, tk.ID)
	}
	want := []string{late.ID, urgent.ID, d.ticket.ID, plain.ID}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("order = %v, want %v (escalated, priority 2, then oldest first)", ids, want)
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	tk := &tandem.Ticket{Queue: "billing", Language: "fr"}
	tests := []struct {
		name  string
		agent tandem.Agent
		want  bool
	}{
		{"NoSkillsNoLanguages", tandem.Agent{}, false},
		{"Skill", tandem.Agent{Skills: []string{"billing"}}, true},
		{"OtherSkill", tandem.Agent{Skills: []string{"support"}}, false},
		{"Language", tandem.Agent{Languages: []string{"en", "FR"}}, true},
		{"OtherLanguage", tandem.Agent{Languages: []string{"en"}}, false},
		{"Both", tandem.Agent{Skills: []string{"billing"}, Languages: []string{"fr"}}, true},
		{"SkillButNotLanguage", tandem.Agent{Skills: []string{"billing"}, Languages: []string{"en"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := handoff.Matches(tk, &tt.agent); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	if !handoff.Matches(&tandem.Ticket{Queue: "billing"}, &tandem.Agent{Skills: []string{"billing"}, Languages: []string{"en"}}) {
		t.Error("a ticket of unknown language does not match on skills alone")
	}
}

func ptr[T any](v T) *T { return &v }

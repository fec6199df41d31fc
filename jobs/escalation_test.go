package jobs_test

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
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/storage"
)

// watcher is a desk recording which tickets it was told changed.
type watcher struct {
	mu      sync.Mutex
	changed []string
}

func (w *watcher) TicketChanged(_ context.Context, id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.changed = append(w.changed, id)
	return nil
}

// openTicket queues a ticket of bot created at created.
func openTicket(t *testing.T, st storage.Store, bot, ext string, created time.Time) *tandem.Ticket {
	t.Helper()
	ctx := context.Background()
	c, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, ext)
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: bot, CustomerID: c.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusHandoff}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	tk := &tandem.Ticket{ConversationID: conv.ID, BotID: bot, Queue: "support", Status: tandem.TicketQueued, CreatedAt: created}
	if err := st.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestEscalationsByWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	waits := func() map[string]time.Duration {
		return map[string]time.Duration{"demo": 10 * time.Minute, "patient": 0}
	}
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			old := openTicket(t, st, "demo", "+15550901", t0)
			young := openTicket(t, st, "demo", "+15550902", t0.Add(5*time.Minute))
			claimed := openTicket(t, st, "demo", "+15550903", t0)
			if _, err := st.ClaimTicket(ctx, claimed.ID, "agent-1", t0); err != nil {
				t.Fatal(err)
			}
			patient := openTicket(t, st, "patient", "+15550904", t0)
			clk := &clock{t: t0.Add(9 * time.Minute)}
			desk := &watcher{}
			var kinds []string
			w := jobs.NewEscalations(st, &handoff.Escalator{Store: st, Desks: []handoff.TicketWatcher{desk},
				Observe: func(k string) { kinds = append(kinds, k) }}, jobs.EscalationConfig{Waits: waits, Now: clk.Now})

			steps := []struct {
				at   time.Duration // after t0
				want int           // escalated by the pass
			}{
				{9 * time.Minute, 0},
				{11 * time.Minute, 1}, // old
				{12 * time.Minute, 0}, // old again: once only
				{16 * time.Minute, 1}, // young
			}
			for _, s := range steps {
				clk.t = t0.Add(s.at)
				n, err := w.EscalateDue(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n != s.want {
					t.Fatalf("at t0+%s escalated %d, want %d", s.at, n, s.want)
				}
			}
			got, err := st.FindTicketByID(ctx, old.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Escalated() || got.Priority != handoff.EscalationRaise || got.Escalation != "waited 11m0s in queue support (limit 10m0s)" {
				t.Errorf("old = %+v", got)
			}
			for _, id := range []string{claimed.ID, patient.ID} {
				if tk, err := st.FindTicketByID(ctx, id); err != nil || tk.Escalated() {
					t.Errorf("ticket %s escalated for waiting: %+v, %v", id, tk, err)
				}
			}
			audit, err := st.ListAudit(ctx, storage.AuditFilter{Action: handoff.ActionEscalate})
			if err != nil {
				t.Fatal(err)
			}
			if len(audit) != 2 || audit[0].Actor != "system" || audit[0].Detail["kind"] != handoff.EscalationWait {
				t.Errorf("audit = %+v, want two system entries of kind wait", audit)
			}
			if want := []string{old.ID, young.ID}; fmt.Sprint(desk.changed) != fmt.Sprint(want) {
				t.Errorf("desk told %v, want %v", desk.changed, want)
			}
			if strings.Join(kinds, ",") != "wait,wait" {
				t.Errorf("observed %v, want two waits", kinds)
			}
		})
	}
}

// TestEscalationsOnceAcrossWorkers runs the workers of two replicas at the same instant:
// every due ticket is escalated once, with one audit entry.
func TestEscalationsOnceAcrossWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			const tickets = 6
			for i := range tickets {
				openTicket(t, st, "demo", fmt.Sprintf("+1555091%d", i), t0)
			}
			cfg := jobs.EscalationConfig{Waits: func() map[string]time.Duration { return map[string]time.Duration{"demo": time.Minute} },
				Now: func() time.Time { return t0.Add(time.Hour) }}
			var wg sync.WaitGroup
			counts := make([]int, 2)
			start := make(chan struct{})
			for i := range counts {
				w := jobs.NewEscalations(st, &handoff.Escalator{Store: st}, cfg)
				wg.Go(func() {
					<-start
					n, err := w.EscalateDue(ctx)
					if err != nil {
						t.Error(err)
					}
					counts[i] = n
				})
			}
			close(start)
			wg.Wait()
			if counts[0]+counts[1] != tickets {
				t.Errorf("workers escalated %v, want %d in all", counts, tickets)
			}
			audit, err := st.ListAudit(ctx, storage.AuditFilter{Action: handoff.ActionEscalate})
			if err != nil {
				t.Fatal(err)
			}
			perTicket := map[string]int{}
			for _, e := range audit {
				perTicket[e.Subject]++
			}
			if len(audit) != tickets || len(perTicket) != tickets {
				t.Errorf("audit has %d entries for %d tickets, want one each of %d", len(audit), len(perTicket), tickets)
			}
		})
	}
}

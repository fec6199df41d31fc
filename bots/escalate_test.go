package bots_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

// TestEscalationByNegativeMessage hands a conversation to a human, then the customer
// writes while waiting: a strongly negative message (the demo bot keeps the default
// escalate_below) escalates the ticket, once.
func TestEscalationByNegativeMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		msgs      []string
		escalated bool
	}{
		{"OKNegative", []string{"this is the worst service ever, absolutely useless"}, true},
		{"OKOnce", []string{"this is the worst service ever, absolutely useless", "still nothing? this is ridiculous"}, true},
		{"OKCalm", []string{"hello?"}, false},
		{"OKAskingForAHumanAgain", []string{"I want to talk to a human"}, false},
	}
	for _, b := range teststore.All {
		for _, tt := range tests {
			t.Run(b.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := setupStore(t, b.Open(t))
				first := f.say(t, tandem.ChannelSMS, phone, "agent please")
				if first.Handoff == nil {
					t.Fatalf("no handoff: %+v", first.Decision)
				}
				for _, m := range tt.msgs {
					if turn := f.say(t, tandem.ChannelSMS, phone, m); turn.Decision.Kind != tandem.DecisionRelay {
						t.Fatalf("turn %q = %s, want relay", m, turn.Decision.Kind)
					}
				}
				tk, err := f.store.FindTicketByID(ctx, first.Handoff.TicketID)
				if err != nil {
					t.Fatal(err)
				}
				audit, err := f.store.ListAudit(ctx, storage.AuditFilter{Subject: tk.ID, Action: handoff.ActionEscalate})
				if err != nil {
					t.Fatal(err)
				}
				if !tt.escalated {
					if tk.Escalated() || len(audit) != 0 {
						t.Fatalf("ticket escalated by a calm message: %+v", tk)
					}
					return
				}
				if !tk.Escalated() || !strings.Contains(tk.Escalation, "strongly negative") || tk.Priority != 1 {
					t.Fatalf("ticket = %+v, want escalated for a negative message with priority 1", tk)
				}
				if len(audit) != 1 || audit[0].Actor != "system" || audit[0].Detail["kind"] != handoff.EscalationSentiment {
					t.Errorf("audit = %+v, want one system entry of kind sentiment", audit)
				}
			})
		}
	}
}

package inbox_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/eventstest"
	"github.com/tandemhq/tandem/storage"
)

// TestActionsPublish: every agent action that changes the conversation is announced on its
// topic, so the customer's web chat shows it live, and those that change the ticket on
// events.TopicTickets too, for the queue pages; a refused action announces nothing.
func TestActionsPublish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actions []string // run in order; the last one's event is checked
		kind    events.Kind
	}{
		{"OKClaim", []string{"claim"}, events.KindStatus},
		{"OKReply", []string{"claim", "reply"}, events.KindMessage},
		{"OKClose", []string{"claim", "close"}, events.KindStatus},
		{"OKReturn", []string{"claim", "return"}, events.KindStatus},
		{"ErrRefusedPublishesNothing", []string{"reply", "claim"}, events.KindStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			sub := eventstest.Subscribe(t, f.bus, f.conv.ID)
			queue := eventstest.Subscribe(t, f.bus, events.TopicTickets)
			cookie := f.signIn(t, "ann@example.com")
			token := f.csrf(t, cookie)
			var got events.Event
			for _, a := range tt.actions {
				res, _ := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/"+a, url.Values{"csrf": {token}, "text": {"On it."}}, cookie))
				if res.StatusCode != http.StatusSeeOther {
					continue // refused: the next event must come from a later action
				}
				got = eventstest.Next(t, sub)
				if got.Kind == events.KindStatus {
					if q := eventstest.Next(t, queue); q.Kind != events.KindStatus {
						t.Errorf("queue event = %+v, want a status event", q)
					}
				}
			}
			if got.Topic != f.conv.ID || got.Kind != tt.kind || !got.At.Equal(now.Add(5*time.Minute)) {
				t.Errorf("event = %+v, want %s on %s at the inbox's now", got, tt.kind, f.conv.ID)
			}
			if tt.kind == events.KindMessage {
				msgs, err := f.store.ListMessages(t.Context(), f.conv.ID, storage.MessageFilter{Limit: 1})
				if err != nil || len(msgs) != 1 || msgs[0].Role != tandem.RoleAgent || msgs[0].ID != got.MessageID {
					t.Errorf("event names message %q; newest stored %+v (%v), want the agent's reply", got.MessageID, msgs, err)
				}
			}
		})
	}
}

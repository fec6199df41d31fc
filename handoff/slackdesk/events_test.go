package slackdesk_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/storage"
)

// recorder keeps the events a desk publishes.
type recorder struct {
	mu  sync.Mutex
	got []events.Event
}

func (r *recorder) Publish(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
	return nil
}

func (r *recorder) take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// testEvents: what agents do in Slack is announced, so the customer's web chat and the web
// inbox show it live; a refused click and a retried reply announce nothing.
func testEvents(t *testing.T, open func(testing.TB) storage.Store) {
	rec := &recorder{}
	f := setup(t, open(t), setupOpt{events: rec})
	ts := f.posted(t)
	kinds := func(es []events.Event) []string {
		var out []string
		for _, e := range es {
			topic := e.Topic
			if topic == f.conv.ID {
				topic = "conv"
			}
			out = append(out, topic+":"+string(e.Kind))
		}
		return out
	}

	if rec := serve(f.desk, click("U0ANN", slackdesk.ActionClaim, f.ticket.ID, ts)); rec.Code != http.StatusOK {
		t.Fatalf("claim: %d %s", rec.Code, rec.Body)
	}
	if got, want := kinds(rec.take()), []string{"conv:status", events.TopicTickets + ":status"}; !slices.Equal(got, want) {
		t.Errorf("a claim published %v, want %v", got, want)
	}
	if rec := serve(f.desk, click("U0BOB", slackdesk.ActionClaim, f.ticket.ID, ts)); rec.Code != http.StatusOK {
		t.Fatalf("second claim: %d %s", rec.Code, rec.Body)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("a refused claim published %v", kinds(got))
	}

	for range 2 { // Slack retries the event: one message, one announcement
		if res := serve(f.desk, threadReply(map[string]any{"thread_ts": ts})); res.Code != http.StatusOK {
			t.Fatalf("thread reply: %d %s", res.Code, res.Body)
		}
	}
	got := rec.take()
	msgs := f.agentMessages(t)
	if len(msgs) != 1 || len(got) != 1 || got[0].Topic != f.conv.ID || got[0].Kind != events.KindMessage || got[0].MessageID != msgs[0].ID {
		t.Errorf("a reply (sent twice by Slack) published %+v, want one message event for %v", got, msgs)
	}
	if err := got[0].Validate(); err != nil {
		t.Errorf("published an invalid event: %v", err)
	}
}

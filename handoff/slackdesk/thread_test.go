package slackdesk_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/storage"
)

// testThreadReply: the holder's reply in the card's thread is the agent's message to the
// customer, on its way to their phone; anyone else is told why not, and nothing is stored.
func testThreadReply(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		holder  string // who claimed the ticket first
		fields  map[string]any
		want    string // the stored reply, "" for none
		refusal string // the ephemeral answer to U0ANN, "" for none
	}{
		{name: "OK", holder: "ann@example.com", want: "Hi Dana, Ann here. I am looking into it."},
		{name: "OKMarkup", holder: "ann@example.com",
			fields: map[string]any{"text": "Track it at <https://shop.example.com/t/1|your tracking page> &lt;3 &amp; thanks"},
			want:   "Track it at your tracking page <3 & thanks"},
		{name: "ErrNotClaimed", refusal: "claim the ticket first"},
		{name: "ErrHeldByOther", holder: "bob@example.com", refusal: "another agent claimed this ticket first"},
		{name: "ErrNoEmail", holder: "ann@example.com", fields: map[string]any{"user": "U0NOMAIL"}},
		{name: "IgnoredTopLevel", holder: "ann@example.com", fields: map[string]any{"thread_ts": nil}},
		{name: "IgnoredOtherThread", holder: "ann@example.com", fields: map[string]any{"thread_ts": "1600000000.000009"}},
		{name: "IgnoredOtherChannel", holder: "ann@example.com", fields: map[string]any{"channel": "C0RANDOM"}},
		{name: "IgnoredEdit", holder: "ann@example.com", fields: map[string]any{"subtype": "message_changed"}},
		{name: "IgnoredBot", holder: "ann@example.com", fields: map[string]any{"bot_id": "B0OTHER"}},
		{name: "IgnoredOwnBot", holder: "ann@example.com", fields: map[string]any{"user": "U0DESKBOT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			var ann *tandem.Agent
			if tt.holder != "" {
				ann = f.claim(t, tt.holder)
			}
			fields := map[string]any{"thread_ts": ts}
			for k, v := range tt.fields {
				fields[k] = v
			}
			if rec := serve(f.desk, threadReply(fields)); rec.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
			}
			if tt.name == "ErrNoEmail" {
				if text, thread := f.ephemeral(t, "U0NOMAIL"); !strings.Contains(text, "email address") || thread != ts {
					t.Errorf("ephemeral = %q in thread %q", text, thread)
				}
			}
			got := f.agentMessages(t)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("stored %d agent messages, want none", len(got))
				}
				if tt.refusal != "" {
					text, thread := f.ephemeral(t, "U0ANN")
					if !strings.Contains(text, tt.refusal) || thread != ts {
						t.Errorf("ephemeral = %q in thread %q, want %q in the card's thread", text, thread, tt.refusal)
					}
				}
				return
			}
			if len(got) != 1 || got[0].Text != tt.want || got[0].AuthorID != ann.ID || got[0].Channel != tandem.ChannelSMS {
				t.Fatalf("agent messages = %+v, want one %q by %s on sms", got, tt.want, ann.ID)
			}
			d, err := f.st.FindDelivery(ctx, got[0].ID)
			if err != nil {
				t.Fatalf("the reply has no delivery: %v", err)
			}
			if d.Channel != tandem.ChannelSMS || d.To != phone || d.Reply.Text != tt.want || d.Status != tandem.DeliveryPending {
				t.Errorf("delivery = %+v", d)
			}
		})
	}
}

// testRetry: Slack's retries of a thread reply (while the first is handled, after it, or
// at another replica) send one reply to the customer.
func testRetry(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name string
		send func(t *testing.T, f *fixture, body []byte)
	}{
		{"OKAfter", func(t *testing.T, f *fixture, body []byte) {
			for i := range 3 {
				req := signed("application/json", body, testSecret, time.Now())
				if i > 0 {
					req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(i))
					req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
				}
				if rec := serve(f.desk, req); rec.Code != http.StatusOK {
					t.Errorf("delivery %d: status %d", i, rec.Code)
				}
			}
		}},
		{"OKConcurrent", func(t *testing.T, f *fixture, body []byte) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if rec := serve(f.desk, signed("application/json", body, testSecret, time.Now())); rec.Code != http.StatusOK {
						t.Errorf("status %d", rec.Code)
					}
				})
			}
			wg.Wait()
		}},
		{"OKOtherReplica", func(t *testing.T, f *fixture, body []byte) {
			other := f.newDesk(t, setupOpt{})
			for _, d := range []*slackdesk.Desk{f.desk, other} {
				if rec := serve(d, signed("application/json", body, testSecret, time.Now())); rec.Code != http.StatusOK {
					t.Errorf("status %d", rec.Code)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			f.claim(t, "ann@example.com")
			tt.send(t, f, replyBody(map[string]any{"thread_ts": ts}))
			if got := f.agentMessages(t); len(got) != 1 {
				t.Errorf("stored %d agent messages, want 1", len(got))
			}
			ds, err := f.st.ListDeliveries(context.Background(), storage.DeliveryFilter{})
			if err != nil || len(ds) != 1 {
				t.Errorf("deliveries = %d (%v), want 1", len(ds), err)
			}
		})
	}
}

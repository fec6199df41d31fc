package slackdesk_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/storage"
)

// testClick: the card's buttons act as the agent with the clicking user's email; refused
// clicks are answered with the desk's reason, only to the clicker, and change nothing.
func testClick(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		before  func(t *testing.T, f *fixture)
		user    string
		action  string
		status  tandem.TicketStatus
		holder  string // email of the agent holding the ticket after the click
		conv    tandem.ConversationStatus
		card    string // what the redrawn card says
		refusal string // the ephemeral answer, for refused clicks
		survey  string // the bot's CSAT question, sent to the customer's phone on close
	}{
		{name: "OKClaim", user: "U0ANN", action: slackdesk.ActionClaim, status: tandem.TicketClaimed,
			holder: "ann@example.com", conv: tandem.StatusHandoff, card: "Claimed by *ann* (ann@example.com)"},
		{name: "OKGiveBack", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0ANN", action: slackdesk.ActionGiveBack, status: tandem.TicketReturned, holder: "ann@example.com",
			conv: tandem.StatusOpen, card: "Given back to the bot"},
		{name: "OKClose", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0ANN", action: slackdesk.ActionClose, status: tandem.TicketClosed, holder: "ann@example.com",
			conv: tandem.StatusClosed, card: "Closed by *ann*"},
		{name: "OKCloseSurveys", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0ANN", action: slackdesk.ActionClose, status: tandem.TicketClosed, holder: "ann@example.com",
			conv: tandem.StatusOpen, card: "Closed by *ann*", survey: "How did we do?"},
		{name: "ErrClaimTaken", before: func(t *testing.T, f *fixture) {
			rec := serve(f.desk, click("U0ANN", slackdesk.ActionClaim, f.ticket.ID, "x"))
			if rec.Code != http.StatusOK {
				t.Fatalf("ann's claim: %d", rec.Code)
			}
		}, user: "U0BOB", action: slackdesk.ActionClaim, status: tandem.TicketClaimed, holder: "ann@example.com",
			conv: tandem.StatusHandoff, card: "Claimed by *ann*", refusal: "another agent claimed this ticket first"},
		{name: "ErrCloseNotHeld", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0BOB", action: slackdesk.ActionClose, status: tandem.TicketClaimed, holder: "ann@example.com",
			conv: tandem.StatusHandoff, card: "Claimed by *ann*", refusal: "another agent claimed this ticket first"},
		{name: "ErrGiveBackUnclaimed", user: "U0BOB", action: slackdesk.ActionGiveBack, status: tandem.TicketQueued,
			conv: tandem.StatusHandoff, card: "Waiting for an agent", refusal: "claim the ticket first"},
		{name: "ErrNoEmail", user: "U0NOMAIL", action: slackdesk.ActionClaim, status: tandem.TicketQueued,
			conv: tandem.StatusHandoff, refusal: "email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			opt := setupOpt{}
			if tt.survey != "" {
				opt.surveys = func(string) string { return tt.survey }
			}
			f := setup(t, open(t), opt)
			ts := f.posted(t)
			if tt.before != nil {
				tt.before(t, f)
			}
			if rec := serve(f.desk, click(tt.user, tt.action, f.ticket.ID, ts)); rec.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
			}
			if tt.survey != "" {
				ds, err := f.st.ListDeliveries(ctx, storage.DeliveryFilter{})
				if err != nil || len(ds) != 1 || ds[0].Reply.Text != tt.survey || ds[0].To != phone {
					t.Errorf("deliveries = %+v, %v; want the survey question to %s", ds, err, phone)
				}
			}
			tk := f.findTicket(t)
			holder := ""
			if tk.AgentID != "" {
				a, err := f.st.FindAgentByID(ctx, tk.AgentID)
				if err != nil {
					t.Fatal(err)
				}
				holder = a.Email
			}
			if tk.Status != tt.status || holder != tt.holder {
				t.Errorf("ticket %s held by %q, want %s by %q", tk.Status, holder, tt.status, tt.holder)
			}
			conv, err := f.st.FindConversationByID(ctx, f.conv.ID)
			if err != nil || conv.Status != tt.conv {
				t.Errorf("conversation = %v, %v; want %s", conv.Status, err, tt.conv)
			}
			if tt.refusal != "" {
				if text, _ := f.ephemeral(t, tt.user); !strings.Contains(text, tt.refusal) {
					t.Errorf("ephemeral = %q, want it to say %q", text, tt.refusal)
				}
			}
			if tt.card == "" {
				return
			}
			// The card the user clicked is redrawn as the ticket now stands.
			var upd call
			waitFor(t, "the card's update", func() bool {
				for _, c := range f.slack.called("chat.update") {
					if c.form.Get("ts") == ts && strings.Contains(cardText(t, c), tt.card) {
						upd = c
						return true
					}
				}
				return false
			})
			if upd.form.Get("channel") != testChannel {
				t.Errorf("updated in channel %q", upd.form.Get("channel"))
			}
			b := buttons(t, upd)
			if _, ok := b[slackdesk.ActionClaim]; ok != (tt.status == tandem.TicketQueued) {
				t.Errorf("buttons after %s = %v", tt.name, b)
			}
			if _, ok := b[slackdesk.ActionClose]; ok != (tt.status == tandem.TicketQueued || tt.status == tandem.TicketClaimed) {
				t.Errorf("buttons after %s = %v", tt.name, b)
			}
		})
	}
}

// testRefused: requests that are not Slack's, or too large, change nothing.
func testRefused(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name string
		req  func(f *fixture, ts string) *http.Request
		want int
	}{
		{"ErrWrongSecret", func(f *fixture, ts string) *http.Request {
			return signed("application/x-www-form-urlencoded", clickBody("U0ANN", slackdesk.ActionClose, f.ticket.ID, ts), "another-secret", time.Now())
		}, http.StatusUnauthorized},
		{"ErrStale", func(f *fixture, ts string) *http.Request {
			return signed("application/x-www-form-urlencoded", clickBody("U0ANN", slackdesk.ActionClose, f.ticket.ID, ts), testSecret, time.Now().Add(-10*time.Minute))
		}, http.StatusUnauthorized},
		{"ErrBodyChanged", func(f *fixture, ts string) *http.Request {
			req := signed("application/json", replyBody(map[string]any{"thread_ts": ts, "text": "hello"}), testSecret, time.Now())
			req.Body = io.NopCloser(bytes.NewReader(replyBody(map[string]any{"thread_ts": ts, "text": "send me your password"})))
			return req
		}, http.StatusUnauthorized},
		{"ErrNoSignature", func(f *fixture, ts string) *http.Request {
			req := signed("application/json", replyBody(map[string]any{"thread_ts": ts}), testSecret, time.Now())
			req.Header.Del("X-Slack-Signature")
			return req
		}, http.StatusUnauthorized},
		{"ErrTooLarge", func(f *fixture, ts string) *http.Request {
			return signed("application/json", replyBody(map[string]any{"thread_ts": ts, "text": strings.Repeat("a", 70<<10)}), testSecret, time.Now())
		}, http.StatusRequestEntityTooLarge},
		{"ErrContentType", func(f *fixture, ts string) *http.Request {
			return signed("text/plain", replyBody(map[string]any{"thread_ts": ts}), testSecret, time.Now())
		}, http.StatusUnsupportedMediaType},
		{"ErrMalformed", func(f *fixture, ts string) *http.Request {
			return signed("application/json", []byte(`{"type":"event_callback","event":`), testSecret, time.Now())
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			// Ann holds the ticket, so her reply would be stored and her click close it, if
			// the request got through.
			f.claim(t, "ann@example.com")
			before := f.slack.count()
			rec := serve(f.desk, tt.req(f, ts))
			if rec.Code != tt.want {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tt.want)
			}
			if got := f.agentMessages(t); len(got) != 0 {
				t.Errorf("stored %d agent messages", len(got))
			}
			if tk := f.findTicket(t); tk.Status != tandem.TicketClaimed {
				t.Errorf("ticket is %s, want still claimed", tk.Status)
			}
			if after := f.slack.count(); after != before {
				t.Errorf("Slack was called %d times", after-before)
			}
		})
	}
}

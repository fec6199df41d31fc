package inbox_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

const surveyQuestion = "How did we do? Reply 1 to 5."

// signInAs signs email in with role and returns the session cookie.
func (f *fixture) signInAs(t *testing.T, email string, role tandem.AgentRole) *http.Cookie {
	t.Helper()
	c := f.signIn(t, email)
	a, err := f.store.FindAgentByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateAgent(context.Background(), a.ID, storage.AgentUpdate{Role: &role}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   tandem.AgentRole
		path   string
		status int
		want   []string
		absent []string
	}{
		{"OKSupervisor", tandem.AgentRoleSupervisor, "/inbox/dashboard", http.StatusOK,
			[]string{"Dashboard · Today", `data-queue="support"`, "<td>support</td><td>1</td><td>0</td>", "<td>ann</td><td>1</td><td>4.0</td>",
				"Conversations started: <strong>1</strong>, of which\n    <strong>0%</strong> never needed a person (1 handed off)",
				"could not answer: <strong>1</strong>", `href="/kb/unanswered"`, `id="nav-dashboard"`,
				"Knowledge answers: <strong>2</strong> rated,\n    <strong>50%</strong> helpful", `href="/kb/feedback"`}, nil},
		{"OKAdminLastWeek", tandem.AgentRoleAdmin, "/inbox/dashboard?period=7d", http.StatusOK,
			[]string{"Dashboard · Last 7 days", `data-queue="support"`}, nil},
		{"ErrAgent", tandem.AgentRoleAgent, "/inbox/dashboard", http.StatusForbidden,
			[]string{"403 · Forbidden", "the dashboard is for supervisors and admins", "tandem users set ann@example.com --role supervisor"},
			[]string{`id="nav-dashboard"`, "queue-stats"}},
		{"ErrEditor", tandem.AgentRoleEditor, "/inbox/dashboard", http.StatusForbidden, []string{"for supervisors and admins"}, nil},
		{"ErrPeriod", tandem.AgentRoleSupervisor, "/inbox/dashboard?period=year", http.StatusBadRequest, []string{"no period"}, nil},
		{"OKQueueLinksDashboard", tandem.AgentRoleSupervisor, "/inbox/", http.StatusOK, []string{`id="nav-dashboard"`}, nil},
		{"OKQueueHidesDashboard", tandem.AgentRoleAgent, "/inbox/", http.StatusOK, nil, []string{`id="nav-dashboard"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t)
			c := f.signInAs(t, "ann@example.com", tt.role)
			ann, err := f.store.FindAgentByEmail(ctx, "ann@example.com")
			if err != nil {
				t.Fatal(err)
			}
			// One rating of the ticket and one unanswered question, today.
			if err := f.store.RecordTurn(ctx, storage.TurnRecord{ConversationID: f.conv.ID, CSAT: &tandem.CSATResponse{
				TicketID: f.ticket.ID, ConversationID: f.conv.ID, BotID: "demo", Queue: "support", AgentID: ann.ID, Score: 4, At: now}}); err != nil {
				t.Fatal(err)
			}
			if err := f.store.AppendAudit(ctx, &tandem.AuditEntry{Actor: "system", Action: tandem.AuditQuestionUnanswered, Subject: "demo", At: now}); err != nil {
				t.Fatal(err)
			}
			// And two votes on knowledge answers, one helpful.
			for _, helpful := range []bool{true, false} {
				a := &tandem.Message{ConversationID: f.conv.ID, Role: tandem.RoleBot, Channel: f.conv.Channel, Text: "3–5 days.",
					Citations: []tandem.Citation{{DocID: "shipping"}}}
				if err := f.store.RecordTurn(ctx, storage.TurnRecord{ConversationID: f.conv.ID, Replies: []*tandem.Message{a}}); err != nil {
					t.Fatal(err)
				}
				if err := f.store.PutAnswerFeedback(ctx, &tandem.AnswerFeedback{MessageID: a.ID, Helpful: helpful, At: now}); err != nil {
					t.Fatal(err)
				}
			}
			res, body := f.do(t, get(tt.path, c))
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestCloseAsksSurvey: closing from the inbox stores the bot's CSAT question in the web chat
// conversation, which the bot has again.
func TestCloseAsksSurvey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	c := f.signIn(t, "ann@example.com")
	ann, err := f.store.FindAgentByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.Claim(ctx, f.store, f.ticket.ID, ann.ID, now); err != nil {
		t.Fatal(err)
	}
	res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/close", url.Values{"csrf": {f.csrf(t, c)}}, c))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d %s", res.StatusCode, body)
	}
	conv, err := f.store.FindConversationByID(ctx, f.conv.ID)
	if err != nil || conv.Status != tandem.StatusOpen {
		t.Fatalf("conversation = %+v, %v; want open", conv, err)
	}
	msgs, err := f.store.ListMessages(ctx, f.conv.ID, storage.MessageFilter{Limit: 1})
	if err != nil || len(msgs) != 1 || msgs[0].Text != surveyQuestion || msgs[0].Role != tandem.RoleBot {
		t.Errorf("newest message = %+v, %v; want the survey question", msgs, err)
	}
}
